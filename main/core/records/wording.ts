// Business wording: a feature's label and a sentence from the bundle's templates, by direction and locale.
// The templates speak of the approving class (the schema's explain_class): an explanation for another class is
// worded from the approval direction (sigmoid) or in words of its own that name the class (softmax).
import type { BundleSchema, Feature, Locale } from '../../../shared/bundle.js';

export type Direction = 'positive' | 'negative' | 'neutral';

export const MASKED_DESCRIPTION: Record<Locale, string> = {
  'zh-CN': '敏感特征已脱敏',
  en: 'Sensitive feature masked',
};

/**
 * A masked attribution's description, with its feature's tag (mask.ts maskedTags, e.g. "3fa2"): two masked
 * reasons must not read the same (a batch's first-reason column, a document's reasons), and the tag is the one
 * the UI names the feature by ("敏感特征（已脱敏） #3fa2").
 */
export function maskedDescription(locale: Locale, tag: string): string {
  return locale === 'zh-CN'
    ? `${MASKED_DESCRIPTION[locale]}（#${tag}）`
    : `${MASKED_DESCRIPTION[locale]} (#${tag})`;
}

const BOOLEAN_WORDS: Record<Locale, [string, string]> = { 'zh-CN': ['否', '是'], en: ['no', 'yes'] };
const IMPUTED_NOTE: Record<Locale, string> = {
  'zh-CN': '（缺失，按默认值）',
  en: ' (missing; default used)',
};
/** The note for a value a template already puts in brackets, as in `{label}（{value}）`: said inside them. */
const IMPUTED_IN_BRACKETS: Record<Locale, string> = {
  'zh-CN': '缺失，按默认值：',
  en: 'missing; default used: ',
};

/**
 * `{label}`, `{value}` (and `{class}`) filled in one pass, so that no filled-in text is read as a placeholder. An
 * imputed value says so where a reader sees it whole: inside the template's own brackets (`（缺失，按默认值：自有住房）`,
 * not `（自有住房（缺失，按默认值））`), after its quotes (`“自有住房”（缺失，按默认值）`), else after the value.
 */
function fill(
  template: string,
  feature: Feature,
  value: unknown,
  locale: Locale,
  imputed: boolean,
  className?: string,
): string {
  const shown = formatValue(feature, value, locale);
  return template.replace(
    /([（(])\{value\}([）)])|([“"「‘])\{value\}([”"」’])|\{(label|value|class)\}/g,
    (whole, open?: string, close?: string, quote?: string, unquote?: string, name?: string) => {
      if (open) return `${open}${imputed ? IMPUTED_IN_BRACKETS[locale] : ''}${shown}${close}`;
      const note = imputed ? IMPUTED_NOTE[locale] : '';
      if (quote) return `${quote}${shown}${unquote}${note}`;
      if (name === 'label') return feature.label[locale];
      // `{class}` is a placeholder of the class frame's own words only, not of the bundle's templates.
      if (name === 'class') return className ?? whole;
      return shown + note;
    },
  );
}

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

/**
 * How the attributions of an explanation are worded, and which are its principal reasons:
 * - `approval`: with the bundle's templates, which speak of the approving class (`explain_class`), from each
 *   attribution × `sign`: 1 when the explained target is that class (or the model has none: regression, a
 *   softmax without `explain_class`, whose templates speak of the explained output); −1 when it is the other
 *   class of a sigmoid model, whose output is 1 − P(approving class), so its attributions are the approving
 *   class's negated.
 * - `class`: a softmax model explained for a class other than its approving class. Its attributions say
 *   nothing of approval, so the templates (which speak of it) are not used: the words name the class instead.
 */
export type WordingFrame = { kind: 'approval'; sign: 1 | -1 } | { kind: 'class'; className: string };

export function wordingFrame(
  output: BundleSchema['output'],
  target: { index: number | null; name: string | null },
): WordingFrame {
  switch (output.kind) {
    case 'regression':
      return { kind: 'approval', sign: 1 };
    case 'sigmoid':
      return {
        kind: 'approval',
        sign: target.name === null || target.name === output.explain_class ? 1 : -1,
      };
    case 'softmax':
      return output.explain_class === undefined ||
        target.name === null ||
        target.name === output.explain_class
        ? { kind: 'approval', sign: 1 }
        : { kind: 'class', className: target.name };
  }
}

/** The words for a softmax class other than the approving one (`{class}`: the class's name). */
const CLASS_TEMPLATES: Record<Direction, Record<Locale, string>> = {
  positive: {
    'zh-CN': '{label}（{value}）提高了“{class}”类的概率',
    en: '{label} ({value}) raised the probability of class “{class}”',
  },
  negative: {
    'zh-CN': '{label}（{value}）降低了“{class}”类的概率',
    en: '{label} ({value}) lowered the probability of class “{class}”',
  },
  neutral: {
    'zh-CN': '{label}（{value}）对“{class}”类的概率影响不大',
    en: '{label} ({value}) hardly changed the probability of class “{class}”',
  },
};

/**
 * A feature's sentence in `frame`: `attribution` is toward the explained target, as computed. In the approval
 * frame the bundle's template for the direction of attribution × sign; in the class frame the class's words.
 */
export function describeIn(
  frame: WordingFrame,
  feature: Feature,
  value: unknown,
  attribution: number,
  locale: Locale,
  imputed = false,
): string {
  if (frame.kind === 'approval') return describe(feature, value, frame.sign * attribution, locale, imputed);
  return fill(
    CLASS_TEMPLATES[directionOf(attribution)][locale],
    feature,
    value,
    locale,
    imputed,
    frame.className,
  );
}

/** The words for a zero attribution when the bundle's templates have no `neutral`: no direction, no output named. */
const NEUTRAL_TEMPLATE: Record<Locale, string> = {
  'zh-CN': '{label}（{value}）几乎没有影响',
  en: '{label} ({value}) has almost no effect',
};

/** A sentence from the bundle's templates: `attribution` toward the approving class (or the explained output). */
export function describe(
  feature: Feature,
  value: unknown,
  attribution: number,
  locale: Locale,
  imputed = false,
): string {
  const direction = directionOf(attribution);
  // A bundle may leave out `neutral`: a zero attribution (a value at the baseline's) then takes BranchLens's own
  // words, never the positive template, which would say that the value raised the output.
  const template =
    direction === 'neutral'
      ? (feature.templates.neutral?.[locale] ?? NEUTRAL_TEMPLATE[locale])
      : feature.templates[direction][locale];
  return fill(template, feature, value, locale, imputed);
}
