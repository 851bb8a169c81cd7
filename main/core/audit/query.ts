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

export function auditPage(
  db: ReadableDb | WritableDb,
  q: Required<Pick<AuditQuery, 'limit'>> & AuditQuery,
): { entries: AuditEntryView[]; next_before_seq: number | null } {
  // Only the chain's entries: a row stored at seq 0 or below is none of them (verifyAudit reports it).
  const where: string[] = ['seq >= 1'];
  const args: (string | number)[] = [];
  if (q.from) {
    where.push('timestamp >= ?');
    args.push(new Date(q.from).toISOString());
  }
  if (q.to) {
    where.push('timestamp <= ?');
    args.push(new Date(q.to).toISOString());
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
  const sql = `SELECT * FROM audit_entries WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...args, q.limit + 1) as Row[];
  const more = rows.length > q.limit;
  const entries = rows.slice(0, q.limit).map(view);
  return { entries, next_before_seq: more ? entries[entries.length - 1]!.seq : null };
}

export function auditEntry(db: ReadableDb | WritableDb, seq: number): AuditEntryView | undefined {
  const row = db.prepare('SELECT * FROM audit_entries WHERE seq = ? AND seq >= 1').get(seq) as
    Row | undefined;
  return row && view(row);
}
