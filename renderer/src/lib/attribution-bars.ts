// An explanation document's attributions as the bars of the chart and the rows of its table: sorted by
// magnitude, masked features named as masked, and the features top-K left out as one "N others" bar. Pure.
import type { Locale } from '../../../shared/bundle.js';
import type { Attribution, ExplanationDocument } from '../../../shared/explanation.js';
import type { T } from '../i18n/i18n.js';
import { maskedFeatureLabels } from './labels.js';

export type BarKind = 'positive' | 'negative' | 'neutral' | 'rest';

export interface AttributionBar {
  key: string;
  /**
   * The business label; for a masked feature, the wording the page gives and its pseudonym's tag (e.g.
   * "敏感特征（已脱敏） #3fa2", maskedFeatureLabels).
   */
  label: string;
  value: number;
  kind: BarKind;
  masked: boolean;
  imputed: boolean;
  /** The raw value used, null when masked; undefined for the rest bar. */
  raw?: string | number | boolean | null;
  description: string;
  /**
   * The language the document words its label and description in (its meta.locale), which is not the page's
   * after a change of language: marked on the text (lang) so that a screen reader reads it in the right voice.
   * Absent for the rest bar, which the page words.
   */
  docLocale?: Locale;
}

export interface BarWording {
  masked: string;
  rest: (count: number) => string;
  restDescription: (count: number) => string;
}

function kindOf(a: Attribution): BarKind {
  return a.direction;
}

/** Bars largest |attribution| first, then the rest bar (when top-K left features out). */
export function attributionBars(
  doc: Pick<ExplanationDocument, 'attributions' | 'rest_sum' | 'rest_count'> & {
    meta?: Pick<ExplanationDocument['meta'], 'locale'>;
  },
  wording: BarWording,
): AttributionBar[] {
  // Two masked features must not read the same (a chart's categories are its labels): each is tagged from its
  // pseudonym, as every page and the document's own description tag it, not numbered in this document's order.
  const maskedNames = maskedFeatureLabels(
    doc.attributions.filter((a) => a.masked).map((a) => a.feature),
    wording.masked,
  );
  const bars: AttributionBar[] = doc.attributions
    .map((a) => ({
      key: a.feature,
      label: a.masked ? (maskedNames.get(a.feature) ?? wording.masked) : (a.label ?? a.feature),
      value: a.attribution,
      kind: kindOf(a),
      masked: a.masked === true,
      imputed: a.imputed === true,
      raw: a.value,
      description: a.description,
      ...(doc.meta && { docLocale: doc.meta.locale }),
    }))
    .sort((x, y) => Math.abs(y.value) - Math.abs(x.value) || x.key.localeCompare(y.key));
  if (doc.rest_count > 0) {
    bars.push({
      key: '__rest__',
      label: wording.rest(doc.rest_count),
      value: doc.rest_sum,
      kind: 'rest',
      masked: false,
      imputed: false,
      description: wording.restDescription(doc.rest_count),
    });
  }
  return bars;
}

/**
 * What the chart shows, for a screen reader: how many bars, how many raise and lower the output, and how many do
 * not change it (a value at the baseline's), which are not counted as lowering it.
 */
export function chartLabel(bars: readonly AttributionBar[], t: T): string {
  const count = (kind: BarKind) => bars.filter((b) => b.kind === kind).length;
  const params = { count: bars.length, positive: count('positive'), negative: count('negative') };
  const neutral = count('neutral');
  return neutral > 0
    ? t('explain.chartLabelNeutral', { ...params, neutral })
    : t('explain.chartLabel', params);
}

/** Σ of the shown bars (the rest bar included): equals completeness.sum up to rounding. */
export function barsTotal(bars: readonly AttributionBar[]): number {
  return bars.reduce((s, b) => s + b.value, 0);
}

/** A symmetric axis bound that fits every bar with a little room, so zero stays in the middle. */
export function symmetricBound(bars: readonly AttributionBar[]): number {
  const max = bars.reduce((m, b) => Math.max(m, Math.abs(b.value)), 0);
  if (max === 0) return 0.1;
  const padded = max * 1.25;
  const step = 10 ** Math.floor(Math.log10(padded));
  return Number((Math.ceil(padded / step) * step).toPrecision(12));
}
