// A file written where the user says (`--out FILE`, the desktop save dialog) is written whole or not at all: a
// failed write leaves neither a partial file nor a truncated old one, and a path that cannot be written is an
// InputError naming the flag.
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInputError } from '../../../shared/problems.js';
import { writeOutFile } from '../../../main/core/out-file.js';
import { removeDir, tempDir } from '../../helpers/bundles.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('branchlens-out-file-');
});
afterEach(() => removeDir(dir));

describe('writeOutFile', () => {
  it('writes the file and returns what the writer returned', async () => {
    const path = join(dir, 'x.txt');
    const result = await writeOutFile('--out', path, (out) => {
      out.write('hello ');
      out.write('world');
      return 42;
    });
    expect(result).toBe(42);
    expect(readFileSync(path, 'utf8')).toBe('hello world');
    expect(readdirSync(dir)).toEqual(['x.txt']);
  });

  it('replaces an existing file, keeping its permissions', async () => {
    const path = join(dir, 'x.txt');
    writeFileSync(path, 'old contents, longer than the new', { mode: 0o600 });
    chmodSync(path, 0o600);
    await writeOutFile('--out', path, (out) => out.write('new'));
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    chmodSync(path, 0o640);
    await writeOutFile('--out', path, (out) => out.write('newer'));
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  it('a writer that fails halfway leaves no file behind, and the old file as it was', async () => {
    const fresh = join(dir, 'fresh.txt');
    const old = join(dir, 'old.txt');
    writeFileSync(old, 'old');
    for (const path of [fresh, old]) {
      await expect(
        writeOutFile('--out', path, async (out) => {
          out.write('half of it');
          await new Promise((r) => setTimeout(r, 5));
          throw new Error('the export failed');
        }),
      ).rejects.toThrow('the export failed');
    }
    expect(readdirSync(dir)).toEqual(['old.txt']);
    expect(readFileSync(old, 'utf8')).toBe('old');
  });

  it('a path that cannot be written is an InputError naming the flag, before the writer runs', async () => {
    let ran = false;
    const error = await writeOutFile('--report', join(dir, 'no', 'such', 'x.txt'), () => {
      ran = true;
    }).catch((e: unknown) => e);
    expect(isInputError(error)).toBe(true);
    expect((error as Error).message).toBe(
      `--report: cannot write ${join(dir, 'no', 'such', 'x.txt')}: its folder does not exist`,
    );
    expect(ran).toBe(false);
  });
});

describe('writeOutFile interrupted', () => {
  const CHILD = fileURLToPath(new URL('./fixtures/out-file-child.ts', import.meta.url));
  const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

  /** Runs the child until it is writing, interrupts it, and returns how it ended. */
  async function interrupt(
    path: string,
    signal: NodeJS.Signals,
    mode = '',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, mode], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        if (stdout.includes('writing')) resolve();
      });
      void ended.then(() => reject(new Error(`the child ended before writing: ${stdout}`)));
    });
    // The partial file is there while it writes, and only it.
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toHaveLength(1);
    child.kill(signal);
    return { ...(await ended), stdout };
  }

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'removes the partial file on %s and still ends by that signal',
    async (signal) => {
      const path = join(dir, 'export.jsonl');
      const ended = await interrupt(path, signal);
      expect(ended.signal).toBe(signal);
      expect(readdirSync(dir)).toEqual([]);
    },
    30_000,
  );

  it('leaves a process that handles the signal itself to its own handler', async () => {
    const path = join(dir, 'export.jsonl');
    writeFileSync(path, 'the old file\n');
    const ended = await interrupt(path, 'SIGINT', 'handled');
    expect(ended.stdout).toContain('own handler');
    expect(ended.code).toBe(7);
    // That handler exited at once, so the partial file stays (as it would have); the old file is untouched.
    expect(readFileSync(path, 'utf8')).toBe('the old file\n');
  }, 30_000);
});
