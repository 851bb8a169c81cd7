// One engine per core, in worker threads: the throughput path. Requests go to the least-busy worker.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { InputError, type Problem } from '../../shared/problems.js';
import { BundleError } from './bundle/load.js';
import type { EngineExplanation, ExplainOptions } from './engine.js';
import type { WorkerReply, WorkerRequest } from './engine-worker.js';
import type { HmacKey } from './keys.js';
import { BusyError, type TimedResults } from './microbatch.js';
import { startThread } from './threads.js';
import type { Answer, AnswerRequest, AnswerTiming } from './records/answer.js';
import type { BackendName } from './tf/backend.js';
import type { PinnedBundle } from './engine-load.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** A worker's value, with the time its engine spent on the call (WorkerReply's engineMs). */
interface Timed<T> {
  value: T;
  engineMs: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (v: Timed<unknown>) => void; reject: (e: Error) => void }>;
  /** Set when the worker stopped (an uncaught error, out of memory, killed): no more calls go to it. */
  dead: boolean;
}

interface PoolOptions {
  bundleDir: string;
  size?: number;
  backend?: BackendName;
  /** The installation's key: without it the pool explains but cannot answer (sign documents). */
  hmacKey?: HmacKey;
  /** The bundle every worker must load, a restarted one too (see engine-load.ts). */
  pinned?: PinnedBundle;
  /** The first wait before a worker that could not be restarted is tried again (doubling, at most a minute). */
  restartDelayMs?: number;
}

const RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 60_000;

/** What a call made once close() has begun is refused with (the in-process runner's words too). */
export const ENGINE_CLOSING = 'the engine is closing (the service is shutting down)';

/** The longest close() waits for calls in flight to finish before it fails them and stops the workers. */
const DRAIN_MS = 30_000;

/** Bounds of the Retry-After told while no worker runs, in seconds. */
const MIN_RETRY_AFTER_S = 1;
const MAX_RETRY_AFTER_S = 60;

/**
 * No engine worker can take the call now: the only one stopped and is being restarted (or its restart failed and
 * is tried again), or the worker holding the call stopped under it. A "busy" answer (HTTP 503 with Retry-After,
 * never a 500): the request can be sent again once a worker runs, which `retryAfterSeconds` estimates.
 */
export class EngineUnavailableError extends BusyError {
  constructor(retryAfterSeconds: number, message: string) {
    super(retryAfterSeconds, message);
    this.name = 'EngineUnavailableError';
  }
}

export class EnginePool {
  private nextId = 1;
  private closed = false;
  /** Resolves the close() waiting for the last call in flight. */
  private drained: (() => void) | undefined;
  /** Why the last restart of a worker failed, while no restart has succeeded since. */
  private restartFailure: string | undefined;
  private readonly retries = new Set<NodeJS.Timeout>();
  /** When (performance.now) the next try to restart a worker is due, while one waits; else undefined. */
  private retryAt: number | undefined;
  /** How long starting the workers took (loading their engines), in ms: what a restart is expected to take. */
  private startMs = 0;
  /** When (performance.now) the restart under way began, while one is; else undefined. */
  private restartingSince: number | undefined;

  private constructor(
    private readonly slots: Slot[],
    readonly backend: BackendName,
    private opts: PoolOptions,
  ) {
    for (const slot of slots) this.watch(slot);
  }

