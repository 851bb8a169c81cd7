// Walks the chain from genesis and checks every checkpoint; names the first broken entry and how it broke.
//
// Besides the chain and the signatures, the log is held to the policy its checkpoints are written by
// (checkpoint.ts): a run of entries that policy would have signed, left unsigned, means a checkpoint was removed,
// as someone able to rewrite the file would remove them before rewriting the entries they covered. What remains
// open to such a rewrite is what the policy itself leaves unsigned: the entries of the last `intervalMs` of
// logging, fewer than `every`, after the last checkpoint (the head office copy of an export covers the rest).
//
// Checkpoints are read with a second cursor in seq order alongside the entries, so memory stays flat however
// long the log. verifyAuditAsync checks their signatures on libuv's thread pool, ahead of the walk, while this
// thread hashes the entries: on two cores the signatures (some 70 µs each) then cost next to no wall time.
import { verify, type KeyObject } from 'node:crypto';
import type { AuditBreakKind } from '../../../shared/contract.js';
import {
  auditPublicKey,
  checkpointMessage,
  checkSignature,
  DEFAULT_CHECKPOINT_POLICY,
  fromRow,
  type AuditCheckpoint,
  type CheckpointPolicy,
  type SignatureCheck,
} from './checkpoint.js';
import { canonicalStored, chainHash, GENESIS_HASH, RECORD_FIELDS } from './entry.js';
import {
  ENTRY_HASH,
  hasAuditTables,
  PREV_HASH,
  readHead,
  readStatements,
  type AnyDb,
  type CheckpointRow,
  type EntryRow,
} from './store.js';

/** Where the timestamp sits in a stored row. */
const TIMESTAMP = RECORD_FIELDS.findIndex(([f]) => f === 'timestamp');

/**
 * How late a run may be closed by a checkpoint that is not held to the policy exactly (v1, or another key's, whose
 * signature cannot be checked): earlier versions signed at the end of the transaction in which the run fell due,
 * and a transaction holds at most the queue's 4,096 entries, committed within moments. Past this, such a run was
 * not closed by any writer of BranchLens either (a rewritten log given one forged "earlier key" checkpoint).
 */
const UNCHECKED_SLACK = { entries: 4096, ms: 5 * 60_000 };

/** How many entries between progress reports: often enough for a line updated a few times a second. */
const PROGRESS_EVERY = 4096;

/** How many checkpoint signatures verifyAuditAsync has in the thread pool at once, ahead of the walk. */
const SIGNATURES_AHEAD = 256;

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

/** How far a walk is: `done` of about `total` entries checked. */
export interface AuditProgress {
  done: number;
  total: number;
}

export interface VerifyAuditOptions {
  /**
   * Checkpoints signed by another key than the given one: a break (`bad_signature`, the default), or checked
   * against the chain only ('chain-only'), as an export does after the installation's key was replaced.
   */
  otherKeys?: 'break' | 'chain-only';
  /** The policy the log's checkpoints were written by (default DEFAULT_CHECKPOINT_POLICY, as the app writes them). */
  policy?: CheckpointPolicy;
  /** Called every few thousand entries, on the walk's thread (not passed to a thread: see verify-in-thread.ts). */
  onProgress?: (progress: AuditProgress) => void;
}

/** A checkpoint as the walk uses it: its signature's verdict, and whether it chains to the one before (v2). */
interface WalkCheckpoint {
  c: AuditCheckpoint;
  /** Why it is not accepted (a bad signature, another key when those break, a wrong count). */
  broken?: AuditBreak;
  /**
   * Signed v2 by this key: the run it ends is held to the policy. A v1 checkpoint (written before checkpoints
   * were counted on the entries) or one of another key (its signature unchecked) is held to it within
   * UNCHECKED_SLACK.
   */
  chained: boolean;
  /** Its signature was checked with a given key (v2 or v1): it vouches for the chain up to it. */
  signed: boolean;
}

interface Keys {
  all: { key: KeyObject; id: string }[];
  byId: Map<string, { key: KeyObject; id: string }>;
  chainOnly: boolean;
}

function keysOf(
  publicKey: KeyObject | string | null | readonly (KeyObject | string)[],
  options: VerifyAuditOptions,
): Keys {
  const all = (publicKey === null ? [] : Array.isArray(publicKey) ? publicKey : [publicKey]).map((k) =>
    auditPublicKey(k as KeyObject | string),
  );
  return { all, byId: new Map(all.map((k) => [k.id, k])), chainOnly: options.otherKeys === 'chain-only' };
}

