// The audit page's filters as the API's query: local calendar days become ISO instants with the local offset
// (a whole day, from 00:00:00.000 to 23:59:59.999). Pure.
import type { AuditQuery } from '../../../../shared/contract.js';

export interface AuditFilters {
  /** yyyy-mm-dd from a date input, or ''. */
  from: string;
  to: string;
  modelVersion: string;
  decision: '' | 'approved' | 'declined';
  kind: '' | 'explain' | 'model_import' | 'model_activate' | 'model_rollback';
}

export const NO_FILTERS: AuditFilters = { from: '', to: '', modelVersion: '', decision: '', kind: '' };

function offset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A local day's start or end as an ISO 8601 instant with the local UTC offset; null if not a date. */
export function localDayBound(day: string, end: boolean): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = end
    ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999)
    : new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 0, 0, 0, 0);
  if (Number.isNaN(d.getTime())) return null;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:` +
    `${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${offset(d)}`
  );
}

/** A "from" day after the "to" day: no entry can match, and the officer has most likely swapped them. */
export function datesReversed(f: Pick<AuditFilters, 'from' | 'to'>): boolean {
  return f.from !== '' && f.to !== '' && f.from > f.to;
}

export function auditQuery(f: AuditFilters, limit: number, beforeSeq?: number): AuditQuery {
  const q: AuditQuery = { limit };
  const from = localDayBound(f.from, false);
  const to = localDayBound(f.to, true);
  if (from) q.from = from;
  if (to) q.to = to;
  if (f.modelVersion.trim()) q.model_version = f.modelVersion.trim();
  if (f.decision) q.decision = f.decision;
  if (f.kind) q.kind = f.kind;
  if (beforeSeq !== undefined) q.before_seq = beforeSeq;
  return q;
}
