// What an explain entry of the audit log says was decided: approved or not, against which threshold (its
// details, as recorded from the document), and its approval probability as shown beside that decision. Pure.
import type { Locale } from '../../../../shared/bundle.js';
import type { AuditEntryView } from '../../../../shared/contract.js';
import { formatScore } from '../../lib/format.js';

export interface EntryDecision {
  approved: boolean;
  /** null when the entry does not record it (an entry written by another version). */
  threshold: number | null;
}

/** The decision recorded in the entry's details; null for an entry without one (a model without a threshold). */
export function entryDecision(e: Pick<AuditEntryView, 'details'>): EntryDecision | null {
  const d = (e.details as { decision?: { approved?: unknown; threshold?: unknown } } | null)?.decision;
  if (typeof d?.approved !== 'boolean') return null;
  return {
    approved: d.approved,
    threshold: typeof d.threshold === 'number' && Number.isFinite(d.threshold) ? d.threshold : null,
  };
}

/**
 * The entry's approval probability beside its decision: never rounded onto or across the threshold it was judged
 * against (a decline at 0.4997 reads 49.9 %, not 50.0 %).
 */
export function entryScoreText(locale: Locale, e: Pick<AuditEntryView, 'prediction' | 'details'>): string {
  if (e.prediction === null) return '—';
  return formatScore(locale, e.prediction, entryDecision(e)?.threshold ?? undefined);
}
