// Exports the log as JSONL, CSV or Elasticsearch bulk NDJSON, optionally gzipped. The log is checked first: a
// log that fails the check is never signed, since a signed export of it would read as intact at head office. An
// export of the whole log verifies all of it; an export of a range checks what it signs (see checkBeforeExport).
// Then the current head is signed (a checkpoint stored like any other), and the export runs up to that
// checkpoint and ends with it, so verifyExport can check the exported chain and the signature over its head on
// another machine.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { WritableDb } from '../db/open.js';
import type { SigningKey } from '../keys.js';
import { signExportCheckpoint, writeCheckpoint, type ExportCheckpoint } from './checkpoint.js';
import { GENESIS_HASH } from './entry.js';
import {
  verifyAudit,
  verifyAuditRange,
  type AuditBreak,
  type AuditProgress,
  type AuditRange,
  type AuditVerification,
  type VerifyAuditOptions,
} from './verify.js';

/** How an export's check treats checkpoints of an earlier key of the installation (see exportAudit). */
export const EXPORT_OTHER_KEYS: VerifyAuditOptions['otherKeys'] = 'chain-only';
import {
  checkpointCsv,
  checkpointObject,
  CSV_COLUMNS,
  entryCsv,
  entryJson,
  esCheckpointLines,
  esEntryAction,
  type AuditExportFormat,
} from './export-format.js';
import { ENTRY_HASH, hasAuditTables, readHead, readStatements, type AnyDb } from './store.js';

export interface AuditExportOptions {
  format: AuditExportFormat;
  /** Start at the first entry stamped at or after this time (and run on to the head, without gaps). */
  since?: Date;
  /**
   * End before the first entry stamped at or after this time, i.e. at the last entry stamped before it (a closed
   * range, such as a month, with `since`); the seal then signs that entry as the range's end. Without it the
   * export runs to the head.
   */
  until?: Date;
  gzip?: boolean;
  /** A file path, or a stream left open afterwards (stdout). */
  out: string | NodeJS.WritableStream;
  /** Aborted when the reader of `out` went away: the export stops (rejecting with an AbortError). */
  signal?: AbortSignal;
  /** Signs the head the export ends with. */
  signingKey: SigningKey;
  /**
   * The log's check against `signingKey` (with `otherKeys: 'chain-only'`), when the caller has already run it
   * off its own thread (verifyAuditInThread, with the same since/until); otherwise the export runs it here.
   */
  verified?: ExportCheck;
  /** Called as the check walks the log (`verifying`) and as entries are written (`exporting`). */
  onProgress?: (progress: AuditExportProgress) => void;
}

/** How far an export is: checking the log, then writing `done` of `total` entries. */
export interface AuditExportProgress extends AuditProgress {
  phase: 'verifying' | 'exporting';
}

/** What an export needs of its check: a break refuses it; other keys are named in its summary. */
export type ExportCheck = Pick<AuditVerification, 'break' | 'otherKeyIds'>;

export interface AuditExportSummary {
  format: AuditExportFormat;
  entries: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The signed seal the export ends with. */
  checkpoint: ExportCheckpoint;
  /**
   * Keys other than this installation's that signed checkpoints in the log (its key was replaced, e.g. lost):
   * those checkpoints were checked against the chain, but their signatures could not be. Head office, which
   * holds the earlier public keys, can check them.
   */
  otherKeyIds?: string[];
  /**
   * Only for a log written before timestamps were kept non-decreasing along the chain, where they went back a
   * little: entries stamped before a boundary of the range that come after the first entry stamped at or after it.
   * With `bound: 'since'` they are in this export although stamped before `since`; with `bound: 'until'` they are
   * after it (in the next range) although stamped before `until`.
   */
  misplaced?: MisplacedStamps[];
}

export interface MisplacedStamps {
  bound: 'since' | 'until';
  /** How many entries. */
  count: number;
  /** The first few of their seqs (up to 10). */
  seqs: number[];
}

const PAGE = 2000;

/** The log fails verification: it is not exported, and its head is not signed. */
export class AuditBrokenError extends Error {
  constructor(readonly found: AuditBreak) {
    super(
      `the audit log fails verification at entry ${found.seq} (${found.kind}): ${found.message}. Nothing was exported or signed: a signed export would pass this log off as intact. Keep the database as it is and report it to head office (branchlens audit verify shows the same break).`,
    );
    this.name = 'AuditBrokenError';
  }
}

