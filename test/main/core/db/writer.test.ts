// The database writer thread: the audit log's promises and the cache's disk writes, kept on another connection.
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditEntryError,
  listCheckpoints,
  verifyAudit,
  type AuditReceipt,
} from '../../../../main/core/audit/index.js';
import { ExplanationCache, diskCacheOptions } from '../../../../main/core/cache/explanation-cache.js';
import { prepareEntry } from '../../../../main/core/audit/entry.js';
import { dbPath, openReadable, StorageError, storageFailure } from '../../../../main/core/db/open.js';
import { DatabaseWriter, type DatabaseWriterOptions } from '../../../../main/core/db/writer.js';
import { explainInput, modelInput, tempLog, type TempLog } from '../audit/helpers.js';
import { cacheKeyFor, nameOf, sampleDocument } from '../cache/sample-document.js';

const MODEL_A = 'a'.repeat(64);
const MODEL_B = 'b'.repeat(64);

let t: TempLog;
let writer: DatabaseWriter | undefined;

beforeEach(() => {
  t = tempLog();
});
afterEach(async () => {
  await writer?.close();
  writer = undefined;
  t.cleanup();
});

async function start(opts: Partial<DatabaseWriterOptions> = {}): Promise<DatabaseWriter> {
  writer = await DatabaseWriter.start({
    dataDir: t.dir,
    signingKey: t.key,
    cache: diskCacheOptions(),
    ...opts,
  });
  return writer;
}

/** The committed entry with this seq, read on another connection than the writer's. */
function committedHash(seq: number): string | undefined {
  const reader = openReadable(t.dir);
  try {
    return (
      reader.prepare('SELECT entry_hash FROM audit_entries WHERE seq = ?').get(seq) as
        { entry_hash: string } | undefined
    )?.entry_hash;
  } finally {
    reader.close();
  }
}

