// The service's handle on the database writer thread (writer-thread.ts). Appends and cache writes made during one
// turn of the event loop go over in one message; the writer commits them in groups on its own connection and
// sends the receipts back, so an append still resolves only after its entry is durably committed. The few
// calls that must answer synchronously (appendSync, checkpoint, cache flush and invalidation) block on an
// Atomics.wait until the writer has answered.
import { receiveMessageOnPort, MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { AuditReceipt } from '../audit/append.js';
import type { AuditCheckpoint } from '../audit/checkpoint.js';
import { AuditEntryError, type AuditEntryInput, type PreparedEntry } from '../audit/entry.js';
import type { AuditAppender, AuditLogOptions } from '../audit/log.js';
import type { DiskCacheOptions, PruneResult } from '../cache/disk-cache.js';
import type { DiskCacheWriter } from '../cache/explanation-cache.js';
import type { SigningKey } from '../keys.js';
import { StorageError } from './open.js';
import { startThread } from '../threads.js';
import {
  withStorageFacts,
  type CallAnswer,
  type CallAnswers,
  type Done,
  type FromWriter,
  type QueuedEntry,
  type ToWriter,
  type Work,
  type WriterCall,
  type WriterData,
  type WriterError,
} from './writer-messages.js';

/** How long a synchronous call waits for the writer (a group commit takes milliseconds; a busy disk, more). */
const CALL_TIMEOUT_MS = 60_000;

/**
 * How often the writer copies the WAL into branchlens.db when it has written since. wal_autocheckpoint alone
 * does only every ~80 MB (open.ts): until then the file holds none of a running service's writes, and a backup
 * that copies it alone (without branchlens.db-wal) restores the database as it was days ago, or empty.
 */
export const WAL_CHECKPOINT_MS = 30_000;

export interface DatabaseWriterOptions {
  dataDir: string;
  signingKey: SigningKey;
  audit?: AuditLogOptions;
  cache: Omit<DiskCacheOptions, 'now'>;
  /** WAL_CHECKPOINT_MS unless given (tests). */
  walCheckpointMs?: number;
  /** How long a blocking call waits for the thread's answer: CALL_TIMEOUT_MS unless given (tests). */
  callTimeoutMs?: number;
}

/**
 * A writer thread's error (errorOf) as an Error again on the service's thread, with its name, SQLite code and the
 * free space it failed with.
 */
export function errorFrom(e: WriterError): Error {
  const error = e.name === 'AuditEntryError' ? new AuditEntryError(e.message) : new Error(e.message);
  if (error.name !== e.name) error.name = e.name;
  return withStorageFacts(error, e);
}

interface Waiting {
  resolve(receipts: AuditReceipt[]): void;
  reject(error: Error): void;
}

export class DatabaseWriter {
  /** The audit log, written by the writer thread. */
  readonly audit: AuditAppender;
  /** The explanation cache's disk writes, made by the writer thread. */
  readonly cache: DiskCacheWriter;
  private work: Work = { op: 'work', entries: [], cache: [], flushes: [] };
  /** How many audit entries `work` holds (a set counts each of its entries). */
  private queuedEntries = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private readonly appends = new Map<number, Waiting>();
  private readonly flushes = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private nextId = 1;
  /** Set once the thread has stopped: every later call fails with it. */
  private stopped: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly signal: Int32Array,
    private readonly answers: MessagePort,
    private readonly maxGroupSize: number,
    private readonly now: () => Date,
    private readonly onError: (error: Error) => void,
    private readonly callTimeoutMs: number,
  ) {
    worker.on('message', (m: FromWriter) => this.receive(m));
    worker.on('error', (e) => this.stop(e));
    worker.on('exit', () => this.stop(new Error('the database writer stopped')));
    this.audit = new WriterAuditLog(this);
    this.cache = {
      write: (batch) => this.queue((w) => w.cache.push(batch)),
      writeNow: (batch) => this.call({ op: 'cacheWrite', batch }),
      invalidate: (batch, keepModelSha256) => this.call({ op: 'cacheInvalidate', batch, keepModelSha256 }),
      prune: (batch): PruneResult => this.call({ op: 'cachePrune', batch }),
    };
  }

  /** Starts the thread on the data dir's database, which openWritable has already opened (and migrated). */
  static async start(opts: DatabaseWriterOptions): Promise<DatabaseWriter> {
    const signal = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    const audit = opts.audit ?? {};
    const worker = startThread(import.meta.url, 'writer-thread', {
      workerData: {
        dataDir: opts.dataDir,
        signingKey: opts.signingKey,
        audit: {
          ...(audit.maxDelayMs !== undefined ? { maxDelayMs: audit.maxDelayMs } : {}),
          ...(audit.maxGroupSize !== undefined ? { maxGroupSize: audit.maxGroupSize } : {}),
          ...(audit.checkpointEvery !== undefined ? { checkpointEvery: audit.checkpointEvery } : {}),
          ...(audit.checkpointIntervalMs !== undefined
            ? { checkpointIntervalMs: audit.checkpointIntervalMs }
            : {}),
        },
        cache: opts.cache,
        walCheckpointMs: opts.walCheckpointMs ?? WAL_CHECKPOINT_MS,
        signal,
        answers: port2,
      } satisfies WriterData,
      transferList: [port2],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const exited = () => reject(new Error('the database writer stopped before it was ready'));
        worker.once('error', reject);
        worker.once('exit', exited);
        worker.once('message', (m: FromWriter) => {
          worker.off('error', reject);
          worker.off('exit', exited);
          if (m.op === 'ready') resolve();
          else reject(new Error(m.op === 'failed' ? m.message : `the database writer said ${m.op}`));
        });
      });
    } catch (e) {
      port1.close();
      await worker.terminate();
      throw e;
    }
    return new DatabaseWriter(
      worker,
      new Int32Array(signal),
      port1,
      Math.max(1, audit.maxGroupSize ?? 256),
      audit.now ?? (() => new Date()),
      audit.onError ?? ((e) => process.emitWarning(e.message)),
      opts.callTimeoutMs ?? CALL_TIMEOUT_MS,
    );
  }

  /** Why the thread stopped, once it has (it is not restarted): every later write fails with it. */
  get failure(): Error | undefined {
    return this.stopped;
  }

  /** Commits everything handed over so far, then stops the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.stopped) {
        this.send();
        const closed = new Promise<void>((resolve) => {
          this.worker.on('message', (m: FromWriter) => m.op === 'closed' && resolve());
          this.worker.once('exit', () => resolve());
        });
        this.worker.postMessage({ op: 'close' } satisfies ToWriter);
        await closed;
      }
      this.stop(new Error('the database writer is closed'));
      this.answers.close();
      await this.worker.terminate();
    })();
    return this.closing;
  }

  // ---- for WriterAuditLog -------------------------------------------------------------------------------

  async append(entry: AuditEntryInput): Promise<AuditReceipt> {
    const [receipt] = await this.enqueue((id) => ({ id, at: this.now().getTime(), entry }), 1);
    return receipt!;
  }

  appendAll(entries: readonly PreparedEntry[]): Promise<AuditReceipt[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return this.enqueue((id) => ({ id, prepared: entries.map((e) => e.stored) }), entries.length);
  }

  private enqueue(queued: (id: number) => QueuedEntry, count: number): Promise<AuditReceipt[]> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<AuditReceipt[]>((resolve, reject) => {
      this.appends.set(id, { resolve, reject });
      const q = queued(id);
      this.queue((w) => w.entries.push(q));
      this.queuedEntries += count;
      if (this.queuedEntries >= this.maxGroupSize) this.send();
    });
  }

  flush(): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.flushes.set(id, { resolve, reject });
      this.queue((w) => w.flushes.push(id));
      this.send();
    });
  }

  stamp(): number {
    return this.now().getTime();
  }

  /** Sends what is queued, then blocks until the writer has done `call` and answered. */
  call<C extends WriterCall>(call: C): CallAnswers[C['op']] {
    if (this.stopped) throw this.stopped;
    this.send();
    Atomics.store(this.signal, 0, 0);
    this.worker.postMessage({ op: 'call', call } satisfies ToWriter);
    const waited = Atomics.wait(this.signal, 0, 0, this.callTimeoutMs);
    const answer = receiveMessageOnPort(this.answers)?.message as CallAnswer | undefined;
    if (waited === 'timed-out' || !answer) {
      // A late answer would be taken for the next call's: this writer is not used again.
      this.stop(
        new Error(
          waited === 'timed-out'
            ? `the database writer did not answer within ${this.callTimeoutMs / 1000} s`
            : 'the database writer answered nothing',
        ),
      );
      void this.worker.terminate();
      // The StorageError every later call gets: this call is told the same (a 503 saying so, not a 500).
      throw this.stopped!;
    }
    if (!answer.ok) throw errorFrom(answer.error);
    return answer.value as CallAnswers[C['op']];
  }

  // ---- internals ----------------------------------------------------------------------------------------

  /** Adds to this turn's message, sent at the end of the turn (or sooner, by send()). */
  private queue(add: (w: Work) => void): void {
    add(this.work);
    this.scheduled ??= setImmediate(() => this.send());
  }

  private send(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const w = this.work;
    if (w.entries.length === 0 && w.cache.length === 0 && w.flushes.length === 0) return;
    this.work = { op: 'work', entries: [], cache: [], flushes: [] };
    this.queuedEntries = 0;
    this.worker.postMessage(w satisfies ToWriter);
  }

  private receive(m: FromWriter): void {
    switch (m.op) {
      case 'done':
        return this.settle(m);
      case 'error':
        return this.onError(new Error(m.message));
      default:
        return;
    }
  }

  private settle(m: Done): void {
    for (const [id, outcome] of m.receipts) {
      const waiting = this.appends.get(id);
      if (!waiting) continue;
      this.appends.delete(id);
      if (Array.isArray(outcome)) waiting.resolve(outcome);
      else waiting.reject(errorFrom(outcome));
    }
    for (const id of m.flushed) {
      this.flushes.get(id)?.resolve();
      this.flushes.delete(id);
    }
  }

  private stop(error: Error): void {
    // Every later write fails with it: the storage is unavailable until BranchLens is restarted.
    this.stopped ??= new StorageError(
      `${error.message}: nothing more can be audited until BranchLens restarts`,
    );
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    for (const w of this.appends.values()) w.reject(this.stopped);
    for (const f of this.flushes.values()) f.reject(this.stopped);
    this.appends.clear();
    this.flushes.clear();
  }
}

/** The AuditLog promises, kept by the writer thread. */
class WriterAuditLog implements AuditAppender {
  private closed = false;

  constructor(private readonly writer: DatabaseWriter) {}

  append(entry: AuditEntryInput): Promise<AuditReceipt> {
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    return this.writer.append(entry);
  }

  appendAll(entries: readonly PreparedEntry[]): Promise<AuditReceipt[]> {
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    return this.writer.appendAll(entries);
  }

  appendSync(entry: AuditEntryInput): AuditReceipt {
    if (this.closed) throw new Error('the audit log is closed');
    return this.writer.call({ op: 'appendSync', entry, at: this.writer.stamp() });
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  checkpoint(): AuditCheckpoint | undefined {
    return this.writer.call({ op: 'checkpoint', at: this.writer.stamp() });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.flush();
  }
}
