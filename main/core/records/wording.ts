// Business wording: a feature's label and a sentence from the bundle's templates, by direction and locale.
import type { Feature, Locale } from '../../../shared/bundle.js';

export type Direction = 'positive' | 'negative' | 'neutral';

export const MASKED_DESCRIPTION: Record<Locale, string> = {
  'zh-CN': '敏感特征已脱敏',
  en: 'Sensitive feature masked',
};

const BOOLEAN_WORDS: Record<Locale, [string, string]> = { 'zh-CN': ['否', '是'], en: ['no', 'yes'] };
const IMPUTED_NOTE: Record<Locale, string> = {
  'zh-CN': '（缺失，按默认值）',
  en: ' (missing; default used)',
};

export function directionOf(attribution: number): Direction {
  return attribution > 0 ? 'positive' : attribution < 0 ? 'negative' : 'neutral';
}

/** A raw value as a loan officer reads it: numbers with their unit, categories and booleans by their label. */
export function formatValue(feature: Feature, value: unknown, locale: Locale): string {
  if (value === null || value === undefined) return '—';
  switch (feature.type) {
    case 'numeric': {
      const n = typeof value === 'number' ? value : Number(value);
      const text = Number.isInteger(n) ? String(n) : n.toFixed(2);
      return feature.unit ? `${text} ${feature.unit[locale]}` : text;
    }
    case 'categorical':
      return feature.category_labels?.[String(value)]?.[locale] ?? String(value);
    case 'boolean':
      return BOOLEAN_WORDS[locale][value ? 1 : 0];
  }
}

export function describe(
  feature: Feature,
  value: unknown,
  attribution: number,
  locale: Locale,
  imputed = false,
): string {
  const direction = directionOf(attribution);
  const template =
    direction === 'neutral'
      ? (feature.templates.neutral?.[locale] ?? feature.templates.positive[locale])
      : feature.templates[direction][locale];
  const shown = formatValue(feature, value, locale) + (imputed ? IMPUTED_NOTE[locale] : '');
  return template.replaceAll('{label}', feature.label[locale]).replaceAll('{value}', shown);
}
