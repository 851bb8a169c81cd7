// Walks the chain from genesis and checks every checkpoint; names the first broken entry and how it broke.
//
// Besides the chain and the signatures, the log is held to the policy its checkpoints are written by
// (checkpoint.ts): a run of entries that policy would have signed, left unsigned, means a checkpoint was removed,
// as someone able to rewrite the file would remove them before rewriting the entries they covered. What remains
// open to such a rewrite is what the policy itself leaves unsigned: the entries of the last `intervalMs` of
// logging, fewer than `every`, after the last checkpoint (the head office copy of an export covers the rest).
import type { KeyObject } from 'node:crypto';
import type { AuditBreakKind } from '../../../shared/contract.js';
import {
  auditPublicKey,
  checkSignature,
  DEFAULT_CHECKPOINT_POLICY,
  listCheckpoints,
  type AuditCheckpoint,
  type CheckpointPolicy,
} from './checkpoint.js';
import { canonicalStored, chainHash, GENESIS_HASH, RECORD_FIELDS } from './entry.js';
import { ENTRY_HASH, hasAuditTables, PREV_HASH, readStatements, type AnyDb } from './store.js';

/** Where the timestamp sits in a stored row. */
const TIMESTAMP = RECORD_FIELDS.findIndex(([f]) => f === 'timestamp');

/**
 * How late a run may be closed by a checkpoint that is not held to the policy exactly (v1, or another key's, whose
 * signature cannot be checked): earlier versions signed at the end of the transaction in which the run fell due,
 * and a transaction holds at most the queue's 4,096 entries, committed within moments. Past this, such a run was
 * not closed by any writer of BranchLens either (a rewritten log given one forged "earlier key" checkpoint).
 */
const UNCHECKED_SLACK = { entries: 4096, ms: 5 * 60_000 };

/** How the chain broke: the kinds are the API contract's (shared/contract.ts), where each is described. */
export type { AuditBreakKind };

export interface AuditBreak {
  seq: number;
  kind: AuditBreakKind;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  head: { seq: number; entryHash: string } | null;
  checkpoints: number;
  lastCheckpoint: AuditCheckpoint | null;
  /** Entries after the last checkpoint: not yet covered by a signature. */
  unsigned: number;
  /**
   * With `otherKeys: 'chain-only'`: the ids of the keys other than the given one that signed checkpoints, whose
   * signatures could therefore not be checked (their seq and hash were checked against the chain all the same).
   */
  otherKeyIds?: string[];
  break?: AuditBreak;
}

export interface VerifyAuditOptions {
  /**
   * Checkpoints signed by another key than the given one: a break (`bad_signature`, the default), or checked
   * against the chain only ('chain-only'), as an export does after the installation's key was replaced.
   */
  otherKeys?: 'break' | 'chain-only';
  /** The policy the log's checkpoints were written by (default DEFAULT_CHECKPOINT_POLICY, as the app writes them). */
  policy?: CheckpointPolicy;
}

/** A checkpoint as the walk uses it: whether its signature chains it to the one before (v2). */
interface WalkCheckpoint {
  c: AuditCheckpoint;
  /**
   * Signed v2 by this key: the run it ends is held to the policy. A v1 checkpoint (written before checkpoints
   * were counted on the entries) or one of another key (its signature unchecked) is held to it within
   * UNCHECKED_SLACK.
   */
  chained: boolean;
}

function checkpointBreak(
  c: AuditCheckpoint,
  publicKey: { key: KeyObject; id: string },
): AuditBreak | 'v1' | undefined {
  const check = checkSignature(c, publicKey);
  if (check === 'wrong_key') {
    return {
      seq: c.seq,
      kind: 'bad_signature',
      message: `the checkpoint at entry ${c.seq} names key ${c.keyId}, not the given public key (${publicKey.id})`,
    };
  }
  if (check === 'bad_signature') {
    return {
      seq: c.seq,
      kind: 'bad_signature',
      message:
        `the checkpoint at entry ${c.seq} does not verify: it was forged, or the checkpoint before it ` +
        `(${c.prevSeq ? `after entry ${c.prevSeq}` : 'the log has none before it'}) is not the one it was signed after, ` +
        'because one was removed',
    };
  }
  if (c.count !== c.seq) {
    return {
      seq: c.seq,
      kind: 'checkpoint_mismatch',
      message: `the checkpoint at entry ${c.seq} counts ${c.count} entries`,
    };
  }
  return check === 'valid_v1' ? 'v1' : undefined;
}

interface LinkProblem {
  seq: number;
  storedPrev: string;
  selfOk: boolean;
}

