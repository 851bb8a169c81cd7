// Group commit: appends queue up until the next turn of the event loop (or a set delay, or a full group) and
// go to disk in one transaction, so one fsync covers many entries. A caller's promise settles only after its
// transaction committed (WAL, synchronous=FULL), so an acknowledged entry survives a crash.
import type { WritableDb } from '../db/open.js';
import type { SigningKey } from '../keys.js';
import { appendPrepared, type AuditReceipt } from './append.js';
import {
  checkpointIfDue,
  DEFAULT_CHECKPOINT_POLICY,
  writeCheckpoint,
  type AuditCheckpoint,
  type CheckpointPolicy,
} from './checkpoint.js';
import { prepareEntry, type AuditEntryInput, type PreparedEntry } from './entry.js';

export interface AuditLogOptions {
  /**
   * How long an append waits for companions before its group is written. Default 0: the next turn of the
   * event loop. The write blocks the loop for its fsync, so whatever arrives meanwhile forms the next group.
   */
  maxDelayMs?: number;
  /** A group this large is written at once. Default 256. */
  maxGroupSize?: number;
  /** Checkpoint every N entries. Default 1000. */
  checkpointEvery?: number;
  /** Checkpoint once the oldest unsigned entry is this old. Default 10 minutes. */
  checkpointIntervalMs?: number;
  /** The clock (tests). */
  now?: () => Date;
  /** Where a failed background checkpoint is reported. Default: a process warning. */
  onError?: (error: Error) => void;
}

/** Called once an entry's transaction has committed (receipt) or failed, or the entry was refused (error). */
export type AuditSettled = (error: Error | undefined, receipt?: AuditReceipt) => void;

/** Called once a set of entries' one transaction has committed (their receipts, in order) or failed. */
export type AuditAllSettled = (error: Error | undefined, receipts?: AuditReceipt[]) => void;

/**
 * What the service appends to: this AuditLog on a connection of this thread, or the writer thread's log
 * (db/writer.ts), which keeps the same promises.
 */
export interface AuditAppender {
  /** Queues an entry; resolves once the transaction holding it has committed. */
  append(entry: AuditEntryInput): Promise<AuditReceipt>;
  /**
   * Appends entries already checked and laid out by prepareEntry (stamped when they were prepared), all in one
   * transaction: one request's entries are committed together or not at all, never in part. Resolves with
   * their receipts, in order.
   */
  appendAll(entries: readonly PreparedEntry[]): Promise<AuditReceipt[]>;
  /** Appends one entry now (after anything queued), in its own transaction. */
  appendSync(entry: AuditEntryInput): AuditReceipt;
  /** Writes whatever is queued; resolves when it has committed. */
  flush(): Promise<void>;
  /** Signs the current head now (unless it already is). */
  checkpoint(): AuditCheckpoint | undefined;
  /** Writes what is queued and refuses further appends. */
  close(): Promise<void>;
}

/** Entries that go into one transaction together. */
interface Pending {
  entries: readonly PreparedEntry[];
  settled: AuditAllSettled;
}

export class AuditLog implements AuditAppender {
  private readonly db: WritableDb;
  private readonly signingKey: SigningKey;
  private readonly policy: CheckpointPolicy;
  private readonly maxDelayMs: number;
  private readonly maxGroupSize: number;
  private readonly now: () => Date;
  private readonly onError: (error: Error) => void;
  private queue: Pending[] = [];
  /** How many entries `queue` holds. */
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly checkpointTimer: NodeJS.Timeout;
  private closed = false;

  constructor(db: WritableDb, signingKey: SigningKey, options: AuditLogOptions = {}) {
    this.db = db;
    this.signingKey = signingKey;
    this.policy = {
      every: options.checkpointEvery ?? DEFAULT_CHECKPOINT_POLICY.every,
      intervalMs: options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_POLICY.intervalMs,
    };
    this.maxDelayMs = options.maxDelayMs ?? 0;
    this.maxGroupSize = Math.max(1, options.maxGroupSize ?? 256);
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? ((e) => process.emitWarning(`audit checkpoint failed: ${e.message}`));
    // A quiet log still gets its tail signed within the interval.
    this.checkpointTimer = setInterval(
      () => this.checkpointIfDue(),
      Math.min(this.policy.intervalMs, 60_000),
    );
    this.checkpointTimer.unref();
  }

