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

describe('predictions computed while a model is swapped in', () => {
  it('are labelled with the model whose engines computed them, not the one serving when they return', async () => {
    const data = tempDir('branchlens-label-switch-');
    const work = tempDir('branchlens-label-switch-bundle-');
    try {
      const service = await BranchLensService.open({ dataDir: data, workers: 1, backend: 'wasm' });
      try {
        await service.importModel(demoBundleVersion(join(work, 'v2'), '2.0.0', 2), false);
        const rows = holdoutApplicants(3);
        const byV1 = (await service.predictWithModel(rows)).predictions;
        // The v1 engines answer, then the answer waits (as a busy event loop would make it) until v2 serves.
        const v1Runner = (
          service as unknown as { runner: { predict: (a: unknown[]) => Promise<number[][]> } }
        ).runner;
        const original = v1Runner.predict.bind(v1Runner);
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let reached!: () => void;
        const atEngine = new Promise<void>((r) => (reached = r));
        v1Runner.predict = async (a) => {
          reached();
          const answered = await original(a);
          await gate;
          return answered;
        };
        const pending = service.predictWithModel(rows);
        await atEngine; // sent to the v1 engines before the switch, however busy the machine
        await service.activateModel('credit-demo@2.0.0');
        expect(service.model.version).toBe('2.0.0');
        release();
        const late = await pending;
        expect(late.predictions).toEqual(byV1);
        expect(late.model.version).toBe('1.0.0');
        const byV2 = await service.predictWithModel(rows);
        expect(byV2.model.version).toBe('2.0.0');
        expect(byV2.predictions).not.toEqual(byV1);
      } finally {
        await service.close();
      }
    } finally {
      removeDir(data);
      removeDir(work);
    }
  }, 60_000);
});

describe('explanations computed while a model is swapped in', () => {
  it('are answered and audited, but neither cached nor monitored once the new model serves', async () => {
    const data = tempDir('branchlens-explain-switch-');
    const work = tempDir('branchlens-explain-switch-bundle-');
    try {
      const service = await BranchLensService.open({ dataDir: data, workers: 1, backend: 'wasm' });
      try {
        await service.importModel(demoBundleVersion(join(work, 'v2'), '2.0.0', 2), false);
        const rows = holdoutApplicants(3);
        type Answering = { answer: (...a: unknown[]) => Promise<unknown> };
        const v1Runner = (service as unknown as { runner: Answering }).runner;
        const original = v1Runner.answer.bind(v1Runner);
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let reached!: () => void;
        const atEngine = new Promise<void>((r) => (reached = r));
        v1Runner.answer = async (...a) => {
          reached();
          const answered = await original(...a);
          await gate;
          return answered;
        };
        const pending = service.explain(rows);
        await atEngine; // sent to the v1 engines before the switch, however busy the machine
        await service.activateModel('credit-demo@2.0.0');
        const monitor = (service as unknown as { monitor: { pendingStabilitySamples: number } }).monitor;
        const samplesBefore = monitor.pendingStabilitySamples;
        release();
        const late = await pending;
        expect(late.map((d) => d.model.version)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
        // Neither in the cache (swapIn invalidated every other model's entries) nor in the new model's samples.
        expect(service.cacheStats()).toMatchObject({ memoryEntries: 0, diskEntries: 0 });
        expect(monitor.pendingStabilitySamples).toBe(samplesBefore);
      } finally {
        await service.close();
      }
    } finally {
      removeDir(data);
      removeDir(work);
    }
  }, 60_000);
});
