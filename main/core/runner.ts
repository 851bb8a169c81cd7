// Where explanations are computed: in this thread (CLI, tests) or on a pool of worker engines (server, app).
import type { EngineExplanation, ExplainOptions } from './engine.js';
import { EnginePool } from './engine-pool.js';
import type { HmacKey } from './keys.js';
import { answerBatch, type Answer, type AnswerRequest, type AnswerTiming } from './records/answer.js';
import type { BackendName } from './tf/backend.js';
import type { Engine } from './engine.js';
import { loadEngine, type PinnedBundle } from './engine-load.js';

export interface ExplainRunner {
  readonly backend: BackendName;
  explain(applicants: unknown[], options: ExplainOptions): Promise<EngineExplanation[]>;
  /** Explains, then builds and signs each applicant's document and audit entry where it was explained. */
  answer(applicants: unknown[], timings: AnswerTiming[], request: AnswerRequest): Promise<Answer[]>;
  predict(applicants: unknown[]): Promise<number[][]>;
  /**
   * Where an engine restarted from now on loads the bundle from (the installed copy, once a model imported from
   * another folder is installed). Engines stay pinned to the bundle's sha256 wherever they load it from.
   */
  relocate(bundleDir: string): void;
  close(): Promise<void>;
}

export function inProcessRunner(engine: Engine, hmacKey: HmacKey): ExplainRunner {
  return {
    backend: engine.backend,
    explain: async (applicants, options) => engine.explain(applicants, options),
    answer: async (applicants, timings, request) =>
      answerBatch(engine, hmacKey, applicants, timings, request),
    predict: async (applicants) => engine.predict(applicants),
    relocate: () => undefined, // this engine is never loaded again
    close: async () => engine.dispose(),
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
