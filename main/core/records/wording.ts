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

/** Digits grouped as the UI shows them (1,500), with two decimals for a fraction. */
const NUMBER_FORMATS: Record<Locale, { whole: Intl.NumberFormat; fraction: Intl.NumberFormat }> = {
  'zh-CN': {
    whole: new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 0 }),
    fraction: new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  },
  en: {
    whole: new Intl.NumberFormat('en', { maximumFractionDigits: 0 }),
    fraction: new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  },
};

/** English units of time are given in the plural; one of them is singular ("1 year"). */
const ENGLISH_PLURAL_TIME = /^(years|months|weeks|days|hours)$/;

function unitFor(unit: string, n: number, locale: Locale): string {
  return locale === 'en' && Math.abs(n) === 1 && ENGLISH_PLURAL_TIME.test(unit) ? unit.slice(0, -1) : unit;
}

export function directionOf(attribution: number): Direction {
  return attribution > 0 ? 'positive' : attribution < 0 ? 'negative' : 'neutral';
}

/** A raw value as a loan officer reads it: numbers with their unit, categories and booleans by their label. */
export function formatValue(feature: Feature, value: unknown, locale: Locale): string {
  if (value === null || value === undefined) return '—';
  switch (feature.type) {
    case 'numeric': {
      const n = typeof value === 'number' ? value : Number(value);
      const formats = NUMBER_FORMATS[locale];
      const text = (Number.isInteger(n) ? formats.whole : formats.fraction).format(n);
      return feature.unit ? `${text} ${unitFor(feature.unit[locale], n, locale)}` : text;
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
