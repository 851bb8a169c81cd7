// Saving an audit export from the page: through the desktop bridge, which streams it into a file in the main
// process, or as a browser download of GET /api/app/auditExport; never the inline auditExport method.
import { describe, expect, it } from 'vitest';
import { saveAuditExport, type AuditExportTransport } from '../../renderer/src/api/audit-export.js';
import type { BranchLensBridge, ExportResult } from '../../shared/bridge.js';
import { API_REQUESTS, ApiError, type ApiRequest } from '../../shared/contract.js';
import { auditExportRequest, exportDatesReversed } from '../../renderer/src/pages/audit/audit-query.js';
import { auditExportName } from '../../renderer/src/pages/audit/export-name.js';

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

/** Runs `body` with the process's local time zone set to `zone` (Node reads TZ afresh when it changes). */
function inZone<R>(zone: string, body: () => R): R {
  const tz = process.env.TZ;
  process.env.TZ = zone;
  try {
    return body();
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
}

describe("the Audit page's export form", () => {
  const form = { format: 'jsonl' as const, gzip: false, since: '', until: '' };

  it('asks for a month from its first local midnight to the next month’s, the until day included', () => {
    inZone('Asia/Shanghai', () => {
      const request = auditExportRequest({ ...form, since: '2026-11-01', until: '2026-11-30' });
      expect(request).toEqual({
        format: 'jsonl',
        gzip: false,
        since: '2026-11-01T00:00:00.000+08:00',
        // `until` is exclusive: the end of 30 November is 1 December's midnight, not 23:59:59.999, which would
        // leave out an entry stamped in the day's last millisecond.
        until: '2026-12-01T00:00:00.000+08:00',
      });
      expect(API_REQUESTS.auditExport.safeParse(request).success).toBe(true);
      // One month's until is the next one's since: adjacent exports share no entry and miss none.
      expect(auditExportRequest({ ...form, until: '2026-11-30' }).until).toBe(
        auditExportRequest({ ...form, since: '2026-12-01' }).since,
      );
      // One day: since and until the same day is that whole day, which the contract accepts.
      const day = auditExportRequest({ ...form, since: '2026-11-30', until: '2026-11-30' });
      expect(Date.parse(day.until!) - Date.parse(day.since!)).toBe(86_400_000);
      expect(API_REQUESTS.auditExport.safeParse(day).success).toBe(true);
    });
  });

  it('gives each end the offset of its own instant, across a change of summer time and a year', () => {
    inZone('America/New_York', () => {
      // Summer time ends at 02:00 on 1 November 2026: the day before ends at -04:00, the day itself at -05:00.
      expect(auditExportRequest({ ...form, since: '2026-10-01', until: '2026-10-31' })).toMatchObject({
        since: '2026-10-01T00:00:00.000-04:00',
        until: '2026-11-01T00:00:00.000-04:00',
      });
      expect(auditExportRequest({ ...form, until: '2026-11-01' }).until).toBe(
        '2026-11-02T00:00:00.000-05:00',
      );
      expect(auditExportRequest({ ...form, until: '2026-12-31' }).until).toBe(
        '2027-01-01T00:00:00.000-05:00',
      );
    });
  });

  it('leaves out an end that is not given, and keeps the format and gzip', () => {
    inZone('Asia/Shanghai', () => {
      expect(auditExportRequest({ ...form, format: 'csv', gzip: true })).toEqual({
        format: 'csv',
        gzip: true,
      });
      expect(auditExportRequest({ ...form, until: '2026-11-30' })).toEqual({
        format: 'jsonl',
        gzip: false,
        until: '2026-12-01T00:00:00.000+08:00',
      });
    });
  });

  it('tells an until day before the since day, and only then', () => {
    expect(exportDatesReversed({ since: '2026-12-01', until: '2026-11-30' })).toBe(true);
    expect(exportDatesReversed({ since: '2026-11-30', until: '2026-11-30' })).toBe(false);
    expect(exportDatesReversed({ since: '2026-12-01', until: '' })).toBe(false);
    expect(exportDatesReversed({ since: '', until: '2026-11-30' })).toBe(false);
  });

  it('names the file by its range, with the time of the export as the end of a range not over yet', () => {
    inZone('Asia/Shanghai', () => {
      const at = new Date(2026, 11, 1, 9, 30, 5); // 1 December 2026, 09:30:05 local
      const name = (since: string, until: string, gzip = false) =>
        auditExportName('jsonl', gzip, at, { since, until });
      expect(name('2026-11-01', '2026-11-30')).toBe('branchlens-audit-2026-11-01-to-2026-11-30.jsonl');
      expect(name('2026-11-01', '2026-11-30', true)).toBe(
        'branchlens-audit-2026-11-01-to-2026-11-30.jsonl.gz',
      );
      expect(name('', '2026-11-30')).toBe('branchlens-audit-to-2026-11-30.jsonl');
      expect(name('2026-11-01', '')).toBe('branchlens-audit-2026-11-01-to-2026-12-01_09-30-05.jsonl');
      // Today's entries so far, not the whole day: the name ends at the time of the export.
      expect(name('2026-11-01', '2026-12-01')).toBe(
        'branchlens-audit-2026-11-01-to-2026-12-01_09-30-05.jsonl',
      );
      expect(name('', '')).toBe('branchlens-audit-2026-12-01_09-30-05.jsonl');
    });
  });

  it('sends the range over both transports: the download link and the desktop bridge', async () => {
    await inZone('Asia/Shanghai', async () => {
      const request = auditExportRequest({ ...form, since: '2026-11-01', until: '2026-11-30' });
      const { transport, fetched } = browser(async () => new Response('', { status: 200 }));
      await saveAuditExport(request, 'a.jsonl', transport);
      expect(Object.fromEntries(new URL(fetched[0]!.url).searchParams)).toEqual({
        format: 'jsonl',
        since: '2026-11-01T00:00:00.000+08:00',
        until: '2026-12-01T00:00:00.000+08:00',
      });
      const { bridge, asked } = bridgeAnswering({ ok: true, value: { path: '/docs/a.jsonl', entries: 3 } });
      await saveAuditExport(request, 'a.jsonl', {
        bridge,
        base: 'app://branchlens/',
        download: () => undefined,
      });
      expect(asked[0]![1]).toEqual(request);
      // What the main process receives is checked by the same contract there (ipc-adapter.ts).
      expect(API_REQUESTS.auditExport.parse(asked[0]![1])).toMatchObject({ until: request.until });
    });
  });
});
