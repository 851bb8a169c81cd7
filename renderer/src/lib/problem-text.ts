// A problem with an applicant's value, worded for the user in their language, with the numbers the schema gives
// (range, unit, categories). Used for the form's own checks and for the problems the API answers with.
import { booleanWords, type BundleSchema, type Feature, type Locale } from '../../../shared/bundle.js';
import type { Problem } from '../../../shared/problems.js';
import type { T } from '../i18n/i18n.js';
import { pick } from '../i18n/i18n.js';
import { formatNumber } from './format.js';
import type { FieldProblem } from './validate.js';

export function featureLabel(f: Feature, locale: Locale): string {
  return pick(f.label, locale) || f.name;
}

export function categoryLabel(f: Feature, category: string, locale: Locale): string {
  if (f.type !== 'categorical') return category;
  return pick(f.category_labels?.[category], locale) || category;
}

export function rangeText(f: Feature, locale: Locale, t: T): string | null {
  if (f.type !== 'numeric' || !f.range) return null;
  const unit = f.unit ? ` ${pick(f.unit, locale)}` : '';
  const { min, max } = f.range;
  if (min !== undefined && max !== undefined)
    return t('range.between', { min: formatNumber(locale, min), max: formatNumber(locale, max), unit });
  if (min !== undefined) return t('range.atLeast', { min: formatNumber(locale, min), unit });
  if (max !== undefined) return t('range.atMost', { max: formatNumber(locale, max), unit });
  return null;
}

/** A raw value as the branch reads it: a category's business label, yes/no, a number with its unit. */
export function valueText(f: Feature | undefined, raw: unknown, locale: Locale, t: T): string {
  if (raw === null || raw === undefined || raw === '') return '—';
  if (typeof raw === 'boolean') return raw ? t('common.yes') : t('common.no');
  if (f?.type === 'categorical' && typeof raw === 'string') return categoryLabel(f, raw, locale);
  if (typeof raw === 'number') {
    const unit = f?.type === 'numeric' && f.unit ? ` ${pick(f.unit, locale)}` : '';
    return `${formatNumber(locale, raw, 6)}${unit}`;
  }
  return String(raw);
}

/** The message for one problem with feature `f` (undefined: not a feature of the model). */
export function problemText(
  f: Feature | undefined,
  p: Pick<FieldProblem, 'code' | 'given'>,
  locale: Locale,
  t: T,
): string {
  const given = p.given ?? '';
  switch (p.code) {
    case 'missing':
      return t('problem.missing');
    case 'unknown_feature':
      return t('problem.unknownFeature');
    case 'not_finite':
      return t('problem.notFinite');
    case 'not_integer':
      return t('problem.notInteger', { given });
    case 'out_of_range':
      return f
        ? t('problem.outOfRange', { range: rangeText(f, locale, t) ?? '', given })
        : t('problem.invalid');
    case 'unknown_category':
      return f && f.type === 'categorical'
        ? t('problem.unknownCategory', {
            given,
            // The codes, with the labels the form shows, which a file may hold instead.
            options: f.categories
              .map((c) => {
                const label = categoryLabel(f, c, locale);
                return label === c ? c : t('problem.categoryOption', { code: c, label });
              })
              .join(t('common.listSeparator')),
          })
        : t('problem.invalid');
    case 'wrong_type':
      if (f?.type === 'numeric') return t('problem.notNumber', { given });
      // Which words mean yes and which no, apart (the bundle's own and the page's 是/否, Yes/No): "must be yes or
      // no" would not say which of the bundle's words is which.
      if (f?.type === 'boolean') {
        const { yes, no } = booleanWords(f);
        return t('problem.notBoolean', { given, yes: yes.join(' / '), no: no.join(' / ') });
      }
      if (f?.type === 'categorical') return t('problem.chooseOption');
      return t('problem.invalid');
    case 'invalid':
      return t('problem.invalid');
  }
}

/** One field's problem as kept until it is worded: its code and the value as given. */
export type FieldIssue = Pick<FieldProblem, 'code' | 'given'>;

/** The form's own checks by field, kept as codes and values until they are worded. */
export function checkedProblems(problems: readonly FieldProblem[]): Record<string, FieldIssue> {
  const out: Record<string, FieldIssue> = {};
  for (const p of problems)
    out[p.field] = { code: p.code, ...(p.given !== undefined ? { given: p.given } : {}) };
  return out;
}

/**
 * The API's problems by feature name (`Seniority` or, in a batch, `[3].Seniority`: row 3 of the call), kept as
 * codes so they are worded in the language of the moment; problems of no feature keep the server's words.
 */
export function serverProblems(
  problems: readonly Problem[],
  schema: Pick<BundleSchema, 'features'>,
): { byField: Record<string, FieldIssue>; other: string[] } {
  const names = new Set(schema.features.map((f) => f.name));
  const byField: Record<string, FieldIssue> = {};
  const other: string[] = [];
  for (const p of problems) {
    const name = p.field.replace(/^\[\d+\]\./, '');
    if (names.has(name)) {
      // The server's own words carry the value it got; the code gives the message in the user's language.
      const given = /got "?([^"]*)"?$/.exec(p.message)?.[1];
      byField[name] = { code: p.code, ...(given !== undefined ? { given } : {}) };
    } else {
      other.push(`${p.field}: ${p.message}`);
    }
  }
  return { byField, other };
}

/** Problems kept by field, worded in `locale`. */
export function fieldMessages(
  byField: Readonly<Record<string, FieldIssue>>,
  schema: Pick<BundleSchema, 'features'>,
  locale: Locale,
  t: T,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, issue] of Object.entries(byField)) {
    out[name] = problemText(
      schema.features.find((f) => f.name === name),
      issue,
      locale,
      t,
    );
  }
  return out;
}
