// A file written where the user says (`--out FILE`, the desktop save dialog) is written whole or not at all: a
// failed write leaves neither a partial file nor a truncated old one, and a path that cannot be written is an
// InputError naming the flag.
import {
  chmodSync,
  closeSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isInputError } from '../../../shared/problems.js';
import {
  OutFileWriteError,
  replaceFile,
  writeOutFile,
  type ReplaceFileDeps,
  removeOnInterrupt,
} from '../../../main/core/out-file.js';
import { removeDir, tempDir } from '../../helpers/bundles.js';
import { mknod } from '../../helpers/devices.js';

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

describe('writeOutFile: a write that fails once the file is open', () => {
  it('is an OutFileWriteError saying why (a full disk), and leaves no file behind', async () => {
    const path = join(dir, 'x.jsonl');
    const error = await writeOutFile('--out', path, async (out) => {
      out.write('half of it');
      await new Promise((r) => setTimeout(r, 5));
      (out as NodeJS.WritableStream & { destroy(e: Error): void }).destroy(
        Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
      );
      await new Promise((r) => setTimeout(r, 5));
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutFileWriteError);
    expect((error as OutFileWriteError).failure).toBe(`cannot write ${path}: the disk is full`);
    // Still an InputError naming the flag where one is shown as such (the desktop app's save).
    expect((error as Error).message).toBe(`--out: cannot write ${path}: the disk is full`);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('replaceFile: the last step of writeOutFile, on Windows', () => {
  /** A rename that fails with `codes` in turn, then succeeds; the waits it was given. */
  function renames(platform: NodeJS.Platform, codes: string[]) {
    const waits: number[] = [];
    let calls = 0;
    const deps: ReplaceFileDeps = {
      platform,
      rename: () => {
        calls++;
        const code = codes.shift();
        if (code) throw Object.assign(new Error(`${code}: operation not permitted, rename`), { code });
      },
      wait: async (ms) => void waits.push(ms),
    };
    return { deps, waits, calls: () => calls };
  }

  it('tries again while another program holds the file for a moment (an antivirus scan), then replaces it', async () => {
    const { deps, waits, calls } = renames('win32', ['EPERM', 'EBUSY', 'EACCES']);
    await replaceFile('C:\\out\\.x.csv.1234.partial', 'C:\\out\\x.csv', deps);
    expect(calls()).toBe(4);
    expect(waits).toEqual([50, 100, 200]);
  });

  it('says that a file held open (a spreadsheet showing it) is open in another program, not "permission denied"', async () => {
    const { deps, waits } = renames('win32', Array<string>(10).fill('EPERM'));
    const error = await replaceFile('C:\\out\\.x.csv.1234.partial', 'C:\\out\\x.csv', deps).catch(
      (e: unknown) => e,
    );
    expect(waits.reduce((a, b) => a + b)).toBeLessThanOrEqual(2000);
    // How `--out` (and the desktop app's save) reports it.
    const shown = new OutFileWriteError('--out', 'C:\\out\\x.csv', error);
    expect(shown.failure).toBe(
      'cannot write C:\\out\\x.csv: Windows would not replace it: it is open in another program ' +
        '(close it there, then try again), or this user may not replace it',
    );
  });

  it('does not wait elsewhere, where a rename is never refused for a file being open', async () => {
    const { deps, waits } = renames('linux', ['EPERM']);
    await expect(replaceFile('/out/.x.partial', '/out/x', deps)).rejects.toMatchObject({ code: 'EPERM' });
    expect(waits).toEqual([]);
  });
});

describe('writeOutFile to what is not a regular file: written in place, never replaced', () => {
  it('a regular file is still replaced whole: the old one is there, untouched, until the new one is complete', async () => {
    const path = join(dir, 'x.jsonl');
    writeFileSync(path, 'the old export\n');
    const before = statSync(path).ino;
    await writeOutFile('--out', path, async (out) => {
      out.write('the new ');
      await new Promise((r) => setTimeout(r, 20));
      expect(readFileSync(path, 'utf8')).toBe('the old export\n');
      out.write('export\n');
    });
    expect(readFileSync(path, 'utf8')).toBe('the new export\n');
    // Renamed over it: another file (inode), not the old one rewritten.
    expect(statSync(path).ino).not.toBe(before);
    expect(readdirSync(dir)).toEqual(['x.jsonl']);
  });

  it('a FIFO is written to its reader, and stays a FIFO', async () => {
    const fifo = join(dir, 'export.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let read = '';
      reader.stdout.setEncoding('utf8').on('data', (c: string) => (read += c));
      const closed = new Promise((resolve) => reader.once('close', resolve));
      const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join('');
      const result = await writeOutFile('--out', fifo, (out) => {
        out.write(lines);
        return 'done';
      });
      expect(statSync(fifo).isFIFO()).toBe(true);
      await closed;
      expect(result).toBe('done');
      expect(read).toBe(lines);
      expect(readdirSync(dir)).toEqual(['export.fifo']);
    } finally {
      // Were the FIFO replaced, its reader would wait for a writer for ever.
      reader.kill();
    }
  }, 30_000);

  it('a FIFO whose reader goes away is a failed write (OutFileWriteError), not a bad path', async () => {
    const fifo = join(dir, 'export.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('head', ['-c', '10', fifo], { stdio: ['ignore', 'ignore', 'inherit'] });
    const error = await writeOutFile('--out', fifo, async (out) => {
      for (let i = 0; i < 200; i++) {
        out.write(Buffer.alloc(64 * 1024, 'a'));
        await new Promise((r) => setTimeout(r, 1));
      }
    }).catch((e: unknown) => e);
    reader.kill();
    expect(error).toBeInstanceOf(OutFileWriteError);
    expect((error as OutFileWriteError).failure).toBe(
      `cannot write ${fifo}: nothing reads it any more (the pipe was closed)`,
    );
    expect(statSync(fifo).isFIFO()).toBe(true);
  }, 30_000);

  it('a character device (/dev/null, and one like it) stays a character device', async (ctx) => {
    const device = join(dir, 'null');
    // The same device as /dev/null, in the temp folder: checked first, so that /dev/null itself is only ever
    // written once a device is known to be written in place.
    if (!mknod(device, 1, 3)) ctx.skip();
    const rdev = statSync(device).rdev;
    await writeOutFile('--out', device, (out) => out.write('into the void\n'));
    expect(statSync(device).isCharacterDevice()).toBe(true);
    expect(statSync(device).rdev).toBe(rdev);
    expect(readdirSync(dir)).toEqual(['null']);

    const devNull = statSync('/dev/null');
    await writeOutFile('--out', '/dev/null', (out) => out.write('into the void\n'));
    const after = statSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev]).toEqual([devNull.ino, devNull.rdev]);
    expect(readdirSync('/dev').filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('a full device (as /dev/full) is a failed write saying the disk is full, and stays a device', async (ctx) => {
    const device = join(dir, 'full');
    if (!mknod(device, 1, 7)) ctx.skip();
    const error = await writeOutFile('--out', device, (out) => out.write('x'.repeat(10_000))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutFileWriteError);
    expect((error as OutFileWriteError).failure).toBe(`cannot write ${device}: the disk is full`);
    expect(statSync(device).isCharacterDevice()).toBe(true);
  });

  it('/dev/fd/N of a regular file (a shell redirection) is appended to, not replaced', async () => {
    const path = join(dir, 'combined.txt');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, 'first\n');
      const ino = statSync(path).ino;
      await writeOutFile('--out', `/dev/fd/${fd}`, (out) => out.write('the export\n'));
      expect(readFileSync(path, 'utf8')).toBe('first\nthe export\n');
      expect(statSync(path).ino).toBe(ino);
      expect(readdirSync(dir)).toEqual(['combined.txt']);
    } finally {
      closeSync(fd);
    }
  });

  it('/dev/fd/N of a file in the data folder is refused like the file itself', async () => {
    const data = join(dir, 'data');
    execFileSync('mkdir', [data]);
    const db = join(data, 'branchlens.db');
    writeFileSync(db, 'the database');
    const fd = openSync(db, 'a');
    try {
      const error = await writeOutFile('--out', `/dev/fd/${fd}`, (out) => out.write('x'), 0o666, data).catch(
        (e: unknown) => e,
      );
      expect(isInputError(error)).toBe(true);
      expect((error as Error).message).toContain('is inside the data folder');
      expect(readFileSync(db, 'utf8')).toBe('the database');
    } finally {
      closeSync(fd);
    }
  });

  it('a socket is refused as a bad path, naming the flag', async () => {
    const socket = join(dir, 'x.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      let ran = false;
      const error = await writeOutFile('--out', socket, () => {
        ran = true;
      }).catch((e: unknown) => e);
      expect(isInputError(error)).toBe(true);
      expect(error).not.toBeInstanceOf(OutFileWriteError);
      expect((error as Error).message).toBe(`--out: cannot write ${socket}: it is a socket, not a file`);
      expect(ran).toBe(false);
    } finally {
      server.close();
    }
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

  it('ends by exit code 129 where the signal cannot be raised again (SIGHUP on Windows), the file removed', () => {
    const partial = join(dir, '.export.jsonl.1234.partial');
    writeFileSync(partial, 'half');
    const stop = removeOnInterrupt(partial);
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('kill ENOSYS'), { code: 'ENOSYS' });
    });
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    try {
      expect(process.listenerCount('SIGHUP')).toBeGreaterThan(0);
      expect(() => process.emit('SIGHUP', 'SIGHUP')).not.toThrow();
      expect(kill).toHaveBeenCalledWith(process.pid, 'SIGHUP');
      expect(exit).toHaveBeenCalledWith(129);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      kill.mockRestore();
      exit.mockRestore();
      stop();
    }
  });

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
