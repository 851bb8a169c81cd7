// Micro-batching: concurrent explain requests that arrive within a short window are explained in one batched
// call on the engines. An engine call has a fixed cost, so very small batches are avoided: a request that
// finds every engine busy waits for the first to free up (it could not start sooner anyway) and goes with
// whatever arrived meanwhile. The queue is bounded: beyond it, "busy".
import { InputError, isInputError } from '../../shared/problems.js';
import { ENGINE_TUNING } from './engine-tuning.js';

/**
 * Too much work is queued. retryAfterSeconds (the HTTP Retry-After) is how long the engines would take to finish
 * what is queued at the throughput they have shown lately (MicroBatcher.retryAfterSeconds), from 1 to 60 s.
 * `message` says why when it is not the queue (EnginePool's EngineUnavailableError: no engine worker runs).
 */
export class BusyError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'BranchLens is busy: too many explanations are queued; retry shortly',
  ) {
    super(message);
    this.name = 'BusyError';
  }
}

/**
 * An engine call's results with the time the engine itself spent on the call, in milliseconds (its busy time,
 * without the wait for the engine or the trip to and from its thread). The batcher times a call that says its
 * engine time by that time, whether or not it had to wait for a free engine; one that returns bare results it
 * times itself.
 */
export interface TimedResults<R> {
  results: R[];
  engineMs: number;
}

export interface MicroBatchOptions {
  /**
   * The longest a request waits for companions while an engine is free and another is busy (with every engine
   * free it goes at once; with every engine busy, as soon as one frees up). Default 2 ms.
   */
  maxWaitMs?: number;
  /** Applicants per engine call at most. Default: the engine benchmark's choice (engine-tuning.ts). */
  maxBatch?: number;
  /**
   * Applicants queued or in flight (explanations and admitted work) before callers are told "busy". Default 4096.
   * A "busy" answer says when to retry: the queued applicants over the engines' measured throughput (an
   * exponentially weighted average of engine time per applicant over the recent engine calls, so that it follows
   * n_steps and the backend), from 1 to 60 s; before any engine call has completed, a guess of 20 ms a batch.
   * Every completed call is timed: by the engine time it reports (TimedResults), else by the clock.
   */
  maxQueue?: number;
  /** Engine calls in flight at once (one per worker keeps every core busy). Default 2. */
  concurrency?: number;
  /**
   * The smallest batch worth feeding a free engine while another works, before maxWaitMs: waiting for more
   * companions keeps batches large when many callers keep the engines busy. Default 32.
   */
  minSpread?: number;
  /**
   * The smallest batch a burst is split into when several engines are free. With the demo model on wasm, an
   * answer costs ~88 µs of engine time in a batch of 8 and ~74 µs in one of 32 (docs/benchmarks.md: the
   * engine's throughput by batch size, plus ~47 µs to build and sign the document): splitting 16 waiting
   * requests over two engines halves their wait for ~20 % more engine time. Default 8.
   */
  minSplit?: number;
  /** The clock (milliseconds) engine calls are timed with, for the throughput estimate. Default performance.now. */
  now?: () => number;
}

/**
 * An engine's refusal of part of a request (items `at`…), its problems named by their place in the request: the
 * engine names an item by its place in the call, `[j]`, or `applicant` when the call holds one.
 */
function reindexed(e: unknown, at: number, size: number): unknown {
  if (!isInputError(e) || at === 0) return e;
  return new InputError(
    e.problems.map((p) => {
      const field =
        size === 1 && p.field === 'applicant'
          ? `[${at}]`
          : p.field.replace(/^\[(\d+)\]/, (_, j: string) => `[${at + Number(j)}]`);
      return { ...p, field };
    }),
  );
}

function resultsOf<R>(out: R[] | TimedResults<R>): R[] {
  return Array.isArray(out) ? out : out.results;
}

/** Weight of one full batch in the throughput average: about the last ten full batches count. */
const COST_ALPHA = 0.2;
/** Bounds of a "busy" answer's Retry-After, in seconds. */
const MIN_RETRY_AFTER_S = 1;
const MAX_RETRY_AFTER_S = 60;

interface Waiter<I, R> {
  items: I[];
  resolve(v: R[]): void;
  reject(e: Error): void;
}

interface Group<I, O, R> {
  options: O;
  waiters: Waiter<I, R>[];
  size: number;
  timer?: NodeJS.Timeout;
  immediate?: NodeJS.Immediate;
}