  /** Starts one worker and waits until its engine is loaded. */
  private static startSlot(opts: PoolOptions): Promise<{ slot: Slot; backend: BackendName }> {
    const worker = startThread(import.meta.url, 'engine-worker', {
      workerData: {
        bundleDir: opts.bundleDir,
        backend: opts.backend,
        ...(opts.pinned ? { pinned: opts.pinned } : {}),
        ...(opts.hmacKey ? { hmacKey: { key: new Uint8Array(opts.hmacKey.key), id: opts.hmacKey.id } } : {}),
      },
    });
    return new Promise((resolve, reject) => {
      const failed = (e: Error) => reject(e);
      const exited = (code: number) =>
        reject(new Error(`the engine worker exited with code ${code} while loading`));
      worker.once('error', failed);
      worker.once('exit', exited);
      worker.once(
        'message',
        (m: { ready: boolean; backend?: BackendName; message?: string; problems?: Problem[] }) => {
          worker.off('error', failed);
          worker.off('exit', exited);
          if (!m.ready) {
            void worker.terminate();
            reject(m.problems ? new BundleError(m.problems) : new Error(m.message));
            return;
          }
          const slot: Slot = { worker, pending: new Map(), dead: false };
          resolve({ slot, backend: m.backend! });
        },
      );
    });
  }

