// An export of a range is checked without walking the whole log: from the last checkpoint before the range to the
// first checkpoint of this key at or after its end, and the run after the last checkpoint (the head it signs).
// A break there refuses it as before; a break elsewhere does not, and `audit verify` still finds it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AuditBrokenError,
  exportAudit,
  verifyAudit,
  verifyExport,
} from '../../../../main/core/audit/index.js';
import { appendEntries } from '../../../../main/core/audit/append.js';
import { readStatements, type EntryRow } from '../../../../main/core/audit/store.js';
import { verifyAuditInThread } from '../../../../main/core/audit/verify-in-thread.js';
import { explainInput, rewriteSuffix, tamper, tempLog, type TempLog } from './helpers.js';

let t: TempLog;
const BASE = Date.parse('2026-03-10T00:00:00.000Z');
const MINUTE = 60_000;
/** 600 entries two minutes apart, as a branch logs them: a checkpoint every 10 minutes (every 6 entries). */
const ENTRIES = 600;
const at = (i: number) => new Date(BASE + i * 2 * MINUTE);

beforeEach(() => {
  t = tempLog();
  for (let i = 0; i < ENTRIES; i++) {
    appendEntries(t.db, [explainInput(i)], { signingKey: t.key, now: at(i) });
  }
  // The last run: three entries no checkpoint covers yet.
  for (let i = ENTRIES; i < ENTRIES + 3; i++) appendEntries(t.db, [explainInput(i)], { now: at(i) });
});
afterEach(() => {
  vi.restoreAllMocks();
  t.cleanup();
});

/** Entries 301–360: since at(300), until at(360). */
const RANGE = { since: at(300), until: at(360) };
const checkpointSeqs = () =>
  (t.db.prepare('SELECT seq FROM audit_checkpoints ORDER BY seq').all() as { seq: number }[]).map(
    (r) => r.seq,
  );

/** The seqs the walk reads (readStatements' entriesFrom, the statement verifyAudit walks with). */
function spyOnWalk(): number[] {
  const read: number[] = [];
  const statement = readStatements(t.db).entriesFrom;
  const iterate = statement.iterate.bind(statement);
  vi.spyOn(statement, 'iterate').mockImplementation(function* (from: number) {
    for (const row of iterate(from)) {
      read.push(row[0] as number);
      yield row as EntryRow;
    }
  } as typeof statement.iterate);
  return read;
}

const exportRange = (file: string) =>
  exportAudit(t.db, { format: 'jsonl', out: join(t.dir, file), signingKey: t.key, ...RANGE });

describe('the check before a range export', () => {
  it('reads no entry outside the checkpoints around the range and the last run', async () => {
    const cps = checkpointSeqs();
    const before = cps.filter((s) => s < 301).at(-1)!;
    const after = cps.find((s) => s >= 360)!;
    const last = cps.at(-1)!;
    const read = spyOnWalk();
    const summary = await exportRange('day.jsonl');
    expect(summary).toMatchObject({ firstSeq: 301, lastSeq: 360 });
    expect(read.length).toBeGreaterThan(0);
    const outside = read.filter((s) => !(s > before && s <= after) && !(s > last && s <= ENTRIES + 3));
    expect(outside).toEqual([]);
    expect(read.length).toBeLessThan(100);
    expect(verifyExport(readFileSync(join(t.dir, 'day.jsonl')), t.key.publicPem).ok).toBe(true);
  });

  it('refuses a range with an edited entry in it, as before, signing nothing', async () => {
    const cps = checkpointSeqs();
    tamper(t.dir, (raw) => raw.prepare('UPDATE audit_entries SET prediction = 0.5 WHERE seq = 320').run());
    const refused = exportRange('day.jsonl');
    await expect(refused).rejects.toBeInstanceOf(AuditBrokenError);
    await expect(refused).rejects.toMatchObject({ found: { seq: 320, kind: 'edited' } });
    expect(checkpointSeqs()).toEqual(cps);
  });

  it('refuses a range rewritten with fresh hashes (its checkpoints tell)', async () => {
    tamper(t.dir, (raw) => rewriteSuffix(raw, 330, 0.42));
    await expect(exportRange('day.jsonl')).rejects.toMatchObject({
      found: { kind: 'checkpoint_mismatch' },
    });
  });

  it('refuses a range whose anchoring checkpoint was removed, with the break audit verify names', async () => {
    const after = checkpointSeqs().find((s) => s >= 360)!;
    tamper(t.dir, (raw) => raw.prepare('DELETE FROM audit_checkpoints WHERE seq = ?').run(after));
    const found = verifyAudit(t.db, t.key.publicKey).break!;
    expect(found.seq).toBeGreaterThan(300);
    await expect(exportRange('day.jsonl')).rejects.toMatchObject({ found });
  });

  it('refuses a range while the last run, which the export signs as the head, is broken', async () => {
    tamper(t.dir, (raw) =>
      raw.prepare('UPDATE audit_entries SET prediction = 0.5 WHERE seq = ?').run(ENTRIES + 2),
    );
    await expect(exportRange('day.jsonl')).rejects.toMatchObject({
      found: { seq: ENTRIES + 2, kind: 'edited' },
    });
  });

  it('exports a range despite a break outside what it checks; audit verify and a whole export still find it', async () => {
    tamper(t.dir, (raw) => raw.prepare('UPDATE audit_entries SET prediction = 0.5 WHERE seq = 40').run());
    const summary = await exportRange('day.jsonl');
    expect(summary).toMatchObject({ firstSeq: 301, lastSeq: 360 });
    expect(verifyExport(readFileSync(join(t.dir, 'day.jsonl')), t.key.publicPem).ok).toBe(true);
    expect(verifyAudit(t.db, t.key.publicKey).break).toMatchObject({ seq: 40, kind: 'edited' });
    await expect(
      exportAudit(t.db, { format: 'jsonl', out: join(t.dir, 'all.jsonl'), signingKey: t.key }),
    ).rejects.toMatchObject({ found: { seq: 40, kind: 'edited' } });
  });

  it('reports its progress, then the entries written', async () => {
    const seen: string[] = [];
    await exportAudit(t.db, {
      format: 'jsonl',
      out: join(t.dir, 'all.jsonl'),
      signingKey: t.key,
      onProgress: (p) => seen.push(p.phase),
    });
    expect(seen).toContain('exporting');
  });

  it('runs in a thread for the service with the export’s since and until, or over the whole log without', async () => {
    tamper(t.dir, (raw) => raw.prepare('UPDATE audit_entries SET prediction = 0.5 WHERE seq = 40').run());
    const options = { otherKeys: 'chain-only' } as const;
    expect(await verifyAuditInThread(t.dir, t.key.publicPem, options, RANGE)).toMatchObject({ ok: true });
    expect(await verifyAuditInThread(t.dir, t.key.publicPem, options)).toMatchObject({
      ok: false,
      break: { seq: 40, kind: 'edited' },
    });
    expect(
      await verifyAuditInThread(t.dir, t.key.publicPem, options, { since: at(30), until: at(60) }),
    ).toMatchObject({ ok: false, break: { seq: 40, kind: 'edited' } });
  });
});