export interface BatchStats {
  /** Applicants per engine call, in order (bounded history for metrics). */
  onBatch?: (size: number) => void;
}

/**
 * One engine call: items explained together under the same options, one result per item, in order; with the
 * engine's own time on the call when the engine says it.
 */
export type BatchCall<I, O, R> = (items: I[], options: O) => Promise<R[] | TimedResults<R>>;

/** Batches items (applicants) by options (equal when their JSON is); `call` runs one batch on an engine. */
export class MicroBatcher<I, O, R> {
  private readonly maxWaitMs: number;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly minSpread: number;
  private readonly minSplit: number;
  private readonly now: () => number;
  /** Engine seconds per applicant, averaged over recent calls weighted by their size; NaN before the first. */
  private secondsPerApplicant = NaN;
  private readonly groups = new Map<string, Group<I, O, R>>();
  private queued = 0;
  private inFlight = 0;
  /** When every engine last became busy (inFlight reached concurrency), while they all stay busy; else undefined. */
  private saturatedSince: number | undefined;
  /** When the last engine call completed. */
  private lastDone = -Infinity;

  constructor(
    private readonly call: BatchCall<I, O, R>,
    opts: MicroBatchOptions = {},
    private readonly hooks: BatchStats = {},
  ) {
    this.maxWaitMs = opts.maxWaitMs ?? 2;
    this.maxBatch = Math.max(1, opts.maxBatch ?? ENGINE_TUNING.maxBatch);
    this.maxQueue = Math.max(1, opts.maxQueue ?? 4096);
    this.concurrency = Math.max(1, opts.concurrency ?? 2);
    this.minSpread = Math.max(1, opts.minSpread ?? 32);
    this.minSplit = Math.max(1, opts.minSplit ?? 8);
    this.now = opts.now ?? (() => performance.now());
  }

  /** Applicants waiting or being explained. */
  get depth(): number {
    return this.queued;
  }

  /**
   * Seconds the engines would take to answer `pending` applicants at their measured throughput (every engine
   * busy), from 1 to 60; before any engine call has completed, a guess of 20 ms per batch of maxBatch.
   */
  retryAfterSeconds(pending: number): number {
    const seconds = Number.isNaN(this.secondsPerApplicant)
      ? (pending / this.maxBatch) * 0.02
      : (pending * this.secondsPerApplicant) / this.concurrency;
    return Math.min(MAX_RETRY_AFTER_S, Math.max(MIN_RETRY_AFTER_S, Math.ceil(seconds)));
  }

  /** Folds one engine call of `size` applicants that took `ms` into the average cost per applicant. */
  private observe(size: number, ms: number): void {
    if (size === 0) return;
    const sample = Math.max(0, ms) / 1000 / size;
    if (Number.isNaN(this.secondsPerApplicant)) this.secondsPerApplicant = sample;
    else {
      // Weighted by size, so that a few lone applicants (whose calls cost more each) do not swamp full batches.
      const alpha = COST_ALPHA * Math.min(1, size / this.maxBatch);
      this.secondsPerApplicant += alpha * (sample - this.secondsPerApplicant);
    }
  }

  private busy(): BusyError {
    return new BusyError(this.retryAfterSeconds(this.queued));
  }

  /**
   * Runs other engine work for `count` applicants (predictions) under the same bound: it counts towards the
   * depth while it runs, and beyond the bound the caller is told "busy" instead.
   */
  async admit<T>(count: number, run: () => Promise<T>): Promise<T> {
    if (this.queued + count > this.maxQueue) throw this.busy();
    this.queued += count;
    try {
      return await run();
    } finally {
      this.queued -= count;
    }
  }

  /**
   * Explains `items` with `options`, batched with other requests' items. A request larger than maxBatch goes as
   * calls of at most maxBatch (so every engine works on it, and none holds up the queue for long), its results
   * put back in order. The bound is checked for the whole request: it is queued whole or refused whole.
   */
  explain(items: I[], options: O): Promise<R[]> {
    if (this.queued + items.length > this.maxQueue) return Promise.reject(this.busy());
    if (items.length <= this.maxBatch) return this.enqueue(items, options);
    const parts: Promise<R[]>[] = [];
    for (let at = 0; at < items.length; at += this.maxBatch) {
      const part = items.slice(at, at + this.maxBatch);
      parts.push(
        this.enqueue(part, options).catch((e: unknown) => Promise.reject(reindexed(e, at, part.length))),
      );
    }
    return Promise.all(parts).then((results) => results.flat());
  }

