// An attribution is a change of the approval probability (−0.2591); an officer reads it as percentage points of
// the probability shown beside it (57.9 %): "−25.9". One decimal, the sign always shown, a typographic minus.
// The exact value stays in a title and in the exported document. Pure.
import type { T } from '../../i18n/i18n.js';
import { formatSigned } from '../../lib/format.js';

/** −0.2591 → "−25.9"; a change that rounds to nothing → "0.0". */
export function formatPoints(change: number, fractionDigits = 1): string {
  return formatSigned(change * 100, fractionDigits);
}

/** An axis tick, without a needless decimal: "+20", "0", "+0.5". */
export function axisPoints(change: number): string {
  return formatPoints(change).replace(/\.0$/, '');
}

/** The exact change, as the document holds it (for a title or a tooltip): "−0.2591". */
export function exactChange(change: number): string {
  return formatSigned(change, 4);
}

/** "−25.9 个百分点（通过率变化 −0.2591）": the effect as shown, with the exact change the document holds. */
export function pointsExact(change: number, t: T): string {
  return t('explain.pointsExact', { points: formatPoints(change), exact: exactChange(change) });
}
