import { describe, expect, it } from 'vitest';
import { BusyError, MicroBatcher } from '../../../main/core/microbatch.js';
import { ENGINE_TUNING } from '../../../main/core/engine-tuning.js';
import type { ExplainOptions } from '../../../main/core/engine.js';
import { DEFAULT_EXPLAIN_OPTIONS } from '../../../main/core/engine.js';
import { InputError } from '../../../shared/problems.js';

interface Item {
  id: number;
  bad?: boolean;
}

/** An engine call that records its batches and answers each applicant with its own id, after `delayMs`. */
function fakeRunner(delayMs = 5) {
  const calls: Item[][] = [];
  const runner = async (applicants: Item[], _options: ExplainOptions) => {
    calls.push(applicants);
    await new Promise((r) => setTimeout(r, delayMs));
    for (const a of applicants) {
      if (a.bad) throw new InputError([{ field: 'bad', code: 'invalid', message: 'bad applicant' }]);
    }
    return applicants.map((a) => ({ score: a.id }));
  };
  return { runner, calls };
}

const opts: ExplainOptions = DEFAULT_EXPLAIN_OPTIONS;

describe('micro-batching', () => {
  it('joins concurrent requests into one engine call and returns each caller its own results', async () => {
    const { runner, calls } = fakeRunner();
    const batcher = new MicroBatcher(runner, { concurrency: 1 });
    const results = await Promise.all([1, 2, 3, 4].map((id) => batcher.explain([{ id }], opts)));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(4);
    expect(results.map((r) => r.map((x) => x.score))).toEqual([[1], [2], [3], [4]]);
  });

  it('keeps requests with different options apart', async () => {
    const { runner, calls } = fakeRunner();
    const batcher = new MicroBatcher(runner, { concurrency: 1 });
    await Promise.all([
      batcher.explain([{ id: 1 }], opts),
      batcher.explain([{ id: 2 }], { ...opts, nSteps: 20 }),
      batcher.explain([{ id: 3 }], opts),
    ]);
    expect(calls.map((c) => c.length).sort()).toEqual([1, 2]);
  });

  it('spreads a burst over the free engines and caps a batch at maxBatch without splitting a request', async () => {
    const { runner, calls } = fakeRunner();
    const batcher = new MicroBatcher(runner, { concurrency: 2, maxBatch: 5 });
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => batcher.explain([{ id: i }], opts)),
      batcher.explain([{ id: 100 }, { id: 101 }, { id: 102 }], opts),
    ]);
    expect(calls.every((c) => c.length <= 5)).toBe(true);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.some((c) => c.map((a) => (a as { id: number }).id).join() === '100,101,102')).toBe(true);
  });

  it('sends a request larger than maxBatch as calls of at most maxBatch, over every engine, in order', async () => {
    const { runner, calls } = fakeRunner(20);
    const batcher = new MicroBatcher(runner, { concurrency: 2, maxBatch: 4 });
    const items = Array.from({ length: 10 }, (_, id) => ({ id }));
    const results = await batcher.explain(items, opts);
    expect(results.map((r) => r.score)).toEqual(items.map((i) => i.id));
    expect(calls.every((c) => c.length <= 4)).toBe(true);
    expect(
      calls
        .flat()
        .map((a) => (a as { id: number }).id)
        .sort((a, b) => a - b),
    ).toEqual(items.map((i) => i.id));
    expect(batcher.depth).toBe(0);
    // The bound holds for the whole request: refused whole, nothing queued.
    const small = new MicroBatcher(runner, { concurrency: 2, maxBatch: 4, maxQueue: 9 });
    await expect(small.explain(items, opts)).rejects.toThrow(/busy/);
    expect(small.depth).toBe(0);
  });

  it('holds requests while every engine is busy and sends them together when one frees up', async () => {
    const { runner, calls } = fakeRunner(100);
    const batcher = new MicroBatcher(runner, { concurrency: 1, maxWaitMs: 2 });
    const first = batcher.explain([{ id: 1 }], opts);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((id) => batcher.explain([{ id }], opts));
    await new Promise((r) => setTimeout(r, 30));
    // The only engine is still busy: sending them to it now could not start them sooner.
    expect(calls).toHaveLength(1);
    await first;
    const results = await Promise.all(later);
    expect(calls.map((c) => c.length)).toEqual([1, 3]);
    expect(results.map((r) => r.map((x) => x.score))).toEqual([[2], [3], [4]]);
  });

  it('feeds a free engine after maxWaitMs while another is busy, or at once from minSpread applicants', async () => {
    const { runner, calls } = fakeRunner(500);
    const batcher = new MicroBatcher(runner, { concurrency: 3, maxWaitMs: 2, minSpread: 3 });
    const first = batcher.explain([{ id: 1 }], opts);
    await new Promise((r) => setImmediate(r));
    const second = batcher.explain([{ id: 2 }], opts);
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1); // waiting for companions
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toHaveLength(2); // after its short wait, on the free engine
    const burst = batcher.explain([{ id: 3 }, { id: 4 }, { id: 5 }], opts);
    await new Promise((r) => setImmediate(r));
    expect(calls.map((c) => c.length)).toEqual([1, 1, 3]); // a batch worth an engine: no wait
    await Promise.all([first, second, burst]);
  });

  it('splits a burst over the free engines down to minSplit applicants a batch, not below', async () => {
    for (const [minSplit, sizes] of [
      [8, [8, 8]],
      [16, [16]],
      [4, [8, 8]],
    ] as const) {
      const { runner, calls } = fakeRunner();
      const batcher = new MicroBatcher(runner, { concurrency: 2, minSplit });
      await Promise.all(Array.from({ length: 16 }, (_, i) => batcher.explain([{ id: i }], opts)));
      expect(
        calls.map((c) => c.length),
        `minSplit ${minSplit}`,
      ).toEqual(sizes);
    }
  });

  it('answers "busy" beyond its queue bound instead of queueing without limit', async () => {
    const { runner } = fakeRunner(20);
    const batcher = new MicroBatcher(runner, { concurrency: 1, maxQueue: 3 });
    const accepted = [batcher.explain([{ id: 1 }, { id: 2 }], opts), batcher.explain([{ id: 3 }], opts)];
    await expect(batcher.explain([{ id: 4 }], opts)).rejects.toBeInstanceOf(BusyError);
    expect(batcher.depth).toBe(3);
    await Promise.all(accepted);
    expect(batcher.depth).toBe(0);
    await expect(batcher.explain([{ id: 5 }], opts)).resolves.toHaveLength(1);
  });

  it("does not fail a request for a companion's bad input", async () => {
    const { runner } = fakeRunner();
    const batcher = new MicroBatcher(runner, { concurrency: 1 });
    const [good, bad] = await Promise.allSettled([
      batcher.explain([{ id: 1 }], opts),
      batcher.explain([{ id: 2, bad: true }], opts),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(InputError);
  });

  it('caps an engine call at the engine benchmark’s batch size by default', async () => {
    const { runner, calls } = fakeRunner(1);
    const batcher = new MicroBatcher(runner, { concurrency: 1 });
    const n = ENGINE_TUNING.maxBatch * 2 + 3;
    await Promise.all(Array.from({ length: n }, (_, id) => batcher.explain([{ id }], opts)));
    expect(Math.max(...calls.map((c) => c.length))).toBe(ENGINE_TUNING.maxBatch);
    expect(calls.flat()).toHaveLength(n);
  });

  it('admits other engine work under the same bound, counting it in the depth while it runs', async () => {
    const batcher = new MicroBatcher(fakeRunner().runner, { maxQueue: 4 });
    let release!: () => void;
    const running = batcher.admit(3, () => new Promise<string>((r) => (release = () => r('done'))));
    expect(batcher.depth).toBe(3);
    await expect(batcher.admit(2, async () => 'late')).rejects.toBeInstanceOf(BusyError);
    await expect(batcher.explain([{ id: 1 }, { id: 2 }], opts)).rejects.toBeInstanceOf(BusyError);
    release();
    await expect(running).resolves.toBe('done');
    expect(batcher.depth).toBe(0);
    await expect(batcher.admit(4, async () => 'fits')).resolves.toBe('fits');
  });
});
