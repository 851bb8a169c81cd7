// The contract's handlers over a real service: auditExport answers an export inline only up to its bound, and
// refuses a larger one with a problem that says how to get it, without holding it whole.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiHandlers, dispatch, dispatchExplainJson } from '../../../main/core/api.js';
import type { ExplanationDocument } from '../../../shared/explanation.js';
import { BranchLensService } from '../../../main/core/service.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

let data: string;
let service: BranchLensService;

beforeAll(async () => {
  data = tempDir('branchlens-api-');
  service = await BranchLensService.open({ dataDir: data, workers: 0 });
  await service.explain(holdoutApplicants(20), {});
});
afterAll(async () => {
  await service?.close();
  removeDir(data);
});

describe('auditExport answered inline', () => {
  it('returns an export within the bound whole', async () => {
    const r = await dispatch(apiHandlers(service), 'auditExport', { format: 'jsonl' });
    if (!r.ok) throw new Error(JSON.stringify(r.body));
    const body = r.body as { content: string; entries: number };
    expect(body.content.trim().split('\n').length).toBeGreaterThan(body.entries);
    expect(body.entries).toBeGreaterThanOrEqual(20);
  });

  it('refuses an export above the bound with a 400 saying how to get it, and keeps serving', async () => {
    const full = await dispatch(apiHandlers(service), 'auditExport', { format: 'jsonl' });
    const size = Buffer.byteLength((full.ok && (full.body as { content: string }).content) || '');
    const bounded = apiHandlers(service, { maxInlineExportBytes: Math.floor(size / 4) });
    for (const gzip of [false, true]) {
      const r = await dispatch(bounded, 'auditExport', { format: 'jsonl', gzip });
      expect(r.status).toBe(400);
      if (r.ok || r.body.error !== 'invalid_request') throw new Error(JSON.stringify(r));
      expect(r.body.problems).toEqual([expect.objectContaining({ field: 'since', code: 'out_of_range' })]);
      expect(r.body.problems[0]?.message).toMatch(/GET \/api\/app\/auditExport/);
      expect(r.body.problems[0]?.message).toMatch(/audit export --out/);
    }
    // A narrower range fits, and the log is intact after the refusals.
    const recent = await dispatch(bounded, 'auditExport', {
      format: 'jsonl',
      since: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(recent.status).toBe(200);
    expect((await service.auditVerify()).ok).toBe(true);
  });
});

describe('a write in the service’s thread that the disk refused', () => {
  it('carries the free space of the data folder, which tells a full disk from a failing one', async () => {
    const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
    const settings = vi.spyOn(service, 'updateSettings').mockRejectedValue(io);
    try {
      const r = await dispatch(apiHandlers(service), 'updateSettings', { top_k: 4 });
      expect(r).toMatchObject({ ok: false, status: 503, body: { error: 'storage' } });
      expect(io).toMatchObject({ freeBytes: expect.any(Number) as number });
    } finally {
      settings.mockRestore();
    }
  });
});

describe('explain with some options given', () => {
  it('takes the branch settings for the options the request leaves out, not the schema defaults', async () => {
    const before = service.getSettings();
    service.updateSettings({ top_k: 3, n_steps: 64, locale: 'en', method: 'riemann_trapezoid' });
    try {
      const params = async (options: Record<string, unknown>) => {
        const r = await dispatch(apiHandlers(service), 'explain', {
          applicants: holdoutApplicants(1),
          options,
        });
        if (!r.ok) throw new Error(JSON.stringify(r.body));
        const doc = (r.body as { documents: ExplanationDocument[] }).documents[0]!;
        return { ...doc.meta.explanation.params, locale: doc.meta.locale };
      };
      // Only the language given: top-K, steps and method are the branch's.
      expect(await params({ locale: 'zh-CN' })).toMatchObject({
        locale: 'zh-CN',
        top_k: 3,
        n_steps: 64,
        method: 'riemann_trapezoid',
      });
      // Only top-K given: the branch's language, steps and method.
      expect(await params({ top_k: 2 })).toMatchObject({
        locale: 'en',
        top_k: 2,
        n_steps: 64,
        method: 'riemann_trapezoid',
      });
      // The HTTP path (documents as text) reads the request the same way.
      const r = await dispatchExplainJson(service, {
        applicants: holdoutApplicants(1),
        options: { top_k: 2 },
      });
      if (!r.ok) throw new Error(JSON.stringify(r.body));
      const doc = JSON.parse(r.json) as { documents: ExplanationDocument[] };
      expect(doc.documents[0]!.meta).toMatchObject({
        locale: 'en',
        explanation: { params: { top_k: 2, n_steps: 64, method: 'riemann_trapezoid' } },
      });
    } finally {
      service.updateSettings(before);
    }
  });
});
