// One engine on one core: a worker thread that loads the bundle and answers explain/predict messages.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { isInputError } from '../../shared/problems.js';
import type { ExplainOptions } from './engine.js';
import { loadEngine, type PinnedBundle } from './engine-load.js';
import type { HmacKey } from './keys.js';
import { answerBatch, type AnswerRequest, type AnswerTiming } from './records/answer.js';
import type { BackendName } from './tf/backend.js';

export type WorkerRequest =
  | { id: number; op: 'explain'; applicants: unknown[]; options: ExplainOptions }
  | { id: number; op: 'answer'; applicants: unknown[]; timings: AnswerTiming[]; request: AnswerRequest }
  | { id: number; op: 'predict'; applicants: unknown[] };

/**
 * `engineMs`: how long this engine worked on the call (performance.now around it), without the wait in its
 * queue: what the micro-batcher's throughput estimate, and so Retry-After, is timed by.
 */
export type WorkerReply =
  | { id: number; ok: true; value: unknown; engineMs: number }
  | { id: number; ok: false; problems?: unknown; message: string };

const { bundleDir, backend, hmacKey, pinned } = workerData as {
  bundleDir: string;
  backend?: BackendName;
  pinned?: PinnedBundle;
  hmacKey?: { key: Uint8Array; id: string };
};
/** The installation's key, for pseudonyms and watermarks (a Buffer again after the copy into this thread). */
const key: HmacKey | undefined = hmacKey && { key: Buffer.from(hmacKey.key), id: hmacKey.id };
const port = parentPort!;

function signingKey(): HmacKey {
  if (!key) throw new Error('this engine was started without the installation key: it cannot sign answers');
  return key;
}

try {
  const engine = await loadEngine(bundleDir, {
    ...(backend ? { backend } : {}),
    ...(pinned ? { pinned } : {}),
  });
  port.on('message', (req: WorkerRequest) => {
    let reply: WorkerReply;
    const started = performance.now();
    try {
      const value =
        req.op === 'answer'
          ? answerBatch(engine, signingKey(), req.applicants, req.timings, req.request)
          : req.op === 'explain'
            ? engine.explain(req.applicants, req.options)
            : engine.predict(req.applicants);
      reply = { id: req.id, ok: true, value, engineMs: performance.now() - started };
    } catch (e) {
      reply = isInputError(e)
        ? { id: req.id, ok: false, problems: e.problems, message: e.message }
        : { id: req.id, ok: false, message: (e as Error).message };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true, backend: engine.backend });
} catch (e) {
  // A bundle the engine cannot load is the caller's input (its problems name the file): not an internal error.
  port.postMessage(
    isInputError(e)
      ? { ready: false, message: e.message, problems: e.problems }
      : { ready: false, message: (e as Error).message },
  );
}
