// Saving an audit export from the page: through the desktop bridge, which streams it into a file in the main
// process, or as a browser download of GET /api/app/auditExport; never the inline auditExport method.
import { describe, expect, it } from 'vitest';
import { saveAuditExport, type AuditExportTransport } from '../../renderer/src/api/audit-export.js';
import type { BranchLensBridge, ExportResult } from '../../shared/bridge.js';
import { ApiError, type ApiRequest } from '../../shared/contract.js';

function bridgeAnswering(result: ExportResult) {
  const asked: [string, ApiRequest<'auditExport'>][] = [];
  const bridge: BranchLensBridge = {
    invoke: (async () => {
      throw new Error('the inline method must not be used');
    }) as BranchLensBridge['invoke'],
    printToPdf: async () => ({ ok: true, value: null }),
    saveFile: async () => {
      throw new Error('the export must not cross IPC as a string');
    },
    exportAudit: async (name, request) => {
      asked.push([name, request]);
      return result;
    },
  };
  return { bridge, asked };
}

function browser(answer: () => Promise<Response>) {
  const fetched: { url: string; init: RequestInit | undefined }[] = [];
  const downloaded: { name: string; text: Promise<string> }[] = [];
  const transport: AuditExportTransport = {
    base: 'http://10.0.0.5:8080/',
    token: () => 'tok',
    fetch: async (url, init) => {
      fetched.push({ url: String(url), init });
      return answer();
    },
    download: (name, blob) => downloaded.push({ name, text: blob.text() }),
  };
  return { transport, fetched, downloaded };
}

describe('saveAuditExport', () => {
  it('desktop: hands the request to the bridge and reports where it went and how many entries', async () => {
    const { bridge, asked } = bridgeAnswering({ ok: true, value: { path: '/docs/a.jsonl', entries: 41 } });
    const saved = await saveAuditExport({ format: 'jsonl', gzip: true }, 'a.jsonl.gz', {
      bridge,
      base: 'app://branchlens/',
      download: () => {
        throw new Error('no browser download in the desktop app');
      },
    });
    expect(saved).toEqual({ where: '/docs/a.jsonl', entries: 41 });
    expect(asked).toEqual([['a.jsonl.gz', { format: 'jsonl', gzip: true }]]);
  });

  it('desktop: a cancelled dialog is null, and a refusal is thrown as its ApiError', async () => {
    const cancelled = bridgeAnswering({ ok: true, value: null });
    const t = { base: 'app://branchlens/', download: () => undefined };
    expect(await saveAuditExport({ format: 'csv' }, 'a.csv', { ...t, bridge: cancelled.bridge })).toBeNull();
    const broken = bridgeAnswering({
      ok: false,
      error: { error: 'audit_broken', message: 'the audit log fails verification at entry 7', seq: 7 },
    });
    const e = await saveAuditExport({ format: 'csv' }, 'a.csv', { ...t, bridge: broken.bridge }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).body).toMatchObject({ error: 'audit_broken', seq: 7 });
  });

  it('browser: downloads GET api/app/auditExport with the range, gzip and token', async () => {
    const { transport, fetched, downloaded } = browser(
      async () => new Response('{"seq":1}\n{"seq":2}\n', { status: 200 }),
    );
    const saved = await saveAuditExport(
      { format: 'es-bulk', gzip: true, since: '2026-11-01T00:00:00+08:00' },
      'audit.ndjson.gz',
      transport,
    );
    expect(saved).toEqual({ where: 'audit.ndjson.gz', entries: null });
    const url = new URL(fetched[0]!.url);
    expect(url.origin + url.pathname).toBe('http://10.0.0.5:8080/api/app/auditExport');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      format: 'es-bulk',
      gzip: 'true',
      since: '2026-11-01T00:00:00+08:00',
    });
    expect(fetched[0]!.init?.headers).toEqual({ authorization: 'Bearer tok' });
    expect(downloaded.map((d) => d.name)).toEqual(['audit.ndjson.gz']);
    expect(await downloaded[0]!.text).toBe('{"seq":1}\n{"seq":2}\n');
  });

  it('browser: a refusal, a server without a JSON body and no server at all are ApiErrors, never a download', async () => {
    const cases: [() => Promise<Response>, object][] = [
      [
        async () =>
          new Response(JSON.stringify({ error: 'audit_broken', message: 'broken at entry 3', seq: 3 }), {
            status: 409,
          }),
        { error: 'audit_broken', seq: 3 },
      ],
      [
        async () => new Response('<html>bad gateway</html>', { status: 502 }),
        { error: 'internal', message: 'the server answered 502' },
      ],
      [
        async () => Promise.reject(new TypeError('fetch failed')),
        { error: 'internal', message: expect.stringMatching(/^network:/) as string },
      ],
    ];
    for (const [answer, body] of cases) {
      const { transport, downloaded } = browser(answer);
      const e = await saveAuditExport({ format: 'jsonl' }, 'a.jsonl', transport).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).body).toMatchObject(body);
      expect(downloaded).toEqual([]);
    }
  });
});