function signatureBreak(
  c: AuditCheckpoint,
  check: SignatureCheck,
  publicKey: { id: string },
): AuditBreak | undefined {
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
  return undefined;
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

/** The walk's view of `c` once its signature was checked with `key` (`check`). */
function judged(c: AuditCheckpoint, key: { id: string }, check: SignatureCheck): WalkCheckpoint {
  const broken = signatureBreak(c, check, key);
  return broken
    ? { c, broken, chained: false, signed: false }
    : { c, chained: check === 'valid', signed: true };
}

/** A checkpoint of no given key: held against the chain only, or a break (VerifyAuditOptions.otherKeys). */
function unkeyed(c: AuditCheckpoint, keys: Keys): WalkCheckpoint {
  return keys.chainOnly
    ? { c, chained: false, signed: false }
    : { c, broken: unknownKeyBreak(c, keys.all), chained: false, signed: false };
}

function judgeNow(c: AuditCheckpoint, keys: Keys): WalkCheckpoint {
  const key = keys.byId.get(c.keyId);
  return key ? judged(c, key, checkSignature(c, key)) : unkeyed(c, keys);
}

/** crypto.verify's async form: it runs on libuv's thread pool. A malformed key or signature is a failed check. */
function verifyInPool(message: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verify(null, message, key, signature, (error, ok) => resolve(!error && ok));
    } catch {
      resolve(false);
    }
  });
}

/** checkSignature (checkpoint.ts), its Ed25519 checks run in the thread pool: the same verdicts. */
async function checkSignatureInPool(
  c: AuditCheckpoint,
  key: { key: KeyObject; id: string },
): Promise<SignatureCheck> {
  if (c.keyId !== key.id) return 'wrong_key';
  const signature = Buffer.from(c.signature, 'base64');
  if (await verifyInPool(checkpointMessage(c), key.key, signature)) return 'valid';
  if (c.prevSeq !== undefined) {
    const { prevSeq: _prevSeq, ...unchained } = c;
    if (await verifyInPool(checkpointMessage(unchained), key.key, signature)) return 'valid_v1';
  }
  return 'bad_signature';
}

async function judgeInPool(c: AuditCheckpoint, keys: Keys): Promise<WalkCheckpoint> {
  const key = keys.byId.get(c.keyId);
  return key ? judged(c, key, await checkSignatureInPool(c, key)) : unkeyed(c, keys);
}

// ---- the checkpoints, in seq order ----------------------------------------------------------------------

interface CheckpointStatements {
  from: import('better-sqlite3').Statement<[number], CheckpointRow>;
  at: import('better-sqlite3').Statement<[number], CheckpointRow>;
}

const checkpointStatements = new WeakMap<AnyDb, CheckpointStatements>();

/** Statements store.ts does not prepare (prepared once per connection, as it does). */
function checkpointSql(db: AnyDb): CheckpointStatements {
  let s = checkpointStatements.get(db);
  if (!s) {
    s = {
      from: db.prepare('SELECT * FROM audit_checkpoints WHERE seq >= ? ORDER BY seq'),
      at: db.prepare('SELECT * FROM audit_checkpoints WHERE seq = ?'),
    };
    checkpointStatements.set(db, s);
  }
  return s;
}

/** What the checkpoints read so far add up to, for the result (all of them, once the walk drained them). */
interface CheckpointTally {
  count: number;
  last: AuditCheckpoint | null;
  otherKeyIds: Set<string>;
}

/**
 * The stored checkpoints from seq `from` on, each with the seq of the one before it (the v2 signature's
 * prevSeq, `prevSeq` for the first), read with a cursor of their own. Only the checkpoint being read is held.
 */
class CheckpointCursor {
  private readonly rows: IterableIterator<CheckpointRow>;
  private prevSeq: number;
  readonly tally: CheckpointTally = { count: 0, last: null, otherKeyIds: new Set() };

  constructor(
    db: AnyDb,
    from: number,
    prevSeq: number,
    private readonly keys: Keys,
  ) {
    this.rows = checkpointSql(db).from.iterate(from);
    this.prevSeq = prevSeq;
  }

