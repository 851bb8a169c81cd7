// A model switched while calls are in flight: close() while an activation is between its registry record and its
// swap must stop the new model's engines with the service, not swap them in after close() stopped the old ones
// (their worker threads would keep the process alive: `serve` or the desktop app hanging on quit); and
// predictions computed by the old engines are labelled with the old model, not the one swapped in meanwhile.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openReadable } from '../../../main/core/db/open.js';
import { BranchLensService } from '../../../main/core/service.js';
import { demoBundleVersion, holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

/** The engine runner the service holds (private): whether its engines were stopped. */
const runnerOf = (service: BranchLensService) =>
  (service as unknown as { runner: { closed?: boolean } }).runner;

describe('close() during an activation', () => {
  it('stops the engines the activation started, whichever the service holds when close() returns', async () => {
    const data = tempDir('branchlens-close-switch-');
    const work = tempDir('branchlens-close-switch-bundle-');
    try {
      const service = await BranchLensService.open({ dataDir: data, workers: 1, backend: 'wasm' });
      await service.importModel(demoBundleVersion(join(work, 'v2'), '2.0.0'), false);
      const reader = openReadable(data);
      const activations = () =>
        (reader.prepare('SELECT count(*) AS n FROM model_activations').get() as { n: number }).n;
      const before = activations();
      const activation = service.activateModel('credit-demo@2.0.0').then(
        () => 'done',
        (e: unknown) => `refused: ${(e as Error).message}`,
      );
      // Recorded, not yet swapped in (swapIn waits for the activation's audit entry first).
      for (let i = 0; activations() === before; i++) {
        if (i > 100_000) throw new Error('the activation was never recorded');
        await new Promise((r) => setImmediate(r));
      }
      reader.close();
      await service.close();
      await activation;
      expect(runnerOf(service).closed).toBe(true);
    } finally {
      removeDir(data);
      removeDir(work);
    }
  }, 60_000);
});

/**
 * A service serving the demo model (1.0.0) with a 2.0.0 installed whose predictions differ, and the runner
 * method `method` of its 1.0.0 engines held: a call to it reaches the engines (`atEngine`), they answer, and the
 * answer waits for `release()`, as a busy event loop would make it wait. The service is closed after `run`.
 */
async function withHeldV1Engines(
  method: 'predict' | 'answer',
  run: (service: BranchLensService, held: { atEngine: Promise<void>; release: () => void }) => Promise<void>,
): Promise<void> {
  const data = tempDir('branchlens-held-switch-');
  const work = tempDir('branchlens-held-switch-bundle-');
  try {
    const service = await BranchLensService.open({ dataDir: data, workers: 1, backend: 'wasm' });
    try {
      await service.importModel(demoBundleVersion(join(work, 'v2'), '2.0.0', 2), false);
      const runner = (service as unknown as { runner: Record<string, (...a: unknown[]) => Promise<unknown>> })
        .runner;
      const original = runner[method]!.bind(runner);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let reached!: () => void;
      const atEngine = new Promise<void>((r) => (reached = r));
      runner[method] = async (...a) => {
        reached();
        const answered = await original(...a);
        await gate;
        return answered;
      };
      // The 2.0.0 engines an activation swaps in are not held.
      await run(service, { atEngine, release });
    } finally {
      await service.close();
    }
  } finally {
    removeDir(data);
    removeDir(work);
  }
}

describe('calls computed while a model is swapped in', () => {
  it('predictions are labelled with the model whose engines computed them, not the one serving when they return', async () => {
    const rows = holdoutApplicants(3);
    await withHeldV1Engines('predict', async (service, held) => {
      const pending = service.predictWithModel(rows);
      await held.atEngine; // sent to the v1 engines before the switch, however busy the machine
      await service.activateModel('credit-demo@2.0.0');
      expect(service.model.version).toBe('2.0.0');
      held.release();
      const late = await pending;
      expect(late.model.version).toBe('1.0.0');
      const byV2 = await service.predictWithModel(rows);
      expect(byV2.model.version).toBe('2.0.0');
      // The numbers tell the models apart: the late ones are 1.0.0's.
      expect(byV2.predictions).not.toEqual(late.predictions);
    });
  }, 60_000);

  it('explanations are answered and audited, but neither cached nor monitored once the new model serves', async () => {
    await withHeldV1Engines('answer', async (service, held) => {
      const pending = service.explain(holdoutApplicants(3));
      await held.atEngine;
      await service.activateModel('credit-demo@2.0.0');
      const monitor = (service as unknown as { monitor: { pendingStabilitySamples: number } }).monitor;
      const samplesBefore = monitor.pendingStabilitySamples;
      held.release();
      const late = await pending;
      expect(late.map((d) => d.model.version)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
      // Neither in the cache (swapIn invalidated every other model's entries) nor in the new model's samples.
      expect(service.cacheStats()).toMatchObject({ memoryEntries: 0, diskEntries: 0 });
      expect(monitor.pendingStabilitySamples).toBe(samplesBefore);
    });
  }, 60_000);
});
