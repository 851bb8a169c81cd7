// One engine per core, in worker threads: the throughput path. Requests go to the least-busy worker.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { InputError, type Problem } from '../../shared/problems.js';
import { BundleError } from './bundle/load.js';
import type { EngineExplanation, ExplainOptions } from './engine.js';
import type { WorkerReply, WorkerRequest } from './engine-worker.js';
import type { HmacKey } from './keys.js';
import { startThread } from './threads.js';
import type { Answer, AnswerRequest, AnswerTiming } from './records/answer.js';
import type { BackendName } from './tf/backend.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
}

export class EnginePool {
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly slots: Slot[],
    readonly backend: BackendName,
  ) {}

  static async start(opts: {
    bundleDir: string;
    size?: number;
    backend?: BackendName;
    /** The installation's key: without it the pool explains but cannot answer (sign documents). */
    hmacKey?: HmacKey;
  }): Promise<EnginePool> {
    const size = Math.max(1, opts.size ?? availableParallelism());
    const started = await Promise.allSettled(
      Array.from({ length: size }, () => {
        const worker = startThread(import.meta.url, 'engine-worker', {
          workerData: {
            bundleDir: opts.bundleDir,
            backend: opts.backend,
            ...(opts.hmacKey
              ? { hmacKey: { key: new Uint8Array(opts.hmacKey.key), id: opts.hmacKey.id } }
              : {}),
          },
        });
        return new Promise<{ slot: Slot; backend: BackendName }>((resolve, reject) => {
          worker.once('error', reject);
          worker.once(
            'message',
            (m: { ready: boolean; backend?: BackendName; message?: string; problems?: Problem[] }) => {
              worker.off('error', reject);
              if (!m.ready) {
                void worker.terminate();
                reject(m.problems ? new BundleError(m.problems) : new Error(m.message));
                return;
              }
              const slot: Slot = { worker, pending: new Map() };
              worker.on('message', (r: WorkerReply) => EnginePool.settle(slot, r));
              worker.on('error', (e) => {
                for (const p of slot.pending.values()) p.reject(e);
                slot.pending.clear();
              });
              resolve({ slot, backend: m.backend! });
            },
          );
        });
      }),
    );
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((s) => s.slot.worker.terminate()));
      throw failed.reason as Error;
    }
    return new EnginePool(
      ok.map((s) => s.slot),
      ok[0]!.backend,
    );
  }

  private static settle(slot: Slot, r: WorkerReply): void {
    const p = slot.pending.get(r.id);
    if (!p) return;
    slot.pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(r.problems ? new InputError(r.problems as Problem[]) : new Error(r.message));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Requests in flight across all workers. */
  get depth(): number {
    return this.slots.reduce((n, s) => n + s.pending.size, 0);
  }

  private send<T>(req: WithoutId<WorkerRequest>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the engine pool is closed'));
    const slot = this.slots.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      slot.worker.postMessage({ ...req, id });
    });
  }

  explain(applicants: unknown[], options: ExplainOptions): Promise<EngineExplanation[]> {
    return this.send({ op: 'explain', applicants, options });
  }

  answer(applicants: unknown[], timings: AnswerTiming[], request: AnswerRequest): Promise<Answer[]> {
    return this.send({ op: 'answer', applicants, timings, request });
  }

  predict(applicants: unknown[]): Promise<number[][]> {
    return this.send({ op: 'predict', applicants });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
