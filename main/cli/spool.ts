// A batch's standard output, held back until the whole batch succeeded: spooled to a private file in the data
// folder while the batch is explained, then copied out. A batch that fails midway prints nothing, and memory
// holds one call's documents rather than every document of the file. A CSV batch's input is copied to such a
// file too, and its rows explained from there (see the explain command).
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsReason } from '../core/fs-reasons.js';
import { removeOnInterrupt } from '../core/out-file.js';
import { removeStale } from '../core/stale-files.js';
import { writeOut, type CliIo } from './command.js';

/** The data folder's subfolder (0700) that spool files are made in: documents hold applicants' values. */
export const SPOOL_FOLDER = 'tmp';

/**
 * How long a spool file may go unwritten before a later run removes it as left behind by a run that was killed.
 * A running batch writes to its file every call, and one being copied out reads it through the handle it holds,
 * which the file's removal does not disturb.
 */
export const STALE_SPOOL_MS = 24 * 60 * 60 * 1000;

const SPOOL_NAME = /^explain-\d+-[0-9a-f]+\.(?:json|csv)\.part$/;

/** The prefix of a spool file made in the system's temporary folder, outside any data folder. */
const PRIVATE_PREFIX = 'branchlens-';

/** Bytes per write when the spool is copied to standard output. */
const COPY_PIECE = 1 << 20;

/** What a spool file of each kind holds, as its errors say it. */
const HOLDS = {
  json: 'where the documents wait until every applicant is decided',
  // A CSV batch's input: said as such, or a full disk while it is copied reads as the documents' failure.
  csv: "where the input's rows are copied to be checked and explained",
} as const;

/** A spool file (or its folder) that could not be made, written or read back: exit 1, naming it and why. */
export class SpoolError extends Error {
  constructor(
    readonly path: string,
    verb: 'create' | 'write' | 'read',
    cause: unknown,
    specific: Partial<Record<string, string>> = {},
    kind: 'json' | 'csv' = 'json',
  ) {
    const reason =
      fsReason(cause, specific) ?? (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    super(`cannot ${verb} ${path}, ${HOLDS[kind]}: ${reason}`, {
      cause,
    });
    this.name = 'SpoolError';
  }
}

/** A spool file of this run's: where it is, and its handle (opened for reading and writing). */
export interface SpoolFile {
  path: string;
  handle: FileHandle;
}

/**
 * Runs `use` with a new spool file of this run's own in `dataDir`'s tmp/ folder (mode 0600), `explain-….KIND.part`,
 * and removes the file once it returns or throws, and on Ctrl-C. Spool files of earlier runs that were killed
 * are removed first once they are older than STALE_SPOOL_MS.
 */
export async function withSpoolFile<T>(
  io: CliIo,
  dataDir: string,
  kind: 'json' | 'csv',
  use: (spool: SpoolFile) => Promise<T>,
): Promise<T> {
  const folder = join(dataDir, SPOOL_FOLDER);
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    removeStale(folder, (name) => SPOOL_NAME.test(name), STALE_SPOOL_MS);
  } catch (e) {
    throw new SpoolError(folder, 'create', e, { EEXIST: 'it is a file, not a folder' }, kind);
  }
  return withFileIn(io, folder, '', kind, use);
}

/**
 * Runs `use` with a new spool file of this run's own as withSpoolFile does, but in the system's temporary folder
 * (`branchlens-explain-….KIND.part`, mode 0600, made by this run alone): for what must be held before the data
 * folder is opened (standard input's CSV, checked first, so that a mistyped --data creates nothing for an input
 * that is refused). Removed as withSpoolFile's are, also once left behind by a run that was killed.
 */
export async function withPrivateSpoolFile<T>(
  io: CliIo,
  kind: 'json' | 'csv',
  use: (spool: SpoolFile) => Promise<T>,
): Promise<T> {
  const folder = tmpdir();
  try {
    removeStale(
      folder,
      (name) => name.startsWith(PRIVATE_PREFIX) && SPOOL_NAME.test(name.slice(PRIVATE_PREFIX.length)),
      STALE_SPOOL_MS,
    );
  } catch {
    // A temporary folder that cannot be listed: the file's own creation says what is wrong with it.
  }
  return withFileIn(io, folder, PRIVATE_PREFIX, kind, use);
}

async function withFileIn<T>(
  io: CliIo,
  folder: string,
  prefix: string,
  kind: 'json' | 'csv',
  use: (spool: SpoolFile) => Promise<T>,
): Promise<T> {
  const path = join(folder, `${prefix}explain-${process.pid}-${randomBytes(6).toString('hex')}.${kind}.part`);
  // Ctrl-C (or a kill) while the batch runs removes the file too; only SIGKILL or a power cut leaves it behind.
  // Watched before it is made: a Ctrl-C that finds the file made must find it watched.
  const stopRemoving = removeOnInterrupt(path);
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx+', 0o600);
  } catch (e) {
    stopRemoving();
    throw new SpoolError(path, 'write', e, {}, kind);
  }
  try {
    return await use({ path, handle });
  } finally {
    stopRemoving();
    await handle.close().catch(() => undefined);
    await rm(path, { force: true }).catch((e: unknown) => {
      io.stderr.write(
        `note: cannot remove ${path}: ${fsReason(e) ?? (e as Error).message}; it holds applicants' ${kind === 'json' ? 'documents' : 'rows'}, remove it by hand\n`,
      );
    });
  }
}

/**
 * Runs `fill`, whose `append` adds text to a new spool file (withSpoolFile), then, only if `fill` succeeded,
 * copies the file to standard output through writeOut (a closed pipe is an OutputError). The file is removed in
 * every case.
 */
export async function printOnceComplete(
  io: CliIo,
  dataDir: string,
  fill: (append: (text: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  await withSpoolFile(io, dataDir, 'json', async ({ path, handle }) => {
    await fill(async (text) => {
      try {
        await handle.writeFile(text);
      } catch (e) {
        throw new SpoolError(path, 'write', e);
      }
    });
    await copyOut(io, handle, path);
  });
}

/** The spool's bytes, from its start, to standard output one piece at a time as the reader takes them. */
async function copyOut(io: CliIo, spool: FileHandle, path: string): Promise<void> {
  for (let position = 0; ;) {
    let piece: Buffer;
    try {
      const { bytesRead, buffer } = await spool.read(Buffer.allocUnsafe(COPY_PIECE), 0, COPY_PIECE, position);
      piece = buffer.subarray(0, bytesRead);
    } catch (e) {
      throw new SpoolError(path, 'read', e);
    }
    if (piece.length === 0) return;
    position += piece.length;
    await writeOut(io, piece);
  }
}
