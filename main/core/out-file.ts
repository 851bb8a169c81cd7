// Files written where the user says (`--out FILE`, or the desktop app's save dialog): whole or not at all, and a
// path that cannot be written is an InputError naming the flag (or field), not a raw ENOENT.
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
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { InputError } from '../../shared/problems.js';
import { fsReason } from './fs-reasons.js';

/** What a file path's errors mean for a file to be written (the others: fsReason's). */
const FOR_A_FILE = { ENOENT: 'its folder does not exist', EISDIR: 'it is a folder' };

function cannotWrite(flag: string, path: string, e: unknown): InputError {
  const reason = fsReason(e, FOR_A_FILE) ?? (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new InputError([{ field: flag, code: 'invalid', message: `cannot write ${path}: ${reason}` }]);
}

/**
 * Writes the file a flag names (`--out FILE`) through `write`, which gets a stream and may leave it open.
 * The bytes go to a hidden sibling renamed over `path` once complete, so a failure never leaves a partial
 * file (nor truncates the one there before). A path that cannot be written is an InputError naming `flag`,
 * raised before `write` runs when it can be told up front (no folder, a folder in the way, no permission).
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
  // Through a symbolic link to the file it names, rather than replacing the link.
  const target = existing ? realpathSync(path) : path;
  if (dataDir !== undefined && isInside(target, dataDir)) {
    // The database, its audit log and the keys live there: an export or a key written over them destroys them.
    throw new InputError([
      {
        field: flag,
        code: 'invalid',
        message: `${path} is inside the data folder ${dataDir} (the database, audit log and keys): write it elsewhere`,
      },
    ]);
  }
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
      renameSync(partial, target);
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
      ? cannotWrite(flag, path, failedWrite)
      : e;
  } finally {
    stopRemoving();
  }
}

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Ctrl-C (or a kill) while the file is written would end the process with the hidden partial file left
 * beside the one asked for. Where nothing else handles the signal (a CLI command), it is handled here: the
 * partial file is removed, then the signal is raised again, so the process still ends as it would have. Where
 * something does (serve, the desktop app), that shutdown stops the write, and the write's failure removes it.
 * Returns the function that stops listening.
 */
export function removeOnInterrupt(partial: string): () => void {
  const handlers = INTERRUPTS.filter((signal) => process.listenerCount(signal) === 0).map((signal) => {
    const handler = () => {
      stop();
      rmSync(partial, { force: true });
      process.kill(process.pid, signal);
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  const stop = () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
  return stop;
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
