import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AuditLog,
  checkpointIfDue,
  listCheckpoints,
  verifyAudit,
  type AuditReceipt,
} from '../../../../main/core/audit/index.js';
import { prepareEntry } from '../../../../main/core/audit/entry.js';
import { openReadable, type ReadableDb } from '../../../../main/core/db/open.js';
import { explainInput, modelInput, tempLog, type TempLog } from './helpers.js';

describe('AuditLog group commit', () => {
  let t: TempLog;
  let log: AuditLog;
  beforeEach(() => {
    t = tempLog();
  });
  afterEach(async () => {
    await log?.close();
    t.cleanup();
  });

  it('writes concurrent appends in shared transactions, with consecutive seqs in call order', async () => {
    log = new AuditLog(t.db, t.key, { maxGroupSize: 200 });
    const transactions = vi.spyOn(t.db, 'transaction');
    const receipts = await Promise.all(Array.from({ length: 500 }, (_, i) => log.append(explainInput(i))));
    expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(transactions.mock.calls.length).toBe(3); // 200 + 200 + 100
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 500 });
  });

  it('waits up to maxDelayMs for companions', async () => {
    log = new AuditLog(t.db, t.key, { maxDelayMs: 30 });
    const transactions = vi.spyOn(t.db, 'transaction');
    const first = log.append(explainInput(0));
    await new Promise((r) => setTimeout(r, 5));
    const second = log.append(explainInput(1));
    await Promise.all([first, second]);
    expect(transactions.mock.calls.length).toBe(1);
  });

  it('resolves an append only once its entry is committed and visible to other connections', async () => {
    log = new AuditLog(t.db, t.key);
    const reader: ReadableDb = openReadable(t.dir);
    try {
      const seen = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          log.append(explainInput(i)).then((r: AuditReceipt) => {
            const row = reader.prepare('SELECT entry_hash FROM audit_entries WHERE seq = ?').get(r.seq) as
              { entry_hash: string } | undefined;
            return row?.entry_hash === r.entryHash;
          }),
        ),
      );
      expect(seen.every(Boolean)).toBe(true);
    } finally {
      reader.close();
    }
  });

  it('rejects a bad entry alone; the rest of its group commits', async () => {
    log = new AuditLog(t.db, t.key);
    const results = await Promise.allSettled([
      log.append(explainInput(0)),
      log.append({ ...explainInput(1), prediction: Number.POSITIVE_INFINITY }),
      log.append(explainInput(2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 2 });
  });

  it('rejects every append of a group whose transaction fails, and keeps going afterwards', async () => {
    log = new AuditLog(t.db, t.key);
    t.db.exec(
      "CREATE TEMP TRIGGER fail_once BEFORE INSERT ON audit_entries WHEN NEW.seq = 1 BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    const failed = await Promise.allSettled([log.append(explainInput(0)), log.append(explainInput(1))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    t.db.exec('DROP TRIGGER fail_once');
    await expect(log.append(explainInput(2))).resolves.toMatchObject({ seq: 1 });
  });

  const prepared = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => prepareEntry(explainInput(from + i), new Date()));

  it('commits a set of entries in one transaction with its neighbours, never split over groups', async () => {
    log = new AuditLog(t.db, t.key, { maxGroupSize: 4 });
    const transactions = vi.spyOn(t.db, 'transaction');
    const first = log.append(explainInput(0));
    const set = log.appendAll(prepared(1, 3)); // 1 + 3 fit one group of 4
    const big = log.appendAll(prepared(4, 6)); // larger than a group: alone, whole
    const last = log.append(explainInput(10));
    expect((await first).seq).toBe(1);
    expect((await set).map((r) => r.seq)).toEqual([2, 3, 4]);
    expect((await big).map((r) => r.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect((await last).seq).toBe(11);
    expect(transactions.mock.calls.length).toBe(3);
    await expect(log.appendAll([])).resolves.toEqual([]);
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 11 });
  });

  it('writes none of a set whose transaction fails, even a set larger than a group', async () => {
    log = new AuditLog(t.db, t.key, { maxGroupSize: 4 });
    t.db.exec(
      "CREATE TEMP TRIGGER fail_seventh BEFORE INSERT ON audit_entries WHEN NEW.seq = 7 BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    await expect(log.appendAll(prepared(0, 10))).rejects.toThrow(/disk full/);
    expect(t.db.prepare('SELECT count(*) AS n FROM audit_entries').get()).toEqual({ n: 0 });
    t.db.exec('DROP TRIGGER fail_seventh');
    await expect(log.appendAll(prepared(10, 2))).resolves.toMatchObject([{ seq: 1 }, { seq: 2 }]);
  });

  it('appendSync writes what is queued first, then its own entry', async () => {
    log = new AuditLog(t.db, t.key);
    const queued = log.append(explainInput(0));
    const sync = log.appendSync(modelInput(1));
    expect(sync.seq).toBe(2);
    await expect(queued).resolves.toMatchObject({ seq: 1 });
  });

  it('flush and close write what is queued; append after close is refused', async () => {
    log = new AuditLog(t.db, t.key, { maxDelayMs: 10_000 });
    const a = log.append(explainInput(0));
    await log.flush();
    await expect(a).resolves.toMatchObject({ seq: 1 });
    const b = log.append(explainInput(1));
    await log.close();
    await expect(b).resolves.toMatchObject({ seq: 2 });
    await expect(log.append(explainInput(2))).rejects.toThrow(/closed/);
  });
});

describe('checkpoints', () => {
  let t: TempLog;
  beforeEach(() => {
    t = tempLog();
  });
  afterEach(() => t.cleanup());

  it('are signed every N entries', async () => {
    const log = new AuditLog(t.db, t.key, { checkpointEvery: 10 });
    for (let i = 0; i < 35; i++) await log.append(explainInput(i));
    await log.close();
    expect(listCheckpoints(t.db).map((c) => [c.seq, c.count])).toEqual([
      [10, 10],
      [20, 20],
      [30, 30],
    ]);
  });

  it('are signed once the oldest unsigned entry is T old', async () => {
    let now = Date.parse('2025-06-01T08:00:00Z');
    const log = new AuditLog(t.db, t.key, { checkpointIntervalMs: 10 * 60_000, now: () => new Date(now) });
    for (let i = 0; i < 3; i++) await log.append(explainInput(i));
    now += 9 * 60_000;
    await log.append(explainInput(3));
    expect(listCheckpoints(t.db)).toHaveLength(0);
    now += 60_000;
    await log.append(explainInput(4));
    expect(listCheckpoints(t.db).map((c) => [c.seq, c.createdAt])).toEqual([[5, '2025-06-01T08:10:00.000Z']]);
    await log.close();
  });

  it('cover a quiet tail once it is T old, without a further append', () => {
    const log = new AuditLog(t.db, t.key, { now: () => new Date('2025-06-01T08:00:00Z') });
    log.appendSync(explainInput(0));
    const policy = { every: 1000, intervalMs: 10 * 60_000 };
    expect(checkpointIfDue(t.db, t.key, policy, new Date('2025-06-01T08:05:00Z'))).toBeUndefined();
    expect(checkpointIfDue(t.db, t.key, policy, new Date('2025-06-01T08:10:00Z'))).toMatchObject({ seq: 1 });
    void log.close();
  });

  it('can be forced at the head, and never twice for the same head', async () => {
    const log = new AuditLog(t.db, t.key);
    await log.append(explainInput(0));
    const c = log.checkpoint();
    expect(c).toMatchObject({ seq: 1, keyId: t.key.id });
    expect(log.checkpoint()).toEqual(c);
    expect(listCheckpoints(t.db)).toHaveLength(1);
    await log.close();
  });
});
