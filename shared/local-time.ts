// Instants on this machine's clock, written as ISO 8601 with the local UTC offset: what the Audit page sends for
// its local days, and what `audit export` suggests for local midnight. Shared: both sides write them.

const p = (n: number, width = 2) => String(n).padStart(width, '0');

/** `d`'s UTC offset on this machine's clock, as ISO 8601 writes it: +08:00, -04:00, +00:00. */
export function utcOffset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes >= 0 ? '+' : '-'}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}

/** `d` on this machine's clock as ISO 8601 with its offset, to the millisecond: 2026-11-01T00:00:00.000+08:00. */
export function localIso(d: Date): string {
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:` +
    `${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${utcOffset(d)}`
  );
}
