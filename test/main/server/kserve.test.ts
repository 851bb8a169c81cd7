// KServe's V1 protocol and the Open Inference Protocol (V2), against a server on an ephemeral port.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readBundle } from '../../../main/core/bundle/load.js';
import { holdoutApplicants, readSample, DEMO_BUNDLE } from '../cli/helpers.js';
import {
  expectHealthy,
  parsePrometheus,
  RawBody,
  startTestServer,
  type Answer,
  type TestServer,
} from './helpers.js';

let t: TestServer;
const schema = readBundle(DEMO_BUNDLE).schema;
const names = schema.features.map((f) => f.name);
const sample = readSample<Record<string, unknown>>('sample-1.json');
const applicants = holdoutApplicants(3);
const asRow = (a: Record<string, unknown>) => names.map((n) => a[n]);

/** One V2 input per feature, as MLServer's pandas codec sends a table. */
function byFeature(rows: Record<string, unknown>[]) {
  return schema.features.map((f) => ({
    name: f.name,
    shape: [rows.length],
    datatype: f.type === 'categorical' ? 'BYTES' : f.type === 'boolean' ? 'BOOL' : 'FP64',
    data: rows.map((r) => r[f.name]),
  }));
}

/** The same answer from the Seldon endpoint: [P(bad), P(good)] per applicant. */
async function seldonRows(rows: Record<string, unknown>[]): Promise<number[][]> {
  const r = await t.call('POST', '/api/v1.0/predictions', rows);
  expect(r.status, r.text).toBe(200);
  return r.json.data.ndarray;
}

/** A KServe error: {"error": message}, with the problems beside it; returns the problems' fields. */
function kserveProblems(r: Answer, status = 400): string[] {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(typeof r.json.error).toBe('string');
  expect(r.json.error.length).toBeGreaterThan(0);
  expect(r.text).not.toMatch(/\n\s+at /);
  return (r.json.problems ?? []).map((p: { field: string }) => p.field);
}

/** The protocol's parameter values are strings, numbers or booleans only, wherever `parameters` appears. */
function expectV2Parameters(body: unknown, at = 'body'): void {
  if (Array.isArray(body)) return body.forEach((item, i) => expectV2Parameters(item, `${at}[${i}]`));
  if (body === null || typeof body !== 'object') return;
  for (const [key, value] of Object.entries(body)) {
    if (key === 'parameters')
      for (const [name, p] of Object.entries(value as object))
        expect(['string', 'number', 'boolean'], `${at}.parameters.${name}`).toContain(typeof p);
    else expectV2Parameters(value, `${at}.${key}`);
  }
}

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