  read(): AuditCheckpoint | undefined {
    const next = this.rows.next();
    if (next.done) return undefined;
    const c = { ...fromRow(next.value), prevSeq: this.prevSeq };
    this.prevSeq = c.seq;
    this.tally.count++;
    this.tally.last = c;
    if (this.keys.chainOnly && !this.keys.byId.has(c.keyId)) this.tally.otherKeyIds.add(c.keyId);
    return c;
  }

  /** Reads the rest for the tally only (no signature is checked). */
  drain(): void {
    while (this.read());
  }

  close(): void {
    this.rows.return?.();
  }
}

/** The walk's source of judged checkpoints: checked here (sync) or in the thread pool ahead of the walk. */
interface CheckpointFeed {
  cursor: CheckpointCursor;
  next(): WalkCheckpoint | undefined | Promise<WalkCheckpoint | undefined>;
}

function feedNow(cursor: CheckpointCursor, keys: Keys): CheckpointFeed {
  return {
    cursor,
    next() {
      const c = cursor.read();
      return c && judgeNow(c, keys);
    },
  };
}

/** Keeps SIGNATURES_AHEAD checks in the pool: by the time the walk reaches a checkpoint, it is mostly judged. */
function feedInPool(cursor: CheckpointCursor, keys: Keys): CheckpointFeed {
  const ahead: Promise<WalkCheckpoint>[] = [];
  let done = false;
  const fill = () => {
    while (!done && ahead.length < SIGNATURES_AHEAD) {
      const c = cursor.read();
      if (c) ahead.push(judgeInPool(c, keys));
      else done = true;
    }
  };
  return {
    cursor,
    next() {
      fill();
      const first = ahead.shift();
      return first ?? undefined;
    },
  };
}

// ---- the walk -----------------------------------------------------------------------------------------------

/** Where a walk starts: after a checkpoint it accepted (or genesis, seq 0). */
interface WalkStart {
  seq: number;
  entryHash: string;
  /** Whether the run after it is held to the policy (see WalkCheckpoint.chained). */
  chained: boolean;
}

const GENESIS: WalkStart = { seq: 0, entryHash: GENESIS_HASH, chained: true };

interface WalkLimits {
  /** Stop at the first checkpoint at or after this seq that a given key signed: it vouches for all before it. */
  anchorAt?: number;
  policy: CheckpointPolicy;
  /** About how many entries the walk reads, for progress. */
  total: number;
  onProgress?: (progress: AuditProgress) => void;
}

interface LinkProblem {
  seq: number;
  storedPrev: string;
  selfOk: boolean;
}

interface Walked {
  found?: AuditBreak;
  link?: LinkProblem;
  /** The last entry checked (the start's seq if none). */
  count: number;
  head?: string;
  /** The anchor checkpoint the walk stopped at (WalkLimits.anchorAt). */
  anchor?: WalkCheckpoint;
}

/**
 * The walk from `start` over the entries and checkpoints after it; a generator that asks its driver for each
 * next checkpoint (yield), so that the same walk runs with signatures checked here or in the thread pool.
 */
