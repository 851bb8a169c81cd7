// Opens the one BranchLens database in the data dir: WAL, busy_timeout, migrations; and its integrity check.
// Readable and writable handles are distinct types, so a read path cannot write by accident.
import Database from 'better-sqlite3';
import { accessSync, constants, mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsReason } from '../fs-reasons.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

declare const writable: unique symbol;
declare const readable: unique symbol;
/** A handle that may write. */
export type WritableDb = Database.Database & { readonly [writable]: true };
/** A handle for reads only (opened readonly). */
export type ReadableDb = Database.Database & { readonly [readable]: true };

export const DB_FILE = 'branchlens.db';

export class DatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseError';
  }
}

/**
 * The database cannot take the write now: its writer thread stopped, or SQLite reports the storage full, failing,
 * read-only, locked or damaged (storageProblem). Not the caller's mistake, nor a bug: a 503 that says what is
 * wrong (storageFailure).
 */
export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

/** What is wrong with the storage, as SQLite's error code (and, for an I/O error, the free space) says. */
export type StorageProblem = 'full' | 'failing' | 'read-only' | 'moved' | 'locked' | 'damaged';

/**
 * SQLite's code for a database file deleted, renamed or replaced since it was opened. SQLite itself checks it
 * only with a rollback journal: in WAL mode it writes on into the file it opened (checkUnmoved).
 */
export const DB_MOVED = 'SQLITE_READONLY_DBMOVED';

/** Under this much free space, SQLite's "disk I/O error" is taken for a full disk (and health stays degraded). */
export const NEARLY_FULL_BYTES = 1024 * 1024;

/**
 * The storage problem SQLite's error `code` names, or undefined when it names none. A full disk also shows as
 * "disk I/O error" (the WAL or its shared memory cannot grow): with under 1 MiB `free` (bytes free on the
 * database's disk, when known), an I/O error is a full disk, not a failing one. The one classification: the
 * database's opening (databaseError) and a request (storageFailure) only word it for their reader.
 */
export function storageProblem(code: unknown, free: number | undefined): StorageProblem | undefined {
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_IOERR')) {
    return free !== undefined && free < NEARLY_FULL_BYTES ? 'full' : 'failing';
  }
  if (code === DB_MOVED) return 'moved';
  if (code.startsWith('SQLITE_READONLY')) return 'read-only';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return 'damaged';
  return undefined;
}

/** Whether the free space tells what SQLite's error `code` means (an I/O error) or how full the disk is. */
function aboutSpace(code: unknown): boolean {
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR'));
}

/** The free space of the file system holding `dir`, or undefined when it cannot be told. */
export function freeSpace(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * `e` with the free space of `dir` (the database's folder) as it failed, in its `freeBytes`, when SQLite says the
 * disk is full or failing: what storageFailure needs to tell the two apart. Where the error arises, since by the
 * time a transport words it, neither the folder nor that moment is known. Any other error as it is.
 */
export function withFreeSpace(
  e: unknown,
  dir: string,
  free: (dir: string) => number | undefined = freeSpace,
): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (!aboutSpace(code) || typeof (e as { freeBytes?: unknown }).freeBytes === 'number') return e;
  const bytes = free(dir);
  if (bytes !== undefined) Object.assign(e as object, { freeBytes: bytes });
  return e;
}

/**
 * `run`, whose failure carries the free space of `dir` (the database's folder) as withFreeSpace gives it, taken as
 * it fails (before the database is closed): a write in the calling thread (an import, an activation, the settings,
 * an export's checkpoint, an explain's audit entries) that finds the disk full, which SQLite may call "disk I/O
 * error", is then said to be a full disk (see storageFailure), not a failing one.
 */
export async function withFreeSpaceOnFailure<T>(dir: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw withFreeSpace(e, dir);
  }
}

/** Whether `e` is a write that found the disk full (storageProblem), as a request is told it. */
export function isDiskFull(e: unknown): boolean {
  const free = (e as { freeBytes?: unknown } | null)?.freeBytes;
  return (
    storageProblem((e as { code?: unknown } | null)?.code, typeof free === 'number' ? free : undefined) ===
    'full'
  );
}

/** What to tell of a full disk: how much is left on it, when known, and what to do. */
export function diskFullSentence(bytes: number | undefined): string {
  return `the disk holding the database is full${bytes !== undefined ? ` (${bytes} bytes free)` : ''}: free some space on it`;
}

/**
 * What a request failed on, when it is the storage (a StorageError, or a SQLite error code saying the disk is
 * full or failing, the database read-only, locked or damaged), as a sentence for the caller; undefined for any
 * other error.
 */
