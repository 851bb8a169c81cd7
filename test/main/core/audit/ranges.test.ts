// Timestamps never go backwards along the chain, so a time range is a range of seqs: range exports (--since,
// --until) hold exactly the entries stamped in them, and adjacent ranges share no entry and miss none. A log written
// before timestamps were kept in order still partitions exactly, and its exports name the entries out of place.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditLog,
  exportAudit,
  verifyAudit,
  verifyExport,
  type AuditExportSummary,
} from '../../../../main/core/audit/index.js';
import { appendPrepared } from '../../../../main/core/audit/append.js';
import { prepareEntry } from '../../../../main/core/audit/entry.js';
import { readStatements } from '../../../../main/core/audit/store.js';
import { openWritable } from '../../../../main/core/db/open.js';
import { appendUnordered, explainInput, tempLog, type TempLog } from './helpers.js';

let t: TempLog;
beforeEach(() => {
  t = tempLog();
});
afterEach(() => t.cleanup());

const BASE = Date.parse('2026-11-27T07:50:09.000Z');
const at = (ms: number) => new Date(BASE + ms);
const iso = (ms: number) => at(ms).toISOString();

/** The stored timestamps, in seq order. */
const stamps = () =>
  readStatements(t.db)
    .entriesFrom.all(1)
    .map((row) => row[1] as string);

describe('audit timestamps', () => {
  it('never go backwards along the chain: an entry prepared before the one ahead of it takes that one’s time', () => {
    // As one CLI batch was stamped: each answer when prepared, the last a millisecond before the others.
    const { receipts } = appendPrepared(
      t.db,
      [646, 646, 646, 645].map((ms, i) => prepareEntry(explainInput(i), at(ms))),
    );
    expect(receipts.map((r) => r.timestamp)).toEqual(Array(4).fill(iso(646)));
    // Across transactions too (another thread, another process): the head's time is the floor.
    appendPrepared(t.db, [prepareEntry(explainInput(4), at(100))]);
    appendPrepared(t.db, [prepareEntry(explainInput(5), at(700))]);
    expect(stamps()).toEqual([...Array(5).fill(iso(646)), iso(700)]);
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 6 });
  });

  it('hold across connections, the head being read under the write lock', () => {
    const other = openWritable(t.dir);
    try {
      appendPrepared(t.db, [prepareEntry(explainInput(0), at(500))]);
      const { receipts } = appendPrepared(other, [prepareEntry(explainInput(1), at(400))]);
      expect(receipts[0]!.timestamp).toBe(iso(500));
    } finally {
      other.close();
    }
    expect(stamps()).toEqual([iso(500), iso(500)]);
  });

  it('come back in the receipts of the group-commit log as stored', async () => {
    const clock = [300, 200, 250, 100];
    const log = new AuditLog(t.db, t.key, { now: () => at(clock.shift()!) });
    try {
      const receipts = await Promise.all([0, 1, 2, 3].map((i) => log.append(explainInput(i))));
      expect(receipts.map((r) => r.timestamp)).toEqual(stamps());
      expect(stamps()).toEqual(Array(4).fill(iso(300)));
    } finally {
      await log.close();
    }
  });
});

let fileNo = 0;
async function rangeExport(
  since?: string,
  until?: string,
): Promise<{ summary: AuditExportSummary; seqs: number[]; stamps: string[] }> {
  const out = join(t.dir, `range-${fileNo++}.jsonl`);
  const summary = await exportAudit(t.db, {
    format: 'jsonl',
    out,
    signingKey: t.key,
    ...(since ? { since: new Date(since) } : {}),
    ...(until ? { until: new Date(until) } : {}),
  });
  const bytes = readFileSync(out);
  expect(verifyExport(bytes, t.key.publicPem)).toMatchObject({ ok: true });
  const entries = bytes
    .toString('utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { record: string; seq: number; timestamp: string })
    .filter((o) => o.record === 'entry');
  return { summary, seqs: entries.map((e) => e.seq), stamps: entries.map((e) => e.timestamp) };
}

const ALL = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('range exports', () => {
  it('of adjacent months partition the entries exactly; an entry stamped exactly at a boundary opens the later one', async () => {
    const prepared = [
      '2026-10-15T12:00:00.000Z',
      '2026-10-31T23:59:59.999Z',
      '2026-11-01T00:00:00.000Z',
      '2026-11-01T00:00:00.000Z',
      // Prepared before the two ahead of it, committed after them.
      '2026-10-31T23:59:59.998Z',
      '2026-11-15T08:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
      '2026-11-30T23:59:59.999Z',
      '2026-12-02T00:00:00.000Z',
    ];
    for (const [i, time] of prepared.entries()) {
      // Signed as the app signs (weeks apart, each run of entries is closed by a checkpoint), so that the log
      // verifies and exports.
      appendPrepared(t.db, [prepareEntry(explainInput(i), new Date(time))], { signingKey: t.key });
    }
    const october = await rangeExport('2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z');
    const november = await rangeExport('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z');
    const december = await rangeExport('2026-12-01T00:00:00Z');
    expect(october.seqs).toEqual([1, 2]);
    expect(november.seqs).toEqual([3, 4, 5, 6]);
    expect(december.seqs).toEqual([7, 8, 9]);
    expect([...october.seqs, ...november.seqs, ...december.seqs]).toEqual(ALL(prepared.length));
    // Every entry is stamped within its range.
    expect(october.stamps.every((s) => s >= '2026-10-01' && s < '2026-11-01T00:00:00.000Z')).toBe(true);
    expect(november.stamps.every((s) => s >= '2026-11-01T00:00:00.000Z' && s < '2026-12-01')).toBe(true);
    expect(december.stamps.every((s) => s >= '2026-12-01T00:00:00.000Z')).toBe(true);
    for (const r of [october, november, december]) expect(r.summary.misplaced).toBeUndefined();
  });

  it('of a log written before timestamps were kept in order still partition exactly, and name the entries out of place', async () => {
    // As the reviewer's batch: entries 2–4 at .646, entry 5 at .645.
    appendUnordered(t.db, [iso(644), iso(646), iso(646), iso(646), iso(645), iso(647)]);
    const before = await rangeExport(undefined, iso(646));
    const after = await rangeExport(iso(646));
    expect(before.seqs).toEqual([1]);
    expect(after.seqs).toEqual([2, 3, 4, 5, 6]);
    expect(before.summary.misplaced).toEqual([{ bound: 'until', count: 1, seqs: [5] }]);
    expect(after.summary.misplaced).toEqual([{ bound: 'since', count: 1, seqs: [5] }]);
    // A range between the two stamps holds nothing: entry 5 comes after the first entry stamped at .646.
    const between = await rangeExport(iso(645), iso(646));
    expect(between.seqs).toEqual([]);
    expect(between.summary.misplaced).toEqual([{ bound: 'until', count: 1, seqs: [5] }]);
    // Entries appended now are stamped in order, and add nothing out of place.
    appendPrepared(t.db, [prepareEntry(explainInput(9), at(640))]);
    expect(stamps().at(-1)).toBe(iso(647));
  });
});
