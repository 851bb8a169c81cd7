// Signed checkpoints: an Ed25519 signature over (seq, entry_hash, count, created_at, key_id) of a chain head,
// so that head office, holding only the public key, can tell the chain up to there was not rewritten.
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

const DOMAIN = 'branchlens/audit-checkpoint/v1';
const EXPORT_DOMAIN = 'branchlens/audit-export/v1';

/** The signed bytes: RFC 8785 JSON of the checkpoint's fields and a domain tag. */
export function checkpointMessage(
  c: Omit<AuditCheckpoint, 'signature'> | Omit<ExportCheckpoint, 'signature'>,
): Buffer {
  const fields: Record<string, string | number> = {
    domain: DOMAIN,
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
  }
  return Buffer.from(canonicalJson(fields), 'utf8');
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

export function signCheckpoint(
  key: SigningKey,
  head: { seq: number; entryHash: string },
  at: Date,
): AuditCheckpoint {
  return signed(key, {
    seq: head.seq,
    entryHash: head.entryHash,
    count: head.seq,
    createdAt: at.toISOString(),
    keyId: key.id,
  });
}

export function signExportCheckpoint(
  key: SigningKey,
  head: { seq: number; entryHash: string },
  first: { seq: number; prevHash: string },
  at: Date,
): ExportCheckpoint {
  return signed(key, {
    seq: head.seq,
    entryHash: head.entryHash,
    count: head.seq,
    createdAt: at.toISOString(),
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

export type SignatureCheck = 'valid' | 'wrong_key' | 'bad_signature';

export function checkSignature(
  c: AuditCheckpoint,
  publicKey: { key: KeyObject; id: string },
): SignatureCheck {
  if (c.keyId !== publicKey.id) return 'wrong_key';
  try {
    const ok = verify(null, checkpointMessage(c), publicKey.key, Buffer.from(c.signature, 'base64'));
    return ok ? 'valid' : 'bad_signature';
  } catch {
    return 'bad_signature';
  }
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

export function latestCheckpoint(db: AnyDb): AuditCheckpoint | undefined {
  const row = readStatements(db).latestCheckpoint.get();
  return row ? fromRow(row) : undefined;
}

export function listCheckpoints(db: AnyDb): AuditCheckpoint[] {
  return readStatements(db).checkpoints.all().map(fromRow);
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

/** The head, when the policy wants it signed: enough entries uncovered, or the oldest uncovered one old enough. */
function dueHead(db: AnyDb, policy: CheckpointPolicy, now: Date): Head | undefined {
  const head = readHead(db);
  if (!head) return undefined;
  const covered = readStatements(db).latestCheckpoint.get()?.seq ?? 0;
  if (head.seq <= covered) return undefined;
  if (head.seq - covered >= policy.every) return head;
  const oldest = readStatements(db).entryTimestamp.get(covered + 1);
  return oldest !== undefined && now.getTime() - Date.parse(oldest.timestamp) >= policy.intervalMs
    ? head
    : undefined;
}

/** Inside an open write transaction: signs the head when the policy says so. Returns the new checkpoint, if any. */
export function checkpointIfDueInTransaction(
  db: WritableDb,
  key: SigningKey,
  policy: CheckpointPolicy,
  now: Date,
): AuditCheckpoint | undefined {
  const head = dueHead(db, policy, now);
  if (!head) return undefined;
  const c = signCheckpoint(key, head, now);
  insert(db, c);
  return c;
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
      const c = signCheckpoint(key, head, now);
      insert(db, c);
      return c;
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
