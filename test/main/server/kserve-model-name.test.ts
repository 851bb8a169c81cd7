// `serve --model-name`: the KServe V1 and V2 routes also answer under the InferenceService's name, which KServe
// builds the model's paths from (`/v1/models/<isvc>:predict`), besides the bundle's id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../../main/core/bundle/load.js';
import { kserveModelNameProblem } from '../../../main/server/kserve.js';
import { DEMO_BUNDLE, holdoutApplicants, readSample } from '../cli/helpers.js';
import { RawBody, startTestServer, type Answer, type TestServer } from './helpers.js';

let t: TestServer;
const schema = readBundle(DEMO_BUNDLE).schema;
const sample = readSample<Record<string, unknown>>('sample-1.json');
const applicants = holdoutApplicants(2);

/** One V2 input per feature. */
function byFeature(rows: Record<string, unknown>[]) {
  return schema.features.map((f) => ({
    name: f.name,
    shape: [rows.length],
    datatype: f.type === 'categorical' ? 'BYTES' : f.type === 'boolean' ? 'BOOL' : 'FP64',
    data: rows.map((r) => r[f.name]),
  }));
}

function ok(r: Answer): Answer {
  expect(r.status, r.text).toBe(200);
  return r;
}

beforeAll(async () => {
  t = await startTestServer({ modelName: 'branchlens' });
});
afterAll(async () => {
  await t?.close();
});

describe('the KServe routes under --model-name', () => {
  it('list and probe the model under the name and under its bundle id', async () => {
    expect(ok(await t.call('GET', '/v1/models')).json).toEqual({ models: ['branchlens', 'credit-demo'] });
    expect(ok(await t.call('GET', '/v1/models/branchlens')).json).toEqual({
      name: 'branchlens',
      ready: true,
    });
    expect(ok(await t.call('GET', '/v1/models/credit-demo')).json).toEqual({
      name: 'credit-demo',
      ready: true,
    });
    expect(ok(await t.call('GET', '/v2/models/branchlens/ready')).json).toEqual({
      name: 'branchlens',
      ready: true,
    });
    ok(await t.call('GET', '/v2/models/branchlens/versions/1.0.0/ready'));
    ok(await t.call('GET', '/v2/models/credit-demo/ready'));
  });

  it('predicts and explains on V1 under the name as under the bundle id', async () => {
    const byName = ok(await t.call('POST', '/v1/models/branchlens:predict', { instances: applicants }));
    const byId = ok(await t.call('POST', '/v1/models/credit-demo:predict', { instances: applicants }));
    expect(byName.json).toEqual(byId.json);
    const explained = ok(await t.call('POST', '/v1/models/branchlens:explain', { instances: [sample] }));
    expect(explained.json.explanations).toHaveLength(1);
  });

  it('describes and infers on V2 under the name, answering with the name it was asked by', async () => {
    const meta = ok(await t.call('GET', '/v2/models/branchlens'));
    expect(meta.json).toMatchObject({ name: 'branchlens', versions: ['1.0.0'] });
    expect(ok(await t.call('GET', '/v2/models/credit-demo')).json.name).toBe('credit-demo');
    const byName = ok(await t.call('POST', '/v2/models/branchlens/infer', { inputs: byFeature(applicants) }));
    expect(byName.json).toMatchObject({ model_name: 'branchlens', model_version: '1.0.0' });
    const byId = ok(await t.call('POST', '/v2/models/credit-demo/infer', { inputs: byFeature(applicants) }));
    expect(byId.json.model_name).toBe('credit-demo');
    expect(byName.json.outputs).toEqual(byId.json.outputs);
    const versioned = ok(
      await t.call('POST', '/v2/models/branchlens/versions/1.0.0/infer', { inputs: byFeature(applicants) }),
    );
    expect(versioned.json.outputs).toEqual(byId.json.outputs);
  });

  it('answers another name or version 404 as before, whatever the body, naming both names', async () => {
    for (const [path, body] of [
      ['/v1/models/other:predict', { instances: [sample] }],
      ['/v1/models/other:predict', new RawBody('{bad')],
      ['/v2/models/other/infer', { inputs: byFeature([sample]) }],
      ['/v2/models/branchlens/versions/2.0.0/infer', {}],
    ] as const) {
      const r = await t.call('POST', path, body);
      expect(r.status, path).toBe(404);
      expect(r.json.error, path).toContain(
        'is not served here: this server serves "credit-demo" version "1.0.0" (also as "branchlens")',
      );
    }
    expect((await t.call('GET', '/v1/models/other')).status).toBe(404);
    expect((await t.call('GET', '/v2/models/other')).status).toBe(404);
  });
});

describe('without --model-name', () => {
  it('answers the InferenceService’s name 404, as before', async () => {
    const plain = await startTestServer();
    try {
      const r = await plain.call('POST', '/v1/models/branchlens:predict', { instances: [sample] });
      expect(r.status).toBe(404);
      expect(r.json.error).toBe(
        'model "branchlens" is not served here: this server serves "credit-demo" version "1.0.0"',
      );
      expect((await plain.call('GET', '/v1/models')).json).toEqual({ models: ['credit-demo'] });
    } finally {
      await plain.close();
    }
  });
});

describe('a KServe model name', () => {
  it('is an InferenceService’s name: a DNS-1035 label', () => {
    for (const good of ['branchlens', 'a', 'credit-demo-2', 'x'.repeat(63)]) {
      expect(kserveModelNameProblem(good), good).toBeNull();
    }
    expect(kserveModelNameProblem('')).toMatch(/^is empty/);
    for (const bad of ['BranchLens', 'branch_lens', 'branch.lens', '-branch', 'branch-', '1branch', 'a b']) {
      expect(kserveModelNameProblem(bad), bad).toMatch(/is not a KServe model name: lower-case letters/);
    }
    expect(kserveModelNameProblem('x'.repeat(64))).toMatch(/has 64 characters: .* at most 63/);
    // A long name is shown cut short.
    expect(kserveModelNameProblem('X'.repeat(5000))!.length).toBeLessThan(300);
  });
});
