// The printed report's factors: at most REPORT_MAX_FEATURES features, the largest by |attribution|, and the
// others folded into the one rest bar together with the document's own rest, so that the report stays on one A4
// page whatever the top-K (settings allow 100) and whatever the language. Pure.
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import type { AttributionBar, BarWording } from '../../lib/attribution-bars.js';

/** The most features the printed report lists one by one (the rest bar comes after them). */
export const REPORT_MAX_FEATURES = 6;

export interface ReportBars {
  /** The listed features, largest |attribution| first, then the rest bar when any feature is not listed. */
  bars: AttributionBar[];
  /** How many of the document's listed features the report folded into the rest bar (0: it lists them all). */
  folded: number;
  /** The rest bar's count and value: the document's rest_count and rest_sum plus what the report folded. */
  restCount: number;
  restSum: number;
}

/**
 * `bars` (attributionBars(doc): sorted by magnitude, the document's rest bar last) cut to `max` features. What is
 * cut joins the rest bar, whose value is the document's rest_sum plus the sum of the folded attributions, so that
 * the report's bars still add up to the document's total (Σ listed + rest = completeness.sum, up to rounding).
 */
export function reportBars(
  doc: Pick<ExplanationDocument, 'rest_sum' | 'rest_count'>,
  bars: readonly AttributionBar[],
  wording: Pick<BarWording, 'rest' | 'restDescription'>,
  max = REPORT_MAX_FEATURES,
): ReportBars {
  const features = bars.filter((b) => b.kind !== 'rest');
  if (features.length <= max) {
    return { bars: [...bars], folded: 0, restCount: doc.rest_count, restSum: doc.rest_sum };
  }
  const listed = features.slice(0, max);
  const folded = features.slice(max);
  const restCount = doc.rest_count + folded.length;
  const restSum = folded.reduce((sum, b) => sum + b.value, doc.rest_sum);
  const rest: AttributionBar = {
    key: '__rest__',
    label: wording.rest(restCount),
    value: restSum,
    kind: 'rest',
    masked: false,
    imputed: false,
    description: wording.restDescription(restCount),
  };
  return { bars: [...listed, rest], folded: folded.length, restCount, restSum };
}
