import { describe, expect, it } from 'vitest';
import { BusyError, MicroBatcher } from '../../../main/core/microbatch.js';
import { ENGINE_TUNING } from '../../../main/core/engine-tuning.js';
import type { ExplainOptions } from '../../../main/core/engine.js';
import { DEFAULT_EXPLAIN_OPTIONS } from '../../../main/core/engine.js';
import { InputError, isInputError } from '../../../shared/problems.js';

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

describe("an engine's refusal of part of a large request", () => {
  it('names the refused items by their place in the request, not in the engine call', async () => {
    // The engine names an item by its place in the call ([j]), or `applicant` when the call holds one.
    const batcher = new MicroBatcher(
      async (items: Item[], _options: ExplainOptions) => {
        const bad = items.flatMap((item, j) => (item.id < 0 ? [j] : []));
        if (bad.length) {
          throw new InputError(
            bad.map((j) => ({
              field: items.length === 1 ? 'applicant' : `[${j}]`,
              code: 'not_finite',
              message: 'overflows',
            })),
          );
        }
        return items.map((a) => ({ score: a.id }));
      },
      { concurrency: 1, maxBatch: 8 },
    );
    const fieldsOf = async (ids: number[]) => {
      const e = await batcher
        .explain(
          ids.map((id) => ({ id })),
          opts,
        )
        .catch((e: unknown) => e);
      expect(isInputError(e)).toBe(true);
      return (e as InputError).problems.map((p) => p.field);
    };
    // 20 items go as calls of 8, 8 and 4: the 14th ([13]) is the 6th of the second call.
    expect(await fieldsOf(Array.from({ length: 20 }, (_, i) => (i === 13 ? -1 : i)))).toEqual(['[13]']);
    expect(await fieldsOf(Array.from({ length: 17 }, (_, i) => (i === 16 ? -1 : i)))).toEqual(['[16]']);
    expect(await fieldsOf(Array.from({ length: 8 }, (_, i) => (i === 2 ? -1 : i)))).toEqual(['[2]']);
    expect(await fieldsOf([-1])).toEqual(['applicant']);
  });
});

