// `--out FILE` is written whole or not at all: a failed write leaves neither a partial file nor a truncated old
// one, and a path that cannot be written is an InputError naming the flag.
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInputError } from '../../../shared/problems.js';
import { writeOutFile } from '../../../main/cli/out-file.js';
import { removeDir, tempDir } from './helpers.js';

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
