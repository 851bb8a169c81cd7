// The name an audit export is saved under. The page shows local times, so the name carries the local date and
// time (the server's own download name is stamped in UTC), with the format's extension (then .gz).
import { auditExportExtension, type AuditExportFormat } from '../../../../shared/contract.js';

/** A file-name-safe local date and time to the second: 2026-11-26_22-22-41. */
export function fileDateTime(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_` +
    `${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`
  );
}

export function auditExportName(format: AuditExportFormat, gzip: boolean, now = new Date()): string {
  return `branchlens-audit-${fileDateTime(now)}.${auditExportExtension(format, gzip)}`;
}