function walk(
  db: AnyDb,
  checkpoints: Map<number, WalkCheckpoint>,
  stopBefore: number,
  policy: CheckpointPolicy,
) {
  let expected = 1;
  let prev = GENESIS_HASH;
  let lastGoodCheckpoint = 0;
  let found: AuditBreak | undefined;
  let link: LinkProblem | undefined;
  // The run after the last checkpoint: its first entry's stamp, and the first entry the policy would have
  // signed but no checkpoint covers. The run's closing checkpoint decides whether that is a break (see chained).
  let runStartMs: number | undefined;
  let overdue: number | undefined;
  let overdueMs = 0;
  // Whether the run after the last checkpoint passed is held to the policy: after a v2 checkpoint, or none.
  let tailChained = true;
  let stopped = false;
  // From the lowest seq stored: a row at seq 0 or below is outside the chain, planted where no walk from 1 looks.
  for (const row of readStatements(db).entriesFrom.iterate(Number.MIN_SAFE_INTEGER)) {
    const seq = row[0] as number;
    if (seq >= stopBefore) {
      stopped = true;
      break;
    }
    if (seq < 1) {
      found = {
        seq,
        kind: 'out_of_order',
        message: `an entry is stored at seq ${seq}, before the chain's first entry (1): it was inserted`,
      };
      break;
    }
    if (seq !== expected) {
      found = {
        seq: expected,
        kind: 'missing',
        message:
          seq === expected + 1
            ? `entry ${expected} is missing`
            : `entries ${expected}–${seq - 1} are missing`,
      };
      break;
    }
    const storedPrev = row[PREV_HASH] as string;
    const storedHash = row[ENTRY_HASH] as string;
    const selfOk = chainHash(storedPrev, canonicalStored(row)) === storedHash;
    if (storedPrev !== prev) {
      link = { seq, storedPrev, selfOk };
      break;
    }
    if (!selfOk) {
      found = {
        seq,
        kind: 'edited',
        message: `entry ${seq} was edited: its content does not match its hash`,
      };
      break;
    }
    const stampedMs = Date.parse(row[TIMESTAMP] as string);
    runStartMs ??= stampedMs;
    if (
      overdue === undefined &&
      (seq - lastGoodCheckpoint >= policy.every || stampedMs - runStartMs >= policy.intervalMs)
    ) {
      overdue = seq;
      overdueMs = stampedMs;
    }
    // Past any writer's slack, whatever checkpoint closes the run (checked before it: a close this late is one too).
    if (
      overdue !== undefined &&
      (seq - overdue >= UNCHECKED_SLACK.entries || stampedMs - overdueMs > UNCHECKED_SLACK.ms)
    ) {
      found = unsignedRun(lastGoodCheckpoint, overdue, policy);
      break;
    }
    const w = checkpoints.get(seq);
    if (w) {
      if (w.c.entryHash !== storedHash) {
        found = {
          seq,
          kind: 'checkpoint_mismatch',
          message: `the chain at entry ${seq} differs from the checkpoint signed at ${w.c.createdAt}: an entry in ${lastGoodCheckpoint + 1}–${seq} was rewritten along with the hashes after it`,
        };
        break;
      }
      if (w.chained && overdue !== undefined && overdue < seq) {
        found = unsignedRun(lastGoodCheckpoint, overdue, policy);
        break;
      }
      lastGoodCheckpoint = seq;
      runStartMs = undefined;
      overdue = undefined;
      tailChained = w.chained;
    }
    prev = storedHash;
    expected = seq + 1;
  }
  if (!found && !link && !stopped && tailChained && overdue !== undefined) {
    found = unsignedRun(lastGoodCheckpoint, overdue, policy);
  }
  return { found, link, count: expected - 1, head: expected > 1 ? prev : undefined };
}

/** The break for entry `overdue`, which the policy would have signed in the run after `covered`. */
function unsignedRun(covered: number, overdue: number, policy: CheckpointPolicy): AuditBreak {
  const minutes = policy.intervalMs / 60_000;
  return {
    seq: overdue,
    kind: 'checkpoint_missing',
    message:
      `no signed checkpoint covers entries ${covered + 1}–${overdue}, where BranchLens always signs one ` +
      `(every ${policy.every} entries, and ${Number.isInteger(minutes) ? `${minutes} minutes` : `${policy.intervalMs} ms`} of entries): ` +
      'a checkpoint was removed, and the entries it covered may have been rewritten',
  };
}

