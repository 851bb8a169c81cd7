import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorResult } from '../../../main/core/api.js';
import { EnginePool, EngineUnavailableError } from '../../../main/core/engine-pool.js';
import { BusyError } from '../../../main/core/microbatch.js';
import { DEFAULT_EXPLAIN_OPTIONS, Engine, type ExplainOptions } from '../../../main/core/engine.js';
import { epochNow } from '../../../main/core/records/answer.js';
import { InputError } from '../../../shared/problems.js';
import { answerRequest } from '../../helpers/answer-request.js';
import { DEMO_BUNDLE, holdoutApplicants } from '../cli/helpers.js';

const applicants = holdoutApplicants(6);
const OPTIONS: ExplainOptions[] = [
  DEFAULT_EXPLAIN_OPTIONS,
  { ...DEFAULT_EXPLAIN_OPTIONS, method: 'riemann_trapezoid', nSteps: 16, internalBatchSize: 7 },
];

/** Worker threads show up as MessagePort handles among the process's active resources. */
const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

let engine: Engine;
let pool: EnginePool;
let portsBefore: number;
/** What the in-process engine answers for each applicant explained alone, per option set. */
let alone: ReturnType<Engine['explain']>[];

beforeAll(async () => {
  engine = await Engine.load(DEMO_BUNDLE, { backend: 'wasm' });
  alone = OPTIONS.map((o) => applicants.map((a) => engine.explain([a], o)[0]!));
  portsBefore = ports();
  pool = await EnginePool.start({ bundleDir: DEMO_BUNDLE, size: 2, backend: 'wasm' });
});
afterAll(async () => {
  await pool?.close();
  engine?.dispose();
});

describe('EnginePool with two wasm workers', () => {
  it('starts two workers on wasm', () => {
    expect(pool.size).toBe(2);
    expect(pool.backend).toBe('wasm');
    expect(engine.backend).toBe('wasm');
    expect(ports()).toBe(portsBefore + 2);
  });

  it.each(OPTIONS.map((o, i) => [o.method, i] as const))(
    '%s: each applicant alone is bit-identical to the in-process engine',
    async (_method, i) => {
      const pooled = await Promise.all(applicants.map((a) => pool.explain([a], OPTIONS[i]!)));
      expect(pooled.map((r) => r.length)).toEqual(applicants.map(() => 1));
      expect(pooled.map((r) => r[0])).toStrictEqual(alone[i]);
    },
  );

  it.each(OPTIONS.map((o, i) => [o.method, i] as const))(
    '%s: one batch is bit-identical to explaining each applicant alone',
    async (_method, i) => {
      const batch = await pool.explain(applicants, OPTIONS[i]!);
      expect(batch).toStrictEqual(alone[i]);
      expect(engine.explain(applicants, OPTIONS[i]!)).toStrictEqual(alone[i]);
    },
  );

  it("says each answer call's engine time with its answers", async () => {
    const signing = await EnginePool.start({
      bundleDir: DEMO_BUNDLE,
      size: 1,
      backend: 'wasm',
      hmacKey: { key: Buffer.alloc(32, 7), id: 'test' },
    });
    try {
      const timings = applicants.map(() => ({ startedAt: epochNow(), count: applicants.length }));
      const { results, engineMs } = await signing.answer(applicants, timings, answerRequest());
      expect(results).toHaveLength(applicants.length);
      expect(engineMs).toBeGreaterThan(0);
    } finally {
      await signing.close();
    }
  });

  it('counts the requests in flight until they settle', async () => {
    const inFlight = applicants.map((a) => pool.explain([a], DEFAULT_EXPLAIN_OPTIONS));
    expect(pool.depth).toBe(applicants.length);
    await Promise.all(inFlight);
    expect(pool.depth).toBe(0);
  });

  it('rejects an invalid applicant with an InputError naming the field, and keeps working', async () => {
    const bad = { ...applicants[0], Seniority: 'ten', Colour: 'red' };
    const error = await pool.explain([bad], DEFAULT_EXPLAIN_OPTIONS).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems.map((p) => [p.field, p.code])).toEqual([
      ['Colour', 'unknown_feature'],
      ['Seniority', 'wrong_type'],
    ]);
    const batchError = await pool
      .explain([applicants[0], bad], DEFAULT_EXPLAIN_OPTIONS)
      .catch((e: unknown) => e);
    expect(batchError).toBeInstanceOf(InputError);
    expect((batchError as InputError).problems.map((p) => p.field)).toEqual(['[1].Colour', '[1].Seniority']);

    const after = await Promise.all(
      [0, 1, 2, 3].map((i) => pool.explain([applicants[i]], DEFAULT_EXPLAIN_OPTIONS)),
    );
    expect(after.map((r) => r[0])).toStrictEqual(alone[0]!.slice(0, 4));
  });

  it('close() terminates the workers; later requests are refused', async () => {
    await pool.close();
    expect(ports()).toBe(portsBefore);
    await expect(pool.explain([applicants[0]], DEFAULT_EXPLAIN_OPTIONS)).rejects.toThrow(/closing/);
    await expect(pool.predict([applicants[0]])).rejects.toThrow(/closing/);
  });
});

