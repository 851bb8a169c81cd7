// auditPage's lookup through the contract's handlers over a real service: the printout's document id (or the
// 8 hex digits the result shows, typed in capitals) lists every serving of that decision, cache hits included;
// bad input is a 400 naming the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHandlers, dispatch } from '../../../main/core/api.js';
import { BranchLensService } from '../../../main/core/service.js';
import type { AuditEntryView } from '../../../shared/contract.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

let data: string;
let service: BranchLensService;
let documentId: string;

beforeAll(async () => {
  data = tempDir('branchlens-api-lookup-');
  service = await BranchLensService.open({ dataDir: data, workers: 0 });
  const [applicant, other] = holdoutApplicants(2);
  documentId = (await service.explain([applicant!], {}))[0]!.id;
  await service.explain([other!], {});
  // This morning's decision served again from the cache: the same document, audited once more.
  await service.explain([applicant!], {});
});
afterAll(async () => {
  await service?.close();
  removeDir(data);
});

async function page(body: Record<string, unknown>): Promise<AuditEntryView[]> {
  const r = await dispatch(apiHandlers(service), 'auditPage', body);
  if (!r.ok) throw new Error(JSON.stringify(r.body));
  return (r.body as { entries: AuditEntryView[] }).entries;
}

describe('auditPage looking a decision up', () => {
  it('lists every serving of a document by its id, the cache hit and the first computation', async () => {
    const entries = await page({ document_id: documentId });
    expect(entries.map((e) => [e.document_id, e.cache_level])).toEqual([
      [documentId, 'memory'],
      [documentId, 'miss'],
    ]);
  });

  it('finds it by the 8 hex digits the result shows, typed in capitals', async () => {
    const entries = await page({ document_id: documentId.slice(0, 8).toUpperCase() });
    expect(entries.map((e) => e.document_id)).toEqual([documentId, documentId]);
  });

  it('finds an entry by its seq', async () => {
    const [newest] = await page({ limit: 1 });
    expect((await page({ seq: newest!.seq })).map((e) => e.entry_hash)).toEqual([newest!.entry_hash]);
  });

  it.each([
    [
      { document_id: 'not-a-doc-id' },
      'document_id',
      'must be a document id: hex digits 0-9 and a-f, dashes allowed',
    ],
    [{ document_id: 'abc123' }, 'document_id', expect.stringContaining('at least 8 hex digits') as string],
    [{ seq: -1 }, 'seq', 'must be 1 or more (seqs start at 1)'],
  ])('refuses %j with a 400 naming %s', async (body, field, message) => {
    const r = await dispatch(apiHandlers(service), 'auditPage', body);
    expect(r).toMatchObject({ ok: false, status: 400, body: { error: 'invalid_request' } });
    if (r.ok || r.body.error !== 'invalid_request') throw new Error(JSON.stringify(r));
    expect(r.body.problems).toEqual([{ field, code: 'invalid', message }]);
    expect(r.body.message).toContain(field);
  });
});