function* lines(
  db: WritableDb,
  format: AuditExportFormat,
  first: number,
  checkpoint: ExportCheckpoint,
  onProgress?: (progress: AuditExportProgress) => void,
): Generator<string> {
  if (format === 'csv') yield CSV_COLUMNS.join(',') + '\n';
  const { entriesBetween } = readStatements(db);
  const total = Math.max(0, checkpoint.seq - first + 1);
  // Pages rather than one long iterator: the connection stays free between them and no read transaction
  // is held open while a slow consumer drains the stream. Entries never change, so pages are consistent.
  for (let from = first; from <= checkpoint.seq; from += PAGE) {
    onProgress?.({ phase: 'exporting', done: from - first, total });
    let chunk = '';
    for (const row of entriesBetween.all(from, checkpoint.seq, PAGE)) {
      switch (format) {
        case 'jsonl':
          chunk += entryJson(row) + '\n';
          break;
        case 'csv':
          chunk += entryCsv(row) + '\n';
          break;
        case 'es-bulk':
          chunk += `${esEntryAction(row[ENTRY_HASH] as string)}\n${entryJson(row, `,"key_id":${JSON.stringify(checkpoint.keyId)}`)}\n`;
          break;
      }
    }
    yield chunk;
  }
  switch (format) {
    case 'jsonl':
      yield JSON.stringify(checkpointObject(checkpoint)) + '\n';
      break;
    case 'csv':
      yield checkpointCsv(checkpoint) + '\n';
      break;
    case 'es-bulk':
      yield esCheckpointLines(checkpoint);
      break;
  }
}

interface Range {
  first: number;
  firstPrevHash: string;
  /** The range's last entry, which the seal signs. */
  end: { seq: number; entryHash: string };
  misplaced: MisplacedStamps[];
}

/**
 * A time as a place in the chain: the first entry stamped at or after it (or the one after the head). Both ends
 * of a range are cut by this one rule, so adjacent ranges (a month and the next) share no entry and miss none.
 * Entries appended after `headSeq` (since the head was signed) are not in this export.
 */
function boundaryOf(db: AnyDb, headSeq: number, t: Date): number {
  const found = readStatements(db).firstSeqSince.get(t.toISOString())?.seq ?? null;
  return found === null || found > headSeq ? headSeq + 1 : found;
}

/** The entries from `since` to `until` in a log whose head (signed for this export) is `head`. */
function selectRange(
  db: WritableDb,
  head: { seq: number; entryHash: string },
  options: Pick<AuditExportOptions, 'since' | 'until'>,
): Range {
  const { prevHashOf, entryHashOf, stampedBefore } = readStatements(db);
  const boundary = (t: Date) => boundaryOf(db, head.seq, t);
  const first = options.since ? boundary(options.since) : 1;
  const firstPrevHash =
    first === 1 ? GENESIS_HASH : first > head.seq ? head.entryHash : prevHashOf.get(first)!.prev_hash;
  // With `until` the range ends before the first entry stamped at or after it (never before `first`): the seal
  // signs that range's last entry, which the export ends with, instead of the head.
  let end = head;
  if (options.until) {
    const last = Math.max(first - 1, boundary(options.until) - 1);
    if (last < head.seq) {
      end =
        last === first - 1
          ? { seq: last, entryHash: firstPrevHash }
          : { seq: last, entryHash: entryHashOf.get(last)!.entry_hash };
    }
  }
  // appendPrepared keeps timestamps non-decreasing along the chain; in a log written before it did, a few entries
  // may be stamped a moment before a boundary yet come after it. They are named, not moved: moving them would
  // leave a gap in the chain, or give them to two ranges.
  const misplaced: MisplacedStamps[] = [];
  const stampedBeforeIn = (bound: 'since' | 'until', t: Date, from: number, to: number) => {
    if (from > to) return;
    const found = stampedBefore.get({ from, to, before: t.toISOString() });
    if (found && found.n > 0) {
      misplaced.push({ bound, count: found.n, seqs: found.seqs!.split(',').map(Number) });
    }
  };
  if (options.since) stampedBeforeIn('since', options.since, first, end.seq);
  if (options.until) stampedBeforeIn('until', options.until, end.seq + 1, head.seq);
  return { first, firstPrevHash, end, misplaced };
}

/**
 * The entries an export of `since`–`until` will hold, as its seal will sign them, in the log as it is now. Entries
 * appended between this and the signing are the running writer's own, as with a check of the whole log.
 */
