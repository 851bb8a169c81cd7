// The database writer: a thread with its own connection that makes the service's writes, so that their inserts
// and fsyncs never hold up the thread answering callers. Audit entries go through an AuditLog (group commit,
// synchronous=FULL, checkpoints) just as they would in the service's thread; explanation-cache writes follow.
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditReceipt } from '../audit/append.js';
import { AuditLog } from '../audit/log.js';
import { DiskCache } from '../cache/disk-cache.js';
import type { DiskWriteBatch } from '../cache/explanation-cache.js';
import {
  openAnotherWritable,
  storageFailure,
  walCheckpoint,
  withFreeSpace,
  type WritableDb,
} from './open.js';
import {
  errorOf as plainErrorOf,
  type CallAnswer,
  type Done,
  type FromWriter,
  type ToWriter,
  type WriterCall,
  type WriterData,
} from './writer-messages.js';

const data = workerData as WriterData;
const port = parentPort!;
const signal = new Int32Array(data.signal);
const post = (m: FromWriter) => port.postMessage(m);
/** An error as it crosses to the service, with the free space a full or failing disk left (storageFailure). */
const errorOf = (e: unknown) => plainErrorOf(withFreeSpace(e, data.dataDir));
/** Why a background write failed, for the server's log: a storage failure as a request would be told it. */
const failed = (e: unknown) => storageFailure(withFreeSpace(e, data.dataDir)) ?? plainErrorOf(e).message;

function startWriter(db: WritableDb): void {
  const disk = new DiskCache(db, { ...data.cache, now: Date.now });
  const cacheBatches: DiskWriteBatch[] = [];
  let cacheImmediate: NodeJS.Immediate | undefined;
  let done: Done | undefined;

  /** What committed during this turn, sent back in one message once the turn's synchronous work is over. */
  const outbox = (): Done => {
    if (!done) {
      done = { op: 'done', receipts: [], flushed: [] };
      queueMicrotask(() => {
        post(done!);
        done = undefined;
      });
    }
    return done;
  };

  const applyBatch = (batch: DiskWriteBatch): void => {
    disk.addHits(batch.hits);
    if (batch.writes.length) disk.setMany(batch.writes, batch.now);
  };

  /**
   * Writes the cache batches received so far, in one cache transaction after the audit groups' (whose
   * receipts are then already on their way: callers never wait for cache writes). Its commit skips the fsync
   * (DiskCache's own rule: atomic, and made durable by the next audit commit's fsync of the same WAL).
   */
  const writeCache = (): void => {
    if (cacheImmediate) clearImmediate(cacheImmediate);
    cacheImmediate = undefined;
    if (cacheBatches.length === 0) return;
    try {
      disk.writeTogether(() => {
        for (const batch of cacheBatches.splice(0)) applyBatch(batch);
      });
    } catch (e) {
      // Cache entries can be recomputed: a failed write costs later misses, not an answer.
      post({ op: 'error', message: `explanation cache write failed: ${failed(e)}` });
    }
  };

  const log = new AuditLog(db, data.signingKey, {
    ...data.audit,
    onError: (e) => post({ op: 'error', message: `audit checkpoint failed: ${failed(e)}` }),
  });

  /** Commits everything received so far: the queued audit entries first, then the cache writes. */
  const writeAll = (): void => {
    void log.flush();
    writeCache();
  };

  // The WAL copied into branchlens.db now and then (writer.ts WAL_CHECKPOINT_MS), between this thread's writes.
  let wroteSinceCheckpoint = false;
  const walTimer = setInterval(() => {
    if (!wroteSinceCheckpoint) return;
    wroteSinceCheckpoint = false;
    try {
      walCheckpoint(db);
    } catch (e) {
      // The WAL still holds every commit: the next checkpoint copies them.
      post({ op: 'error', message: `database WAL checkpoint failed: ${failed(e)}` });
    }
  }, data.walCheckpointMs);
  walTimer.unref();

  const perform = (call: WriterCall): unknown => {
    switch (call.op) {
      case 'appendSync':
        return log.appendSync(call.entry, new Date(call.at));
      case 'checkpoint':
        return log.checkpoint(new Date(call.at));
      case 'cacheWrite':
        return applyBatch(call.batch);
      case 'cacheInvalidate':
        applyBatch(call.batch);
        return disk.invalidate(call.keepModelSha256);
      case 'cachePrune':
        applyBatch(call.batch);
        return disk.prune(call.batch.now);
    }
  };

  const answer = (call: WriterCall): void => {
    let a: CallAnswer;
    try {
      writeAll();
      a = { ok: true, value: perform(call) };
    } catch (e) {
      a = { ok: false, error: errorOf(e) };
    }
    data.answers.postMessage(a);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  };

  port.on('message', (m: ToWriter) => {
    wroteSinceCheckpoint = true;
    switch (m.op) {
      case 'work':
        for (const q of m.entries) {
          const settled = (error: Error | undefined, receipts?: AuditReceipt[]) =>
            outbox().receipts.push([q.id, error ? errorOf(error) : receipts!]);
          if ('prepared' in q)
            log.enqueueAll(
              q.prepared.map((stored) => ({ stored })),
              settled,
            );
          else log.enqueue(q.entry, new Date(q.at), (error, receipt) => settled(error, receipt && [receipt]));
        }
        if (m.cache.length) {
          cacheBatches.push(...m.cache);
          cacheImmediate ??= setImmediate(writeCache);
        }
        if (m.flushes.length) {
          writeAll();
          outbox().flushed.push(...m.flushes);
        }
        return;
      case 'call':
        return answer(m.call);
      case 'close':
        clearInterval(walTimer);
        writeAll();
        void log.close();
        db.close();
        // After the receipts of what close wrote, which go out in a microtask queued before this one.
        queueMicrotask(() => post({ op: 'closed' }));
        return;
    }
  });
}

let db: WritableDb | undefined;
try {
  db = openAnotherWritable(data.dataDir);
  startWriter(db);
  post({ op: 'ready' });
} catch (e) {
  db?.close();
  post({ op: 'failed', message: errorOf(e).message });
}