export function storageFailure(e: unknown): string | undefined {
  if (e instanceof StorageError) return e.message;
  const code = (e as { code?: unknown } | null)?.code;
  const free = (e as { freeBytes?: unknown } | null)?.freeBytes;
  const bytes = typeof free === 'number' ? free : undefined;
  switch (storageProblem(code, bytes)) {
    case 'full':
      return diskFullSentence(bytes);
    case 'failing':
      return `the disk holding the database reported an error (${code as string})`;
    case 'read-only':
      return `the database cannot be written (${code as string}): check its permissions`;
    case 'moved':
      return `the database file was deleted or replaced while BranchLens ran (${code as string}): put it back and restart BranchLens`;
    case 'locked':
      return `the database is locked by another program (${code as string}); send the request again`;
    case 'damaged':
      return `the database is damaged (${code as string}): restore it from a backup`;
    case undefined:
      return undefined;
  }
}

export function dbPath(dataDir: string): string {
  return join(dataDir, DB_FILE);
}

/** The file (device and inode) each writable connection opened, as checkUnmoved compares it. */
const openedFiles = new WeakMap<Database.Database, { dev: bigint; ino: bigint }>();

function rememberFile(db: Database.Database): void {
  const s = statSync(db.name, { bigint: true, throwIfNoEntry: false });
  if (s) openedFiles.set(db, { dev: s.dev, ino: s.ino });
}

/**
 * Throws (code DB_MOVED) when the database file `db` opened is no longer the one at its path: deleted, or another
 * put in its place (a backup restored by renaming it over the file). SQLite in WAL mode writes on into the file it
 * opened, which no one can open again: every audit entry from then on would be lost when BranchLens stops, though
 * its answer was given. For a write transaction, once it holds the lock. A connection not opened here is not checked.
 */
export function checkUnmoved(db: Database.Database): void {
  const opened = openedFiles.get(db);
  if (!opened) return;
  const now = statSync(db.name, { bigint: true, throwIfNoEntry: false });
  if (now && now.dev === opened.dev && now.ino === opened.ino) return;
  throw Object.assign(
    new DatabaseError(
      `the database file ${db.name} was ${now ? 'replaced' : 'deleted'} while BranchLens ran: what it writes would go ` +
        'into the file it opened, which no one can open again. Stop BranchLens, put the database back (from a ' +
        'backup if it is gone) and start BranchLens again',
    ),
    { code: DB_MOVED },
  );
}

function configure(db: Database.Database): void {
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  // Statement journals (a trigger's statement needs one) stay in memory: spilled to a temp file they cost
  // several writes per cache insert.
  db.pragma('temp_store = MEMORY');
}

/** A writing connection: durable commits, and WAL checkpoints every ~80 MB rather than every 4 MB. */
function configureWriter(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // An acknowledged audit entry must survive power loss.
  db.pragma('synchronous = FULL');
  // Pages rewritten by many commits (index tails, the totals row) are copied back once per checkpoint.
  db.pragma('wal_autocheckpoint = 10000');
}

/**
 * Copies what the WAL holds into the database file, as far as readers allow: PASSIVE never waits for them, nor
 * for another connection's write (what it cannot copy now, the next checkpoint does; the WAL keeps it meanwhile).
 */
export function walCheckpoint(db: Database.Database): void {
  db.pragma('wal_checkpoint(PASSIVE)');
}

/** Page size of a new database file: 8 KB pages halve the writes of a 2-3 KB cached document. */
const PAGE_SIZE = 8192;

/** A database that cannot be written, named at its opening, with `said` (why) and what to check. */
function cannotWrite(path: string, said: string): DatabaseError {
  return new DatabaseError(
    `cannot write ${path} (${said}): check that the user running BranchLens may write it and its folder, and ` +
      'that its disk is not read-only; then try again',
  );
}

/**
 * A DatabaseError naming the file, and what to do, for a storage problem (storageProblem: a full or failing
 * disk, a read-only or locked database, a file that is not a database or is damaged); other errors as they are.
 */
export function databaseError(
  e: unknown,
  path: string,
  free: (dir: string) => number | undefined = freeSpace,
): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  const bytes = aboutSpace(code) ? free(dirname(path)) : undefined;
  const problem = storageProblem(code, bytes);
  if (problem === undefined) return e;
  const said = `${(e as Error).message}, ${code as string}`;
  switch (problem) {
    case 'full':
      return new DatabaseError(
        `cannot use ${path}: its disk is full${bytes !== undefined ? ` (${bytes} bytes free)` : ''}. ` +
          'Free some space on it and try again',
      );
    case 'failing':
      return new DatabaseError(
        `cannot use ${path}: the disk reported an error (${said}). Check the disk; ` +
          'do not delete the file: it holds the audit log',
      );
    case 'read-only':
    case 'moved':
      return cannotWrite(path, said);
    case 'locked':
      return new DatabaseError(
        `cannot use ${path}: another program holds it locked (${said}). Close that program (a backup or a ` +
          'database viewer, say) and try again',
      );
    case 'damaged':
      return new DatabaseError(
        `${path} is not a BranchLens database or is damaged (${(e as Error).message}): restore it from a backup. ` +
          'Do not delete it: it holds the audit log',
      );
  }
}

