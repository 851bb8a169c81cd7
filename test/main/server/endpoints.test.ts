import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS } from '../../../shared/contract.js';
import { CONTENT_SECURITY_POLICY } from '../../../main/server/headers.js';
import { holdoutApplicants, readSample, removeDir, tempDir } from '../cli/helpers.js';
import { call, expectHealthy, expectProblems, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
const sample = readSample<Record<string, unknown>>('sample-1.json');
const applicants = holdoutApplicants(3);
const names = Object.keys(sample);
const asRow = (a: Record<string, unknown>) => names.map((n) => a[n] ?? null);
/** The app methods these tests call; checked against the contract so a new method needs a test. */
const called = new Set<string>();

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

async function app(method: string, body?: unknown) {
  called.add(method);
  return t.app(method, body);
}

describe('health', () => {
  it('answers GET /health/ping with pong', async () => {
    await expectHealthy(t);
  });

  it('reports model, backend, database and queue depth on GET /health/status', async () => {
    const r = await t.call('GET', '/health/status');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      status: 'ok',
      model: { id: 'credit-demo' },
      backend: 'wasm',
      database: 'ok',
      queue_depth: 0,
    });
  });
});

describe('Seldon v1 protocol', () => {
  it('predicts from data.names + data.ndarray, answering [P(bad), P(good)] per row', async () => {
    const r = await t.call('POST', '/api/v1.0/predictions', {
      data: { names, ndarray: applicants.map(asRow) },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json.data.names).toEqual(['bad', 'good']);
    expect(r.json.data.ndarray).toHaveLength(3);
    for (const [bad, good] of r.json.data.ndarray) {
      expect(bad + good).toBeCloseTo(1, 6);
      expect(good).toBeGreaterThan(0);
    }
    expect(r.json.meta.tags).toMatchObject({
      model_id: 'credit-demo',
      model_version: '1.0.0',
      backend: 'wasm',
    });
  });

  it('maps ndarray columns by names, in whatever order they come', async () => {
    const shuffled = [...names].reverse();
    const byNames = await t.call('POST', '/api/v1.0/predictions', {
      data: { names: shuffled, ndarray: [shuffled.map((n) => sample[n])] },
    });
    const byJson = await t.call('POST', '/api/v1.0/predictions', { jsonData: sample });
    expect(byNames.status).toBe(200);
    expect(byNames.json.data.ndarray).toEqual(byJson.json.data.ndarray);
  });

  it('accepts jsonData as one applicant, as {applicants: [...]} and a bare list of applicants', async () => {
    const one = await t.call('POST', '/api/v1.0/predictions', { jsonData: applicants[0] });
    const list = await t.call('POST', '/api/v1.0/predictions', { jsonData: { applicants } });
    const bare = await t.call('POST', '/api/v1.0/predictions', applicants);
    const ndarray = await t.call('POST', '/api/v1.0/predictions', {
      data: { names, ndarray: applicants.map(asRow) },
    });
    expect([one.status, list.status, bare.status]).toEqual([200, 200, 200]);
    expect(one.json.data.ndarray).toEqual([ndarray.json.data.ndarray[0]]);
    expect(list.json.data.ndarray).toEqual(ndarray.json.data.ndarray);
    expect(bare.json.data.ndarray).toEqual(ndarray.json.data.ndarray);
  });

  it('answers Seldon Core’s executor on /predict, as on /api/v1.0/predictions', async () => {
    const body = { data: { names, ndarray: applicants.map(asRow) } };
    const executor = await t.call('POST', '/predict', body);
    const external = await t.call('POST', '/api/v1.0/predictions', body);
    expect(executor.status, executor.text).toBe(200);
    expect(executor.json.data).toEqual(external.json.data);
    expect(executor.json.meta.tags.model_id).toBe('credit-demo');
  });

  it('describes the model on GET /metadata, as Seldon’s executor asks a MODEL unit', async () => {
    const r = await t.call('GET', '/metadata');
    expect(r.status, r.text).toBe(200);
    // seldon_core/metadata.py's schema: these keys only, and `custom` maps strings to strings.
    expect(Object.keys(r.json).sort()).toEqual([
      'custom',
      'inputs',
      'name',
      'outputs',
      'platform',
      'versions',
    ]);
    expect(r.json).toMatchObject({ name: 'credit-demo', versions: ['1.0.0'], platform: 'branchlens' });
    for (const v of Object.values(r.json.custom)) expect(typeof v).toBe('string');
    const [ndarray, json] = r.json.inputs;
    expect(ndarray).toEqual({ messagetype: 'ndarray', schema: { names, shape: [names.length] } });
    expect(r.json.outputs).toEqual([
      { messagetype: 'ndarray', schema: { names: ['bad', 'good'], shape: [2] } },
    ]);
    // The jsonData schema is a JSON Schema that accepts exactly what the endpoint accepts, in both forms.
    expect(json.messagetype).toBe('jsonData');
    const valid = new Ajv({ strict: true, allErrors: true }).compile(json.schema);
    const noIncome = { ...sample, Income: null };
    const { Job: _job, ...noJob } = sample;
    const accepted = [...applicants, noIncome, noJob, { applicants }, applicants];
    for (const body of accepted) {
      expect(valid(body), JSON.stringify(valid.errors)).toBe(true);
      const r = await t.call('POST', '/api/v1.0/predictions', { jsonData: body });
      expect(r.status, r.text).toBe(200);
    }
    const { Amount: _amount, ...noAmount } = sample;
    const refused = [
      noAmount, // a required feature left out
      { ...sample, Amount: null }, // …or sent as null
      { ...sample, Home: 'castle' }, // not one of the categories
      { ...sample, Seniority: 2.5 }, // not a whole number
      { ...sample, Shoe: 42 }, // not a feature
      { applicants: [] }, // no applicants
      { applicants: [sample], extra: 1 },
      [], // an empty list
      [sample, { ...sample, Home: 'castle' }], // a list with a bad applicant
    ];
    for (const body of refused) {
      expect(valid(body), JSON.stringify(body)).toBe(false);
      const r = await t.call('POST', '/api/v1.0/predictions', { jsonData: body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('takes ndarray rows without names as the features in schema order', async () => {
    const rows = applicants.map(asRow);
    const named = await t.call('POST', '/api/v1.0/predictions', { data: { names, ndarray: rows } });
    const plain = await t.call('POST', '/api/v1.0/predictions', { data: { ndarray: rows } });
    expect(plain.status, plain.text).toBe(200);
    expect(plain.json.data.ndarray).toEqual(named.json.data.ndarray);
    const short = expectProblems(
      await t.call('POST', '/predict', { data: { ndarray: [rows[0]!.slice(1)] } }),
      400,
    );
    expect(short).toEqual([expect.objectContaining({ field: 'data.ndarray[0]', code: 'invalid' })]);
  });

  it('refuses data.tensor for the demo model, naming its categorical features', async () => {
    const values = names.map((n) => (typeof sample[n] === 'number' ? sample[n] : 0));
    const r = await t.call('POST', '/api/v1.0/predictions', {
      data: { names, tensor: { shape: [1, names.length], values } },
    });
    expect(expectProblems(r, 400)).toEqual([
      expect.objectContaining({
        field: 'data.tensor',
        message: 'Home is categorical: a tensor holds numbers only; send data.ndarray',
      }),
      expect.objectContaining({
        field: 'data.tensor',
        message: expect.stringMatching(/^Job is categorical/),
      }),
    ]);
    expect(r.json.status).toMatchObject({ code: 400, reason: 'MICROSERVICE_BAD_DATA' });
    // …and GET /metadata does not list it.
    const meta = await t.call('GET', '/metadata');
    expect(meta.json.inputs.map((i: { messagetype: string }) => i.messagetype)).toEqual([
      'ndarray',
      'jsonData',
    ]);
  });

  it('echoes meta.puid', async () => {
    const r = await t.call('POST', '/api/v1.0/predictions', { jsonData: sample, meta: { puid: 'req-42' } });
    expect(r.json.meta.puid).toBe('req-42');
  });

  it('explains with the documents of the app API, one per applicant', async () => {
    const r = await t.call('POST', '/api/v1.0/explain', { data: { names, ndarray: applicants.map(asRow) } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.documents).toHaveLength(3);
    const verified = await app('verifyDocument', { document: r.json.documents[1] });
    expect(verified.json).toEqual({ ok: true });
    const fromApp = await app('explain', { applicants: [applicants[1]] });
    expect(fromApp.json.documents[0].attributions).toEqual(r.json.documents[1].attributions);
    expect(r.json.meta.tags.model_id).toBe('credit-demo');
  });

  it('names a bad value by where it is in the request', async () => {
    const rows = applicants.map(asRow);
    rows[1]![names.indexOf('Amount')] = 'abc';
    const ndarray = expectProblems(
      await t.call('POST', '/api/v1.0/explain', { data: { names, ndarray: rows } }),
      400,
    );
    expect(ndarray).toEqual([
      expect.objectContaining({ field: 'data.ndarray[1].Amount', code: 'wrong_type' }),
    ]);
    const one = expectProblems(
      await t.call('POST', '/api/v1.0/predictions', { jsonData: { ...sample, Amount: 'abc' } }),
      400,
    );
    expect(one[0]!.field).toBe('jsonData.Amount');
  });

  it('answers errors as SeldonMessages, Seldon’s status and the problems in jsonData, on every Seldon path', async () => {
    const bad = await t.call('POST', '/api/v1.0/predictions', { jsonData: { ...sample, Amount: 'abc' } });
    expectProblems(bad, 400);
    expect(bad.json.status).toEqual({
      code: 400,
      info: bad.json.jsonData.message,
      reason: 'MICROSERVICE_BAD_DATA',
      status: 'FAILURE',
    });
    const answers = [
      await t.call('POST', '/predict', { strData: 'x' }),
      await t.call('POST', '/api/v1.0/explain?n_steps=5', { jsonData: sample }),
      await t.call('GET', '/api/v1.0/predictions'),
      await t.call('POST', '/api/v1.0/nothing', {}),
    ];
    expect(answers.map((r) => [r.status, r.json.status?.code, r.json.status?.status])).toEqual([
      [400, 400, 'FAILURE'],
      [400, 400, 'FAILURE'],
      [405, 405, 'FAILURE'],
      [404, 404, 'FAILURE'],
    ]);
    for (const r of answers) expect(r.json.status.info).toBe(r.json.jsonData.message);
    // The app API's errors keep the contract's body alone.
    expect((await app('explain', { applicants: [] })).json.status).toBeUndefined();
  });
});

describe('the app API (POST /api/app/<method>)', () => {
  it('explains and predicts', async () => {
    const explained = await app('explain', { applicants, options: { locale: 'en', top_k: 3 } });
    expect(explained.status, explained.text).toBe(200);
    expect(explained.json.documents).toHaveLength(3);
    expect(explained.json.documents[0].attributions).toHaveLength(3);
    expect(explained.json.documents[0].meta.locale).toBe('en');
    const predicted = await app('predict', { applicants });
    expect(predicted.status).toBe(200);
    expect(predicted.json.predictions).toHaveLength(3);
    expect(predicted.json.predictions[0][0]).toBeCloseTo(explained.json.documents[0].predictions[0], 6);
  });

  it('verifies a document and refuses a changed one', async () => {
    const doc = (await app('explain', { applicants: [sample] })).json.documents[0];
    expect((await app('verifyDocument', { document: doc })).json).toEqual({ ok: true });
    const changed = await app('verifyDocument', { document: { ...doc, score: 0.99 } });
    expect(changed.status).toBe(200);
    expect(changed.json.ok).toBe(false);
  });

  it('reports and lists models; refuses an unknown model and a rollback with nothing earlier', async () => {
    const model = await app('getModel');
    expect(model.status).toBe(200);
    expect(model.json.model.id).toBe('credit-demo');
    expect(model.json.schema.features.length).toBeGreaterThan(0);
    const list = await app('listModels');
    expect(list.json.models).toEqual([expect.objectContaining({ id: 'credit-demo', active: true })]);
    const unknown = expectProblems(await app('activateModel', { ref: 'no-such-model@9.9.9' }), 400);
    expect(unknown[0]!.field).toBe('model');
    expectProblems(await app('rollbackModel'), 400);
    expectProblems(await app('importModel', { path: tempDir('branchlens-empty-') }), 400);
  });

  it('pages, reads and verifies the audit log; a missing entry is 404', async () => {
    const page = await app('auditPage', { limit: 5 });
    expect(page.status).toBe(200);
    expect(page.json.entries.length).toBeGreaterThan(0);
    const seq = page.json.entries[0].seq;
    const entry = await app('auditEntry', { seq });
    expect(entry.json.entry.seq).toBe(seq);
    const missing = await app('auditEntry', { seq: 10_000_000 });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('not_found');
    expect((await app('auditVerifyProgress')).json).toEqual({ running: false });
    const verify = await app('auditVerify');
    expect(verify.json).toMatchObject({ ok: true });
    expect(verify.json.entries).toBeGreaterThan(0);
    expect((await app('auditVerifyProgress')).json).toEqual({ running: false });
    expectProblems(await app('auditVerifyProgress', { seq: 1 }), 400);
  });

  it('exports the audit log and gives its public key', async () => {
    const jsonl = await app('auditExport', { format: 'jsonl' });
    expect(jsonl.status).toBe(200);
    expect(jsonl.json.entries).toBeGreaterThan(0);
    expect(jsonl.json.content.trim().split('\n').length).toBe(jsonl.json.entries + 1);
    const key = await app('auditPublicKey');
    expect(key.json.pem).toMatch(/BEGIN PUBLIC KEY/);
  });

  it('streams an audit export as a download on GET /api/app/auditExport', async () => {
    const csv = await t.call('GET', '/api/app/auditExport?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(
      /^attachment; filename="branchlens-audit-.*\.csv"$/,
    );
    expect(csv.text.split('\n')[0]).toMatch(/^record,/);
    const res = await fetch(new URL('/api/app/auditExport?format=jsonl&gzip=true', t.server.url));
    expect(res.headers.get('content-disposition')).toMatch(/\.jsonl\.gz"$/);
    const lines = gunzipSync(Buffer.from(await res.arrayBuffer()))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(lines.at(-1)!)).toHaveProperty('signature');
    const bad = expectProblems(await t.call('GET', '/api/app/auditExport?format=xml&since=yesterday'), 400);
    expect(bad.map((p) => p.field).sort()).toEqual(['query.format', 'query.since']);
    const reversed = expectProblems(
      await t.call(
        'GET',
        '/api/app/auditExport?format=jsonl&since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z',
      ),
      400,
    );
    expect(reversed.map((p) => p.field)).toEqual(['query.until']);
    const closed = await app('auditExport', {
      format: 'jsonl',
      since: '2020-01-01T00:00:00Z',
      until: '2020-02-01T00:00:00Z',
    });
    expect(closed.status, closed.text).toBe(200);
    expect(closed.json.entries).toBe(0);
  });

  it('reads a download time with an unescaped + offset (a branch east of UTC) as the time it names', async () => {
    // A URL decodes "+" as a space: `since=…+08:00` as typed in curl or an address bar arrives as "… 08:00".
    const all = await t.call('GET', '/api/app/auditExport?format=jsonl&since=2020-01-01T00:00:00+08:00');
    expect(all.status, all.text).toBe(200);
    const escaped = await t.call(
      'GET',
      '/api/app/auditExport?format=jsonl&since=2020-01-01T00:00:00%2B08:00',
    );
    expect(all.text.trim().split('\n').length).toBe(escaped.text.trim().split('\n').length);
    const none = await t.call(
      'GET',
      '/api/app/auditExport?format=jsonl&since=2020-01-01T00:00:00+08:00&until=2020-01-01T08:00:00+08:00',
    );
    expect(none.status, none.text).toBe(200);
    expect(none.text.trim().split('\n')).toHaveLength(1);
    // A space anywhere else is still no time.
    const bad = expectProblems(
      await t.call('GET', '/api/app/auditExport?format=jsonl&since=2020-01-01+00:00'),
      400,
    );
    expect(bad.map((p) => p.field)).toEqual(['query.since']);
  });

  it('refuses a monitoring series whose to is before its from, naming to', async () => {
    const reversed = expectProblems(
      await app('monitoringSeries', { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }),
      400,
    );
    expect(reversed.map((p) => p.field)).toEqual(['to']);
    // One instant is a closed range, not a reversed one.
    const instant = await app('monitoringSeries', {
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-01T00:00:00Z',
    });
    expect(instant.status, instant.text).toBe(200);
  });

  it('refuses bad monitoring series window parameters, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ max_points: 0 }, 'max_points'],
      [{ max_points: 1 }, 'max_points'],
      [{ max_points: 2.5 }, 'max_points'],
      [{ max_points: 100_000 }, 'max_points'],
      [{ max_points: '500' }, 'max_points'],
      [{ from: 'last week' }, 'from'],
      [{ to: 1_700_000_000_000 }, 'to'],
    ];
    for (const [body, field] of cases) {
      const problems = expectProblems(await app('monitoringSeries', body), 400);
      expect(
        problems.map((p) => p.field),
        JSON.stringify(body),
      ).toEqual([field]);
    }
    // The bound and whether the series was thinned are in the answer.
    const ok = await app('monitoringSeries', { from: '2020-01-01T00:00:00Z', max_points: 2 });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ thinned: false, bucket_ms: null, stored: expect.any(Number) });
    expect(ok.json.series.length).toBeLessThanOrEqual(2);
  });

  it('answers monitoring, its series, settings and health', async () => {
    expect((await app('monitoring')).status).toBe(200);
    const series = await app('monitoringSeries', { from: '2020-01-01T00:00:00Z' });
    expect(series.status).toBe(200);
    expect(Array.isArray(series.json.series)).toBe(true);
    const settings = await app('getSettings');
    expect(settings.json.locale).toBe('zh-CN');
    const updated = await app('updateSettings', { theme: 'dark' });
    expect(updated.json.theme).toBe('dark');
    const bad = expectProblems(await app('updateSettings', { top_k: -1 }), 400);
    expect(bad[0]!.field).toBe('top_k');
    const health = await app('health');
    expect(health.json).toMatchObject({ status: 'ok', database: 'ok' });
  });

  it('answers 404 for a method the contract does not have', async () => {
    for (const method of ['nope', 'constructor', '__proto__', 'toString']) {
      const r = await t.app(method, {});
      expect(r.status, method).toBe(404);
      expect(r.json.error).toBe('not_found');
    }
  });

  it('answers an internal failure with a generic 500 and logs the error', async () => {
    const spy = vi.spyOn(t.server.service, 'listModels').mockImplementation(() => {
      throw new Error('disk on fire at /secret/path');
    });
    try {
      const r = await t.app('listModels');
      expect(r.status).toBe(500);
      expect(r.json).toEqual({ error: 'internal', message: 'internal error; see the server log' });
      expect(t.log.join('')).toContain('disk on fire');
    } finally {
      spy.mockRestore();
    }
    await expectHealthy(t);
  });

  it('is called with every method of the contract by these tests', () => {
    expect(API_METHODS.filter((m) => !called.has(m))).toEqual([]);
  });
});

describe('the UI', () => {
  it('serves a page saying how to build the UI when it is not built, with the security headers', async () => {
    const r = await t.call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.text).toContain('npm run build:renderer');
    expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ])
      expect(CONTENT_SECURITY_POLICY).toContain(directive);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('serves the built files, and index.html for the UI routes (SPA fallback), not for API paths', async () => {
    const dir = tempDir('branchlens-renderer-');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>BranchLens UI</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1);');
    const ui = await startTestServer({ service: t.server.service, rendererDir: dir, dataDir: t.dataDir });
    try {
      const index = await ui.call('GET', '/');
      expect(index.text).toContain('BranchLens UI');
      expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      const js = await ui.call('GET', '/assets/app.js');
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      // The UI's files may be cached; every API answer, the public probes included, is live state.
      expect(js.headers.get('cache-control')).not.toBe('no-store');
      for (const path of [
        '/health/ping',
        '/v2/health/ready',
        '/v2/health/live',
        '/v1/models/credit-demo',
        '/api/app/health',
      ])
        expect((await ui.call('GET', path)).headers.get('cache-control'), path).toBe('no-store');
      const route = await ui.call('GET', '/audit/42');
      expect(route.status).toBe(200);
      expect(route.text).toContain('BranchLens UI');
      const missingAsset = await ui.call('GET', '/assets/missing.js');
      expect(missingAsset.status).toBe(404);
      // Unknown paths under any API root (the app's, Seldon's, KServe's) get JSON, never the UI's page; a path
      // that is an endpoint for another method, a 405.
      for (const [path, status] of [
        ['/api/app/nothing', 404],
        ['/v2/models', 404],
        ['/v2/models/credit-demo/infer', 405],
        ['/v1/models/x/metadata', 404],
        ['/v1', 404],
        ['/health/nothing', 404],
        ['/metadata/x', 404],
        ['/predict', 405],
      ] as const) {
        const api = await ui.call('GET', path);
        expect(api.status, path).toBe(status);
        expect(api.headers.get('content-type'), path).toMatch(/json/);
        expect(api.text, path).not.toContain('BranchLens UI');
      }
      const traversal = await call(ui.server.url, 'GET', '/assets/..%2f..%2fpackage.json');
      expect(traversal.status).not.toBe(200);
      await expectHealthy(ui);
    } finally {
      await ui.close();
      removeDir(dir);
    }
    // The shared service stays open for its own server.
    await expectHealthy(t);
    expect((await t.app('health')).status).toBe(200);
  });
});

describe('GET /metrics', () => {
  it('exposes the explain latency quantiles, cache, batch and queue metrics', async () => {
    await t.call('POST', '/api/v1.0/explain', { jsonData: sample });
    await t.call('POST', '/api/v1.0/explain', { jsonData: sample });
    const r = await t.call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const needle of [
      'model_explain_latency{quantile="0.5"}',
      'model_explain_latency{quantile="0.9"}',
      'model_explain_latency{quantile="0.99"}',
      'model_explain_latency_seconds_bucket{le="0.01"}',
      'model_explain_cache_hits_total{level="memory"}',
      'model_explain_cache_misses_total',
      'model_explain_batch_size_bucket',
      'model_explain_queue_depth 0',
      'branchlens_database_up 1',
      'http_requests_total{method="POST",route="/api/v1.0/explain",status="200"}',
    ])
      expect(r.text).toContain(needle);
  });
});
