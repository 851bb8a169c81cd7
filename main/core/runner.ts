// Where explanations are computed: in this thread (CLI, tests) or on a pool of worker engines (server, app).
import type { EngineExplanation, ExplainOptions } from './engine.js';
import { EnginePool } from './engine-pool.js';
import type { HmacKey } from './keys.js';
import { answerBatch, type Answer, type AnswerRequest, type AnswerTiming } from './records/answer.js';
import type { BackendName } from './tf/backend.js';
import { Engine } from './engine.js';

export interface ExplainRunner {
  readonly backend: BackendName;
  explain(applicants: unknown[], options: ExplainOptions): Promise<EngineExplanation[]>;
  /** Explains, then builds and signs each applicant's document and audit entry where it was explained. */
  answer(applicants: unknown[], timings: AnswerTiming[], request: AnswerRequest): Promise<Answer[]>;
  predict(applicants: unknown[]): Promise<number[][]>;
  close(): Promise<void>;
}

export function inProcessRunner(engine: Engine, hmacKey: HmacKey): ExplainRunner {
  return {
    backend: engine.backend,
    explain: async (applicants, options) => engine.explain(applicants, options),
    answer: async (applicants, timings, request) =>
      answerBatch(engine, hmacKey, applicants, timings, request),
    predict: async (applicants) => engine.predict(applicants),
    close: async () => engine.dispose(),
  };
}

/** workers = 0: one engine in this thread; otherwise a pool of that many worker engines. */
export async function startRunner(
  bundleDir: string,
  opts: { workers: number; backend?: BackendName; hmacKey: HmacKey },
): Promise<ExplainRunner> {
  const backend = opts.backend ? { backend: opts.backend } : {};
  if (opts.workers <= 0) return inProcessRunner(await Engine.load(bundleDir, backend), opts.hmacKey);
  return EnginePool.start({ bundleDir, size: opts.workers, hmacKey: opts.hmacKey, ...backend });
}
