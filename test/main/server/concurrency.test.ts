import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctApplicants } from '../../../bench/service.js';
import { startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
const N = 200;
const applicants = distinctApplicants(N);

beforeAll(async () => {
  t = await startTestServer({ workers: 2 });
});
afterAll(async () => {
  await t?.close();
});

/** What must not depend on how requests were batched: every number the explanation carries. */
function numbers(doc: {
  score: number;
  baseline_score: number;
  predictions: number[];
  attributions: { feature: string; attribution: number }[];
  rest_sum: number;
  completeness: unknown;
}) {
  return {
    score: doc.score,
    baseline_score: doc.baseline_score,
    predictions: doc.predictions,
    attributions: doc.attributions.map((a) => [a.feature, a.attribution]),
    rest_sum: doc.rest_sum,
    completeness: doc.completeness,
  };
}

describe('concurrent explain requests', () => {
  it('answers 200 concurrent requests, each bit-identical to explaining it alone, with the audit chain intact', async () => {
    const before = (await t.app('auditVerify')).json.entries as number;
    // One by one first, in English, so that the concurrent pass (default locale) is not answered from the cache.
    const alone = [];
    for (const a of applicants) {
      const r = await t.app('explain', { applicants: [a], options: { locale: 'en' } });
      expect(r.status, r.text).toBe(200);
      alone.push(r.json.documents[0]);
    }
    const together = await Promise.all(applicants.map((a) => t.app('explain', { applicants: [a] })));
    expect(together.map((r) => r.status)).toEqual(Array(N).fill(200));
    for (let i = 0; i < N; i++) {
      const doc = together[i]!.json.documents[0];
      expect(doc.meta.cache).toBe('miss');
      expect(doc.meta.locale).toBe('zh-CN');
      expect(numbers(doc), `applicant ${i}`).toEqual(numbers(alone[i]));
    }
    // The micro-batcher did join requests: fewer engine calls than requests.
    const metrics = (await t.call('GET', '/metrics')).text;
    const engineCalls = Number(/^model_explain_batch_size_count (\d+)/m.exec(metrics)![1]);
    expect(engineCalls).toBeLessThan(2 * N);
    const verify = (await t.app('auditVerify')).json;
    expect(verify.ok).toBe(true);
    expect(verify.entries).toBe(before + 2 * N);
    const ids = new Set(together.map((r) => r.json.documents[0].id));
    expect(ids.size).toBe(N);
  });
});
