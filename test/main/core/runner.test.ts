// The in-process runner (workers: 0): calls made once close() has begun are refused with the worker pool's clear
// "closing" error, never TensorFlow's "Container … is already disposed."; what was called before settles.
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../../main/core/engine.js';
import { ENGINE_CLOSING } from '../../../main/core/engine-pool.js';
import { epochNow, type AnswerRequest } from '../../../main/core/records/answer.js';
import { inProcessRunner } from '../../../main/core/runner.js';
import { BranchLensService } from '../../../main/core/service.js';
import { answerRequest } from '../../helpers/answer-request.js';
import { DEMO_BUNDLE, holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

const applicants = holdoutApplicants(3);

describe('the in-process runner', () => {
  it('settles the calls made before close(), refuses those after with the "closing" error', async () => {
    const engine = await Engine.load(DEMO_BUNDLE, { backend: 'wasm' });
    const runner = inProcessRunner(engine, { key: Buffer.alloc(32, 7), id: 'test' });
    const explained = runner.explain(applicants, DEFAULT_EXPLAIN_OPTIONS);
    const answered = runner.answer(
      applicants,
      applicants.map(() => ({ startedAt: epochNow(), count: applicants.length })),
      answerRequest(),
    );
    const predicted = runner.predict(applicants);
    const closing = runner.close();
    const refused = await Promise.allSettled([
      runner.explain(applicants, DEFAULT_EXPLAIN_OPTIONS),
      runner.answer(applicants, [], {} as AnswerRequest),
      runner.predict(applicants),
    ]);
    expect(refused.map((o) => o.status === 'rejected' && (o.reason as Error).message)).toEqual([
      ENGINE_CLOSING,
      ENGINE_CLOSING,
      ENGINE_CLOSING,
    ]);
    expect(ENGINE_CLOSING).toBe('the engine is closing (the service is shutting down)');
    expect(await explained).toHaveLength(3);
    // An answer call says how long the engine worked on it, for the micro-batcher's Retry-After.
    const { results, engineMs } = await answered;
    expect(results).toHaveLength(3);
    expect(engineMs).toBeGreaterThan(0);
    expect(await predicted).toHaveLength(3);
    await closing;
    await runner.close(); // a second close() does nothing
  });

  it('lets a service with workers: 0 close with requests in flight: each is answered or told it is closing', async () => {
    const dir = tempDir('branchlens-runner-close-');
    try {
      const service = await BranchLensService.open({ dataDir: dir, workers: 0 });
      const calls = holdoutApplicants(12).map((a) => service.explain([a]));
      const closing = service.close();
      const after = service.explain(holdoutApplicants(1));
      await closing;
      const outcomes = await Promise.allSettled([...calls, after]);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect((o.reason as Error).message).toBe(ENGINE_CLOSING);
      }
      expect(outcomes.filter((o) => o.status === 'rejected').length).toBeGreaterThan(0);
    } finally {
      removeDir(dir);
    }
  });
});
