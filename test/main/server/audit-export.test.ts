// An audit log that fails verification is not exported over HTTP: both the API method and the streamed
// download answer 409 audit_broken naming the first failing entry, and the server keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctApplicants } from '../../../bench/service.js';
import { rewriteSuffix, tamper } from '../core/audit/helpers.js';
import { expectHealthy, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  for (const a of distinctApplicants(3))
    expect((await t.app('explain', { applicants: [a] })).status).toBe(200);
  // An export signs the head in the database too: the stored checkpoint is what a rewrite cannot match.
  expect((await t.app('auditExport', { format: 'jsonl' })).status).toBe(200);
  tamper(t.dataDir, (raw) => rewriteSuffix(raw, 1, 0.999));
});
afterAll(async () => {
  await t?.close();
});

describe('an audit log rewritten on disk', () => {
  it('is refused by the auditExport method with 409 audit_broken', async () => {
    const r = await t.app('auditExport', { format: 'jsonl' });
    expect(r.status, r.text).toBe(409);
    expect(r.json).toMatchObject({ error: 'audit_broken', seq: expect.any(Number) as number });
    expect(r.json.message).toContain(`entry ${r.json.seq} (checkpoint_mismatch)`);
  });

  it('is refused by the streamed download with 409, not a download cut short', async () => {
    const r = await t.call('GET', '/api/app/auditExport?format=csv');
    expect(r.status, r.text).toBe(409);
    expect(r.headers.get('content-disposition')).toBeNull();
    expect(r.json).toMatchObject({ error: 'audit_broken', seq: expect.any(Number) as number });
    await expectHealthy(t);
  });
});