  /** Queues an entry; resolves once the transaction holding it has committed. */
  append(entry: AuditEntryInput): Promise<AuditReceipt> {
    return new Promise<AuditReceipt>((resolve, reject) =>
      this.enqueue(entry, this.now(), (error, receipt) => (error ? reject(error) : resolve(receipt!))),
    );
  }

  appendAll(entries: readonly PreparedEntry[]): Promise<AuditReceipt[]> {
    return new Promise<AuditReceipt[]>((resolve, reject) =>
      this.enqueueAll(entries, (error, receipts) => (error ? reject(error) : resolve(receipts!))),
    );
  }

  /**
   * append() for a caller that stamped the entry itself and wants a plain callback (the writer thread, on
   * behalf of another thread): `settled` runs synchronously, from within the group's write.
   */
  enqueue(entry: AuditEntryInput, at: Date, settled: AuditSettled): void {
    let prepared: PreparedEntry;
    try {
      prepared = prepareEntry(entry, at);
    } catch (e) {
      return settled(e as Error);
    }
    this.enqueueAll([prepared], (error, receipts) => settled(error, receipts?.[0]));
  }

  /** appendAll() with a plain callback, which runs synchronously from within the transaction's write. */
  enqueueAll(entries: readonly PreparedEntry[], settled: AuditAllSettled): void {
    if (this.closed) return settled(new Error('the audit log is closed'));
    if (entries.length === 0) return settled(undefined, []);
    this.queue.push({ entries, settled });
    this.queued += entries.length;
    if (this.queued >= this.maxGroupSize) this.writeGroup();
    else if (!this.timer && !this.immediate) {
      if (this.maxDelayMs > 0) this.timer = setTimeout(() => this.writeGroup(), this.maxDelayMs);
      else this.immediate = setImmediate(() => this.writeGroup());
    }
  }

  /** Appends one entry now (after anything queued), in its own transaction; stamped `at` (default now). */
  appendSync(entry: AuditEntryInput, at: Date = this.now()): AuditReceipt {
    if (this.closed) throw new Error('the audit log is closed');
    const prepared = prepareEntry(entry, at);
    this.writeGroup();
    return appendPrepared(this.db, [prepared], this.context()).receipts[0]!;
  }

  /** Writes whatever is queued; resolves when it has committed. */
  async flush(): Promise<void> {
    this.writeGroup();
  }

  /** Signs the current head now (unless it already is), as of `at` (default now). */
  checkpoint(at: Date = this.now()): AuditCheckpoint | undefined {
    this.writeGroup();
    return writeCheckpoint(this.db, this.signingKey, at);
  }

  /** Writes what is queued and stops the timers. The database handle stays open: its owner closes it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.writeGroup();
    this.closed = true;
    clearInterval(this.checkpointTimer);
  }

  private context() {
    return { signingKey: this.signingKey, policy: this.policy, now: this.now() };
  }

  private checkpointIfDue(): void {
    try {
      checkpointIfDue(this.db, this.signingKey, this.policy, this.now());
    } catch (e) {
      this.onError(e as Error);
    }
  }

  private writeGroup(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    while (this.queue.length > 0) {
      // Whole sets only, up to maxGroupSize entries (a larger set goes alone, in its own transaction).
      let take = 0;
      let size = 0;
      do size += this.queue[take++]!.entries.length;
      while (take < this.queue.length && size + this.queue[take]!.entries.length <= this.maxGroupSize);
      const group = this.queue.splice(0, take);
      this.queued -= size;
      let receipts: AuditReceipt[];
      try {
        receipts = appendPrepared(
          this.db,
          group.flatMap((p) => p.entries),
          this.context(),
        ).receipts;
      } catch (e) {
        for (const p of group) p.settled(e as Error);
        continue;
      }
      let at = 0;
      for (const p of group) p.settled(undefined, receipts.slice(at, (at += p.entries.length)));
    }
  }
}
