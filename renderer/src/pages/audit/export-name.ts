// The name an audit export is saved under. The page shows local times, so the name carries the local date and
// time (the server's own download name is stamped in UTC), with the format's extension (then .gz). An export of
// a range says so: its first and last local days (2026-11-01-to-2026-11-30), with the time of the export as the
// end when the range runs to the head (no until day, or one not over yet), so that the name tells what it holds.
import { auditExportExtension, type AuditExportFormat } from '../../../../shared/contract.js';
import { localDayEnd } from './audit-query.js';

/** A file-name-safe local date and time to the second: 2026-11-26_22-22-41. */
export function fileDateTime(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_` +
    `${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`
  );
}

/** The export's local days (yyyy-mm-dd from the page's date inputs, or ''). */
export interface AuditExportRange {
  since: string;
  until: string;
}

export function auditExportName(
  format: AuditExportFormat,
  gzip: boolean,
  now = new Date(),
  range: AuditExportRange = { since: '', until: '' },
): string {
  const end = localDayEnd(range.until);
  // A day not over yet holds the entries up to now, not the whole day: the export's time is its end.
  const closed = end !== null && Date.parse(end) <= now.getTime();
  const last = closed ? range.until : fileDateTime(now);
  const span = range.since ? `${range.since}-to-${last}` : closed ? `to-${last}` : last;
  return `branchlens-audit-${span}.${auditExportExtension(format, gzip)}`;
}
