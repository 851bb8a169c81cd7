// Reading the audit log for people: newest-first pages with filters, and single entries.
import { canonicalDocumentId, type AuditEntryView, type AuditQuery } from '../../../shared/contract.js';
import type { ReadableDb, WritableDb } from '../db/open.js';

type Row = Record<string, string | number | null>;

const JSON_COLUMNS = ['explainer_params', 'top_attributions', 'details'] as const;

function view(row: Row): AuditEntryView {
  const out: Record<string, unknown> = { ...row };
  for (const c of JSON_COLUMNS) out[c] = row[c] === null ? null : JSON.parse(row[c] as string);
  return out as unknown as AuditEntryView;
}

/**
 * The document ids starting with `prefix` (a whole id included) as a range, which the audit_entries_document
 * index answers (migration 008); LIKE would not use it, being case-insensitive. Ids are UUIDs in lower case,
 * so the range's end is the prefix with its last character one higher.
 */
export function documentIdRange(prefix: string): [string, string] {
  const start = canonicalDocumentId(prefix);
  const last = start.charCodeAt(start.length - 1);
  return [start, start.slice(0, -1) + String.fromCharCode(last + 1)];
}

/**
 * The most entries of a date range that a page reads through the timestamp index (migration 009) and sorts by seq
 * (~10 ms warm), when SKIP_PER_SORTED times as many lie after the range. Otherwise the page walks the log down from its
 * head: a range that ends near it (this week) is reached at once and fills a page without reading all of it, and a
 * wide one lies together along the chain (appendPrepared keeps timestamps non-decreasing) and fills a page as soon
 * as it is reached. Other filters may use their own indexes then.
 */
export const DATE_RANGE_SORTED = 5_000;

/**
 * Entries the walk passes over in the time the index path takes per entry of its range (reading it by its key and
 * sorting it): ~0.17 against ~2 µs, warm, on a 1M-entry log (bench/audit-page.ts).
 */
const SKIP_PER_SORTED = 10;

export interface PageOptions {
  /** DATE_RANGE_SORTED, for the tests to take either way on a small log. */
  dateRangeSorted?: number;
}

const indexes = new WeakMap<object, Set<string>>();

/** Whether `db` has the index `name`: a database older than the app, opened read-only, is not migrated. */
function hasIndex(db: ReadableDb | WritableDb, name: string): boolean {
  let names = indexes.get(db);
  if (!names) {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as {
      name: string;
    }[];
    names = new Set(rows.map((r) => r.name));
    indexes.set(db, names);
  }
  return names.has(name);
}

/** The statement auditPage runs for `q`, and its arguments (also read by the tests, for its query plan). */
export function auditPageQuery(
  db: ReadableDb | WritableDb,
  q: Required<Pick<AuditQuery, 'limit'>> & AuditQuery,
  opts: PageOptions = {},
): { sql: string; args: (string | number)[] } {
  // Only the chain's entries: a row stored at seq 0 or below is none of them (verifyAudit reports it).
  const where: string[] = ['seq >= 1'];
  const args: (string | number)[] = [];
  const dates: string[] = [];
  const dateArgs: string[] = [];
  if (q.from) {
    dates.push('timestamp >= ?');
    dateArgs.push(new Date(q.from).toISOString());
  }
  if (q.to) {
    dates.push('timestamp <= ?');
    dateArgs.push(new Date(q.to).toISOString());
  }
  if (q.model_version) {
    where.push('model_version = ?');
    args.push(q.model_version);
  }
  if (q.kind) {
    where.push('kind = ?');
    args.push(q.kind);
  }
  if (q.decision) {
    where.push("json_extract(details, '$.decision.approved') = ?");
    args.push(q.decision === 'approved' ? 1 : 0);
  }
  if (q.document_id !== undefined) {
    where.push('document_id >= ? AND document_id < ?');
    args.push(...documentIdRange(q.document_id));
  }
  if (q.seq !== undefined) {
    where.push('seq = ?');
    args.push(q.seq);
  }
  if (q.before_seq) {
    where.push('seq < ?');
    args.push(q.before_seq);
  }
  let source = 'audit_entries';
  const sortedMax = opts.dateRangeSorted ?? DATE_RANGE_SORTED;
  if (dates.length > 0) {
    // A document id or a seq finds a handful of entries by its own index: the dates are then only checked.
    let byDates =
      q.document_id === undefined && q.seq === undefined && hasIndex(db, 'audit_entries_timestamp');
    if (byDates) {
      const size = countStamped(db, dates, dateArgs, sortedMax);
      const after =
        q.to && size <= sortedMax
          ? countStamped(db, ['timestamp > ?'], [new Date(q.to).toISOString()], SKIP_PER_SORTED * size)
          : 0;
      byDates = size <= sortedMax && after > SKIP_PER_SORTED * size;
    }
    if (byDates) source = 'audit_entries INDEXED BY audit_entries_timestamp';
    // `+timestamp` is the same value kept from the index, so the walk from the head (or another index) is used.
    where.push(...(byDates ? dates : dates.map((d) => `+${d}`)));
    args.push(...dateArgs);
  }
  return {
    sql: `SELECT * FROM ${source} WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`,
    args: [...args, q.limit + 1],
  };
}

/** How many entries the date terms match, counted in the timestamp index up to `max` + 1. */
function countStamped(db: ReadableDb | WritableDb, dates: string[], args: string[], max: number): number {
  const sql =
    'SELECT count(*) AS n FROM (SELECT 1 FROM audit_entries INDEXED BY audit_entries_timestamp ' +
    `WHERE ${dates.join(' AND ')} LIMIT ${max + 1})`;
  return (db.prepare(sql).get(...args) as { n: number }).n;
}

export function auditPage(
  db: ReadableDb | WritableDb,
  q: Required<Pick<AuditQuery, 'limit'>> & AuditQuery,
  opts: PageOptions = {},
): { entries: AuditEntryView[]; next_before_seq: number | null } {
  const { sql, args } = auditPageQuery(db, q, opts);
  const rows = db.prepare(sql).all(...args) as Row[];
  const more = rows.length > q.limit;
  const entries = rows.slice(0, q.limit).map(view);
  return { entries, next_before_seq: more ? entries[entries.length - 1]!.seq : null };
}

export function auditEntry(db: ReadableDb | WritableDb, seq: number): AuditEntryView | undefined {
  const row = db.prepare('SELECT * FROM audit_entries WHERE seq = ? AND seq >= 1').get(seq) as
    Row | undefined;
  return row && view(row);
}
