// Appending to the chain: one BEGIN IMMEDIATE transaction reads the head, links and inserts the entries, and
// signs a checkpoint when one is due. The head is read under the write lock, so concurrent writers
// (other connections, other processes) queue up instead of forking the chain, and an entry is never stamped
// earlier than the one before it.
import { checkUnmoved, type WritableDb } from '../db/open.js';
import type { SigningKey } from '../keys.js';
import {
  DEFAULT_CHECKPOINT_POLICY,
  dueAt,
  insertCheckpoint,
  uncoveredRun,
  type AuditCheckpoint,
  type CheckpointPolicy,
  type UncoveredRun,
} from './checkpoint.js';
import {
  canonicalStored,
  chainHash,
  GENESIS_HASH,
  preparedTimestamp,
  prepareEntry,
  RECORD_FIELDS,
  type AuditEntryInput,
  type PreparedEntry,
} from './entry.js';
import { readHead, writeStatements } from './store.js';

/** Where the timestamp sits in a row: right after seq. */
const TIMESTAMP = RECORD_FIELDS.findIndex(([f]) => f === 'timestamp');

export interface AuditReceipt {
  seq: number;
  /** Hex SHA-256 of the entry: its link in the chain. */
  entryHash: string;
  /**
   * The timestamp stored: the prepared one, or the entry before's when that is later (timestamps never go
   * backwards along the chain).
   */
  timestamp: string;
}

export interface AppendContext {
  /** Signs checkpoints per `policy`; without it no checkpoint is written. */
  signingKey?: SigningKey;
  policy?: CheckpointPolicy;
  now?: Date;
}

export interface AppendResult {
  receipts: AuditReceipt[];
  /** The last checkpoint the transaction signed, if any. */
  checkpoint?: AuditCheckpoint;
}

/** Appends prepared entries, in order, in one immediate transaction. */
export function appendPrepared(
  db: WritableDb,
  entries: readonly PreparedEntry[],
  context: AppendContext = {},
): AppendResult {
  const { insertEntry } = writeStatements(db);
  return db
    .transaction((): AppendResult => {
      // Under the lock: entries committed into a file deleted or replaced meanwhile would be lost with it.
      checkUnmoved(db);
      const head = readHead(db);
      let seq = head?.seq ?? 0;
      let prev = head?.entryHash ?? GENESIS_HASH;
      let stamp = head?.timestamp ?? '';
      const receipts: AuditReceipt[] = [];
      const { signingKey } = context;
      const policy = context.policy ?? DEFAULT_CHECKPOINT_POLICY;
      const now = context.now ?? new Date();
      // The run no checkpoint covers yet; an entry that ends it as the policy counts (every `every` entries,
      // or `intervalMs` of stamped time) is signed right there, within this transaction, however many entries
      // it holds: the policy verifyAudit holds the log to.
      let run = signingKey ? uncoveredRun(db) : undefined;
      let checkpoint: AuditCheckpoint | undefined;
      /** Signs the head (the entry just appended) as the end of `ended`; the run after it starts empty. */
      const closeRun = (key: SigningKey, ended: UncoveredRun): UncoveredRun => {
        checkpoint = insertCheckpoint(
          db,
          key,
          { seq, entryHash: prev, timestamp: stamp },
          ended.covered,
          now,
        );
        return { covered: seq };
      };
      for (const entry of entries) {
        seq += 1;
        const row = [seq, ...entry.stored];
        // Timestamps never go backwards along the chain, so that a time range is a range of seqs: an entry
        // prepared before the one ahead of it committed (another thread or process, a request's entries
        // stamped one by one) takes that entry's time. ISO 8601 UTC strings of one length compare as times.
        const prepared = preparedTimestamp(entry);
        if (prepared < stamp) row[TIMESTAMP] = stamp;
        else stamp = prepared;
        const hash = chainHash(prev, canonicalStored(row));
        insertEntry.run(...row, prev, hash);
        prev = hash;
        receipts.push({ seq, entryHash: prev, timestamp: stamp });
        if (signingKey && run) {
          const stampedMs = Date.parse(stamp);
          run.oldestMs ??= stampedMs;
          if (dueAt(policy, run, seq, stampedMs)) run = closeRun(signingKey, run);
        }
      }
      // And the head, when the run's first entry is `intervalMs` old by the clock (entries stamped a while ago).
      if (signingKey && run && seq > run.covered && dueAt(policy, run, seq, now.getTime())) {
        closeRun(signingKey, run);
      }
      return checkpoint ? { receipts, checkpoint } : { receipts };
    })
    .immediate();
}

/** Checks and appends entries stamped now; for one-off writers such as a CLI command. */
export function appendEntries(
  db: WritableDb,
  entries: readonly AuditEntryInput[],
  context: AppendContext = {},
): AuditReceipt[] {
  const at = context.now ?? new Date();
  return appendPrepared(
    db,
    entries.map((e) => prepareEntry(e, at)),
    context,
  ).receipts;
}