function* walk(
  entries: Iterable<EntryRow>,
  start: WalkStart,
  limits: WalkLimits,
): Generator<void, Walked, WalkCheckpoint | undefined> {
  const { policy } = limits;
  let expected = start.seq + 1;
  let prev = start.entryHash;
  let lastGoodCheckpoint = start.seq;
  let found: AuditBreak | undefined;
  let link: LinkProblem | undefined;
  // The run after the last checkpoint: its first entry's stamp, and the first entry the policy would have
  // signed but no checkpoint covers. The run's closing checkpoint decides whether that is a break (see chained).
  let runStartMs: number | undefined;
  let overdue: number | undefined;
  let overdueMs = 0;
  // Whether the run after the last checkpoint passed is held to the policy: after a v2 checkpoint, or none.
  let tailChained = start.chained;
  // Stopped at a checkpoint whose signature broke, or at the anchor: the run after it is not the walk's.
  let stopped = false;
  let anchor: WalkCheckpoint | undefined;
  let pending: WalkCheckpoint | undefined = yield;
  let walked = 0;
  for (const row of entries) {
    const seq = row[0] as number;
    // Checkpoints no entry reaches (stored below the chain): a broken one still stops the walk, as below.
    while (pending && pending.c.seq < seq && !pending.broken) pending = yield;
    // A checkpoint that does not verify stops the walk at its seq: a break found before it comes first.
    if (pending?.broken && pending.c.seq <= seq) {
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
    prev = storedHash;
    expected = seq + 1;
    if (++walked % PROGRESS_EVERY === 0) {
      limits.onProgress?.({ done: walked, total: Math.max(walked, limits.total) });
    }
    if (pending?.c.seq !== seq) continue;
    const w = pending;
    pending = yield;
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
    if (limits.anchorAt !== undefined && seq >= limits.anchorAt && w.signed) {
      anchor = w;
      stopped = true;
      break;
    }
  }
  if (!found && !link && !stopped && tailChained && overdue !== undefined) {
    found = unsignedRun(lastGoodCheckpoint, overdue, policy);
  }
  // A checkpoint past the entries that does not verify: a break (before the log's being cut short).
  if (!found && !link && !anchor) {
    while (pending && !pending.broken) pending = yield;
    found = pending?.broken;
  }
  const count = expected - 1;
  return {
    found,
    link,
    count,
    ...(count > start.seq || start.seq > 0 ? { head: prev } : {}),
    ...(anchor ? { anchor } : {}),
  };
}

/** Runs `walk` with checkpoints judged here. */
function walkNow(gen: Generator<void, Walked, WalkCheckpoint | undefined>, feed: CheckpointFeed): Walked {
  let step = gen.next();
  while (!step.done) step = gen.next(feed.next() as WalkCheckpoint | undefined);
  return step.value;
}

/** Runs `walk` with checkpoints judged in the thread pool. */
async function walkInPool(
  gen: Generator<void, Walked, WalkCheckpoint | undefined>,
  feed: CheckpointFeed,
): Promise<Walked> {
  let step = gen.next();
  while (!step.done) step = gen.next(await feed.next());
  return step.value;
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

/** The break for a log that ends at entry `count`, before checkpoint `c`. */
function truncated(count: number, c: AuditCheckpoint): AuditBreak {
  return {
    seq: count + 1,
    kind: 'truncated',
    message: `the log ends at entry ${count}, but a checkpoint signed at ${c.createdAt} covers ${c.seq}: entries ${count + 1}–${c.seq} were removed`,
  };
}

function brokenOf(db: AnyDb, walked: Walked): AuditBreak | undefined {
  return walked.link ? classifyLink(db, walked.link) : walked.found;
}

// ---- the whole log --------------------------------------------------------------------------------------------

/** A database without the audit tables: broken if BranchLens migrated it (it always has them), else empty. */
function withoutTables(db: AnyDb): AuditVerification {
  const empty = { entries: 0, head: null, checkpoints: 0, lastCheckpoint: null, unsigned: 0 };
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

/**
 * The whole walk, from genesis, with checkpoints from `feed`; `finish` turns it into the result once `run`
 * (walkNow or walkInPool) settles. Returns the walk's generator and a function building the result.
 */
function wholeLog(db: AnyDb, keys: Keys, options: VerifyAuditOptions) {
  const cursor = new CheckpointCursor(db, Number.MIN_SAFE_INTEGER, 0, keys);
  const entries = readStatements(db).entriesFrom.iterate(Number.MIN_SAFE_INTEGER);
  const gen = walk(entries, GENESIS, {
    policy: options.policy ?? DEFAULT_CHECKPOINT_POLICY,
    total: readHead(db)?.seq ?? 0,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const close = () => {
    entries.return?.();
    cursor.close();
  };
  const finish = (walked: Walked): AuditVerification => {
    entries.return?.();
    cursor.drain();
    let found = brokenOf(db, walked);
    const { count: checkpoints, last: lastCheckpoint, otherKeyIds } = cursor.tally;
    if (!found && lastCheckpoint && lastCheckpoint.seq > walked.count) {
      found = truncated(walked.count, lastCheckpoint);
    }
    const result: AuditVerification = {
      ok: !found,
      entries: walked.count,
      head: walked.count > 0 && walked.head ? { seq: walked.count, entryHash: walked.head } : null,
      checkpoints,
      lastCheckpoint,
      unsigned: Math.max(0, walked.count - (lastCheckpoint?.seq ?? 0)),
      ...(otherKeyIds.size ? { otherKeyIds: [...otherKeyIds] } : {}),
    };
    return found ? { ...result, break: found } : result;
  };
  return { gen, cursor, close, finish };
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
  const keys = keysOf(publicKey, options);
  if (!hasAuditTables(db)) return withoutTables(db);
  return db
    .transaction((): AuditVerification => {
      const w = wholeLog(db, keys, options);
      try {
        return w.finish(walkNow(w.gen, feedNow(w.cursor, keys)));
      } finally {
        w.close();
      }
    })
    .deferred();
}

/**
 * verifyAudit with the checkpoints' signatures checked in libuv's thread pool, ahead of the walk: the same
 * result, sooner on more than one core. Holds a read transaction on `db` until it settles, so `db` must be
 * the caller's alone meanwhile (the CLI's, a verification thread's); on a connection already in a transaction
 * it runs as verifyAudit.
 */
export async function verifyAuditAsync(
  db: AnyDb,
  publicKey: KeyObject | string | null | readonly (KeyObject | string)[],
  options: VerifyAuditOptions = {},
): Promise<AuditVerification> {
  if (db.inTransaction) return verifyAudit(db, publicKey, options);
  const keys = keysOf(publicKey, options);
  if (!hasAuditTables(db)) return withoutTables(db);
  db.exec('BEGIN DEFERRED');
  try {
    const w = wholeLog(db, keys, options);
    try {
      return w.finish(await walkInPool(w.gen, feedInPool(w.cursor, keys)));
    } finally {
      w.close();
    }
  } finally {
    db.exec('COMMIT');
  }
}

// ---- a range, as an export checks it ----------------------------------------------------------------------
//
// Why a range is genuine without walking the whole log: a checkpoint signs the entry_hash at its seq, and each
// entry's hash covers its content and the hash before it, so that one signed hash pins every entry before it
// (SHA-256 being collision-resistant). So if the chain links, entry by entry, from a range's first entry to a
// checkpoint at or after its last one whose signature this key checks (its "anchor"), every entry of the range
// is what the writer had when it signed the anchor: what was sealed. The walk starts at the last checkpoint
// before the range, so that it starts where verifyAudit's walk restarts (a run closed by a checkpoint), and
// holds the same rules in between: each checkpoint's signature, its hash against the chain, the policy on each
// run. Checkpoints of another key are no anchor (their signatures are unchecked): the walk goes on to one of
// this key's, as verifyAudit's guarantee for such a stretch also comes from this key's checkpoints after it.
// With no anchor (the range reaches the last run), the walk runs to the head, as verifyAudit's does.
//
// The export also signs the head in the database; a stretch from the anchor to the last checkpoint is
// already vouched for by the checkpoints that sign it, but the run after the last checkpoint is not. So that
// run is walked as well (the policy bounds it: at most `every` entries, or, when checkpoints were removed,
// a break within UNCHECKED_SLACK of that). A break elsewhere (outside these stretches) does not stop a range
// export, since nothing signed in it vouches for those entries; `audit verify` walks the whole log and finds it.

/** Entries `first`–`last` (`last` = `first` − 1: an empty range, which the seal anchors at entry `last`). */
export interface AuditRange {
  first: number;
  last: number;
}

/** What verifyAuditRange checked: the stretches of the chain it walked, and what it found. */
export interface AuditRangeVerification {
  ok: boolean;
  /** The entries walked: the range with the stretch around it, and the run after the last checkpoint. */
  walked: { from: number; to: number }[];
  /** As AuditVerification's, for the checkpoints met on the stretches walked. */
  otherKeyIds?: string[];
  break?: AuditBreak;
}

interface RangeWalk {
  keys: Keys;
  options: VerifyAuditOptions;
  walked: { from: number; to: number }[];
  otherKeyIds: Set<string>;
}

/** The walk's start right after the stored checkpoint at `seq` (judged here), or the break that it is. */
function startAfter(
  db: AnyDb,
  seq: number,
  run: RangeWalk,
): { start: WalkStart; c: AuditCheckpoint } | AuditBreak {
  const row = checkpointSql(db).at.get(seq)!;
  const c = { ...fromRow(row), prevSeq: readStatements(db).checkpointBefore.get(seq)?.seq ?? 0 };
  const w = judgeNow(c, run.keys);
  if (run.keys.chainOnly && !run.keys.byId.has(c.keyId)) run.otherKeyIds.add(c.keyId);
  return w.broken ?? { start: { seq, entryHash: c.entryHash, chained: w.chained }, c };
}

/** From `start` to the first checkpoint at or after `anchorAt` that a given key signed, or to the log's end. */
function walkStretch(db: AnyDb, start: WalkStart, anchorAt: number, run: RangeWalk): Walked {
  const from = start.seq + 1;
  const cursor = new CheckpointCursor(db, from, start.seq, run.keys);
  const entries = readStatements(db).entriesFrom.iterate(from);
  try {
    const walked = walkNow(
      walk(entries, start, {
        anchorAt,
        policy: run.options.policy ?? DEFAULT_CHECKPOINT_POLICY,
        total: Number.isFinite(anchorAt) ? anchorAt - start.seq : 0,
        ...(run.options.onProgress ? { onProgress: run.options.onProgress } : {}),
      }),
      feedNow(cursor, run.keys),
    );
    for (const id of cursor.tally.otherKeyIds) run.otherKeyIds.add(id);
    run.walked.push({ from, to: walked.count });
    return walked;
  } finally {
    entries.return?.();
    cursor.close();
  }
}

function rangeBreak(db: AnyDb, range: AuditRange, run: RangeWalk): AuditBreak | undefined {
  const statements = readStatements(db);
  const head = readHead(db);
  if (!head) return undefined;
  // 1. The range, from the last checkpoint before it to its anchor.
  const before = statements.checkpointBefore.get(range.first)?.seq;
  const first = before === undefined ? { start: GENESIS } : startAfter(db, before, run);
  if ('kind' in first) return first;
  const walked = walkStretch(db, first.start, range.last, run);
  const found = brokenOf(db, walked);
  if (found) return found;
  const latest = statements.latestCheckpoint.get()?.seq;
  if (!walked.anchor) {
    // To the log's end, as verifyAudit's walk ends.
    if (latest === undefined || latest <= walked.count) return undefined;
    const last = startAfter(db, latest, run);
    return 'kind' in last ? last : truncated(walked.count, last.c);
  }
  // 2. The run after the last checkpoint.
  if (latest === walked.anchor.c.seq) {
    const a = walked.anchor.c;
    return brokenOf(
      db,
      walkStretch(db, { seq: a.seq, entryHash: a.entryHash, chained: walked.anchor.chained }, Infinity, run),
    );
  }
  const last = startAfter(db, latest!, run);
  if ('kind' in last) return last;
  if (head.seq < last.c.seq) return truncated(head.seq, last.c);
  // The walk after it starts from its signed hash: that the entry it signs still has it is checked here.
  if (statements.entryHashOf.get(last.c.seq)?.entry_hash !== last.c.entryHash) {
    return {
      seq: last.c.seq,
      kind: 'checkpoint_mismatch',
      message: `the chain at entry ${last.c.seq} differs from the checkpoint signed at ${last.c.createdAt}: an entry in ${(last.c.prevSeq ?? 0) + 1}–${last.c.seq} was rewritten along with the hashes after it`,
    };
  }
  return brokenOf(db, walkStretch(db, last.start, Infinity, run));
}

/**
 * Whether entries `range.first`–`range.last` are what was sealed, without walking the whole log (see above):
 * the check an export of a range runs before signing it. Same keys and options as verifyAudit; one snapshot.
 */
export function verifyAuditRange(
  db: AnyDb,
  publicKey: KeyObject | string | null | readonly (KeyObject | string)[],
  range: AuditRange,
  options: VerifyAuditOptions = {},
): AuditRangeVerification {
  const keys = keysOf(publicKey, options);
  if (!hasAuditTables(db)) {
    const whole = withoutTables(db);
    return { ok: whole.ok, walked: [], ...(whole.break ? { break: whole.break } : {}) };
  }
  return db
    .transaction((): AuditRangeVerification => {
      const run: RangeWalk = { keys, options, walked: [], otherKeyIds: new Set() };
      const found = rangeBreak(db, range, run);
      return {
        ok: !found,
        walked: run.walked,
        ...(run.otherKeyIds.size ? { otherKeyIds: [...run.otherKeyIds] } : {}),
        ...(found ? { break: found } : {}),
      };
    })
    .deferred();
}
