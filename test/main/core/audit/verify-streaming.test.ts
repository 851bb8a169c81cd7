// verifyAudit reads the checkpoints with a cursor of their own, in seq order alongside the entries, so its memory
// does not grow with the log; verifyAuditAsync checks their signatures in the thread pool, with the same verdicts.
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appendEntries } from '../../../../main/core/audit/append.js';
import { verifyAudit, verifyAuditAsync, type AuditProgress } from '../../../../main/core/audit/verify.js';
import { explainInput, rewriteSuffix, tamper, tempLog, type TempLog } from './helpers.js';

let t: TempLog;
const BASE = Date.parse('2026-03-10T00:00:00.000Z');
const at = (i: number) => new Date(BASE + i * 2 * 60_000);

beforeEach(() => {
  t = tempLog();
  // A branch's pace: a checkpoint every 10 minutes, i.e. every 6 entries.
  for (let i = 0; i < 300; i++) appendEntries(t.db, [explainInput(i)], { signingKey: t.key, now: at(i) });
});
afterEach(() => {
  vi.restoreAllMocks();
  t.cleanup();
});

describe('verifyAudit’s checkpoints', () => {
  it('are never all read into memory at once', () => {
    const statementProto = Object.getPrototypeOf(t.db.prepare('SELECT 1')) as Database.Statement;
    const all = statementProto.all;
    let most = 0;
    vi.spyOn(statementProto, 'all').mockImplementation(function (this: Database.Statement, ...args) {
      const rows = all.apply(this, args) as unknown[];
      if (this.source.includes('audit_checkpoints')) most = Math.max(most, rows.length);
      return rows;
    });
    const v = verifyAudit(t.db, t.key.publicKey);
    expect(v).toMatchObject({ ok: true, entries: 300 });
    expect(v.checkpoints).toBeGreaterThan(40);
    expect(most).toBeLessThanOrEqual(1);
  });

  it('are judged alike in the thread pool (verifyAuditAsync) and here, intact or tampered with', async () => {
    const same = async () =>
      expect(await verifyAuditAsync(t.db, t.key.publicKey, { otherKeys: 'chain-only' })).toEqual(
        verifyAudit(t.db, t.key.publicKey, { otherKeys: 'chain-only' }),
      );
    await same();
    tamper(t.dir, (raw) =>
      raw
        .prepare(
          'DELETE FROM audit_checkpoints WHERE seq = (SELECT max(seq) FROM audit_checkpoints WHERE seq < 200)',
        )
        .run(),
    );
    await same();
    tamper(t.dir, (raw) =>
      raw
        .prepare(
          "UPDATE audit_checkpoints SET created_at = '2026-03-10T01:00:00.000Z' WHERE seq = (SELECT min(seq) FROM audit_checkpoints WHERE seq > 100)",
        )
        .run(),
    );
    await same();
    tamper(t.dir, (raw) => rewriteSuffix(raw, 50, 0.25));
    await same();
    expect(verifyAudit(t.db, t.key.publicKey).ok).toBe(false);
  });

  it('report progress every 4,096 entries', async () => {
    appendEntries(
      t.db,
      Array.from({ length: 5000 }, (_, i) => explainInput(300 + i)),
      {
        signingKey: t.key,
        now: at(300),
      },
    );
    const seen: AuditProgress[] = [];
    expect(verifyAudit(t.db, t.key.publicKey, { onProgress: (p) => seen.push(p) }).ok).toBe(true);
    expect(seen).toEqual([{ done: 4096, total: 5300 }]);
    const async: AuditProgress[] = [];
    await verifyAuditAsync(t.db, t.key.publicKey, { onProgress: (p) => async.push(p) });
    expect(async).toEqual(seen);
  });
});