/**
 * What SQLite's quick_check finds wrong in the database: nothing ([]) when it is sound. It reads every page
 * (about 2 s per GB from memory, 8 s or more from disk), so it is not run at opening, where the time would grow
 * with the log: long-running processes run it in a read thread once started (integrity-in-thread.ts) and
 * `branchlens audit verify` at its opening (openReadable). What an opening reads (the header, the schema) and a
 * damaged page a request reads are reported by SQLite meanwhile, as 'damaged' (storageProblem).
 */
export function integrityProblems(db: Database.Database): string[] {
  const rows = db.pragma('quick_check') as { quick_check: string }[];
  return rows.length === 1 && rows[0]!.quick_check === 'ok' ? [] : rows.map((r) => r.quick_check);
}

/** The DatabaseError for a database at `path` whose integrity check found `problems` (integrityProblems). */
export function integrityError(path: string, problems: readonly string[]): DatabaseError {
  return new DatabaseError(
    `${path} failed its integrity check (${problems.map((p) => p.replace(/\s*\n\s*/g, ' ')).join('; ')}): ` +
      'restore it from a backup. Do not delete it: it holds the audit log',
  );
}

/** Applies pending migrations, each in its own transaction; refuses a database from a newer BranchLens. */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  path = 'database',
): number {
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw new DatabaseError(
      `${path} has schema version ${current}, newer than this BranchLens understands (${latest}); upgrade BranchLens to open it`,
    );
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return latest;
}

/**
 * The audit log's tables, which the first migration creates: a migrated database without them had its log
 * removed outside BranchLens. Refused, rather than failing each write with SQLite's "no such table".
 */
function checkAuditTables(db: Database.Database, path: string): void {
  const present = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('audit_entries', 'audit_checkpoints')",
    )
    .all() as { name: string }[];
  if (present.length === 2) return;
  const missing = ['audit_entries', 'audit_checkpoints'].filter((t) => !present.some((p) => p.name === t));
  throw new DatabaseError(
    `${path} has no ${missing.join(' or ')} table: its audit log was removed outside BranchLens. Keep the file as ` +
      'it is and report it to head office (branchlens audit verify says the same); restore a backup to go on',
  );
}

/**
 * Opens (creating if needed) the database for writing: WAL, synchronous=FULL, migrated, its audit tables there.
 * Not integrity-checked: that reads every page (see integrityProblems).
 */
export function openWritable(dataDir: string, migrations: readonly Migration[] = MIGRATIONS): WritableDb {
  const path = dbPath(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // SQLite opens a file it may not write read-only without a word: its first write (an answer's audit
    // entry) would fail instead, after the answer was computed.
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      throw cannotWrite(path, fsReason(e) ?? (e as Error).message);
    }
    configure(db);
    // Only a new, empty file takes a page size (before WAL); an existing one keeps its own.
    if ((db.pragma('page_count', { simple: true }) as number) === 0) db.pragma(`page_size = ${PAGE_SIZE}`);
    configureWriter(db);
    const before = db.pragma('user_version', { simple: true }) as number;
    migrate(db, migrations, path);
    if (migrations === MIGRATIONS) checkAuditTables(db, path);
    // A new or upgraded schema goes into branchlens.db itself at once, not only into its WAL (which reaches the
    // file every ~80 MB): a copy of that file alone, taken while BranchLens runs, is then an older state of this
    // database, never an empty one that the next start would take for a new installation.
    if ((db.pragma('user_version', { simple: true }) as number) !== before) walCheckpoint(db);
    rememberFile(db);
  } catch (e) {
    db.close();
    throw databaseError(e, path);
  }
  return db as WritableDb;
}

/**
 * Opens a second writable connection to a database that openWritable has already opened and migrated (the
 * writer thread's): the same WAL and synchronous=FULL, without repeating the migrations.
 */
export function openAnotherWritable(
  dataDir: string,
  migrations: readonly Migration[] = MIGRATIONS,
): WritableDb {
  const path = dbPath(dataDir);
  const db = new Database(path, { fileMustExist: true });
  try {
    configure(db);
    configureWriter(db);
    const version = db.pragma('user_version', { simple: true }) as number;
    const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
    if (version !== latest) {
      throw new DatabaseError(
        `${path} has schema version ${version}, expected ${latest}: open it with openWritable first`,
      );
    }
    rememberFile(db);
  } catch (e) {
    db.close();
    throw databaseError(e, path);
  }
  return db as WritableDb;
}

/**
 * Opens an existing database for reading only; with `integrityCheck`, refuses one whose integrity check
 * (integrityProblems) fails, having read all of it.
 */
export function openReadable(dataDir: string, opts: { integrityCheck?: boolean } = {}): ReadableDb {
  const path = dbPath(dataDir);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    throw new DatabaseError(`no BranchLens database at ${path}`);
  }
  try {
    configure(db);
    db.pragma('user_version', { simple: true });
    if (opts.integrityCheck) {
      const problems = integrityProblems(db);
      if (problems.length > 0) throw integrityError(path, problems);
    }
  } catch (e) {
    db.close();
    throw databaseError(e, path);
  }
  return db as ReadableDb;
}