describe('KServe V1', () => {
  it('lists the model and says it is ready', async () => {
    expect((await t.call('GET', '/v1/models')).json).toEqual({ models: ['credit-demo'] });
    const ready = await t.call('GET', '/v1/models/credit-demo');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ name: 'credit-demo', ready: true });
    expect((await t.call('GET', '/v1/models/other')).status).toBe(404);
  });

  it('predicts from applicant objects and from rows in schema order, as the Seldon endpoint does', async () => {
    const expected = await seldonRows(applicants);
    const objects = await t.call('POST', '/v1/models/credit-demo:predict', { instances: applicants });
    expect(objects.status, objects.text).toBe(200);
    expect(objects.json).toEqual({ predictions: expected });
    const rows = await t.call('POST', '/v1/models/credit-demo:predict', { instances: applicants.map(asRow) });
    expect(rows.json).toEqual({ predictions: expected });
  });

  it('explains with the signed documents, which verify, beside the predictions', async () => {
    const r = await t.call('POST', '/v1/models/credit-demo:explain', { instances: [sample, applicants[1]] });
    expect(r.status, r.text).toBe(200);
    expect(r.json.explanations).toHaveLength(2);
    const expected = await seldonRows([sample, applicants[1]!]);
    expect(r.json.predictions).toHaveLength(2);
    r.json.predictions
      .flat()
      .forEach((p: number, k: number) => expect(p).toBeCloseTo(expected.flat()[k]!, 10));
    expect(r.json.predictions[0][1]).toBe(r.json.explanations[0].predictions[0]);
    const verified = await t.app('verifyDocument', { document: r.json.explanations[0] });
    expect(verified.json).toEqual({ ok: true });
    expect(r.json.explanations[0].meta.explanation.method).toBe('integrated_gradients');
  });

  it('names a bad value where it was in the request, in KServe’s error shape', async () => {
    const rows = applicants.map(asRow);
    rows[1]![names.indexOf('Amount')] = 'abc';
    expect(
      kserveProblems(await t.call('POST', '/v1/models/credit-demo:predict', { instances: rows })),
    ).toEqual([`instances[1][${names.indexOf('Amount')}] (Amount)`]);
    expect(
      kserveProblems(
        await t.call('POST', '/v1/models/credit-demo:explain', {
          instances: [{ ...sample, Home: 'castle' }],
        }),
      ),
    ).toEqual(['instances[0].Home']);
    const short = await t.call('POST', '/v1/models/credit-demo:predict', {
      instances: [asRow(sample).slice(1)],
    });
    expect(kserveProblems(short)).toEqual(['instances[0]']);
    expect(short.json.error).toContain(names.join(', '));
    expect(kserveProblems(await t.call('POST', '/v1/models/credit-demo:predict', { instances: [] }))).toEqual(
      ['instances'],
    );
    expect(kserveProblems(await t.call('POST', '/v1/models/credit-demo:predict', { inputs: [] }))).toContain(
      'inputs',
    );
    await expectHealthy(t);
  });

  it('answers 404 for another model or verb, naming what this server serves', async () => {
    const other = await t.call('POST', '/v1/models/other:predict', { instances: [sample] });
    kserveProblems(other, 404);
    expect(other.json.error).toContain('"credit-demo" version "1.0.0"');
    // A long name is still a name (Fastify's default would answer 414 beyond 100 characters).
    const long = await t.call('POST', `/v1/models/${'m'.repeat(150)}:predict`, { instances: [sample] });
    kserveProblems(long, 404);
    expect(long.json.error).toContain('"credit-demo" version "1.0.0"');
    // GET on a verb's URL: 405, saying to POST.
    const get = await t.call('GET', '/v1/models/credit-demo:predict');
    expect(kserveProblems(get, 405)).toEqual(['method']);
    expect(get.headers.get('allow')).toBe('POST');
    const verb = await t.call('POST', '/v1/models/credit-demo:classify', { instances: [sample] });
    kserveProblems(verb, 404);
    expect(verb.json.error).toContain(':predict');
  });
});

