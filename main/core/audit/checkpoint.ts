// Signed checkpoints: an Ed25519 signature over (seq, entry_hash, count, created_at, key_id) of a chain head,
// so that head office, holding only the public key, can tell the chain up to there was not rewritten. Each
// checkpoint also signs the seq of the one before it (prev_seq, v2), so that removing a checkpoint breaks the
// next one's signature; and they are written at least every `every` entries and `intervalMs` of stamped time,
// counted on the entries themselves, so that verifyAudit can hold the log to that policy: removing the last
// checkpoints leaves open only what the policy itself leaves unsigned (see verify.ts).
import { canonicalJson } from '../canonical-json.js';
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { WritableDb } from '../db/open.js';
import { keyId, type SigningKey } from '../keys.js';
import {
  readHead,
  readStatements,
  writeStatements,
  type AnyDb,
  type CheckpointRow,
  type Head,
} from './store.js';

export interface AuditCheckpoint {
  seq: number;
  /**
   * The seq of the checkpoint before this one (0 for the first), which a v2 checkpoint signs; not stored, since
   * it is the table's own order. Absent: the checkpoint is checked as signed (v2, or v1 as earlier versions
   * signed without it).
   */
  prevSeq?: number;
  /** Hex SHA-256 of the entry at seq. */
  entryHash: string;
  /** Entries from genesis through seq. */
  count: number;
  createdAt: string;
  keyId: string;
  /** Base64 Ed25519 signature over checkpointMessage. */
  signature: string;
}

export interface CheckpointPolicy {
  /** Sign once this many entries are uncovered. */
  every: number;
  /** Sign once the oldest uncovered entry is this old. */
  intervalMs: number;
}

export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = { every: 1000, intervalMs: 10 * 60_000 };

/**
 * A checkpoint sealing an export: also signs where the exported range starts, so that entries cut from
 * the front of an export are caught like entries cut from its end.
 */
export interface ExportCheckpoint extends AuditCheckpoint {
  firstSeq: number;
  /** prev_hash of the entry at firstSeq (the head's hash when the range is empty). */
  firstPrevHash: string;
}

const DOMAIN_V1 = 'branchlens/audit-checkpoint/v1';
const DOMAIN = 'branchlens/audit-checkpoint/v2';
const EXPORT_DOMAIN = 'branchlens/audit-export/v1';

/**
 * The signed bytes: RFC 8785 JSON of the checkpoint's fields and a domain tag. A stored checkpoint with `prevSeq`
 * is v2, without it v1 (as BranchLens signed them before checkpoints were chained); an export's seal has its own
 * domain.
 */
export function checkpointMessage(
  c: Omit<AuditCheckpoint, 'signature'> | Omit<ExportCheckpoint, 'signature'>,
): Buffer {
  const fields: Record<string, string | number> = {
    domain: DOMAIN_V1,
    seq: c.seq,
    entry_hash: c.entryHash,
    count: c.count,
    created_at: c.createdAt,
    key_id: c.keyId,
  };
  if ('firstSeq' in c) {
    fields.domain = EXPORT_DOMAIN;
    fields.first_seq = c.firstSeq;
    fields.first_prev_hash = c.firstPrevHash;
  } else if (c.prevSeq !== undefined) {
    fields.domain = DOMAIN;
    fields.prev_seq = c.prevSeq;
  }
  return Buffer.from(canonicalJson(fields), 'utf8');
}

/** A checkpoint's time: `at`, or the head's own timestamp if later (a checkpoint never predates what it signs). */
function checkpointTime(at: Date, head: { timestamp?: string }): string {
  const iso = at.toISOString();
  return head.timestamp !== undefined && head.timestamp > iso ? head.timestamp : iso;
}

function signed<T extends Omit<AuditCheckpoint, 'signature'>>(
  key: SigningKey,
  unsigned: T,
): T & { signature: string } {
  return {
    ...unsigned,
    signature: sign(null, checkpointMessage(unsigned), key.privateKey).toString('base64'),
  };
}

/** Signs `head` (v2), chained to the checkpoint at `prevSeq` (0: none before it). */
export function signCheckpoint(
  key: SigningKey,
  head: { seq: number; entryHash: string; timestamp?: string },
  at: Date,
  prevSeq: number,
): AuditCheckpoint {
  return signed(key, {
    seq: head.seq,
    prevSeq,
    entryHash: head.entryHash,
    count: head.seq,
    createdAt: checkpointTime(at, head),
    keyId: key.id,
  });
}

export function signExportCheckpoint(
  key: SigningKey,
  head: { seq: number; entryHash: string; timestamp?: string },
  first: { seq: number; prevHash: string },
  at: Date,
): ExportCheckpoint {
  return signed(key, {
    seq: head.seq,
    entryHash: head.entryHash,
    count: head.seq,
    createdAt: checkpointTime(at, head),
    keyId: key.id,
    firstSeq: first.seq,
    firstPrevHash: first.prevHash,
  });
}

/** The public key as a KeyObject, and its key id (the one SigningKey.id gives for the same key). */
export function auditPublicKey(key: KeyObject | string): { key: KeyObject; id: string } {
  const object = typeof key === 'string' ? createPublicKey(key) : key;
  const pem = object.export({ type: 'spki', format: 'pem' }) as string;
  return { key: object, id: keyId(Buffer.from(pem)) };
}

/** `valid_v1`: a valid signature of an earlier version's unchained checkpoint (no prev_seq). */
export type SignatureCheck = 'valid' | 'valid_v1' | 'wrong_key' | 'bad_signature';

/**
 * Checks a checkpoint's signature. A stored checkpoint (one with `prevSeq`, as verifyAudit reads them) is valid
 * as v2 signed over that prevSeq, or else as a v1 checkpoint (`valid_v1`), which signed none.
 */