  private enqueue(items: I[], options: O): Promise<R[]> {
    this.queued += items.length;
    const key = JSON.stringify(options);
    return new Promise<R[]>((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) {
        group = { options, waiters: [], size: 0 };
        this.groups.set(key, group);
      }
      group.waiters.push({ items, resolve, reject });
      group.size += items.length;
      if (group.size >= this.maxBatch || this.inFlight === 0) {
        // A full batch, or every engine free: go now (next turn, so requests arriving together still join).
        this.schedule(key, group, 0);
      } else if (this.inFlight < this.concurrency) {
        // Another engine is working: feed the free one a batch worth its call.
        this.schedule(key, group, group.size >= this.minSpread ? 0 : this.maxWaitMs);
      }
      // Otherwise every engine is busy: run() sends the group when the first one frees up.
    });
  }

  private schedule(key: string, group: Group<I, O, R>, delayMs: number): void {
    if (group.immediate) return;
    if (delayMs === 0) {
      if (group.timer) clearTimeout(group.timer);
      group.immediate = setImmediate(() => this.flush(key));
    } else if (!group.timer) {
      group.timer = setTimeout(() => this.flush(key), delayMs);
    }
  }

  private flush(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    this.groups.delete(key);
    if (group.timer) clearTimeout(group.timer);
    if (group.immediate) clearImmediate(group.immediate);
    // Split into engine calls of at most maxBatch applicants, spread over the free engines so that every core
    // works (but not into batches smaller than minSplit), never splitting one waiter (explain() already cut a
    // large request into waiters of at most maxBatch).
    const free = Math.max(1, this.concurrency - this.inFlight);
    const target = Math.min(this.maxBatch, Math.max(this.minSplit, Math.ceil(group.size / free)));
    let batch: Waiter<I, R>[] = [];
    let size = 0;
    for (const w of group.waiters) {
      if (size > 0 && size + w.items.length > target) {
        void this.run(batch, group.options);
        batch = [];
        size = 0;
      }
      batch.push(w);
      size += w.items.length;
    }
    if (batch.length) void this.run(batch, group.options);
  }

  /**
   * Times a completed engine call of `size` applicants. Best by the engine's own time, which the call reports
   * (EnginePool and the in-process runner do): it leaves out any wait for a busy engine. Otherwise by the clock:
   * a call sent to a free engine (`free`) took `done - started`; one sent beside `concurrency` others first
   * waited for an engine, which is not engine time, but every engine worked since the later of the last
   * completion and the moment they all became busy, so that span times `concurrency` engines' work. Every call
   * is timed, so that the estimate follows the engines' real speed under sustained load too.
   */
  private time(size: number, engineMs: number | undefined, started: number, free: boolean): void {
    const done = this.now();
    if (engineMs !== undefined && Number.isFinite(engineMs)) this.observe(size, engineMs);
    else if (free) this.observe(size, done - started);
    else if (this.saturatedSince !== undefined) {
      this.observe(size, (done - Math.max(this.lastDone, this.saturatedSince)) * this.concurrency);
    }
  }

  private async run(waiters: Waiter<I, R>[], options: O): Promise<void> {
    const items = waiters.length === 1 ? waiters[0]!.items : waiters.flatMap((w) => w.items);
    this.inFlight++;
    this.hooks.onBatch?.(items.length);
    const started = this.now();
    if (this.inFlight >= this.concurrency) this.saturatedSince ??= started;
    // Whether an engine is free for it: a call sent beside `concurrency` others first waits for one.
    const free = this.inFlight <= this.concurrency;
    try {
      const out = await this.call(items, options);
      const results = resultsOf(out);
      this.time(items.length, Array.isArray(out) ? undefined : out.engineMs, started, free);
      let at = 0;
      for (const w of waiters) {
        w.resolve(results.slice(at, at + w.items.length));
        at += w.items.length;
      }
    } catch (e) {
      if (waiters.length === 1) waiters[0]!.reject(e as Error);
      else {
        // One request's problem must not fail its companions: explain each alone.
        await Promise.all(
          waiters.map((w) => this.call(w.items, options).then((out) => w.resolve(resultsOf(out)), w.reject)),
        );
      }
    } finally {
      this.inFlight--;
      this.lastDone = this.now();
      if (this.inFlight < this.concurrency) this.saturatedSince = undefined;
      this.queued -= items.length;
      // An engine is free: the requests waiting for one go to it now.
      for (const [key, group] of this.groups) this.schedule(key, group, 0);
    }
  }
}
