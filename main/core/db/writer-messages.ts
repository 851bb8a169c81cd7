// What the service's thread and the database writer thread (writer-thread.ts) say to each other.
import type { MessagePort } from 'node:worker_threads';
import type { AuditReceipt } from '../audit/append.js';
import type { AuditCheckpoint } from '../audit/checkpoint.js';
import type { AuditEntryInput, PreparedEntry } from '../audit/entry.js';
import type { DiskCacheOptions, PruneResult } from '../cache/disk-cache.js';
import type { DiskWriteBatch } from '../cache/explanation-cache.js';
import type { SigningKey } from '../keys.js';

export interface WriterData {
  dataDir: string;
  signingKey: SigningKey;
  audit: {
    maxDelayMs?: number;
    maxGroupSize?: number;
    checkpointEvery?: number;
    checkpointIntervalMs?: number;
  };
  cache: Omit<DiskCacheOptions, 'now'>;
  /** How often (ms) the writer copies its WAL into the database file, when it has written since. */
  walCheckpointMs: number;
  /** One Int32: the writer sets it to 1 and notifies once a call's answer is on `answers`. */
  signal: SharedArrayBuffer;
  answers: MessagePort;
}

/**
 * Audit entries as the service's thread appended them: one as given, with `at` its timestamp (ms since the
 * epoch), or a set already prepared (checked, laid out and stamped) that is committed in one transaction.
 */
export type QueuedEntry =
  { id: number; at: number; entry: AuditEntryInput } | { id: number; prepared: PreparedEntry['stored'][] };

/** Work the writer does in the background; its outcome comes back as a Done. */
export interface Work {
  op: 'work';
  entries: QueuedEntry[];
  cache: DiskWriteBatch[];
  /** Answer these flushes once everything before them is committed. */
  flushes: number[];
}

/** A call the service's thread waits for, blocked, until the writer answers on `answers`. */
export type WriterCall =
  | { op: 'appendSync'; entry: AuditEntryInput; at: number }
  | { op: 'checkpoint'; at: number }
  | { op: 'cacheWrite'; batch: DiskWriteBatch }
  | { op: 'cacheInvalidate'; batch: DiskWriteBatch; keepModelSha256: string | undefined }
  | { op: 'cachePrune'; batch: DiskWriteBatch };

export interface CallAnswers {
  appendSync: AuditReceipt;
  checkpoint: AuditCheckpoint | undefined;
  cacheWrite: undefined;
  cacheInvalidate: number;
  cachePrune: PruneResult;
}

export type ToWriter = Work | { op: 'call'; call: WriterCall } | { op: 'close' };

export interface WriterError {
  name: string;
  message: string;
  /** SQLite's error code (SQLITE_FULL, SQLITE_IOERR_…), which says whether the storage failed. */
  code?: string;
  /** The database disk's free bytes when it failed (open.ts withFreeSpace): a nearly full one is full. */
  freeBytes?: number;
}

/** An error of the writer thread as it crosses to the service's thread. */
export function errorOf(e: unknown): WriterError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const { code, freeBytes } = e as { code?: unknown; freeBytes?: unknown };
  return {
    name: e.name,
    message: e.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof freeBytes === 'number' ? { freeBytes } : {}),
  };
}

/**
 * `error`, made on the receiving thread from `e` (errorOf), with the SQLite code and the free space `e` carries:
 * what says whether the storage failed, and how (storageFailure: a full disk is a 503 saying so, not an internal
 * error, nor a failing disk).
 */
export function withStorageFacts(error: Error, e: WriterError): Error {
  if (e.code !== undefined) Object.assign(error, { code: e.code });
  if (e.freeBytes !== undefined) Object.assign(error, { freeBytes: e.freeBytes });
  return error;
}

export interface Done {
  op: 'done';
  /** Each queued entry's receipts (one per entry of a set), or why it was refused or its transaction failed. */
  receipts: [id: number, outcome: AuditReceipt[] | WriterError][];
  flushed: number[];
}

export type FromWriter =
  | { op: 'ready' }
  | { op: 'failed'; message: string }
  | Done
  /** A background checkpoint or cache write failed. */
  | { op: 'error'; message: string }
  | { op: 'closed' };

export type CallAnswer = { ok: true; value: unknown } | { ok: false; error: WriterError };
