import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskRestored, diskWith } from '../../helpers/disk.js';
import { errorResult } from '../../../main/core/api.js';
import { verifyAudit } from '../../../main/core/audit/index.js';
import { openReadable } from '../../../main/core/db/open.js';
import { BranchLensService } from '../../../main/core/service.js';
import type { ExplanationDocument } from '../../../shared/explanation.js';
import { demoBundleVersion, holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

let data: string;
let work: string;
let service: BranchLensService;
const applicants = holdoutApplicants(4);

beforeAll(async () => {
  data = tempDir('branchlens-service-data-');
  work = tempDir('branchlens-service-files-');
  service = await BranchLensService.open({ dataDir: data });
});
afterAll(async () => {
  await service?.close();
  removeDir(data);
  removeDir(work);
});

async function reopen(): Promise<void> {
  await service.close();
  service = await BranchLensService.open({ dataDir: data });
}

/** The document without what a cache hit is allowed to change. */
function hitInvariant(doc: ExplanationDocument) {
  const { meta, _meta, ...rest } = doc;
  const { cache: _cache, latency_ms: _latency, ...metaRest } = meta;
  const { watermark: _watermark, ...watermarkRest } = _meta;
  return { ...rest, meta: metaRest, _meta: watermarkRest };
}

interface AuditRow {
  seq: number;
  kind: string;
  model_version: string | null;
  document_id: string | null;
  cache_level: string | null;
  watermark: string | null;
}

/** The audit log's rows, read through a separate read-only connection. */
function auditRows(): AuditRow[] {
  const db = openReadable(data);
  try {
    return db
      .prepare<[], AuditRow>(
        'SELECT seq, kind, model_version, document_id, cache_level, watermark FROM audit_entries ORDER BY seq',
      )
      .all();
  } finally {
    db.close();
  }
}

function auditVerification() {
  const db = openReadable(data);
  try {
    return verifyAudit(db, service.signingKey.publicKey);
  } finally {
    db.close();
  }
}

/** Explains and checks that each answer got its own audit entry, in order, naming the document and its level. */
async function explainAudited(batch: unknown[], options?: object): Promise<ExplanationDocument[]> {
  const before = auditRows().length;
  const docs = await service.explain(batch, options);
  const added = auditRows().slice(before);
  expect(added.map((r) => [r.kind, r.document_id, r.cache_level, r.watermark])).toEqual(
    docs.map((d) => ['explain', d.id, d.meta.cache, d._meta.watermark]),
  );
  return docs;
}

describe('the service’s explanation cache', () => {
  it('answers the same applicant again from memory with the same document, both watermarks valid', async () => {
    const [first] = await explainAudited([applicants[0]]);
    const [again] = await explainAudited([applicants[0]]);
    expect(first!.meta.cache).toBe('miss');
    expect(again!.meta.cache).toBe('memory');
    expect(again!.id).toBe(first!.id);
    expect(again!.created_at).toBe(first!.created_at);
    expect(again!.attributions).toEqual(first!.attributions);
    expect(hitInvariant(again!)).toEqual(hitInvariant(first!));
    expect(again!._meta.watermark).not.toBe(first!._meta.watermark);
    expect(service.verify(first)).toEqual({ ok: true });
    expect(service.verify(again)).toEqual({ ok: true });
  });

  it('answers from disk after the service is reopened on the same data dir', async () => {
    const [first] = await explainAudited([applicants[1]], { locale: 'en' });
    expect(first!.meta.cache).toBe('miss');
    await reopen();
    const [fromDisk] = await explainAudited([applicants[1]], { locale: 'en' });
    expect(fromDisk!.meta.cache).toBe('disk');
    expect(hitInvariant(fromDisk!)).toEqual(hitInvariant(first!));
    expect(service.verify(fromDisk)).toEqual({ ok: true });
    const [fromMemory] = await explainAudited([applicants[1]], { locale: 'en' });
    expect(fromMemory!.meta.cache).toBe('memory');
  });

  it.each([
    ['top_k', { top_k: 3 }],
    ['locale', { locale: 'en' }],
    ['method', { method: 'riemann_middle' }],
    ['detail', { detail: true }],
    ['target', { target: 'bad' }],
  ])('another %s is a miss', async (_name, options) => {
    await explainAudited([applicants[2]]);
    const [base] = await explainAudited([applicants[2]]);
    expect(base!.meta.cache).toBe('memory');
    const [changed] = await explainAudited([applicants[2]], options);
    expect(changed!.meta.cache).toBe('miss');
    expect(changed!.id).not.toBe(base!.id);
    const [repeated] = await explainAudited([applicants[2]], options);
    expect(repeated!.meta.cache).toBe('memory');
    expect(repeated!.id).toBe(changed!.id);
  });

  it('a batch mixes hits and misses, and each answer has its own audit entry', async () => {
    await explainAudited([applicants[0]]);
    const docs = await explainAudited([applicants[0], applicants[3], applicants[0]]);
    expect(docs.map((d) => d.meta.cache)).toEqual(['memory', 'miss', 'memory']);
    expect(docs[2]!.id).toBe(docs[0]!.id);
    const verification = auditVerification();
    expect(verification.ok).toBe(true);
    expect(verification.entries).toBe(auditRows().length);
    expect(auditRows().filter((r) => r.kind === 'explain').length).toBeGreaterThanOrEqual(3);
  });
});

describe('model changes', () => {
  it('activating another version invalidates the cache; rollback returns; each change is audited', async () => {
    const bundle = demoBundleVersion(join(work, 'credit-demo-1.0.1'), '1.0.1');
    const [before] = await explainAudited([applicants[0]]);
    expect(before!.model.version).toBe('1.0.0');

    const imported = await service.importModel(bundle, false);
    expect(imported).toMatchObject({ status: 'installed', activated: false });
    const [unchanged] = await explainAudited([applicants[0]]);
    expect(unchanged!.model).toEqual(before!.model);
    expect(unchanged!.meta.cache).not.toBe('miss');

    const activated = await service.activateModel('credit-demo@1.0.1');
    expect(activated.changed).toBe(true);
    expect(service.model.version).toBe('1.0.1');
    const [after] = await explainAudited([applicants[0]]);
    expect(after!.meta.cache).toBe('miss');
    expect(after!.model.version).toBe('1.0.1');
    expect(after!.model.sha256).not.toBe(before!.model.sha256);
    // Same weights, same key: the same numbers and pseudonyms under the new model identity.
    expect(after!.attributions).toEqual(before!.attributions);

    const rolledBack = await service.rollbackModel();
    expect(rolledBack.model.version).toBe('1.0.0');
    expect(service.model.version).toBe('1.0.0');
    const [back] = await explainAudited([applicants[0]]);
    expect(back!.model).toEqual(before!.model);

    const registry = auditRows()
      .filter((r) => r.kind !== 'explain')
      .map((r) => [r.kind, r.model_version]);
    expect(registry).toEqual([
      ['model_import', '1.0.0'],
      ['model_activate', '1.0.0'],
      ['model_import', '1.0.1'],
      ['model_activate', '1.0.1'],
      ['model_rollback', '1.0.0'],
    ]);
    const verification = auditVerification();
    expect(verification.ok).toBe(true);
    expect(verification.entries).toBe(auditRows().length);
  });
});

describe('an audit write in the service’s own thread that the disk refused', () => {
  it('carries the free space of the data folder, which tells a full disk from a failing one', async () => {
    const audit = service.audit as { appendAll: unknown };
    const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_SHMSIZE' });
    audit.appendAll = () => Promise.reject(io);
    try {
      const refused = await service.explain(holdoutApplicants(40).slice(39)).catch((e: unknown) => e);
      expect(refused).toBe(io);
      expect(refused).toMatchObject({ freeBytes: expect.any(Number) as number });
    } finally {
      delete audit.appendAll;
    }
  });
});

describe('the service whose engine workers all stopped', () => {
  it('reports itself degraded (probes answer 503) while no engine runs, and ok again once one does', async () => {
    const dir = tempDir('branchlens-service-engines-');
    const svc = await BranchLensService.open({ dataDir: dir, workers: 1 });
    type Pool = {
      slots: { worker: { terminate(): Promise<number> }; dead: boolean }[];
      relocate(dir: string): void;
      opts: { bundleDir: string; restartDelayMs?: number };
    };
    const pool = (svc as unknown as { runner: Pool }).runner;
    try {
      expect(svc.health().status).toBe('ok');
      // Its only engine stops, and cannot be started again yet (its model's folder is gone, say): every call is
      // refused as busy, and branch IT's monitoring, or a load balancer's readiness probe, must be told so too.
      const bundleDir = pool.opts.bundleDir;
      pool.relocate(join(dir, 'no-such-folder'));
      await pool.slots[0]!.worker.terminate();
      await expect.poll(() => pool.slots[0]!.dead).toBe(true);
      expect(svc.health()).toMatchObject({ status: 'degraded', database: 'ok' });
      await expect(svc.explain(applicants.slice(0, 1))).rejects.toThrow(/no engine worker is running/);
      // The folder is back: the next try starts an engine, and the service is ready again.
      pool.relocate(bundleDir);
      await expect.poll(() => svc.health().status, { timeout: 15_000, interval: 100 }).toBe('ok');
      expect(await svc.explain(applicants.slice(0, 1))).toHaveLength(1);
    } finally {
      await svc.close();
      removeDir(dir);
    }
  }, 30_000);
});

describe('the service whose disk is full', () => {
  it('reports itself degraded (probes answer 503) while the disk stays full, and ok again once space is freed, with no request', async () => {
    const dir = tempDir('branchlens-service-full-');
    const svc = await BranchLensService.open({ dataDir: dir });
    const db = (svc as unknown as { db: Database.Database }).db;
    try {
      await svc.explain(applicants.slice(0, 1));
      // Little free space alone is no failure (a process running as root writes into the blocks kept for root).
      diskWith(8192);
      expect(svc.health()).toMatchObject({ status: 'ok', database: 'ok' });
      // The disk fills: the database cannot grow, and every answer's audit entry is refused.
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      let refused: unknown;
      for (const applicant of holdoutApplicants(40)) {
        refused = await svc.explain([applicant]).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (refused) break;
      }
      expect(errorResult(refused)).toMatchObject({ status: 503, body: { error: 'storage' } });
      expect(svc.health()).toMatchObject({
        status: 'degraded',
        database: 'full',
        problem: 'the disk holding the database is full (8192 bytes free): free some space on it',
      });
      // Space is freed (the database may grow again): ready again before any request is sent.
      diskRestored();
      db.pragma('max_page_count = 4294967294');
      expect(svc.health()).toMatchObject({ status: 'ok', database: 'ok' });
      expect(svc.health()).not.toHaveProperty('problem');
      expect(await svc.explain(applicants.slice(1, 2))).toHaveLength(1);
    } finally {
      diskRestored();
      await svc.close();
      removeDir(dir);
    }
  });
});