export function checkSignature(
  c: AuditCheckpoint | ExportCheckpoint,
  publicKey: { key: KeyObject; id: string },
): SignatureCheck {
  if (c.keyId !== publicKey.id) return 'wrong_key';
  const signature = Buffer.from(c.signature, 'base64');
  const valid = (message: Buffer) => {
    try {
      return verify(null, message, publicKey.key, signature);
    } catch {
      return false;
    }
  };
  if (valid(checkpointMessage(c))) return 'valid';
  if (!('firstSeq' in c) && c.prevSeq !== undefined) {
    const { prevSeq: _prevSeq, ...unchained } = c;
    if (valid(checkpointMessage(unchained))) return 'valid_v1';
  }
  return 'bad_signature';
}

export function fromRow(row: CheckpointRow): AuditCheckpoint {
  return {
    seq: row.seq,
    entryHash: row.entry_hash,
    count: row.count,
    createdAt: row.created_at,
    keyId: row.key_id,
    signature: row.signature.toString('base64'),
  };
}

/** The last stored checkpoint, with the seq of the one before it (as listCheckpoints gives it). */
export function latestCheckpoint(db: AnyDb): AuditCheckpoint | undefined {
  const { latestCheckpoint: latest, checkpointBefore } = readStatements(db);
  const row = latest.get();
  return row ? { ...fromRow(row), prevSeq: checkpointBefore.get(row.seq)?.seq ?? 0 } : undefined;
}

/** The stored checkpoints in seq order, each with the seq of the one before it (the v2 signature's prevSeq). */
export function listCheckpoints(db: AnyDb): AuditCheckpoint[] {
  let prevSeq = 0;
  return readStatements(db)
    .checkpoints.all()
    .map((row) => {
      const c = { ...fromRow(row), prevSeq };
      prevSeq = row.seq;
      return c;
    });
}

function insert(db: WritableDb, c: AuditCheckpoint): void {
  writeStatements(db).insertCheckpoint.run(
    c.seq,
    c.entryHash,
    c.count,
    c.createdAt,
    Buffer.from(c.signature, 'base64'),
    c.keyId,
  );
}

/** The run of entries no checkpoint covers yet: the last checkpoint's seq, and when the run's first entry was stamped. */
export interface UncoveredRun {
  covered: number;
  /** Milliseconds since the epoch; undefined while the run is empty. */
  oldestMs?: number;
}

export function uncoveredRun(db: AnyDb): UncoveredRun {
  const covered = readStatements(db).latestCheckpoint.get()?.seq ?? 0;
  const oldest = readStatements(db).entryTimestamp.get(covered + 1);
  return oldest === undefined ? { covered } : { covered, oldestMs: Date.parse(oldest.timestamp) };
}

/**
 * Whether the policy wants the entry at `seq`, stamped `stampedMs`, signed as the run's end: the run has `every`
 * entries, or the entry was stamped `intervalMs` or more after the run's first. Counted on the entries' own seqs
 * and stamps, so that verifyAudit can check a log against the same rule.
 */
export function dueAt(policy: CheckpointPolicy, run: UncoveredRun, seq: number, stampedMs: number): boolean {
  return (
    seq - run.covered >= policy.every ||
    (run.oldestMs !== undefined && stampedMs - run.oldestMs >= policy.intervalMs)
  );
}

/** The head, when the policy wants it signed: enough entries uncovered, or the oldest uncovered one old enough. */
function dueHead(
  db: AnyDb,
  policy: CheckpointPolicy,
  now: Date,
): { head: Head; prevSeq: number } | undefined {
  const head = readHead(db);
  if (!head) return undefined;
  const run = uncoveredRun(db);
  if (head.seq <= run.covered) return undefined;
  return dueAt(policy, run, head.seq, now.getTime()) ? { head, prevSeq: run.covered } : undefined;
}

/** Inside an open write transaction: signs `head` as the end of the run after `prevSeq`, and stores it. */
export function insertCheckpoint(
  db: WritableDb,
  key: SigningKey,
  head: { seq: number; entryHash: string; timestamp: string },
  prevSeq: number,
  now: Date,
): AuditCheckpoint {
  const c = signCheckpoint(key, head, now, prevSeq);
  insert(db, c);
  return c;
}

/** Inside an open write transaction: signs the head when the policy says so. Returns the new checkpoint, if any. */
export function checkpointIfDueInTransaction(
  db: WritableDb,
  key: SigningKey,
  policy: CheckpointPolicy,
  now: Date,
): AuditCheckpoint | undefined {
  const due = dueHead(db, policy, now);
  return due ? insertCheckpoint(db, key, due.head, due.prevSeq, now) : undefined;
}

/** Signs the current head now, unless it already is; undefined while the log is empty. */
export function writeCheckpoint(
  db: WritableDb,
  key: SigningKey,
  now = new Date(),
): AuditCheckpoint | undefined {
  return db
    .transaction(() => {
      const head = readHead(db);
      if (!head) return undefined;
      const latest = latestCheckpoint(db);
      if (latest && latest.seq === head.seq) return latest;
      return insertCheckpoint(db, key, head, latest?.seq ?? 0, now);
    })
    .immediate();
}

/** Same as writeCheckpoint, but only when the policy says it is due. */
export function checkpointIfDue(
  db: WritableDb,
  key: SigningKey,
  policy: CheckpointPolicy = DEFAULT_CHECKPOINT_POLICY,
  now = new Date(),
): AuditCheckpoint | undefined {
  // A plain read first: a quiet log costs no write lock.
  if (!dueHead(db, policy, now)) return undefined;
  return db.transaction(() => checkpointIfDueInTransaction(db, key, policy, now)).immediate();
}
