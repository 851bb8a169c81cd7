// Files written where the user says (`--out FILE`, or the desktop app's save dialog): whole or not at all, and a
// path that cannot be written is an InputError naming the flag (or field), not a raw ENOENT. A pipe, a device or
// standard output named as the file (`--out /dev/stdout`, `--out >(gzip …)`) is written as it is, not replaced.
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  createWriteStream,
  fchmodSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  type Stats,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { InputError } from '../../shared/problems.js';
import { fsReason } from './fs-reasons.js';

/** What a file path's errors mean for a file to be written (the others: fsReason's). */
const FOR_A_FILE = {
  ENOENT: 'its folder does not exist',
  EISDIR: 'it is a folder',
  EFBIG: 'the file would be larger than this system allows (the file system, or a limit such as `ulimit -f`)',
  EDQUOT: 'the disk quota is used up',
  EPIPE: 'nothing reads it any more (the pipe was closed)',
  ENXIO: 'nothing is at the other end to read it',
  EIO: 'an input/output error (the disk or device failed)',
};

/** Errors that say the writing failed (the disk, a limit, the reader), not that the path was a bad choice. */
const NOT_THE_PATH = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EPIPE']);

function reasonOf(e: unknown): string {
  return fsReason(e, FOR_A_FILE) ?? (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function cannotWrite(flag: string, path: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && NOT_THE_PATH.has(code)) return new OutFileWriteError(flag, path, e);
  return new InputError([{ field: flag, code: 'invalid', message: `cannot write ${path}: ${reasonOf(e)}` }]);
}

/**
 * The file was opened but could not be written to the end: a full disk, a file-size limit, a reader that went
 * away. Nothing is left of a regular file (the hidden partial one is removed); a pipe or device got what was
 * written before the failure. It is an InputError naming the flag, which is how the desktop app shows a failed
 * save, but it is not a bad choice of path: a CLI reports it as a failed write (`failure`, exit 1).
 */
export class OutFileWriteError extends InputError {
  /** `cannot write PATH: REASON`, without the flag: what a CLI says. */
  readonly failure: string;
  constructor(flag: string, path: string, cause: unknown) {
    const failure = `cannot write ${path}: ${reasonOf(cause)}`;
    super([{ field: flag, code: 'invalid', message: failure }]);
    this.name = 'OutFileWriteError';
    this.failure = failure;
    this.cause = cause;
  }
}

/**
 * Paths that name an open file of this process rather than a file of the file system: standard output, standard
 * error and the file descriptors (bash's `>(…)` is /dev/fd/63). Renaming a file over them would replace what the
 * shell opened (the whole file of a `{ …; } > file`), and making them real fails (`pipe:[123]`).
 */
const OPEN_FILE_PATH = /^\/(?:dev\/(?:stdout|stderr|fd\/\d+)|proc\/(?:self|thread-self|\d+)\/fd\/\d+)$/;

/** What a file that is not a regular file is, for a message. */
function kindOf(stats: Stats): string | undefined {
  if (stats.isBlockDevice()) return 'a block device (a disk), not a file';
  if (stats.isSocket()) return 'a socket, not a file';
  return undefined;
}

/**
 * Writes the file a flag names (`--out FILE`) through `write`, which gets a stream and may leave it open.
 * The bytes go to a hidden sibling renamed over `path` once complete, so a failure never leaves a partial
 * file (nor truncates the one there before). A path that cannot be written is an InputError naming `flag`,
 * raised before `write` runs when it can be told up front (no folder, a folder in the way, no permission); a
 * write that fails once the file is open is an OutFileWriteError.
 *
 * A `path` that is there and is not a regular file (a FIFO, a character device such as /dev/null or a terminal)
 * or that names an open file of this process (/dev/stdout, /dev/fd/N) is written in place, as a shell's `>`
 * would write it: opened for writing, with no hidden file, nothing renamed and nothing created; an open file
 * that is a regular file is appended to, after what the shell's redirection already holds. A pipe's reader
 * gets the bytes as they are written, so a failure there is reported but cannot be taken back. A FIFO is opened
 * once a reader opens it, as with a shell.
 */
export async function writeOutFile<T>(
  flag: string,
  path: string,
  write: (out: NodeJS.WritableStream) => Promise<T> | T,
  mode = 0o666,
  dataDir?: string,
): Promise<T> {
  let existing;
  try {
    existing = statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    throw cannotWrite(flag, path, e);
  }
  if (existing?.isDirectory()) throw cannotWrite(flag, path, { code: 'EISDIR' });
  if (existing && (!existing.isFile() || OPEN_FILE_PATH.test(resolve(path)))) {
    return writeInPlace(flag, path, existing, write, dataDir);
  }
  // Through a symbolic link to the file it names, rather than replacing the link.
  const target = existing ? realpathSync(path) : path;
  refuseInsideDataDir(flag, path, target, dataDir);
  if (existing) {
    // A file that may not be written is not replaced either (the folder's permission would allow it).
    try {
      accessSync(target, constants.W_OK);
    } catch (e) {
      throw cannotWrite(flag, path, e);
    }
  }
  const partial = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.partial`);
  let fd: number;
  try {
    fd = openSync(partial, 'wx', mode);
    // A replaced file keeps its permissions (an export kept 0600 stays 0600).
    if (existing) fchmodSync(fd, existing.mode & 0o7777);
  } catch (e) {
    throw cannotWrite(flag, path, e);
  }
  const out = createWriteStream('', { fd });
  let writeError: unknown;
  out.on('error', (e) => (writeError ??= e));
  const stopRemoving = removeOnInterrupt(partial);
  try {
    const result = await write(out);
    out.end();
    await finished(out);
    try {
      await replaceFile(partial, target);
    } catch (e) {
      writeError ??= e;
      throw e;
    }
    return result;
  } catch (e) {
    // Taken before the stream is destroyed: destroying it fails a write still pending (ERR_STREAM_DESTROYED),
    // which is a consequence of this failure, not its cause.
    const failedWrite = writeError;
    if (!out.closed) await new Promise<void>((done) => out.destroy().once('close', () => done()));
    rmSync(partial, { force: true });
    throw failedWrite !== undefined && (e === failedWrite || !(e instanceof InputError))
      ? new OutFileWriteError(flag, path, failedWrite)
      : e;
  } finally {
    stopRemoving();
  }
}

/** Errors of a rename over a file that Windows gives while another process has that file open. */
const HELD_OPEN = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** Whether `e` is Windows refusing a rename because another process has the file (or one in the folder) open. */
export function heldByAnotherProgram(e: unknown, platform: NodeJS.Platform): boolean {
  return platform === 'win32' && HELD_OPEN.has((e as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** The waits between tries of such a rename: about 1.5 s in all, as long as an antivirus scan usually takes. */
const HELD_OPEN_RETRY_MS = [50, 100, 200, 400, 800];

export interface ReplaceFileDeps {
  platform: NodeJS.Platform;
  rename: (from: string, to: string) => void;
  wait: (ms: number) => Promise<void>;
}

export const replaceFileDeps: ReplaceFileDeps = {
  platform: process.platform,
  rename: renameSync,
  wait: (ms) => new Promise((done) => setTimeout(done, ms)),
};

/**
 * Runs `attempt`, and again after each of the HELD_OPEN_RETRY_MS pauses while it fails because another program
 * holds a file it moves (`held`); a failure still held after the last is thrown as `giveUp` words it, any other
 * failure as it is.
 */
export async function retryWhileHeld<T>(
  attempt: () => T,
  held: (e: unknown) => boolean,
  wait: (ms: number) => Promise<void>,
  giveUp: (e: unknown) => Error,
): Promise<T> {
  for (let tried = 0; ; tried++) {
    try {
      return attempt();
    } catch (e) {
      if (!held(e)) throw e;
      const delay = HELD_OPEN_RETRY_MS[tried];
      if (delay === undefined) throw giveUp(e);
      await wait(delay);
    }
  }
}

/**
 * Renames the complete file `from` over `to`. Windows refuses to replace a file that another process has open
 * (EPERM, EACCES or EBUSY), where POSIX systems never do: an antivirus or the search indexer reading the file for
 * a moment, which trying again a few times outlasts, or a spreadsheet or PDF viewer showing it, which holds it
 * until it is closed. The latter is said in those words, not as "permission denied" or a bare EBUSY.
 */
export function replaceFile(from: string, to: string, deps = replaceFileDeps): Promise<void> {
  return retryWhileHeld(
    () => deps.rename(from, to),
    (e) => heldByAnotherProgram(e, deps.platform),
    deps.wait,
    (e) =>
      new Error(
        'Windows would not replace it: it is open in another program (close it there, then try again), ' +
          'or this user may not replace it',
        { cause: e },
      ),
  );
}

/** A file in the data folder (the database, its audit log, the keys) is never written over. */
function refuseInsideDataDir(flag: string, path: string, target: string, dataDir: string | undefined): void {
  if (dataDir === undefined || !isInside(target, dataDir)) return;
  // The database, its audit log and the keys live there: an export or a key written over them destroys them.
  throw new InputError([
    {
      field: flag,
      code: 'invalid',
      message: `${path} is inside the data folder ${dataDir} (the database, audit log and keys): write it elsewhere`,
    },
  ]);
}

/** writeOutFile for a pipe, a device or an open file of this process: see there. */
async function writeInPlace<T>(
  flag: string,
  path: string,
  existing: Stats,
  write: (out: NodeJS.WritableStream) => Promise<T> | T,
  dataDir: string | undefined,
): Promise<T> {
  const kind = kindOf(existing);
  if (kind) {
    throw new InputError([{ field: flag, code: 'invalid', message: `cannot write ${path}: it is ${kind}` }]);
  }
  if (existing.isFile()) {
    // /dev/fd/N of a regular file: the file itself must not be in the data folder either.
    let real: string | undefined;
    try {
      real = realpathSync.native(path);
    } catch {
      // A file already deleted (`… (deleted)`): nothing of the data folder can be reached through it.
    }
    if (real !== undefined) refuseInsideDataDir(flag, path, real, dataDir);
  }
  // No O_CREAT, no O_TRUNC: what is written to is what is there. Opened asynchronously, so waiting for a FIFO's
  // reader does not stop the process (Ctrl-C still ends it).
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | (existing.isFile() ? constants.O_APPEND : 0));
  } catch (e) {
    throw cannotWrite(flag, path, e);
  }
  const out = handle.createWriteStream();
  let writeError: unknown;
  out.on('error', (e) => (writeError ??= e));
  try {
    const result = await write(out);
    out.end();
    await finished(out);
    return result;
  } catch (e) {
    const failedWrite = writeError;
    if (!out.closed) await new Promise<void>((done) => out.destroy().once('close', () => done()));
    throw failedWrite !== undefined && (e === failedWrite || !(e instanceof InputError))
      ? new OutFileWriteError(flag, path, failedWrite)
      : e;
  }
}

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The partial files Ctrl-C removes, and the handlers that do (installed while any file is watched). */
const interrupted = new Set<{ path: string }>();
let handlers: (readonly [NodeJS.Signals, () => void])[] | undefined;

/**
 * Ctrl-C (or a kill) while the file is written would end the process with the hidden partial file left
 * beside the one asked for. Where nothing else handles the signal (a CLI command), it is handled here: the
 * partial file is removed, then the signal is raised again, so the process still ends as it would have. Where
 * something does (serve, the desktop app), that shutdown stops the write, and the write's failure removes it.
 * Files watched at once (a batch's copy of its input and its output) are all removed. Returns the function
 * that stops watching the file.
 */
export function removeOnInterrupt(partial: string): () => void {
  const stopAll = () => {
    for (const [signal, handler] of handlers ?? []) process.off(signal, handler);
    handlers = undefined;
  };
  handlers ??= INTERRUPTS.filter((signal) => process.listenerCount(signal) === 0).map((signal) => {
    const handler = () => {
      stopAll();
      for (const { path } of interrupted) {
        try {
          rmSync(path, { force: true });
        } catch {
          // Held for a moment (an antivirus, on Windows): left, hidden, beside the file asked for; the process ends.
        }
      }
      try {
        process.kill(process.pid, signal);
      } catch {
        // Windows cannot raise SIGHUP (ENOSYS: its console window is closing): end as the signal would have.
        process.exit(128 + (osConstants.signals[signal] ?? 1));
      }
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  const entry = { path: partial };
  interrupted.add(entry);
  return () => {
    interrupted.delete(entry);
    if (interrupted.size === 0) stopAll();
  };
}

/** Whether `path` (made real as far as it exists) lies in `dir` (made real). */
function isInside(path: string, dir: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      const parent = dirname(p);
      return parent === p ? p : join(real(parent), basename(p));
    }
  };
  const rel = relative(real(dir), real(resolve(path)));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