describe('EnginePool when a worker stops, or the pool closes with calls in flight', () => {
  type Internals = {
    slots: { worker: { terminate(): Promise<number> }; dead: boolean }[];
    startMs: number;
    restartingSince: number | undefined;
  };
  const internals = (p: EnginePool) => p as unknown as Internals;
  /** Settles with the call's outcome, or 'pending' after `ms`: a call must never be left waiting. */
  const within = <T>(call: Promise<T>, ms: number) =>
    Promise.race([
      call.then(
        (v) => ({ ok: true as const, v }),
        (e: Error) => ({ ok: false as const, message: e.message }),
      ),
      new Promise<'pending'>((done) => setTimeout(() => done('pending'), ms)),
    ]);

  it('fails the calls a stopped worker held, serves on the other, and starts a replacement', async () => {
    const p = await EnginePool.start({ bundleDir: DEMO_BUNDLE, size: 2, backend: 'wasm' });
    try {
      const first = internals(p).slots[0]!;
      // A call on the first worker (the least busy, both idle), then that worker stops under it.
      const held = within(p.explain([applicants[0]], DEFAULT_EXPLAIN_OPTIONS), 10_000);
      await first.worker.terminate();
      const outcome = await held;
      expect(outcome).not.toBe('pending');
      // Either it finished before the worker stopped, or it failed saying so; never waits for ever.
      if (outcome !== 'pending' && !outcome.ok) expect(outcome.message).toMatch(/engine worker stopped/);
      // The pool keeps answering, on the live worker, correctly.
      const later = await Promise.all(
        applicants.slice(0, 4).map((a) => p.explain([a], DEFAULT_EXPLAIN_OPTIONS)),
      );
      expect(later.map((r) => r[0])).toStrictEqual(alone[0]!.slice(0, 4));
      // A replacement joins within a few seconds: two live workers again.
      for (let i = 0; i < 200 && internals(p).slots.some((s) => s.dead); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(internals(p).slots.filter((s) => !s.dead)).toHaveLength(2);
      expect(internals(p).slots[0]).not.toBe(first);
    } finally {
      await p.close();
    }
  });

  it('answers "busy" with Retry-After, never a 500, while the only worker is restarted', async () => {
    const p = await EnginePool.start({ bundleDir: DEMO_BUNDLE, size: 1, backend: 'wasm' });
    try {
      const only = internals(p).slots[0]!;
      // A long call on the only worker, which stops under it.
      const held = p
        .explain(applicants, { ...DEFAULT_EXPLAIN_OPTIONS, nSteps: 2000 })
        .catch((e: unknown) => e);
      await only.worker.terminate();
      const stopped = await held;
      expect(stopped).toBeInstanceOf(EngineUnavailableError);
      expect((stopped as Error).message).toMatch(/an engine worker stopped \(exit code 1\); .* sent again/);
      // Until its replacement runs, a call is told so, as "busy": HTTP 503 with Retry-After, saying why.
      const refused = await p.predict([applicants[0]]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BusyError);
      const answer = errorResult(refused);
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBeGreaterThanOrEqual(1);
      expect(answer.retryAfter).toBeLessThanOrEqual(60);
      expect(answer.body).toMatchObject({
        error: 'busy',
        message: 'no engine worker is running (one is being restarted); send the request again',
        retry_after_s: answer.retryAfter,
      });
      for (let i = 0; i < 200 && internals(p).slots[0]!.dead; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await p.explain([applicants[0]], DEFAULT_EXPLAIN_OPTIONS)).toStrictEqual([alone[0]![0]]);
    } finally {
      await p.close();
    }
  });

  it("counts a restart's Retry-After down from when the restart began", async () => {
    const p = await EnginePool.start({ bundleDir: DEMO_BUNDLE, size: 1, backend: 'wasm' });
    try {
      internals(p).startMs = 30_000; // as if starting a worker took 30 s on this machine
      await internals(p).slots[0]!.worker.terminate();
      for (let i = 0; i < 200 && internals(p).restartingSince === undefined; i++)
        await new Promise((r) => setTimeout(r, 5));
      const retryAfter = async () =>
        ((await p.predict([applicants[0]]).catch((e: unknown) => e)) as BusyError).retryAfterSeconds;
      // Both asked before the replacement can run (a refusal is synchronous): at the start, and 20 s in.
      const atStart = retryAfter();
      internals(p).restartingSince! -= 20_000;
      const later = retryAfter();
      expect(await atStart).toBe(30);
      expect(await later).toBe(10);
    } finally {
      await p.close();
    }
  });

  it('says when a failed restart is tried again in its Retry-After', async () => {
    const p = await EnginePool.start({
      bundleDir: DEMO_BUNDLE,
      size: 1,
      backend: 'wasm',
      restartDelayMs: 10_000,
    });
    try {
      p.relocate(join(DEMO_BUNDLE, 'no-such-folder')); // a restart now fails, and is tried again in 10 s
      await internals(p).slots[0]!.worker.terminate();
      let refused: unknown;
      for (let i = 0; i < 200; i++) {
        refused = await p.predict([applicants[0]]).catch((e: unknown) => e);
        if (/restarting one failed/.test((refused as Error).message)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(refused).toBeInstanceOf(BusyError);
      expect((refused as Error).message).toMatch(
        /^no engine worker is running: restarting one failed \(.+no-such-folder.+\); it is tried again$/s,
      );
      // The wait for the next try (up to 10 s) and a worker's start.
      expect((refused as BusyError).retryAfterSeconds).toBeGreaterThanOrEqual(9);
      expect((refused as BusyError).retryAfterSeconds).toBeLessThanOrEqual(60);
      expect(errorResult(refused).status).toBe(503);
    } finally {
      await p.close();
    }
  });

  it('close() lets calls in flight finish, or fails them after the drain time; none waits for ever', async () => {
    const p = await EnginePool.start({ bundleDir: DEMO_BUNDLE, size: 1, backend: 'wasm' });
    const inFlight = p.explain(applicants.slice(0, 3), DEFAULT_EXPLAIN_OPTIONS);
    await p.close();
    expect(await inFlight).toStrictEqual(alone[0]!.slice(0, 3));

    const q = await EnginePool.start({ bundleDir: DEMO_BUNDLE, size: 1, backend: 'wasm' });
    const cut = within(q.explain(applicants, { ...DEFAULT_EXPLAIN_OPTIONS, nSteps: 2000 }), 10_000);
    await q.close(0);
    expect(await cut).toEqual({ ok: false, message: 'the engine is closing' });
  });
});
