// One engine on one core: a worker thread that loads the bundle and answers explain/predict messages.
import { parentPort, workerData } from 'node:worker_threads';
import { isInputError } from '../../shared/problems.js';
import { Engine, type ExplainOptions } from './engine.js';
import type { BackendName } from './tf/backend.js';

export type WorkerRequest =
  | { id: number; op: 'explain'; applicants: unknown[]; options: ExplainOptions }
  | { id: number; op: 'predict'; applicants: unknown[] };

export type WorkerReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; problems?: unknown; message: string };

const { bundleDir, backend } = workerData as { bundleDir: string; backend?: BackendName };
const port = parentPort!;

try {
  const engine = await Engine.load(bundleDir, backend ? { backend } : {});
  port.on('message', (req: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      const value =
        req.op === 'explain' ? engine.explain(req.applicants, req.options) : engine.predict(req.applicants);
      reply = { id: req.id, ok: true, value };
    } catch (e) {
      reply = isInputError(e)
        ? { id: req.id, ok: false, problems: e.problems, message: e.message }
        : { id: req.id, ok: false, message: (e as Error).message };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true, backend: engine.backend });
} catch (e) {
  port.postMessage({ ready: false, message: (e as Error).message });
}
