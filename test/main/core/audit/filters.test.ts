// The audit page's filters on a log of many entries: dates, kind, model version and decision answered through
// the indexes of migration 009 where they help (a narrow date range through the timestamp index, sorted by seq; a
// wide one walking the log from its head; a kind or a model version by its own index), with the same answer every
// way as a plain reading of every entry.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { appendPrepared } from '../../../../main/core/audit/append.js';
import { prepareEntry } from '../../../../main/core/audit/entry.js';
import { auditPage, auditPageQuery } from '../../../../main/core/audit/query.js';
import { MIGRATIONS } from '../../../../main/core/db/migrations/index.js';
import { openReadable, openWritable } from '../../../../main/core/db/open.js';
import { API_REQUESTS } from '../../../../shared/contract.js';
import { explainInput, modelInput, tempLog, type TempLog } from './helpers.js';

const DAY = 86_400_000;
const START = Date.parse('2026-10-01T08:00:00.000Z');
const ENTRIES = 240; // 8 a day over 30 days

let t: TempLog;
beforeEach(() => {
  t = tempLog();
  fill(t.db as unknown as Database.Database);
});
afterEach(() => t.cleanup());

/** Entry i: every 20th a model activation, the others explanations under two versions, approved or declined. */
function fill(db: Database.Database): void {
  appendPrepared(
    db as never,
    Array.from({ length: ENTRIES }, (_, i) => {
      const at = new Date(START + Math.floor(i / 8) * DAY + (i % 8) * 3_600_000);
      if (i % 20 === 19) return prepareEntry(modelInput(i), at);
      const input = explainInput(i);
      return prepareEntry(
        {
          ...input,
          model: { ...input.model!, version: i < 120 ? '1.2.0' : '2.0.0' },
          details: { decision: { approved: i % 3 !== 0 } },
        },
        at,
      );
    }),
  );
}

interface Stored {
  seq: number;
  timestamp: string;
  kind: string;
  model_version: string | null;
  details: string | null;
}

type Query = Record<string, unknown>;
const parse = (q: Query) => API_REQUESTS.auditPage.parse(q);

/** What the page must list for `q`: every entry read and filtered here, newest first. */
function expected(db: Database.Database, q: Query): number[] {
  const p = parse(q);
  const from = p.from && new Date(p.from).toISOString();
  const to = p.to && new Date(p.to).toISOString();
  const all = db
    .prepare('SELECT seq, timestamp, kind, model_version, details FROM audit_entries')
    .all() as Stored[];
  return all
    .filter(
      (e) =>
        (!from || e.timestamp >= from) &&
        (!to || e.timestamp <= to) &&
        (!p.kind || e.kind === p.kind) &&
        (!p.model_version || e.model_version === p.model_version) &&
        (!p.decision ||
          (JSON.parse(e.details ?? 'null') as { decision?: { approved: boolean } } | null)?.decision
            ?.approved ===
            (p.decision === 'approved')) &&
        (!p.before_seq || e.seq < p.before_seq),
    )
    .map((e) => e.seq)
    .sort((a, b) => b - a);
}

/** Every page of `q` (limit 7), followed by next_before_seq, as the UI pages through them. */
function paged(q: Query, dateRangeSorted: number): number[] {
  const out: number[] = [];
  let before: number | null | undefined;
  do {
    const page = auditPage(
      t.db,
      { ...parse({ ...q, limit: 7 }), ...(before ? { before_seq: before } : {}) },
      {
        dateRangeSorted,
      },
    );
    out.push(...page.entries.map((e) => e.seq));
    before = page.next_before_seq;
  } while (before !== null);
  return out;
}

const day = (n: number, h = 0) => new Date(START + n * DAY + h * 3_600_000).toISOString();