describe('the audit log on the writer thread', () => {
  it('resolves concurrent appends with consecutive seqs in call order, each once committed', async () => {
    const { audit } = await start({ audit: { maxGroupSize: 64 } });
    const receipts = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        audit.append(explainInput(i)).then((r: AuditReceipt) => {
          expect(committedHash(r.seq)).toBe(r.entryHash);
          return r;
        }),
      ),
    );
    expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 300 });
  });

  it('stamps entries with the appending thread’s clock', async () => {
    const { audit } = await start({ audit: { now: () => new Date('2025-06-01T08:00:00Z') } });
    await expect(audit.append(explainInput(0))).resolves.toMatchObject({
      seq: 1,
      timestamp: '2025-06-01T08:00:00.000Z',
    });
  });

  it('rejects a bad entry alone, as an AuditEntryError; the rest of its group commits', async () => {
    const { audit } = await start();
    const results = await Promise.allSettled([
      audit.append(explainInput(0)),
      audit.append({ ...explainInput(1), prediction: Number.POSITIVE_INFINITY }),
      audit.append(explainInput(2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(AuditEntryError);
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 2 });
  });

  it('rejects every append of a group whose transaction fails, and keeps going afterwards', async () => {
    const { audit } = await start();
    t.db.exec(
      "CREATE TRIGGER fail_once BEFORE INSERT ON audit_entries WHEN NEW.seq = 1 BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    const failed = await Promise.allSettled([audit.append(explainInput(0)), audit.append(explainInput(1))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((failed[0] as PromiseRejectedResult).reason.message).toMatch(/disk full/);
    t.db.exec('DROP TRIGGER fail_once');
    await expect(audit.append(explainInput(2))).resolves.toMatchObject({ seq: 1 });
  });

  it('commits a set of entries whole, larger than a group or not, and none of it when it fails', async () => {
    const { audit } = await start({ audit: { maxGroupSize: 4 } });
    const prepared = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => prepareEntry(explainInput(from + i), new Date()));
    const single = audit.append(explainInput(0));
    const set = audit.appendAll(prepared(1, 6));
    expect((await single).seq).toBe(1);
    const receipts = await set;
    expect(receipts.map((r) => r.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    for (const r of receipts) expect(committedHash(r.seq)).toBe(r.entryHash);

    t.db.exec(
      "CREATE TRIGGER fail_tenth BEFORE INSERT ON audit_entries WHEN NEW.seq = 10 BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    await expect(audit.appendAll(prepared(7, 6))).rejects.toThrow(/disk full/);
    expect(committedHash(8)).toBeUndefined();
    t.db.exec('DROP TRIGGER fail_tenth');
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 7 });
  });

  it('appendSync writes what is queued first, then its own entry, and answers at once', async () => {
    const { audit } = await start();
    const queued = audit.append(explainInput(0));
    const sync = audit.appendSync(modelInput(1));
    expect(sync.seq).toBe(2);
    expect(committedHash(2)).toBe(sync.entryHash);
    await expect(queued).resolves.toMatchObject({ seq: 1 });
    expect(() => audit.appendSync({ ...modelInput(2), kind: 'nonsense' as 'model_import' })).toThrow(
      AuditEntryError,
    );
  });

  it('signs checkpoints every N entries, and on demand never twice for the same head', async () => {
    const { audit } = await start({ audit: { checkpointEvery: 10 } });
    for (let i = 0; i < 25; i++) await audit.append(explainInput(i));
    expect(listCheckpoints(t.db).map((c) => c.seq)).toEqual([10, 20]);
    const forced = audit.checkpoint();
    expect(forced).toMatchObject({ seq: 25, keyId: t.key.id });
    expect(audit.checkpoint()).toEqual(forced);
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, checkpoints: 3 });
  });

  it('flush and close write what is queued; append after close is refused', async () => {
    const { audit } = await start({ audit: { maxDelayMs: 10_000 } });
    const a = audit.append(explainInput(0));
    await audit.flush();
    await expect(a).resolves.toMatchObject({ seq: 1 });
    expect(committedHash(1)).toBeDefined();
    const b = audit.append(explainInput(1));
    await audit.close();
    await expect(b).resolves.toMatchObject({ seq: 2 });
    await expect(audit.append(explainInput(2))).rejects.toThrow(/closed/);
  });

  it('closing the writer commits what was handed over, and later calls fail clearly', async () => {
    const w = await start({ audit: { maxDelayMs: 10_000 } });
    const pending = Array.from({ length: 5 }, (_, i) => w.audit.append(explainInput(i)));
    await w.close();
    await expect(Promise.all(pending)).resolves.toHaveLength(5);
    await expect(w.audit.append(explainInput(5))).rejects.toThrow(/database writer is closed/);
    expect(() => w.audit.checkpoint()).toThrow(/database writer is closed/);
  });

  it('a call the thread does not answer in time is a storage failure, for that call as for every later one', async () => {
    const w = await start({ callTimeoutMs: 300 });
    // Another program holds the database: the thread waits for it (busy_timeout) past the call's time.
    const other = new Database(dbPath(t.dir));
    other.exec('BEGIN EXCLUSIVE');
    try {
      let first: unknown;
      try {
        w.audit.appendSync(modelInput(0));
      } catch (e) {
        first = e;
      }
      expect(first).toBeInstanceOf(StorageError);
      expect(storageFailure(first)).toMatch(/did not answer within 0.3 s: nothing more can be audited/);
      await expect(w.audit.append(explainInput(1))).rejects.toBe(first);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('copies its commits into branchlens.db itself, so a copy of that file alone (without its -wal) holds them', async () => {
    const w = await start({ walCheckpointMs: 50 });
    await Promise.all([1, 2, 3].map((i) => w.audit.append(explainInput(i))));
    const copy = mkdtempSync(join(tmpdir(), 'branchlens-wal-copy-'));
    try {
      // A backup copying the file while the service runs: it holds the entries once a checkpoint ran.
      await expect
        .poll(
          () => {
            copyFileSync(dbPath(t.dir), dbPath(copy));
            const restored = new Database(dbPath(copy), { readonly: true });
            try {
              return (restored.prepare('SELECT count(*) AS n FROM audit_entries').get() as { n: number }).n;
            } finally {
              restored.close();
            }
          },
          { timeout: 5000 },
        )
        .toBe(3);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('refuses to start on a data dir without a BranchLens database', async () => {
    await expect(
      DatabaseWriter.start({ dataDir: `${t.dir}/missing`, signingKey: t.key, cache: diskCacheOptions() }),
    ).rejects.toThrow();
  });
});

describe('the explanation cache’s disk level on the writer thread', () => {
  const diskKeys = () =>
    (t.db.prepare('SELECT key FROM explanation_cache').all() as { key: Buffer }[])
      .map((r) => nameOf(r.key))
      .sort();

  it('writes a turn’s entries in the background, and flush() waits for them', async () => {
    const w = await start();
    const cache = new ExplanationCache(t.db, { writeBehind: true, diskWriter: w.cache });
    for (let i = 0; i < 20; i++) cache.set(cacheKeyFor(`k${i}`), sampleDocument(i), { modelSha256: MODEL_A });
    expect(cache.get(cacheKeyFor('k7'))?.level).toBe('memory');
    cache.flush();
    expect(diskKeys()).toHaveLength(20);
    // Another cache on the same database (a restarted service) finds them on disk, identical.
    const again = new ExplanationCache(t.db).get(cacheKeyFor('k7'));
    expect(again?.level).toBe('disk');
    expect(again?.value).toEqual(sampleDocument(7));
  });

  it('writes in the background without being asked', async () => {
    const w = await start();
    const cache = new ExplanationCache(t.db, { writeBehind: true, diskWriter: w.cache });
    cache.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    await expect.poll(diskKeys, { timeout: 5000 }).toEqual(['k1']);
  });

  it('invalidates and prunes on the writer, pending writes included', async () => {
    let time = Date.UTC(2025, 0, 1);
    const w = await start({ cache: { ...diskCacheOptions(), ttlMs: 60_000 } });
    const cache = new ExplanationCache(t.db, {
      writeBehind: true,
      diskWriter: w.cache,
      diskTtlMs: 60_000,
      now: () => time,
    });
    cache.set(cacheKeyFor('a1'), sampleDocument(1, MODEL_A), { modelSha256: MODEL_A });
    cache.set(cacheKeyFor('b1'), sampleDocument(2, MODEL_B), { modelSha256: MODEL_B });
    cache.set(cacheKeyFor('b2'), sampleDocument(3, MODEL_B), { modelSha256: MODEL_B, longTerm: true });
    cache.invalidate(MODEL_B);
    expect(diskKeys()).toEqual(['b1', 'b2']);
    expect(cache.get(cacheKeyFor('a1'))).toBeUndefined();
    time += 2 * 60_000;
    expect(cache.prune()).toEqual({ expired: 1, evicted: 0 });
    expect(diskKeys()).toEqual(['b2']);
    expect(cache.stats()).toMatchObject({ diskEntries: 1 });
  });
});
