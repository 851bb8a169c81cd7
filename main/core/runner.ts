// Where explanations are computed: in this thread (CLI, tests) or on a pool of worker engines (server, app).
import { performance } from 'node:perf_hooks';
import type { EngineExplanation, ExplainOptions } from './engine.js';
import { ENGINE_CLOSING, EnginePool } from './engine-pool.js';
import type { HmacKey } from './keys.js';
import { answerBatch, type Answer, type AnswerRequest, type AnswerTiming } from './records/answer.js';
import type { BackendName } from './tf/backend.js';
import type { Engine } from './engine.js';
import { loadEngine, type PinnedBundle } from './engine-load.js';
import type { TimedResults } from './microbatch.js';

export interface ExplainRunner {
  readonly backend: BackendName;
  /** Whether an engine can take a call now: a pool whose workers all stopped cannot until one is restarted. */
  readonly running: boolean;
  explain(applicants: unknown[], options: ExplainOptions): Promise<EngineExplanation[]>;
  /**
   * Explains, then builds and signs each applicant's document and audit entry where it was explained. Says the
   * engine's own time on the call, which the micro-batcher's throughput estimate (and so Retry-After) is timed by.
   */
  answer(
    applicants: unknown[],
    timings: AnswerTiming[],
    request: AnswerRequest,
  ): Promise<TimedResults<Answer>>;
  predict(applicants: unknown[]): Promise<number[][]>;
  /**
   * Where an engine restarted from now on loads the bundle from (the installed copy, once a model imported from
   * another folder is installed). Engines stay pinned to the bundle's sha256 wherever they load it from.
   */
  relocate(bundleDir: string): void;
  close(): Promise<void>;
}

/**
 * One engine in this thread. A call runs whole when it is made (the engine is synchronous), so none is ever in
 * flight when close() begins: calls made from then on are refused with the pool's "closing" error rather than
 * reaching the disposed engine.
 */
export function inProcessRunner(engine: Engine, hmacKey: HmacKey): ExplainRunner {
  let closed = false;
  const run = async <T>(work: () => T): Promise<T> => {
    if (closed) throw new Error(ENGINE_CLOSING);
    return work();
  };
  return {
    backend: engine.backend,
    get running() {
      return !closed;
    },
    explain: (applicants, options) => run(() => engine.explain(applicants, options)),
    answer: (applicants, timings, request) =>
      run(() => {
        const started = performance.now();
        const results = answerBatch(engine, hmacKey, applicants, timings, request);
        return { results, engineMs: performance.now() - started };
      }),
    predict: (applicants) => run(() => engine.predict(applicants)),
    relocate: () => undefined, // this engine is never loaded again
    close: async () => {
      if (closed) return;
      closed = true;
      engine.dispose();
    },
  };
}

/**
 * workers = 0: one engine in this thread; otherwise a pool of that many worker engines. With `pinned`, every
 * engine (a restarted one too) refuses to serve a bundle other than the one checked.
 */
export async function startRunner(
  bundleDir: string,
  opts: { workers: number; backend?: BackendName; hmacKey: HmacKey; pinned?: PinnedBundle },
): Promise<ExplainRunner> {
  const backend = opts.backend ? { backend: opts.backend } : {};
  const pinned = opts.pinned ? { pinned: opts.pinned } : {};
  if (opts.workers <= 0) {
    return inProcessRunner(await loadEngine(bundleDir, { ...backend, ...pinned }), opts.hmacKey);
  }
  return EnginePool.start({ bundleDir, size: opts.workers, hmacKey: opts.hmacKey, ...backend, ...pinned });
}
