// Head office checks each export against the last one it verified from the branch: consecutive month exports
// continue each other, an export from the same start overlaps and agrees, a skipped month is a gap, and an export
// of a log rewritten in between (or of another branch) diverges.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendEntries,
  continuityNeeds,
  exportAudit,
  exportContinuity,
  verifyExport,
  type ExportVerification,
} from '../../../../main/core/audit/index.js';
import { explainInput, rewriteSuffix, tamper, tempLog, type TempLog } from './helpers.js';
import { openWritable } from '../../../../main/core/db/open.js';

const DAY = 86_400_000;
const START = Date.parse('2026-01-01T00:00:00Z');

let t: TempLog;
let fileNo = 0;
beforeEach(() => {
  t = tempLog();
  // Ten entries a day through January, February and March.
  for (let d = 0; d < 90; d++) {
    for (let i = 0; i < 10; i++) {
      appendEntries(t.db, [explainInput(d * 10 + i)], {
        signingKey: t.key,
        now: new Date(START + d * DAY + i * 60_000),
      });
    }
  }
});
afterEach(() => t.cleanup());

async function exported(since?: string, until?: string): Promise<Buffer> {
  const out = join(t.dir, `export-${fileNo++}.jsonl`);
  await exportAudit(t.db, {
    format: 'jsonl',
    out,
    signingKey: t.key,
    ...(since ? { since: new Date(since) } : {}),
    ...(until ? { until: new Date(until) } : {}),
  });
  return readFileSync(out);
}

/** As `audit verify --export NEXT --after PREVIOUS` does: verify both, again with a kept hash if needed. */
function compare(previousBytes: Buffer, nextBytes: Buffer) {
  let previous: ExportVerification = verifyExport(previousBytes, t.key.publicPem);
  let next: ExportVerification = verifyExport(nextBytes, t.key.publicPem);
  expect(previous.ok && next.ok).toBe(true);
  const need = continuityNeeds(previous, next);
  if (need?.export === 'previous')
    previous = verifyExport(previousBytes, t.key.publicPem, { hashAt: need.seq });
  if (need?.export === 'next') next = verifyExport(nextBytes, t.key.publicPem, { hashAt: need.seq });
  return exportContinuity(previous, next);
}

describe('two exports of one log', () => {
  it('consecutive months continue each other', async () => {
    const january = await exported('2026-01-01', '2026-02-01');
    const february = await exported('2026-02-01', '2026-03-01');
    expect(compare(january, february)).toMatchObject({ ok: true, relation: 'continues' });
  });

  it('an export to the head after a month’s export overlaps it and agrees (its hash kept where the month ends)', async () => {
    const january = await exported('2026-01-01', '2026-02-01');
    const all = await exported();
    const first = verifyExport(january, t.key.publicPem);
    const second = verifyExport(all, t.key.publicPem);
    expect(continuityNeeds(first, second)).toEqual({ export: 'next', seq: 310 });
    expect(compare(january, all)).toMatchObject({ ok: true, relation: 'overlaps' });
  });

  it('a month exported again after a later one is within it, and says what that may mean', async () => {
    const all = await exported();
    const january = await exported('2026-01-01', '2026-02-01');
    const c = compare(all, january);
    expect(c).toMatchObject({ ok: true, relation: 'within' });
    expect(c.message).toMatch(/cut back/);
  });

  it('a month skipped is a gap naming the entries neither holds', async () => {
    const january = await exported('2026-01-01', '2026-02-01');
    const march = await exported('2026-03-01', '2026-04-01');
    expect(compare(january, march)).toMatchObject({ ok: false, kind: 'gap', seq: 311 });
    expect(compare(january, march).message).toMatch(/entries 311–590 are in neither export/);
  });

  it('a log rewritten after the previous export (and re-signed, as its key holder could) diverges from it', async () => {
    const january = await exported('2026-01-01', '2026-02-01');
    const before = await exported();
    // Someone holding the key rewrites January and signs anew: the database alone cannot tell, head office can.
    t.db.close();
    tamper(t.dir, (raw) => {
      raw.exec('DELETE FROM audit_checkpoints');
      rewriteSuffix(raw, 100, 0.99);
    });
    t.db = openWritable(t.dir);
    // Sign the rewritten chain as a key holder would, so that the export's own check passes.
    const { writeCheckpoint } = await import('../../../../main/core/audit/index.js');
    const raw = t.db.prepare('SELECT seq FROM audit_entries ORDER BY seq').all() as { seq: number }[];
    expect(raw).toHaveLength(900);
    writeCheckpoint(t.db, t.key);
    const after = await exportAuditLenient();
    expect(compare(before, after)).toMatchObject({ ok: false, kind: 'diverged', seq: 900 });
    expect(compare(january, after)).toMatchObject({ ok: false, kind: 'diverged', seq: 310 });
  });
});

/** An export of a log whose runs no longer meet the policy (rewritten by the key's holder): export all the same. */
async function exportAuditLenient(): Promise<Buffer> {
  const out = join(t.dir, `export-${fileNo++}.jsonl`);
  const { verifyAudit } = await import('../../../../main/core/audit/index.js');
  const verified = verifyAudit(t.db, t.key.publicKey, {
    otherKeys: 'chain-only',
    policy: { every: 1e9, intervalMs: 1e15 },
  });
  expect(verified.ok).toBe(true);
  await exportAudit(t.db, { format: 'jsonl', out, signingKey: t.key, verified });
  return readFileSync(out);
}

it('an export that did not verify cannot be compared', () => {
  const bad = { ok: false, checkpoint: null } as unknown as ExportVerification;
  expect(() => exportContinuity(bad, bad)).toThrow(/did not verify/);
});