/** Explains a link break once the walk's iterator is closed (the connection can run queries again). */
function classifyLink(db: AnyDb, link: LinkProblem): AuditBreak {
  const predecessor = readStatements(db).seqOfHash.get(link.storedPrev);
  if (predecessor && predecessor.seq !== link.seq - 1) {
    return {
      seq: link.seq,
      kind: 'out_of_order',
      message: `entry ${link.seq} is out of order: it follows entry ${predecessor.seq} in the chain`,
    };
  }
  if (!link.selfOk) {
    return {
      seq: link.seq,
      kind: 'out_of_order',
      message: `entry ${link.seq} does not belong at this seq: it was moved here or renumbered`,
    };
  }
  return {
    seq: link.seq,
    kind: 'broken_link',
    message: `entry ${link.seq} does not link to entry ${link.seq - 1}: one of them was rewritten`,
  };
}

/** The break for a checkpoint that names none of the given keys (`otherKeys: 'break'`). */
function unknownKeyBreak(c: AuditCheckpoint, keys: readonly { id: string }[]): AuditBreak {
  const message =
    keys.length === 0
      ? `there is no public key to check the checkpoint at entry ${c.seq} with`
      : keys.length === 1
        ? `the checkpoint at entry ${c.seq} names key ${c.keyId}, not the given public key (${keys[0]!.id})`
        : `the checkpoint at entry ${c.seq} names key ${c.keyId}, none of the given public keys (${keys.map((k) => k.id).join(', ')})`;
  return { seq: c.seq, kind: 'bad_signature', message };
}

/**
 * Verifies the whole audit log against the installation's public key, or several (head office holding a
 * branch's current and earlier keys): each checkpoint is checked by the signature of the given key it names.
 * A checkpoint naming none of them is a break, or with `otherKeys: 'chain-only'` held against the chain only and
 * named in otherKeyIds (null, or no key: every checkpoint so). Reads one consistent snapshot, so appends
 * running meanwhile do not disturb it.
 */
export function verifyAudit(
  db: AnyDb,
  publicKey: KeyObject | string | null | readonly (KeyObject | string)[],
  options: VerifyAuditOptions = {},
): AuditVerification {
  const keys = (publicKey === null ? [] : Array.isArray(publicKey) ? publicKey : [publicKey]).map((k) =>
    auditPublicKey(k as KeyObject | string),
  );
  const byId = new Map(keys.map((k) => [k.id, k]));
  if (!hasAuditTables(db)) {
    const empty = { entries: 0, head: null, checkpoints: 0, lastCheckpoint: null, unsigned: 0 };
    // A database BranchLens has migrated always has them: without them the whole log was removed.
    if ((db.pragma('user_version', { simple: true }) as number) >= 1) {
      return {
        ok: false,
        ...empty,
        break: {
          seq: 1,
          kind: 'missing',
          message: 'the audit log was removed: the database has no audit_entries or audit_checkpoints table',
        },
      };
    }
    return { ok: true, ...empty };
  }
  return db
    .transaction((): AuditVerification => {
      const checkpoints = listCheckpoints(db);
      const chainOnly = options.otherKeys === 'chain-only';
      const otherKeyIds = chainOnly
        ? [...new Set(checkpoints.filter((c) => !byId.has(c.keyId)).map((c) => c.keyId))]
        : [];
      const bySeq = new Map<number, WalkCheckpoint>();
      let signatureBreak: AuditBreak | undefined;
      for (const c of checkpoints) {
        const key = byId.get(c.keyId);
        const b = key ? checkpointBreak(c, key) : chainOnly ? 'v1' : unknownKeyBreak(c, keys);
        if (typeof b === 'object') {
          signatureBreak ??= b;
          continue;
        }
        bySeq.set(c.seq, { c, chained: b === undefined });
      }
      const walked = walk(
        db,
        bySeq,
        signatureBreak?.seq ?? Number.POSITIVE_INFINITY,
        options.policy ?? DEFAULT_CHECKPOINT_POLICY,
      );
      let found = walked.link ? classifyLink(db, walked.link) : walked.found;
      found ??= signatureBreak;
      const lastCheckpoint = checkpoints.at(-1) ?? null;
      if (!found && lastCheckpoint && lastCheckpoint.seq > walked.count) {
        found = {
          seq: walked.count + 1,
          kind: 'truncated',
          message: `the log ends at entry ${walked.count}, but a checkpoint signed at ${lastCheckpoint.createdAt} covers ${lastCheckpoint.seq}: entries ${walked.count + 1}–${lastCheckpoint.seq} were removed`,
        };
      }
      const head = walked.head ? { seq: walked.count, entryHash: walked.head } : null;
      const result: AuditVerification = {
        ok: !found,
        entries: walked.count,
        head,
        checkpoints: checkpoints.length,
        lastCheckpoint,
        unsigned: Math.max(0, walked.count - (lastCheckpoint?.seq ?? 0)),
        ...(otherKeyIds.length ? { otherKeyIds } : {}),
      };
      return found ? { ...result, break: found } : result;
    })
    .deferred();
}
