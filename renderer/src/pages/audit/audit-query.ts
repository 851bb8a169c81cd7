// The audit page's filters as the API's query: local calendar days become ISO instants with the local offset
// (a whole day, from 00:00:00.000 to 23:59:59.999). The export's range likewise, but its `until` is exclusive
// (docs/audit.md section 5): the day ends at the next day's local midnight. A lookup by document id or seq is
// checked here first, so that a typing slip is said in the officer's language before anything is asked. Pure.
import {
  documentIdProblem,
  type AuditExportFormat,
  type AuditQuery,
  type ApiRequest,
  type DocumentIdProblem,
} from '../../../../shared/contract.js';
import { localIso } from '../../../../shared/local-time.js';

export interface AuditFilters {
  /** yyyy-mm-dd from a date input, or ''. */
  from: string;
  to: string;
  modelVersion: string;
  decision: '' | 'approved' | 'declined';
  kind: '' | 'explain' | 'model_import' | 'model_activate' | 'model_rollback' | 'settings_change';
  /** A document id as typed off a printout (whole, or its first 8 hex digits), or ''. */
  documentId: string;
  /** An entry's seq as typed, or ''. */
  seq: string;
}

export const NO_FILTERS: AuditFilters = {
  from: '',
  to: '',
  modelVersion: '',
  decision: '',
  kind: '',
  documentId: '',
  seq: '',
};

/** What is wrong with the lookup fields as typed: nothing is asked until both are right. */
export interface LookupProblems {
  documentId?: DocumentIdProblem;
  seq?: 'not_whole';
}

export function lookupProblems(f: Pick<AuditFilters, 'documentId' | 'seq'>): LookupProblems {
  const out: LookupProblems = {};
  const documentId = f.documentId.trim() === '' ? null : documentIdProblem(f.documentId);
  if (documentId) out.documentId = documentId;
  if (f.seq.trim() !== '' && seqOf(f.seq) === null) out.seq = 'not_whole';
  return out;
}

/** A seq as typed: a whole number of at least 1 (spaces around it allowed), or null. */
function seqOf(raw: string): number | null {
  const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

/** Whether any filter besides the lookup narrows the list (an empty lookup then may be theirs). */
export function otherFiltersSet(f: AuditFilters): boolean {
  return f.from !== '' || f.to !== '' || f.modelVersion.trim() !== '' || f.decision !== '' || f.kind !== '';
}

/** How many different documents `entries` serve: more than one for a document id prefix that several share. */
export function documentsIn(entries: readonly { document_id: string | null }[]): number {
  return new Set(entries.map((e) => e.document_id).filter((id) => id !== null)).size;
}

/** Whether the filters look one decision up (a document id or a seq). */
export function isLookup(f: Pick<AuditFilters, 'documentId' | 'seq'>): boolean {
  return f.documentId.trim() !== '' || f.seq.trim() !== '';
}

/** The local day `day` (yyyy-mm-dd) plus `days`, at the given local time; null if not a date. */
function localTime(day: string, days: number, h: number, min: number, sec: number, ms: number): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days, h, min, sec, ms);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A local day's start or end as an ISO 8601 instant with the local UTC offset; null if not a date. */
export function localDayBound(day: string, end: boolean): string | null {
  const d = end ? localTime(day, 0, 23, 59, 59, 999) : localTime(day, 0, 0, 0, 0, 0);
  return d && localIso(d);
}

/**
 * The end of a local day as an exclusive bound: the next day's local midnight, as ISO 8601 with its offset; null
 * if not a date. The export's `until` holds the entries stamped before it, so 23:59:59.999 (localDayBound's end)
 * would leave out the day's last millisecond, and a month's export would not meet the next month's at midnight.
 */
export function localDayEnd(day: string): string | null {
  const d = localTime(day, 1, 0, 0, 0, 0);
  return d && localIso(d);
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
  if (f.documentId.trim()) q.document_id = f.documentId.trim();
  const seq = seqOf(f.seq);
  if (seq !== null) q.seq = seq;
  if (beforeSeq !== undefined) q.before_seq = beforeSeq;
  return q;
}

/** The Audit page's export form: yyyy-mm-dd days from date inputs, or ''. */
export interface AuditExportForm {
  format: AuditExportFormat;
  gzip: boolean;
  since: string;
  until: string;
}

/** The export's range the wrong way round: the page refuses it rather than ask for an export that cannot be. */
export function exportDatesReversed(f: Pick<AuditExportForm, 'since' | 'until'>): boolean {
  return datesReversed({ from: f.since, to: f.until });
}

/** The export request for the form: from the start of the `since` day to the end of the `until` day, local time. */
export function auditExportRequest(f: AuditExportForm): ApiRequest<'auditExport'> {
  const since = localDayBound(f.since, false);
  const until = localDayEnd(f.until);
  return { format: f.format, gzip: f.gzip, ...(since ? { since } : {}), ...(until ? { until } : {}) };
}
