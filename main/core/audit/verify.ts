// Walks the chain from genesis and checks every checkpoint; names the first broken entry and how it broke.
import type { KeyObject } from 'node:crypto';
import type { AuditBreakKind } from '../../../shared/contract.js';
import { auditPublicKey, checkSignature, listCheckpoints, type AuditCheckpoint } from './checkpoint.js';
import { canonicalStored, chainHash, GENESIS_HASH } from './entry.js';
import { ENTRY_HASH, hasAuditTables, PREV_HASH, readStatements, type AnyDb } from './store.js';

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
}

function checkpointBreak(
  c: AuditCheckpoint,
  publicKey: { key: KeyObject; id: string } | null,
): AuditBreak | undefined {
  if (!publicKey) {
    return {
      seq: c.seq,
      kind: 'bad_signature',
      message: `there is no public key to check the checkpoint at entry ${c.seq} with`,
    };
  }
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
      message: `the checkpoint at entry ${c.seq} has a forged signature`,
    };
  }
  if (c.count !== c.seq) {
    return {
      seq: c.seq,
      kind: 'checkpoint_mismatch',
      message: `the checkpoint at entry ${c.seq} counts ${c.count} entries`,
    };
  }
  return undefined;
}

interface LinkProblem {
  seq: number;
  storedPrev: string;
  selfOk: boolean;
}

function walk(db: AnyDb, checkpoints: Map<number, AuditCheckpoint>, stopBefore: number) {
  let expected = 1;
  let prev = GENESIS_HASH;
  let lastGoodCheckpoint = 0;
  let found: AuditBreak | undefined;
  let link: LinkProblem | undefined;
  for (const row of readStatements(db).entriesFrom.iterate(1)) {
    const seq = row[0] as number;
    if (seq >= stopBefore) break;
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
    const c = checkpoints.get(seq);
    if (c) {
      if (c.entryHash !== storedHash) {
        found = {
          seq,
          kind: 'checkpoint_mismatch',
          message: `the chain at entry ${seq} differs from the checkpoint signed at ${c.createdAt}: an entry in ${lastGoodCheckpoint + 1}–${seq} was rewritten along with the hashes after it`,
        };
        break;
      }
      lastGoodCheckpoint = seq;
    }
    prev = storedHash;
    expected = seq + 1;
  }
  return { found, link, count: expected - 1, head: expected > 1 ? prev : undefined };
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

/**
 * Verifies the whole audit log against the installation's public key (null when none is at hand: any
 * checkpoint then counts as unverifiable). Reads one consistent snapshot, so
 * appends running meanwhile do not disturb it.
 */
export function verifyAudit(
  db: AnyDb,
  publicKey: KeyObject | string | null,
  options: VerifyAuditOptions = {},
): AuditVerification {
  const key = publicKey === null ? null : auditPublicKey(publicKey);
  if (!hasAuditTables(db)) {
    return { ok: true, entries: 0, head: null, checkpoints: 0, lastCheckpoint: null, unsigned: 0 };
  }
  return db
    .transaction((): AuditVerification => {
      const checkpoints = listCheckpoints(db);
      const chainOnly = options.otherKeys === 'chain-only' && key !== null;
      const otherKeyIds = chainOnly
        ? [...new Set(checkpoints.filter((c) => c.keyId !== key.id).map((c) => c.keyId))]
        : [];
      const signatureBreak = checkpoints
        .filter((c) => !chainOnly || c.keyId === key.id)
        .map((c) => checkpointBreak(c, key))
        .find((b): b is AuditBreak => b !== undefined);
      const bySeq = new Map(checkpoints.map((c) => [c.seq, c]));
      const walked = walk(db, bySeq, signatureBreak?.seq ?? Number.POSITIVE_INFINITY);
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
