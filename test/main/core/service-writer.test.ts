// The service with its audit log and cache disk level on the database writer thread (as with worker engines).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReadable, openWritable } from '../../../main/core/db/open.js';
import { errorResult } from '../../../main/core/api.js';
import { BranchLensService } from '../../../main/core/service.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

let data: string;
let service: BranchLensService;
const applicants = holdoutApplicants(3);
const open = () => BranchLensService.open({ dataDir: data, writer: 'thread' });

beforeAll(async () => {
  data = tempDir('branchlens-writer-service-');
  service = await open();
});
afterAll(async () => {
  await service?.close();
  removeDir(data);
});

interface AuditRow {
  kind: string;
  document_id: string | null;
  cache_level: string | null;
  input_hash: string | null;
  watermark: string | null;
  prediction: number | null;
  top_attributions: string | null;
}

function auditRows(): AuditRow[] {
  const db = openReadable(data);
  try {
    return db
      .prepare(
        `SELECT kind, document_id, cache_level, input_hash, watermark, prediction, top_attributions
         FROM audit_entries ORDER BY seq`,
      )
      .all() as never;
  } finally {
    db.close();
  }
}

describe('the service with a database writer thread', () => {
  it('audits the demo model’s installation through the writer', () => {
    expect(auditRows().map((r) => r.kind)).toEqual(['model_import', 'model_activate']);
  });

  it('returns each answer only once its audit entry is committed, hits and misses alike', async () => {
    const before = auditRows().length;
    const first = await service.explain([applicants[0], applicants[1]]);
    const second = await service.explain([applicants[0], applicants[2]]);
    const added = auditRows().slice(before);
    expect(added.map((r) => [r.document_id, r.cache_level])).toEqual(
      [...first, ...second].map((d) => [d.id, d.meta.cache]),
    );
    expect(second.map((d) => d.meta.cache)).toEqual(['memory', 'miss']);
    expect(second[0]!.id).toBe(first[0]!.id);
    for (const doc of [...first, ...second]) expect(service.verify(doc)).toEqual({ ok: true });
  });

  it('finds its answers on disk after a restart, and the log verifies', async () => {
    const [miss] = await service.explain([applicants[2]], { locale: 'en' });
    await service.close();
    service = await open();
    const [fromDisk] = await service.explain([applicants[2]], { locale: 'en' });
    expect(fromDisk!.meta.cache).toBe('disk');
    expect(fromDisk!.id).toBe(miss!.id);
    expect(service.verify(fromDisk)).toEqual({ ok: true });
    expect(service.cacheStats()).toMatchObject({ diskHits: 1 });
    // The disk hit's entry: its own cache level and watermark, the miss's input hash and content.
    const [missRow, diskRow] = auditRows().filter((r) => r.document_id === miss!.id);
    expect(diskRow).toEqual({
      ...missRow,
      cache_level: 'disk',
      watermark: fromDisk!._meta.watermark,
    });
    expect(missRow!.watermark).toBe(miss!._meta.watermark);
    await expect(service.auditVerify()).resolves.toMatchObject({ ok: true, entries: auditRows().length });
  });

  it('audits a request larger than a commit group whole, or on a storage failure none of it', async () => {
    // More applicants than the writer's group of 256 entries, and a failure near the request's end.
    const many = holdoutApplicants(300);
    const before = auditRows().length;
    const db = openWritable(data);
    try {
      db.exec(
        `CREATE TRIGGER fail_late BEFORE INSERT ON audit_entries WHEN NEW.seq = ${before + 280}
         BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
      );
      await expect(service.explain(many)).rejects.toThrow(/disk full/);
      expect(auditRows().length).toBe(before);
      db.exec('DROP TRIGGER fail_late');
    } finally {
      db.close();
    }
    const answers = await service.explain(many);
    expect(
      auditRows()
        .slice(before)
        .map((r) => r.document_id),
    ).toEqual(answers.map((d) => d.id));
    await expect(service.auditVerify()).resolves.toMatchObject({ ok: true, entries: before + 300 });
  });
});

describe('the service whose database writer thread stopped', () => {
  it('reports the database as failing (degraded, so probes answer 503) and refuses answers it cannot audit', async () => {
    const dir = tempDir('branchlens-writer-stopped-');
    const svc = await BranchLensService.open({ dataDir: dir, writer: 'thread' });
    try {
      await svc.explain(applicants.slice(0, 1));
      expect(svc.health()).toMatchObject({ status: 'ok', database: 'ok' });
      // The thread ends as a crash would end it (the writer is not restarted).
      const { worker } = (svc as unknown as { writer: { worker: Worker } }).writer;
      await worker.terminate();
      await expect.poll(() => svc.health().database).toBe('error');
      expect(svc.health().status).toBe('degraded');
      const refused = await svc.explain(applicants.slice(1, 2)).catch((e: unknown) => e);
      expect((refused as Error).message).toMatch(/database writer stopped/);
      // Over HTTP and IPC: a 503 saying the storage failed and nothing was decided, not "internal error".
      expect(errorResult(refused)).toMatchObject({
        status: 503,
        body: {
          error: 'storage',
          message: expect.stringMatching(
            /^the database writer stopped: nothing more can be audited until BranchLens restarts; nothing was decided or recorded$/,
          ) as string,
        },
      });
    } finally {
      await svc.close().catch(() => {});
      removeDir(dir);
    }
  });
});

describe('the service whose database file was deleted or replaced while it ran', () => {
  // SQLite in WAL mode writes on into a file unlinked (or renamed over) under it: every answer after that would be
  // audited into a file no one can open again, and lost with it when BranchLens stops.
  it.each(['thread', 'inline'] as const)(
    'refuses answers it could only audit into the lost file, and reports the database as failing (%s writer)',
    async (writer) => {
      for (const replace of [false, true]) {
        const dir = tempDir('branchlens-db-moved-');
        const svc = await BranchLensService.open({ dataDir: dir, writer });
        try {
          await svc.explain(applicants.slice(0, 1));
          for (const suffix of ['', '-wal', '-shm'])
            rmSync(join(dir, `branchlens.db${suffix}`), { force: true });
          // A backup restored by renaming it over the file is a different file too.
          if (replace) openWritable(dir).close();
          const refused = await svc.explain(applicants.slice(1, 2)).catch((e: unknown) => e);
          expect(errorResult(refused)).toEqual({
            ok: false,
            status: 503,
            body: {
              error: 'storage',
              message: expect.stringMatching(
                /^the database file was deleted or replaced while BranchLens ran \(SQLITE_READONLY_DBMOVED\): put it back and restart BranchLens; nothing was decided or recorded$/,
              ) as string,
            },
          });
          expect(svc.health()).toMatchObject({ status: 'degraded', database: 'error' });
        } finally {
          await svc.close().catch(() => {});
          removeDir(dir);
        }
      }
    },
  );
});
