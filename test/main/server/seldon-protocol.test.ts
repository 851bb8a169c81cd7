// Seldon Core v1 over HTTP as Seldon's own clients and executor speak it: errors as SeldonMessages, feedback,
// the v0.1 paths, a request's `status`, and /prometheus (seldon_core's wrapper.py, flask_utils.py, metrics.py).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctApplicants } from '../../../bench/service.js';
import { readSample } from '../cli/helpers.js';
import {
  call,
  expectProblems,
  parsePrometheus,
  RawBody,
  SELDON_MESSAGE_FIELDS,
  startTestServer,
  type Answer,
  type TestServer,
} from './helpers.js';

const BODY_LIMIT = 4096;
const sample = readSample<Record<string, unknown>>('sample-1.json');
const names = Object.keys(sample);
const row = names.map((n) => sample[n]);

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ tokenRequired: true, bodyLimit: BODY_LIMIT });
});
afterAll(async () => {
  await t?.close();
});

/** A request without the token. */
const anonymous = (method: string, path: string, body?: unknown) => call(t.server.url, method, path, body);

/**
 * The answer is a SeldonMessage protobuf's ParseDict reads (no field but a SeldonMessage's) saying it failed
 * with `status`, the contract's error body in `jsonData`: returns that body.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function expectSeldonError(r: Answer, status: number): any {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  for (const key of Object.keys(r.json)) expect(SELDON_MESSAGE_FIELDS, `${key} in ${r.text}`).toContain(key);
  expect(r.json.status).toEqual({
    code: status,
    info: r.json.jsonData.message,
    reason: status >= 500 ? 'MICROSERVICE_INTERNAL_ERROR' : 'MICROSERVICE_BAD_DATA',
    status: 'FAILURE',
  });
  expect(typeof r.json.jsonData.error).toBe('string');
  return r.json.jsonData;
}

async function feedbackMetrics(): Promise<[number, number]> {
  const samples = parsePrometheus((await t.call('GET', '/metrics')).text);
  return [
    samples.get('seldon_api_model_feedback_total')!,
    samples.get('seldon_api_model_feedback_reward_total')!,
  ];
}

describe('Seldon errors', () => {
  it('are SeldonMessages holding the problems in jsonData, for every kind of error on a Seldon path', async () => {
    const bad = await t.call('POST', '/api/v1.0/predictions', { jsonData: { ...sample, Amount: 'abc' } });
    expect(expectSeldonError(bad, 400)).toEqual({
      error: 'invalid_request',
      message: expect.stringMatching(/^jsonData\.Amount: /),
      problems: [expect.objectContaining({ field: 'jsonData.Amount', code: 'wrong_type' })],
    });
    const cases: [string, Promise<Answer>, number, string][] = [
      ['invalid JSON', t.call('POST', '/predict', new RawBody('{"data":')), 400, 'invalid_request'],
      [
        'a body over the limit',
        t.call('POST', '/api/v1.0/predictions', new RawBody(' '.repeat(BODY_LIMIT + 1))),
        413,
        'invalid_request',
      ],
      [
        'a body that is not JSON',
        t.call('POST', '/api/v1.0/explain', new RawBody('x', 'text/plain')),
        415,
        'invalid_request',
      ],
      ['no token', anonymous('POST', '/api/v1.0/predictions', { jsonData: sample }), 401, 'unauthorized'],
      ['no token, feedback', anonymous('POST', '/send-feedback', {}), 401, 'unauthorized'],
      ['an unknown Seldon path', t.call('POST', '/api/v1.0/nothing', {}), 404, 'not_found'],
      ['an unknown v0.1 path', t.call('GET', '/api/v0.1/status'), 404, 'not_found'],
      ['a method the path does not take', t.call('GET', '/api/v0.1/predictions'), 405, 'invalid_request'],
      ['a bad feedback', t.call('POST', '/api/v1.0/feedback', { reward: 'x' }), 400, 'invalid_request'],
    ];
    for (const [name, answer, status, error] of cases) {
      const r = await answer;
      expect(expectSeldonError(r, status).error, name).toBe(error);
    }
  });

  it('keep the contract’s body on the app API', async () => {
    const r = await t.app('explain', { applicants: [] });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_request');
    expect(r.json.status).toBeUndefined();
    expect(r.json.jsonData).toBeUndefined();
  });
});

describe('Seldon errors when busy', () => {
  let busy: TestServer;
  beforeAll(async () => {
    busy = await startTestServer({ workers: 1, batching: { maxQueue: 1 } });
  });
  afterAll(async () => {
    await busy?.close();
  });

  it('are a SeldonMessage with Retry-After', async () => {
    const answers = await Promise.all(
      distinctApplicants(30).map((a) => busy.call('POST', '/api/v1.0/predictions', { jsonData: a })),
    );
    const refused = answers.find((r) => r.status === 503);
    expect(refused, answers.map((r) => r.status).join()).toBeDefined();
    const body = expectSeldonError(refused!, 503);
    expect(body).toMatchObject({ error: 'busy', retry_after_s: Number(refused!.headers.get('retry-after')) });
  });
});

describe('Seldon feedback', () => {
  const prediction = { data: { names, ndarray: [row] } };

  it('is answered 200 with a SeldonMessage echoing the puid, on the executor’s path and the external ones', async () => {
    const feedback = {
      request: { ...prediction, meta: { puid: 'p-7', tags: { branch: 'north' } } },
      response: { data: { names: ['bad', 'good'], ndarray: [[0.4, 0.6]] }, meta: { puid: 'p-7' } },
      reward: 1,
      truth: { data: { ndarray: [[0, 1]] } },
    };
    for (const path of ['/send-feedback', '/api/v1.0/feedback', '/api/v0.1/feedback']) {
      const r = await t.call('POST', path, feedback);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      expect(Object.keys(r.json)).toEqual(['meta']);
      expect(r.json.meta).toEqual({
        puid: 'p-7',
        tags: expect.objectContaining({ branch: 'north', model_id: 'credit-demo', backend: 'wasm' }),
      });
    }
    // The response's puid when the request has none, as the prediction answered it.
    const fromResponse = await t.call('POST', '/api/v1.0/feedback', { response: { meta: { puid: 'p-8' } } });
    expect(fromResponse.json.meta.puid).toBe('p-8');
  });

  it('takes every field as optional, as the proto does', async () => {
    for (const body of [
      {},
      { reward: 0.5 },
      { truth: { jsonData: { outcome: 'repaid' } } },
      { request: {} },
    ]) {
      const r = await t.call('POST', '/api/v1.0/feedback', body);
      expect(r.status, r.text).toBe(200);
    }
  });

  it('counts feedback and sums the reward, a negative one included', async () => {
    const [count, reward] = await feedbackMetrics();
    await t.call('POST', '/send-feedback', { reward: 2.5 });
    await t.call('POST', '/api/v1.0/feedback', { reward: -1 });
    await t.call('POST', '/api/v0.1/feedback', {});
    // A refused one is not counted.
    await t.call('POST', '/api/v1.0/feedback', { reward: 100, extra: 1 });
    expect(await feedbackMetrics()).toEqual([count + 3, reward + 1.5]);
  });

  it('refuses a bad Feedback with a 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ reward: 'x' }, 'reward'],
      [{ reward: null }, 'reward'],
      [new RawBody('{"reward": 1e999}'), 'reward'],
      [{ truth: 5 }, 'truth'],
      [{ request: [] }, 'request'],
      [{ response: { data: 'x' } }, 'response.data'],
      [{ request: { feature: 1 } }, 'request.feature'],
      [{ request: { meta: { puid: 7 } } }, 'request.meta.puid'],
      [{ rewards: 1 }, 'rewards'],
      [[], 'body'],
    ];
    for (const [body, field] of cases) {
      const problems = expectProblems(await t.call('POST', '/api/v1.0/feedback', body), 400);
      expect(
        problems.map((p) => p.field),
        JSON.stringify(body),
      ).toContain(field);
    }
    const problems = expectProblems(await t.call('POST', '/send-feedback', { rewards: 1 }), 400);
    expect(problems[0]!.message).toBe('is not a known field');
  });

  it('takes POST only, and is never the UI’s page', async () => {
    const r = await t.call('GET', '/send-feedback');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect((await anonymous('GET', '/send-feedback')).status).toBe(401);
  });
});

describe('Seldon’s v0.1 paths', () => {
  it('answers POST /api/v0.1/predictions as /api/v1.0/predictions', async () => {
    const body = { data: { names, ndarray: [row] }, meta: { puid: 'v01' } };
    const old = await t.call('POST', '/api/v0.1/predictions', body);
    const current = await t.call('POST', '/api/v1.0/predictions', body);
    expect(old.status, old.text).toBe(200);
    expect(old.json).toEqual(current.json);
    expect(old.json.meta.puid).toBe('v01');
  });
});

describe('a Seldon request’s status', () => {
  it('is accepted and ignored, as a unit’s answer passed on carries it', async () => {
    const plain = await t.call('POST', '/api/v1.0/predictions', { jsonData: sample });
    const withStatus = await t.call('POST', '/api/v1.0/predictions', {
      jsonData: sample,
      status: { code: 200, status: 'SUCCESS' },
    });
    expect(withStatus.status, withStatus.text).toBe(200);
    expect(withStatus.json).toEqual(plain.json);
    const problems = expectProblems(
      await t.call('POST', '/predict', { jsonData: sample, status: 'SUCCESS' }),
      400,
    );
    expect(problems.map((p) => p.field)).toEqual(['status']);
  });
});

describe('GET /prometheus', () => {
  it('is /metrics under the name Seldon’s wrapper serves it, with the token /metrics needs', async () => {
    const r = await t.call('GET', '/prometheus');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(parsePrometheus(r.text).has('seldon_api_model_feedback_total')).toBe(true);
    const denied = await anonymous('GET', '/prometheus');
    expect(denied.status).toBe(401);
    expect(denied.text).not.toMatch(/<html/i);
    const below = await t.call('GET', '/prometheus/metrics');
    expect(below.status).toBe(404);
    expect(below.json.error).toBe('not_found');
  });
});