describe('Retry-After from measured throughput', () => {
  /**
   * A fake engine on a fake clock: each call of its batch takes `msPerCall` (calls in flight together overlap,
   * like engines on separate cores), so the engines answer `concurrency × batch / msPerCall` applicants a ms.
   */
  function timedBatcher(
    msPerCall: number,
    opt: { maxBatch?: number; maxQueue?: number; concurrency?: number } = {},
  ) {
    const clock = { t: 0 };
    const runner = async (applicants: Item[], _options: ExplainOptions) => {
      const started = clock.t;
      await Promise.resolve();
      clock.t = Math.max(clock.t, started + msPerCall);
      return applicants.map((a) => ({ score: a.id }));
    };
    const batcher = new MicroBatcher(runner, {
      maxBatch: 8,
      maxQueue: 4000,
      concurrency: 1,
      ...opt,
      now: () => clock.t,
    });
    return batcher;
  }

  /** Completes `calls` full engine calls, one after another. */
  async function warm(
    batcher: MicroBatcher<Item, ExplainOptions, { score: number }>,
    calls: number,
    size = 8,
  ) {
    for (let i = 0; i < calls; i++) {
      await batcher.explain(
        Array.from({ length: size }, (_, id) => ({ id })),
        opts,
      );
    }
  }

  /** Fills the queue to its bound (nothing runs before the next turn) and returns the "busy" answer past it. */
  async function busyWhenFull(
    batcher: MicroBatcher<Item, ExplainOptions, { score: number }>,
    maxQueue: number,
  ) {
    const accepted = Array.from({ length: maxQueue }, (_, id) => batcher.explain([{ id }], opts));
    expect(batcher.depth).toBe(maxQueue);
    const refused = await batcher.explain([{ id: -1 }], opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    await Promise.all(accepted);
    expect(refused).toBeInstanceOf(BusyError);
    return (refused as BusyError).retryAfterSeconds;
  }

  it('says how long the queued applicants take at the measured rate', async () => {
    // 8 applicants per 100 ms: 80 a second, so 4000 queued take 50 s.
    const batcher = timedBatcher(100);
    await warm(batcher, 3);
    expect(batcher.retryAfterSeconds(4000)).toBe(50);
    expect(await busyWhenFull(batcher, 4000)).toBe(50);
    // Two engines answer twice as many.
    const two = timedBatcher(100, { concurrency: 2 });
    await warm(two, 3);
    expect(two.retryAfterSeconds(4000)).toBe(25);
  });

  it('answers a slower engine (more n_steps) with a longer wait, and follows a change of speed', async () => {
    const fast = timedBatcher(20);
    const slow = timedBatcher(80);
    await warm(fast, 3);
    await warm(slow, 3);
    const [f, s] = [await busyWhenFull(fast, 4000), await busyWhenFull(slow, 4000)];
    expect(f).toBe(10);
    expect(s).toBe(40);
    // The fast engine slows down: within a few dozen calls its estimate is near the slow one's.
    const changing = { ms: 20 };
    const clock = { t: 0 };
    const batcher = new MicroBatcher(
      async (applicants: Item[], _options: ExplainOptions) => {
        const started = clock.t;
        await Promise.resolve();
        clock.t = started + changing.ms;
        return applicants.map((a) => ({ score: a.id }));
      },
      { maxBatch: 8, concurrency: 1, now: () => clock.t },
    );
    await warm(batcher, 3);
    expect(batcher.retryAfterSeconds(4000)).toBe(10);
    changing.ms = 80;
    await warm(batcher, 30);
    expect(batcher.retryAfterSeconds(4000)).toBeGreaterThanOrEqual(38);
    expect(batcher.retryAfterSeconds(4000)).toBeLessThanOrEqual(40);
  });

  it('weighs a lone applicant’s call less than a full batch', async () => {
    const batcher = timedBatcher(100);
    await warm(batcher, 3); // 12.5 ms an applicant
    await warm(batcher, 1, 1); // 100 ms for one applicant: 8 × the cost, but 1/8 of the weight
    const after = batcher.retryAfterSeconds(4000);
    // Unweighted, one such call would move the estimate from 50 s to 50 × (0.8 + 0.2 × 8) = 120 s.
    expect(after).toBeGreaterThan(50);
    expect(after).toBeLessThan(60);
  });

  it('keeps Retry-After between 1 and 60 seconds', async () => {
    const fast = timedBatcher(1);
    await warm(fast, 2);
    expect(await busyWhenFull(fast, 4000)).toBe(1); // 0.5 s
    expect(fast.retryAfterSeconds(0)).toBe(1);
    const slow = timedBatcher(1000);
    await warm(slow, 2);
    expect(await busyWhenFull(slow, 4000)).toBe(60); // 500 s
    // An engine call timed at 0 ms (a coarse clock) does not make it 0 or NaN.
    const instant = timedBatcher(0);
    await warm(instant, 1);
    expect(instant.retryAfterSeconds(4000)).toBe(1);
  });

  it('guesses 20 ms per batch before any engine call has completed, and ignores failed calls', async () => {
    const batcher = timedBatcher(1000, { maxBatch: 8 });
    expect(batcher.retryAfterSeconds(4000)).toBe(10); // 500 batches × 20 ms
    expect(batcher.retryAfterSeconds(8)).toBe(1);
    expect(batcher.retryAfterSeconds(1_000_000)).toBe(60);
    const failing = new MicroBatcher(
      async () => {
        throw new Error('engine down');
      },
      { maxBatch: 8, maxQueue: 4000, concurrency: 1 },
    );
    await expect(failing.explain([{ id: 1 }], opts)).rejects.toThrow(/engine down/);
    expect(failing.retryAfterSeconds(4000)).toBe(10);
  });

  it('does not count the wait for a busy engine as engine time', async () => {
    // Two engines taking 10 ms a call of 32, which a request of 1,024 sends 32 calls at once: the calls beyond
    // the two engines wait for one. The engines answer 4,096 applicants in 4096 / 32 × 10 ms / 2 ≈ 0.64 s.
    const busyUntil = [0, 0];
    const runner = async (applicants: Item[], _options: ExplainOptions) => {
      const now = performance.now();
      const engine = busyUntil[0]! <= busyUntil[1]! ? 0 : 1;
      busyUntil[engine] = Math.max(now, busyUntil[engine]!) + 10;
      await new Promise((r) => setTimeout(r, busyUntil[engine]! - now));
      return applicants.map((a) => ({ score: a.id }));
    };
    const batcher = new MicroBatcher(runner, { maxBatch: 32, maxQueue: 4096, concurrency: 2 });
    for (let r = 0; r < 3; r++) {
      await batcher.explain(
        Array.from({ length: 1024 }, (_, id) => ({ id })),
        opts,
      );
    }
    // Timing every call, waits included, made it 10 s; generous for a loaded machine, which slows the timers.
    expect(batcher.retryAfterSeconds(4096)).toBeLessThanOrEqual(3);
  });

  it('times real engine calls with the default clock', async () => {
    // 8 applicants per ≥ 20 ms: at most 400 a second, so 2000 take 5 s or more (more on a loaded machine).
    const { runner } = fakeRunner(20);
    const batcher = new MicroBatcher(runner, { maxBatch: 8, concurrency: 1 });
    for (let i = 0; i < 3; i++) {
      await batcher.explain(
        Array.from({ length: 8 }, (_, id) => ({ id })),
        opts,
      );
    }
    const seconds = batcher.retryAfterSeconds(2000);
    expect(seconds).toBeGreaterThanOrEqual(4);
    expect(seconds).toBeLessThanOrEqual(30);
  });

  describe('under sustained load, every engine call busy', () => {
    /**
     * One engine on a fake clock, as a worker thread is: calls queue at it and run one after another, the first
     * (a cold start) in 100 ms, the later ones in 5 ms each. With `report`, each call's results carry the
     * engine's own time on it, as EnginePool's and the in-process runner's do; without, the batcher has only
     * its clock.
     */
    function saturated(report: boolean) {
      const clock = { t: 0 };
      let engine: Promise<unknown> = Promise.resolve();
      let calls = 0;
      const call = (items: Item[], _options: ExplainOptions) => {
        const ms = calls++ === 0 ? 100 : 5;
        const run = engine.then(() => {
          clock.t += ms;
          const results = items.map((a) => ({ score: a.id }));
          return report ? { results, engineMs: ms } : results;
        });
        engine = run;
        return run;
      };
      const batcher = new MicroBatcher(call, {
        concurrency: 1,
        maxBatch: 32,
        maxQueue: 4096,
        now: () => clock.t,
      });
      return { batcher, clock, calls: () => calls };
    }

    for (const report of [true, false]) {
      it(`says about how long the full queue takes to drain (${report ? 'engine-reported time' : 'clock only'})`, async () => {
        const { batcher, clock, calls } = saturated(report);
        let stop = false;
        let refused: BusyError | undefined;
        // 80 callers of 64 applicants each (more than the queue holds), sending again as soon as answered or (after a turn) refused.
        const client = async () => {
          while (!stop) {
            try {
              await batcher.explain(
                Array.from({ length: 64 }, (_, id) => ({ id })),
                opts,
              );
            } catch (e) {
              expect(e).toBeInstanceOf(BusyError);
              refused = e as BusyError;
              await new Promise((r) => setImmediate(r));
            }
          }
        };
        const clients = Array.from({ length: 80 }, client);
        while (calls() < 400) await new Promise((r) => setImmediate(r));
        stop = true;
        // The queue as it stands now, and how long the engine then takes to answer all of it.
        const depth = batcher.depth;
        const retryAfter = batcher.retryAfterSeconds(depth);
        const from = clock.t;
        await Promise.all(clients);
        const drainSeconds = (clock.t - from) / 1000;
        expect(depth).toBeGreaterThan(2000);
        expect(refused).toBeDefined();
        // 5 ms a call of 32: about 0.16 ms an applicant. Timed once, on the cold call, it stayed at 3.1 ms
        // (a full queue's Retry-After 13 s, not 1 s).
        expect(retryAfter).toBeGreaterThanOrEqual(drainSeconds);
        expect(retryAfter).toBeLessThanOrEqual(Math.ceil(drainSeconds) + 1);
        expect(refused!.retryAfterSeconds).toBe(1);
        // Past the 1 s floor: ten full queues take 10 × 4096 / 32 × 5 ms = 6.4 s (the cold estimate: 128 s).
        expect(batcher.retryAfterSeconds(40_960)).toBeGreaterThanOrEqual(6);
        expect(batcher.retryAfterSeconds(40_960)).toBeLessThanOrEqual(8);
      });
    }

    it('takes an engine-reported time over the clock, also for a call sent to a free engine', async () => {
      const clock = { t: 0 };
      const batcher = new MicroBatcher(
        async (items: Item[], _options: ExplainOptions) => {
          clock.t += 1000; // the round trip: the engine itself worked 10 ms
          return { results: items.map((a) => ({ score: a.id })), engineMs: 10 };
        },
        { concurrency: 1, maxBatch: 8, now: () => clock.t },
      );
      for (let i = 0; i < 3; i++) {
        await batcher.explain(
          Array.from({ length: 8 }, (_, id) => ({ id })),
          opts,
        );
      }
      // 8 applicants per 10 ms: 4000 take 5 s (by the clock, 500 s).
      expect(batcher.retryAfterSeconds(4000)).toBe(5);
    });
  });
});