const QUERIES: Query[] = [
  { from: day(3), to: day(4) },
  { from: day(3, 2), to: day(3, 5) },
  { from: day(2), to: day(25) },
  { from: day(28) },
  { to: day(1, 3) },
  { from: day(40) },
  { to: day(-1) },
  { kind: 'model_activate' },
  { kind: 'explain', from: day(10), to: day(12) },
  { model_version: '2.0.0' },
  { model_version: '1.2.0', from: day(5), to: day(20), decision: 'declined' },
  { decision: 'approved', to: day(6) },
  { kind: 'model_activate', from: day(0), to: day(29) },
];

describe('the audit page’s filters', () => {
  it.each(QUERIES)('%j lists the same entries through the index, walking the log, and read plainly', (q) => {
    const want = expected(t.db as unknown as Database.Database, q);
    // A range sorted from the index whatever its size, one never, and the default in between.
    for (const sorted of [ENTRIES, 0, 30])
      expect(paged(q, sorted), `dateRangeSorted ${sorted}`).toEqual(want);
  });

  it('lists something for most of them (the table tests filters, not empty answers)', () => {
    const db = t.db as unknown as Database.Database;
    expect(QUERIES.filter((q) => expected(db, q).length > 0).length).toBeGreaterThanOrEqual(
      QUERIES.length - 2,
    );
  });
});

describe('the plans', () => {
  const plan = (q: Query, dateRangeSorted?: number) => {
    const { sql, args } = auditPageQuery(t.db, parse({ limit: 50, ...q }), { dateRangeSorted });
    return (t.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
      .map((r) => r.detail)
      .join('; ');
  };

  it('reads a narrow date range far from the head through the timestamp index, and walks the log otherwise', () => {
    expect(plan({ from: day(3), to: day(4) })).toMatch(/USING INDEX audit_entries_timestamp/);
    expect(plan({ from: day(3), to: day(4) }, 5)).not.toMatch(/audit_entries_timestamp/);
    expect(plan({ from: day(3), to: day(4) }, 5)).toMatch(/SCAN audit_entries|USING INTEGER PRIMARY KEY/);
    // A range at the head of the log (fewer entries after it than in it) is reached at once by the walk.
    expect(plan({ from: day(28) })).not.toMatch(/audit_entries_timestamp/);
    expect(plan({ from: day(26), to: day(29) })).not.toMatch(/audit_entries_timestamp/);
  });

  it('reads a kind or a model version by its index, newest first without sorting', () => {
    expect(plan({ kind: 'model_activate' })).toMatch(/USING INDEX audit_entries_kind \(kind=\?/);
    expect(plan({ kind: 'model_activate' })).not.toMatch(/TEMP B-TREE/);
    expect(plan({ model_version: '2.0.0' })).toMatch(/USING INDEX audit_entries_model_version/);
    expect(plan({ model_version: '2.0.0' })).not.toMatch(/TEMP B-TREE/);
  });

  it('finds a document id by its own index even within dates', () => {
    expect(plan({ document_id: 'abcdef01', from: day(3), to: day(4) })).toMatch(
      /USING INDEX audit_entries_document/,
    );
  });
});

describe('migration 9', () => {
  it('indexes a log written before it; a log still at version 8, opened read-only, is answered without', () => {
    const dir = mkdtempSync(join(tmpdir(), 'branchlens-audit-m9-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const old = openWritable(
      dir,
      MIGRATIONS.filter((m) => m.version < 9),
    );
    fill(old as unknown as Database.Database);
    old.close();
    const q = parse({ from: day(3), to: day(4), limit: 50 });
    const readOnly = openReadable(dir);
    try {
      expect(readOnly.pragma('user_version', { simple: true })).toBe(8);
      expect(auditPage(readOnly, q).entries.map((e) => e.seq)).toEqual(
        expected(readOnly as unknown as Database.Database, q),
      );
    } finally {
      readOnly.close();
    }
    const db = openWritable(dir);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(9);
      const names = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]
      ).map((r) => r.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'audit_entries_timestamp',
          'audit_entries_kind',
          'audit_entries_model_version',
        ]),
      );
      expect(auditPage(db, q).entries.map((e) => e.seq)).toEqual(
        expected(db as unknown as Database.Database, q),
      );
    } finally {
      db.close();
    }
  });
});
