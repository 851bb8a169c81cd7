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

describe('an audit export download the client stops', () => {
  it.each([false, true])(
    'is logged as cut short by the client, not as a failure with a stack (gzip %s), and the server keeps serving',
    async (gzip) => {
      const s = await startTestServer({ logLevel: 'info' });
      try {
        // Enough entries that the export is still being written when the client goes.
        await s.server.service.explain(distinctApplicants(3000), { top_k: 1 });
        const { request } = await import('node:http');
        const path = `/api/app/auditExport?format=jsonl${gzip ? '&gzip=true' : ''}`;
        await new Promise<void>((resolve, reject) => {
          // Gone as soon as the answer begins: the export has begun (its first bytes are what starts the answer).
          const req = request(new URL(path, s.server.url), (res) => {
            expect(res.statusCode).toBe(200);
            res.destroy();
            resolve();
          });
          req.on('error', reject);
          req.end();
        });
        await expectHealthy(s);
        await s.server.close();
        const lines = s.log
          .join('')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { level: number; msg: string });
        expect(lines.filter((l) => l.level >= 40)).toEqual([]);
        // A plain export of this size may be written whole into the socket's buffers before the client goes
        // (then nothing was cut); compressing takes long enough that the client always goes first.
        if (gzip)
          expect(lines.map((l) => l.msg)).toContain('audit export download cut short: the client went away');
      } finally {
        await s.close();
      }
    },
    60_000,
  );
});