export function exportRange(db: AnyDb, options: Pick<AuditExportOptions, 'since' | 'until'>): AuditRange {
  const headSeq = hasAuditTables(db) ? (readHead(db)?.seq ?? 0) : 0;
  if (headSeq === 0) return { first: 1, last: 0 };
  const first = options.since ? boundaryOf(db, headSeq, options.since) : 1;
  const last = options.until ? Math.max(first - 1, boundaryOf(db, headSeq, options.until) - 1) : headSeq;
  return { first, last };
}

/**
 * The check before anything is signed: the export's seal vouches for its entries, and the checkpoint it stores for
 * the head, so they must verify against this installation's key. Of the whole log, verifyAudit walks it all. Of a
 * range (`since` or `until`), verifyAuditRange walks the range from the last checkpoint before it to a
 * checkpoint of this key after it, which proves every exported entry is what was sealed, and the run after the
 * last checkpoint, which the stored head checkpoint signs (the argument is in verify.ts); `audit verify` is the
 * full check. Either way an edited and re-hashed chain is caught by its stored checkpoints. Checkpoints of an
 * earlier key (one that was replaced) are checked against the chain only: refusing them would leave a branch that
 * lost its key unable to export ever again.
 */
export function checkBeforeExport(
  db: AnyDb,
  options: Pick<AuditExportOptions, 'since' | 'until' | 'signingKey' | 'onProgress'>,
): ExportCheck {
  const onProgress = options.onProgress;
  const verifyOptions: VerifyAuditOptions = {
    otherKeys: EXPORT_OTHER_KEYS,
    ...(onProgress ? { onProgress: (p: AuditProgress) => onProgress({ phase: 'verifying', ...p }) } : {}),
  };
  const key = options.signingKey.publicKey;
  if (!options.since && !options.until) return verifyAudit(db, key, verifyOptions);
  return verifyAuditRange(db, key, exportRange(db, options), verifyOptions);
}

/** Writes an export of the audit log; see AuditExportOptions. */
export async function exportAudit(db: WritableDb, options: AuditExportOptions): Promise<AuditExportSummary> {
  // The export's seal vouches for every entry up to the head, so the log must verify against this installation's
  // key before anything is signed: an edited and re-hashed chain is caught here by its stored checkpoints.
  // Checkpoints of an earlier key (one that was replaced) are checked against the chain only: refusing them
  // would leave a branch that lost its key unable to export ever again.
  const verified = options.verified ?? checkBeforeExport(db, options);
  if (verified.break) throw new AuditBrokenError(verified.break);
  // The time is taken once the log is checked (which takes seconds for a large log, while entries keep coming).
  const now = new Date();
  // Signing the head in the database too anchors it locally: cutting exported entries is then caught by verifyAudit.
  const stored = hasAuditTables(db) ? writeCheckpoint(db, options.signingKey, now) : undefined;
  // A signature never predates what it signs: the stored checkpoint's time is never before the head's stamp.
  const sealAt = stored && stored.createdAt > now.toISOString() ? new Date(stored.createdAt) : now;
  const head = stored ?? { seq: 0, entryHash: GENESIS_HASH };
  const range = head.seq > 0 ? selectRange(db, head, options) : undefined;
  const first = range?.first ?? 1;
  const firstPrevHash = range?.firstPrevHash ?? GENESIS_HASH;
  const rangeEnd = range?.end ?? head;
  // The seal also signs where the range starts, so entries cut from the front are caught too.
  const checkpoint = signExportCheckpoint(
    options.signingKey,
    rangeEnd,
    { seq: first, prevHash: firstPrevHash },
    sealAt,
  );
  const source = Readable.from(lines(db, options.format, first, checkpoint, options.onProgress));
  const sink = typeof options.out === 'string' ? createWriteStream(options.out) : options.out;
  const end = typeof options.out === 'string';
  // A reader that goes away (a download cut short) aborts `signal`: the entries left are not read for nobody.
  const signal = options.signal;
  if (options.gzip) await pipeline(source, createGzip(), sink, { end, ...(signal && { signal }) });
  else await pipeline(source, sink, { end, ...(signal && { signal }) });
  const entries = Math.max(0, checkpoint.seq - first + 1);
  return {
    format: options.format,
    entries,
    firstSeq: entries > 0 ? first : null,
    lastSeq: entries > 0 ? checkpoint.seq : null,
    checkpoint,
    ...(verified.otherKeyIds ? { otherKeyIds: verified.otherKeyIds } : {}),
    ...(range && range.misplaced.length > 0 ? { misplaced: range.misplaced } : {}),
  };
}
