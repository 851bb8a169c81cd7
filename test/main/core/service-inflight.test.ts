// An applicant whose answer is already being computed, for another request or earlier in the same one, waits for
// that answer instead of being computed again, and is answered (and audited) as a memory hit.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BusyError } from '../../../main/core/microbatch.js';
import { BranchLensService } from '../../../main/core/service.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';
import { installTinyModel, writeTinyBundle } from './registry/tiny-bundle.js';

let dir: string;
let service: BranchLensService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
  removeDir(dir);
});

async function open(opts: Partial<Parameters<typeof BranchLensService.open>[0]> = {}) {
  dir = tempDir('branchlens-inflight-');
  service = await BranchLensService.open({ dataDir: dir, workers: 0, ...opts });
  const computed: number[] = [];
  service.events.on('batch', ({ size }) => computed.push(size));
  return { service, computed: () => computed.reduce((a, b) => a + b, 0) };
}

describe('answers being computed', () => {
  it('are computed once for duplicates within a request', async () => {
    const { service, computed } = await open();
    const [a, b] = holdoutApplicants(2);
    const before = (await service.auditVerify()).entries;
    // The same applicant again, with its keys in another order: the same input.
    const reordered = Object.fromEntries(Object.entries(a!).reverse());
    const docs = await service.explain([a, b, reordered, a]);
    expect(computed()).toBe(2);
    expect(docs.map((d) => d.meta.cache)).toEqual(['miss', 'miss', 'memory', 'memory']);
    expect(docs[2]!.id).toBe(docs[0]!.id);
    expect(docs[3]!.attributions).toEqual(docs[0]!.attributions);
    for (const doc of docs) expect(service.verify(doc)).toEqual({ ok: true });
    await expect(service.auditVerify()).resolves.toMatchObject({ ok: true, entries: before + 4 });
  });

  it('are computed once for concurrent requests, each answered and audited', async () => {
    const { service, computed } = await open();
    const [a] = holdoutApplicants(1);
    const before = (await service.auditVerify()).entries;
    const answers = await Promise.all(Array.from({ length: 6 }, () => service.explain([a])));
    expect(computed()).toBe(1);
    const levels = answers.map(([d]) => d!.meta.cache).sort();
    expect(levels).toEqual(['memory', 'memory', 'memory', 'memory', 'memory', 'miss']);
    const [first] = answers[0]!;
    for (const [doc] of answers) {
      expect(doc!.id).toBe(first!.id);
      expect(doc!.attributions).toEqual(first!.attributions);
      expect(service.verify(doc)).toEqual({ ok: true });
    }
    await expect(service.auditVerify()).resolves.toMatchObject({ ok: true, entries: before + 6 });
  });

  it('are let go when their computation fails: the waiting duplicates fail with it, later ones compute', async () => {
    // The batcher takes 2 applicants at most: a request of 3 is busy, after its applicants were in flight.
    const { service, computed } = await open({ batching: { maxQueue: 2 } });
    const [a, b, c] = holdoutApplicants(3);
    const outcomes = await Promise.allSettled([service.explain([a, b, c]), service.explain([a])]);
    // The second request found `a` in flight and waited for it: it shares the first's failure.
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(BusyError);
    expect(computed()).toBe(0);
    // Nothing is left waiting on the failed computation: the applicant is computed afresh.
    const [doc] = await service.explain([a]);
    expect(doc!.meta.cache).toBe('miss');
    expect(computed()).toBe(1);
  });

  it('are not handed on when another model answered them: a rollback meanwhile gets the active model’s', async () => {
    dir = tempDir('branchlens-inflight-models-');
    const work = tempDir('branchlens-inflight-bundles-');
    try {
      await installTinyModel(dir, join(work, 'v1'));
      service = await BranchLensService.open({ dataDir: dir, workers: 0 });
      await service.importModel(await writeTinyBundle(join(work, 'v2'), '2.0.0', { auc: 0.5 }), false);
      // The engines' answers are held on gates (the service's runner is private: reached for timing only).
      const held = service as unknown as { runner: { answer: (...a: unknown[]) => Promise<unknown> } };
      const gate = () => {
        let open!: () => void;
        return { done: new Promise<void>((r) => (open = r)), open: () => open() };
      };
      const hold = (g: { done: Promise<void> }) => {
        const runner = held.runner;
        const answer = runner.answer.bind(runner);
        runner.answer = async (...a: unknown[]) => {
          const r = await answer(...a);
          await g.done;
          return r;
        };
      };
      const pause = () => new Promise((r) => setTimeout(r, 20));
      const first = gate();
      hold(first);
      const busy = service.explain([{ income: 9, debt: 1 }]); // keeps 1.0.0's engine busy
      await pause();
      const a = { income: 3, debt: 2 };
      const r1 = service.explain([a]); // under 1.0.0: computes a, its key naming 1.0.0
      await pause();
      await service.activateModel('tiny@2.0.0'); // r1's engine call goes to 2.0.0
      const second = gate();
      hold(second);
      first.open();
      await pause();
      await service.rollbackModel(); // 1.0.0 again, while 2.0.0 still computes a for r1
      const r3 = service.explain([a]);
      await pause();
      second.open();
      const [[d1], [d3]] = await Promise.all([r1, r3]);
      await busy;
      expect(d1!.model.version).toBe('2.0.0');
      expect(d3!.model.version).toBe('1.0.0');
      expect(d3!.meta.cache).toBe('miss');
    } finally {
      removeDir(work);
    }
  });
});
