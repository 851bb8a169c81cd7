// The name an audit export is saved under. The server stamps it in UTC; the page shows local times, so the
// name carries the local date and time, and keeps the given name's extension (.jsonl, .csv, .ndjson, then .gz).

/** A file-name-safe local date and time to the second: 2026-11-26_22-22-41. */
export function fileDateTime(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_` +
    `${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`
  );
}

export function auditExportName(serverName: string, now = new Date()): string {
  const extension = /(\.[a-z0-9]+)(\.gz)?$/i.exec(serverName)?.[0] ?? '';
  return `branchlens-audit-${fileDateTime(now)}${extension}`;
}
