import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctApplicants } from '../../../bench/service.js';
import { errorBodyOf, expectHealthy, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ workers: 1, batching: { maxQueue: 1 } });
});
afterAll(async () => {
  await t?.close();
});

describe('a full queue', () => {
  it('answers 503 with Retry-After when the micro-batcher is full, never 500, and recovers', async () => {
    const applicants = distinctApplicants(40);
    const answers = await Promise.all([
      ...applicants.slice(0, 20).map((a) => t.app('explain', { applicants: [a] })),
      ...applicants.slice(20).map((a) => t.call('POST', '/api/v1.0/explain', { jsonData: a })),
    ]);
    const statuses = answers.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 503),
      statuses.join(),
    ).toBe(true);
    const busy = answers.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(statuses).toContain(200);
    for (const r of busy) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Seldon's answer in a SeldonMessage (errorBodyOf), the app API's in the contract's body.
      expect(errorBodyOf(r)).toMatchObject({ error: 'busy' });
      expect(errorBodyOf(r).retry_after_s).toBe(Number(r.headers.get('retry-after')));
    }
    // Both transports report busy: the app API and Seldon.
    expect(answers.slice(0, 20).some((r) => r.status === 503)).toBe(true);
    expect(answers.slice(20).some((r) => r.status === 503)).toBe(true);

    await expectHealthy(t);
    for (const a of applicants.slice(0, 3)) {
      const again = await t.app('explain', { applicants: [{ ...a, Price: 2 }] });
      expect(again.status).toBe(200);
    }
    const metrics = (await t.call('GET', '/metrics')).text;
    expect(metrics).toMatch(
      /^http_requests_total\{method="POST",route="\/api\/app\/explain",status="503"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^model_explain_queue_depth 0$/m);
  });

  it('bounds predictions too: beyond the queue they get 503, not an unbounded queue on the engines', async () => {
    const applicants = distinctApplicants(30);
    const answers = await Promise.all(
      applicants.map((a) => t.call('POST', '/api/v1.0/predictions', { jsonData: a })),
    );
    const statuses = answers.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 503),
      statuses.join(),
    ).toBe(true);
    expect(statuses).toContain(503);
    expect(statuses).toContain(200);
    const busy = answers.find((r) => r.status === 503)!;
    expect(errorBodyOf(busy)).toMatchObject({ error: 'busy' });
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await expectHealthy(t);
    expect((await t.call('GET', '/metrics')).text).toMatch(/^model_explain_queue_depth 0$/m);
  });

  it('answers 503 with Retry-After, saying why, while the only engine worker is restarted', async () => {
    type Slots = { runner: { slots: { worker: { terminate(): Promise<number> }; dead: boolean }[] } };
    const { slots } = (t.server.service as unknown as Slots).runner;
    await slots[0]!.worker.terminate();
    // Its replacement takes a second or so to load its engine: until then every call is told to come back.
    const [applicant] = distinctApplicants(1).map((a) => ({ ...a, Price: 3 }));
    const answers = [
      await t.app('explain', { applicants: [applicant] }),
      await t.call('POST', '/api/v1.0/predictions', { jsonData: applicant }),
    ];
    for (const r of answers) {
      expect(r.status, r.text).toBe(503);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(errorBodyOf(r)).toMatchObject({
        error: 'busy',
        message: 'no engine worker is running (one is being restarted); send the request again',
      });
    }
    for (let i = 0; i < 200 && slots[0]!.dead; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await t.app('explain', { applicants: [applicant] })).status).toBe(200);
  });
});