  static async start(opts: PoolOptions): Promise<EnginePool> {
    const size = Math.max(1, opts.size ?? availableParallelism());
    const startedAt = performance.now();
    const started = await Promise.allSettled(Array.from({ length: size }, () => EnginePool.startSlot(opts)));
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((s) => s.slot.worker.terminate()));
      throw failed.reason as Error;
    }
    const pool = new EnginePool(
      ok.map((s) => s.slot),
      ok[0]!.backend,
      opts,
    );
    pool.startMs = performance.now() - startedAt;
    return pool;
  }

  /**
   * A worker that stops (an uncaught error, out of memory, killed) fails the calls it held, at once, rather
   * than leaving their callers waiting for ever; a new worker takes its place unless the pool is closing.
   */
  private watch(slot: Slot): void {
    const stopped = (why: string) => {
      if (slot.dead) return;
      slot.dead = true;
      const message = `an engine worker stopped (${why}); the request can be sent again`;
      // Busy while the pool serves on (another worker, or this one's replacement): the caller may send it again.
      this.failPending(slot, this.closed ? new Error(message) : this.unavailable(message));
      if (!this.closed) void this.replace(slot);
    };
    slot.worker.on('message', (r: WorkerReply) => this.settle(slot, r));
    slot.worker.on('error', (e) => stopped(e.message));
    slot.worker.on('exit', (code) => stopped(`exit code ${code}`));
  }

  /**
   * Starts a worker in place of `dead`. One that cannot be started (the bundle's folder changed or is gone, memory)
   * is tried again later, waiting twice as long each time; until then calls are told why no worker runs.
   */
  private async replace(dead: Slot, delayMs = this.opts.restartDelayMs ?? RESTART_DELAY_MS): Promise<void> {
    this.retryAt = undefined;
    const startedAt = performance.now();
    this.restartingSince = startedAt;
    try {
      const { slot } = await EnginePool.startSlot(this.opts);
      this.restartingSince = undefined;
      this.startMs = performance.now() - startedAt;
      const at = this.slots.indexOf(dead);
      if (this.closed || at < 0) {
        await slot.worker.terminate();
        return;
      }
      this.slots[at] = slot;
      this.restartFailure = undefined;
      this.watch(slot);
    } catch (e) {
      this.restartingSince = undefined;
      const why = (e as Error).message;
      if (why !== this.restartFailure) process.emitWarning(`an engine worker could not be restarted: ${why}`);
      this.restartFailure = why;
      if (this.closed) return;
      const retry = setTimeout(() => {
        this.retries.delete(retry);
        if (!this.closed) void this.replace(dead, Math.min(2 * delayMs, MAX_RESTART_DELAY_MS));
      }, delayMs);
      retry.unref();
      this.retries.add(retry);
      this.retryAt = performance.now() + delayMs;
    }
  }

  /** Workers restarted from now on load the bundle from `bundleDir` (still pinned to the same bundle). */
  relocate(bundleDir: string): void {
    this.opts = { ...this.opts, bundleDir };
  }

  /**
   * A "busy" error saying `message`, with the seconds until a worker can take the request: 1 while another
   * worker runs; else what is left of the restart under way (a restart takes what starting the workers took), or
   * the wait for the next try of a failed restart and then a start.
   */
  private unavailable(message: string): EngineUnavailableError {
    let ms = 0;
    if (!this.slots.some((s) => !s.dead)) {
      const now = performance.now();
      if (this.retryAt !== undefined) ms = Math.max(0, this.retryAt - now) + this.startMs;
      else if (this.restartingSince !== undefined) ms = this.startMs - (now - this.restartingSince);
      else ms = this.startMs;
    }
    const seconds = Math.min(MAX_RETRY_AFTER_S, Math.max(MIN_RETRY_AFTER_S, Math.ceil(ms / 1000)));
    return new EngineUnavailableError(seconds, message);
  }

  private failPending(slot: Slot, error: Error): void {
    for (const p of slot.pending.values()) p.reject(error);
    slot.pending.clear();
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.drained && this.depth === 0) this.drained();
  }

  /** A worker's reply settles its call; a close() waiting for the last call in flight is told. */
  private settle(slot: Slot, r: WorkerReply): void {
    const p = slot.pending.get(r.id);
    if (p) {
      slot.pending.delete(r.id);
      if (!r.ok) p.reject(r.problems ? new InputError(r.problems as Problem[]) : new Error(r.message));
      else p.resolve({ value: r.value, engineMs: r.engineMs });
    }
    this.checkDrained();
  }

  get size(): number {
    return this.slots.length;
  }

  /** Whether a worker runs to take a call: not while every one stopped and none is restarted yet. */
  get running(): boolean {
    return this.slots.some((s) => !s.dead);
  }

  /** Requests in flight across all workers. */
  get depth(): number {
    return this.slots.reduce((n, s) => n + s.pending.size, 0);
  }

  private send<T>(req: WithoutId<WorkerRequest>): Promise<Timed<T>> {
    if (this.closed) return Promise.reject(new Error(ENGINE_CLOSING));
    const live = this.slots.filter((s) => !s.dead);
    if (live.length === 0) {
      return Promise.reject(
        this.unavailable(
          this.restartFailure === undefined
            ? 'no engine worker is running (one is being restarted); send the request again'
            : `no engine worker is running: restarting one failed (${this.restartFailure}); it is tried again`,
        ),
      );
    }
    const slot = live.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    const id = this.nextId++;
    return new Promise<Timed<T>>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: Timed<unknown>) => void, reject });
      slot.worker.postMessage({ ...req, id });
    });
  }

  async explain(applicants: unknown[], options: ExplainOptions): Promise<EngineExplanation[]> {
    return (await this.send<EngineExplanation[]>({ op: 'explain', applicants, options })).value;
  }

  /** The answers, with the engine's own time on the call for the micro-batcher's throughput estimate. */
  async answer(
    applicants: unknown[],
    timings: AnswerTiming[],
    request: AnswerRequest,
  ): Promise<TimedResults<Answer>> {
    const { value, engineMs } = await this.send<Answer[]>({ op: 'answer', applicants, timings, request });
    return { results: value, engineMs };
  }

  async predict(applicants: unknown[]): Promise<number[][]> {
    return (await this.send<number[][]>({ op: 'predict', applicants })).value;
  }

  /**
   * Takes no more calls, lets those in flight finish (at most `drainMs`), fails any left with a clear error,
   * then stops the workers: a caller is answered or told, never left waiting.
   */
  async close(drainMs = DRAIN_MS): Promise<void> {
    this.closed = true;
    for (const retry of this.retries) clearTimeout(retry);
    this.retries.clear();
    if (this.depth > 0) {
      await new Promise<void>((done) => {
        const timer = setTimeout(done, drainMs);
        this.drained = () => {
          clearTimeout(timer);
          done();
        };
      });
      this.drained = undefined;
    }
    for (const slot of this.slots) this.failPending(slot, new Error('the engine is closing'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