describe('KServe V2 (Open Inference Protocol)', () => {
  it('answers the health, server and model readiness probes', async () => {
    expect((await t.call('GET', '/v2/health/live')).json).toEqual({ live: true });
    expect((await t.call('GET', '/v2/health/ready')).json).toEqual({ ready: true });
    const server = await t.call('GET', '/v2');
    expect(server.json).toMatchObject({ name: 'branchlens', extensions: [] });
    expect(server.json.version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await t.call('GET', '/v2/models/credit-demo/ready')).json).toEqual({
      name: 'credit-demo',
      ready: true,
    });
    expect((await t.call('GET', '/v2/models/credit-demo/versions/1.0.0/ready')).status).toBe(200);
    expect((await t.call('GET', '/v2/models/credit-demo/versions/9.9.9/ready')).status).toBe(404);
  });

  it('says not ready, with a failing status, while the database is down; live stays 200', async () => {
    const real = t.server.service.health();
    const spy = vi
      .spyOn(t.server.service, 'health')
      .mockReturnValue({ ...real, status: 'degraded', database: 'error' });
    try {
      for (const path of ['/v2/health/ready', '/v2/models/credit-demo/ready', '/v1/models/credit-demo']) {
        const r = await t.call('GET', path);
        expect(r.status, path).toBe(503);
        expect(r.json.ready, path).toBe(false);
      }
      expect((await t.call('GET', '/v2/health/live')).status).toBe(200);
    } finally {
      spy.mockRestore();
    }
    expect((await t.call('GET', '/v2/health/ready')).status).toBe(200);
  });

  it('describes the model: one input per feature, with its datatype, and the output', async () => {
    const r = await t.call('GET', '/v2/models/credit-demo');
    expect(r.status, r.text).toBe(200);
    expect(r.json.name).toBe('credit-demo');
    expect(r.json.versions).toEqual(['1.0.0']);
    expect(r.json.inputs.map((i: { name: string }) => i.name)).toEqual(names);
    const home = r.json.inputs.find((i: { name: string }) => i.name === 'Home');
    expect(home).toMatchObject({ datatype: 'BYTES', shape: [-1] });
    expect(JSON.parse(home.parameters.categories)).toContain('rent');
    expect(r.json.inputs.find((i: { name: string }) => i.name === 'Records').datatype).toBe('BOOL');
    expect(r.json.outputs).toEqual([
      { name: 'predict_proba', datatype: 'FP64', shape: [-1, 2], parameters: { classes: '["bad","good"]' } },
    ]);
    expectV2Parameters(r.json);
  });

  it('takes the body KServe’s Python client sends: model_name and model_version, null for what it leaves out', async () => {
    const r = await t.call('POST', '/v2/models/credit-demo/infer', {
      id: null,
      model_name: 'credit-demo',
      model_version: null,
      parameters: null,
      outputs: null,
      inputs: byFeature([sample]).map((input) => ({ ...input, parameters: null })),
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json.outputs[0].data).toEqual((await seldonRows([sample])).flat());
    expect(r.json.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('checks integer elements against their datatype’s range', async () => {
    for (const [datatype, value, ok] of [
      ['UINT8', 255, true],
      ['UINT8', 256, false],
      ['INT8', 127, true],
      ['INT8', 128, false],
      ['INT16', 5000, true],
      ['UINT16', -1, false],
      ['INT32', 2 ** 31, false],
    ] as const) {
      const inputs = byFeature([sample]);
      const k = names.indexOf('Assets');
      inputs[k] = { ...inputs[k]!, datatype, data: [value] };
      const r = await t.call('POST', '/v2/models/credit-demo/infer', { inputs });
      if (ok) expect(r.status, `${datatype} ${value}: ${r.text}`).toBe(200);
      else {
        expect(kserveProblems(r), `${datatype} ${value}`).toEqual([`inputs[${k}].data[0]`]);
        expect(r.json.error).toContain(`(datatype ${datatype})`);
      }
    }
  });

  it('infers from one input per feature, echoing the request id', async () => {
    const r = await t.call('POST', '/v2/models/credit-demo/infer', {
      id: 'req-7',
      inputs: byFeature(applicants),
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ model_name: 'credit-demo', model_version: '1.0.0', id: 'req-7' });
    const [out] = r.json.outputs;
    expect(out).toMatchObject({ name: 'predict_proba', datatype: 'FP64', shape: [3, 2] });
    expect(JSON.parse(out.parameters.classes)).toEqual(['bad', 'good']);
    expectV2Parameters(r.json);
    expect(out.data).toEqual((await seldonRows(applicants)).flat());
    // The same on the version's path, with [N, 1] columns, features in any order, and nested data.
    const columns = byFeature(applicants)
      .reverse()
      .map((c) => ({ ...c, shape: [3, 1], data: c.data.map((v) => [v]) }));
    const again = await t.call('POST', '/v2/models/credit-demo/versions/1.0.0/infer', { inputs: columns });
    expect(again.status, again.text).toBe(200);
    expect(again.json.outputs[0].data).toEqual(out.data);
    expect(again.json.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('infers from one [N, F] input holding the features in schema order', async () => {
    const numeric = { ...sample };
    const r = await t.call('POST', '/v2/models/credit-demo/infer', {
      inputs: [{ name: 'input-0', shape: [1, names.length], datatype: 'BYTES', data: asRow(numeric) }],
    });
    // A BYTES tensor holds strings only: the demo model's numbers cannot travel in it.
    expect(kserveProblems(r)).toEqual(['inputs[0].data[0]']);
    const wide = await t.call('POST', '/v2/models/credit-demo/infer', {
      inputs: [{ name: 'input-0', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }],
    });
    expect(kserveProblems(wide)).toEqual(['inputs[0].shape']);
    expect(wide.json.error).toContain(names.join(', '));
  });

  it('names each problem where it is in the request', async () => {
    const bad = byFeature(applicants);
    const amount = names.indexOf('Amount');
    const home = names.indexOf('Home');
    bad[amount] = { ...bad[amount]!, data: [1000, -5, 1200] };
    bad[home] = { ...bad[home]!, data: ['rent', 'rent', 'castle'] };
    expect(kserveProblems(await t.call('POST', '/v2/models/credit-demo/infer', { inputs: bad }))).toEqual([
      `inputs[${amount}].data[1]`,
      `inputs[${home}].data[2]`,
    ]);

    const cases: [unknown, string[]][] = [
      [{ inputs: [{ name: 'Shoe', shape: [1], datatype: 'FP64', data: [1] }] }, ['inputs[0].name']],
      [{ inputs: [{ ...byFeature([sample])[0]!, datatype: 'INT8' }, ...byFeature([sample]).slice(1)] }, []],
      [{ inputs: [{ ...byFeature([sample])[0]!, datatype: 'UINT8', data: [-1] }] }, ['inputs[0].data[0]']],
      [{ inputs: [{ ...byFeature([sample])[0]!, datatype: 'BOOL' }] }, ['inputs[0].data[0]']],
      [{ inputs: [{ ...byFeature([sample])[0]!, shape: [2] }] }, ['inputs[0].data']],
      [{ inputs: [{ ...byFeature([sample])[0]!, shape: [1, 2], data: [1, 2] }] }, ['inputs[0].shape']],
      [{ inputs: [{ ...byFeature([sample])[0]!, datatype: 'FP128' }] }, ['inputs[0].datatype']],
      [{ inputs: [...byFeature([sample]), byFeature([sample])[0]!] }, [`inputs[${names.length}].name`]],
      [{ inputs: [] }, ['inputs']],
      [{ inputs: byFeature([sample]), outputs: [{ name: 'predict' }] }, ['outputs[0].name']],
      [{ instances: [sample] }, ['inputs', 'instances']],
      [{ inputs: byFeature([]) }, ['inputs[0].shape']],
      // One input with another N is the one named, wherever it is.
      [
        { inputs: [byFeature(applicants.slice(0, 2))[0]!, ...byFeature([sample]).slice(1)] },
        ['inputs[0].shape'],
      ],
      [
        { inputs: [...byFeature([sample]).slice(0, -1), byFeature(applicants.slice(0, 2)).at(-1)!] },
        [`inputs[${names.length - 1}].shape`],
      ],
    ];
    for (const [body, fields] of cases) {
      const r = await t.call('POST', '/v2/models/credit-demo/infer', body);
      if (fields.length === 0) {
        expect(r.status, r.text).toBe(200);
        continue;
      }
      expect(kserveProblems(r), JSON.stringify(body)).toEqual(fields);
    }
    // Only some features sent: each required one missing is one problem naming its input, however many rows
    // lack it (the optional ones would be imputed).
    const partial = await t.call('POST', '/v2/models/credit-demo/infer', {
      inputs: byFeature([sample, sample, sample]).slice(0, 1),
    });
    const required = schema.features.filter((f) => f.required).map((f) => f.name);
    expect(required.length).toBeGreaterThan(1);
    const missing = required.filter((f) => f !== names[0]);
    expect(kserveProblems(partial)).toEqual(missing.map((f) => `inputs (${f})`));
    expect(partial.json.problems[missing.indexOf('Price')]).toMatchObject({
      code: 'missing',
      message: expect.stringContaining('"Price" of shape [N] or [N, 1], datatype INT64'),
    });
    await expectHealthy(t);
  });

  it('answers 404 for another model or version, and 415 for a body that is not JSON', async () => {
    const other = await t.call('POST', '/v2/models/other/infer', { inputs: byFeature([sample]) });
    kserveProblems(other, 404);
    expect(other.json.error).toContain('"credit-demo" version "1.0.0"');
    kserveProblems(await t.call('GET', '/v2/models/credit-demo/versions/2.0.0'), 404);
    // Another model, version or verb is a 404 even when the body is wrong too.
    for (const [path, body] of [
      ['/v2/models/other/infer', { inputs: 'none' }],
      ['/v2/models/credit-demo/versions/2.0.0/infer', {}],
      ['/v1/models/other:predict', { instances: 'none' }],
      ['/v1/models/credit-demo:score', {}],
    ] as const) {
      kserveProblems(await t.call('POST', path, body), 404);
    }
    // …and when the body cannot even be read: not JSON, not a JSON content type, repeated keys, too large.
    const unreadable: [string, RawBody][] = [
      ['/v1/models/other:predict', new RawBody('{bad')],
      ['/v2/models/other/infer', new RawBody('x', 'text/plain')],
      ['/v2/models/other/infer', new RawBody('{"a":1,"a":2}')],
      ['/v2/models/other/infer', new RawBody(`{"pad":"${'x'.repeat(2_000_000)}"}`)],
    ];
    for (const [path, body] of unreadable) kserveProblems(await t.call('POST', path, body), 404);
    await expectHealthy(t);
    const r = await fetch(new URL('/v2/models/credit-demo/infer', t.server.url), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    const body = (await r.json()) as { error: string; code: string };
    expect(r.status).toBe(415);
    expect(body.error).toContain('content-type');
    expect(body.code).toBe('invalid_request');
    // The binary data extension: a JSON header of the given length, then raw tensor bytes.
    const header = JSON.stringify({
      inputs: [{ name: 'x', shape: [1], datatype: 'FP32', parameters: { binary_data_size: 4 } }],
    });
    const binary = await t.call(
      'POST',
      '/v2/models/credit-demo/infer',
      new RawBody(`${header}\u0000\u0000\u0080\u003f`),
      { 'inference-header-content-length': String(header.length) },
    );
    expect(kserveProblems(binary, 415)).toEqual(['inference-header-content-length']);
    expect(binary.json.error).toContain('binary data extension');
  });

  it('types its errors application/json exactly, which KServe’s Python client reads the error text from', async () => {
    // InferenceRESTClient puts the body's "error" in its HTTPStatusError only when the content-type is exactly
    // "application/json": with "; charset=utf-8" the officer would see "400 Bad Request" and nothing else.
    const answers = [
      await t.call('POST', '/v2/models/credit-demo/infer', { inputs: 'none' }),
      await t.call('POST', '/v2/models/credit-demo/infer', {
        inputs: [{ name: 'Amount', shape: [1], datatype: 'FP64', data: ['x'] }],
      }),
      await t.call('POST', '/v1/models/credit-demo:predict', { instances: [{ ...sample, Amount: 'x' }] }),
      await t.call('POST', '/v2/models/other/infer', { inputs: byFeature([sample]) }),
      await t.call('GET', '/v2/nowhere'),
      await t.call('POST', '/v2/models/credit-demo/infer', new RawBody('{bad')),
    ];
    for (const r of answers) {
      expect(r.status, r.text).toBeGreaterThanOrEqual(400);
      expect(r.headers.get('content-type'), r.text).toBe('application/json');
      expect(typeof r.json.error).toBe('string');
    }
  });

  it('answers in the protocols’ shape whoever answers: unknown paths, bad URLs', async () => {
    const unknown = await t.call('GET', '/v2/models/credit-demo/');
    kserveProblems(unknown, 404);
    expect(unknown.json.code).toBe('not_found');
    const badUrl = await t.call('GET', '/v2/models/%ZZ/ready');
    expect(kserveProblems(badUrl, 400)).toEqual(['url']);
  });

  it('lists at most 100 problems, and a bounded message, however many the request has', async () => {
    const r = await t.call('POST', '/v1/models/credit-demo:predict', {
      instances: Array(1000).fill({ x: 1 }),
    });
    const fields = kserveProblems(r);
    expect(fields).toHaveLength(100);
    expect(r.json.problems_omitted).toBeGreaterThan(900);
    expect(r.json.error.length).toBeLessThan(4100);
    expect(r.json.error).toMatch(/problems in all\)$/);
    expect(r.text.length).toBeLessThan(64_000);
    await expectHealthy(t);
  });

  it('counts the requests by route in /metrics', async () => {
    expect((await t.call('GET', '/v1/models/credit-demo:predict')).status).toBe(405);
    const samples = parsePrometheus((await t.call('GET', '/metrics')).text);
    expect(
      samples.get('http_requests_total{method="GET",route="/v1/models/:name:predict",status="405"}'),
    ).toBeGreaterThanOrEqual(1);
    const count = (method: string, route: string) =>
      samples.get(`http_requests_total{method="${method}",route="${route}",status="200"}`) ?? 0;
    expect(count('POST', '/v2/models/:name/infer')).toBeGreaterThanOrEqual(2);
    expect(count('POST', '/v2/models/:name/versions/:version/infer')).toBeGreaterThanOrEqual(1);
    expect(count('POST', '/v1/models/:name:predict')).toBeGreaterThanOrEqual(2);
    expect(count('POST', '/v1/models/:name:explain')).toBeGreaterThanOrEqual(1);
    expect(count('GET', '/v2/health/ready')).toBeGreaterThanOrEqual(1);
  });
});
