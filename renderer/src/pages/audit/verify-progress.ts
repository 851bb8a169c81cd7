// How far "Verify chain" has got (auditVerifyProgress), and the time left at that pace: some 8 s per million
// entries, so a large log gets a bar (VerifyProgressBar.tsx) instead of a button reading "Verifying…" for that long.
// Free of React, for the tests in Node.
import type { AuditVerifyProgressView } from '../../../../shared/contract.js';

export const POLL_MS = 250;

export type Running = Extract<AuditVerifyProgressView, { running: true }>;

/** Seconds left at the pace so far; null until there is a pace to go by. */
export function secondsLeft(p: Running): number | null {
  if (p.done <= 0 || p.elapsed_ms <= 0 || p.done >= p.total) return null;
  return ((p.total - p.done) * p.elapsed_ms) / p.done / 1000;
}
