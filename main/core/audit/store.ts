// The audit tables' SQL, prepared once per connection. Rows come back raw (arrays in RECORD_FIELDS order).
import type Database from 'better-sqlite3';
import type { ReadableDb, WritableDb } from '../db/open.js';
import { RECORD_FIELDS } from './entry.js';

export type AnyDb = ReadableDb | WritableDb;

const COLUMNS = [...RECORD_FIELDS.map(([f]) => f), 'prev_hash', 'entry_hash'].join(', ');

/** A stored entry row: RECORD_FIELDS values, then prev_hash and entry_hash (hex). */
export type EntryRow = (string | number | null)[];
export const PREV_HASH = RECORD_FIELDS.length;
export const ENTRY_HASH = RECORD_FIELDS.length + 1;

export interface CheckpointRow {
  seq: number;
  entry_hash: string;
  count: number;
  created_at: string;
  signature: Buffer;
  key_id: string;
}

export interface Head {
  seq: number;
  entryHash: string;
  /** The head entry's timestamp: the next entry is never stamped earlier (appendPrepared). */
  timestamp: string;
}

interface ReadStatements {
  head: Database.Statement<[], [number, string, string]>;
  entriesFrom: Database.Statement<[number], EntryRow>;
  entriesBetween: Database.Statement<[number, number, number], EntryRow>;
  entryTimestamp: Database.Statement<[number], { timestamp: string }>;
  seqOfHash: Database.Statement<[string], { seq: number }>;
  firstSeqSince: Database.Statement<[string], { seq: number | null }>;
  stampedBefore: Database.Statement<[StampedBeforeQuery], { n: number; seqs: string | null }>;
  prevHashOf: Database.Statement<[number], { prev_hash: string }>;
  entryHashOf: Database.Statement<[number], { entry_hash: string }>;
  latestCheckpoint: Database.Statement<[], CheckpointRow>;
  checkpoints: Database.Statement<[], CheckpointRow>;
  checkpointBefore: Database.Statement<[number], { seq: number }>;
}

interface WriteStatements {
  insertEntry: Database.Statement<unknown[]>;
  insertCheckpoint: Database.Statement<[number, string, number, string, Buffer, string]>;
}

export interface StampedBeforeQuery {
  from: number;
  to: number;
  /** An ISO 8601 UTC time, as entries are stamped. */
  before: string;
}

/** How many seqs stampedBefore lists. */
export const STAMPED_BEFORE_SHOWN = 10;

const reads = new WeakMap<Database.Database, ReadStatements>();
const writes = new WeakMap<Database.Database, WriteStatements>();

/** Whether the database has the audit log's tables (both: a migrated database always has them). */
export function hasAuditTables(db: AnyDb): boolean {
  return (
    (
      db
        .prepare(
          "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('audit_entries', 'audit_checkpoints')",
        )
        .get() as { n: number }
    ).n === 2
  );
}

export function readStatements(db: AnyDb): ReadStatements {
  let s = reads.get(db);
  if (!s) {
    s = {
      head: db
        .prepare<[], [number, string, string]>(
          'SELECT seq, entry_hash, timestamp FROM audit_entries ORDER BY seq DESC LIMIT 1',
        )
        .raw(),
      entriesFrom: db
        .prepare<[number], EntryRow>(`SELECT ${COLUMNS} FROM audit_entries WHERE seq >= ? ORDER BY seq`)
        .raw(),
      entriesBetween: db
        .prepare<[number, number, number], EntryRow>(
          `SELECT ${COLUMNS} FROM audit_entries WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`,
        )
        .raw(),
      entryTimestamp: db.prepare('SELECT timestamp FROM audit_entries WHERE seq = ?'),
      seqOfHash: db.prepare('SELECT seq FROM audit_entries WHERE entry_hash = ? ORDER BY seq LIMIT 1'),
      firstSeqSince: db.prepare(
        'SELECT min(seq) AS seq FROM audit_entries WHERE seq >= 1 AND timestamp >= ?',
      ),
      // Entries from seq A to B stamped before T: only a log written before timestamps were kept
      // non-decreasing has any after the first entry stamped at or after T. The first few seqs, and how many.
      stampedBefore: db.prepare(
        `SELECT count(*) AS n, (SELECT group_concat(seq) FROM (SELECT seq FROM audit_entries WHERE seq >= @from AND seq <= @to AND timestamp < @before ORDER BY seq LIMIT ${STAMPED_BEFORE_SHOWN})) AS seqs
           FROM audit_entries WHERE seq >= @from AND seq <= @to AND timestamp < @before`,
      ),
      prevHashOf: db.prepare('SELECT prev_hash FROM audit_entries WHERE seq = ?'),
      entryHashOf: db.prepare('SELECT entry_hash FROM audit_entries WHERE seq = ?'),
      latestCheckpoint: db.prepare('SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1'),
      checkpoints: db.prepare('SELECT * FROM audit_checkpoints ORDER BY seq'),
      checkpointBefore: db.prepare(
        'SELECT seq FROM audit_checkpoints WHERE seq < ? ORDER BY seq DESC LIMIT 1',
      ),
    };
    reads.set(db, s);
  }
  return s;
}

export function writeStatements(db: WritableDb): WriteStatements {
  let s = writes.get(db);
  if (!s) {
    s = {
      insertEntry: db.prepare(
        `INSERT INTO audit_entries (${COLUMNS}) VALUES (${[...RECORD_FIELDS, 0, 0].map(() => '?').join(', ')})`,
      ),
      insertCheckpoint: db.prepare(
        'INSERT INTO audit_checkpoints (seq, entry_hash, count, created_at, signature, key_id) VALUES (?, ?, ?, ?, ?, ?)',
      ),
    };
    writes.set(db, s);
  }
  return s;
}

export function readHead(db: AnyDb): Head | undefined {
  const row = readStatements(db).head.get();
  return row ? { seq: row[0], entryHash: row[1], timestamp: row[2] } : undefined;
}
