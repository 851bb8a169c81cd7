// The applicant form, generated from the active model's schema: a labelled control per feature in the current
// language, with its unit, range and default; categorical features as selects of their business labels.
import type { BundleSchema, Feature, Locale } from '../../../../shared/bundle.js';
import type { T } from '../../i18n/i18n.js';
import { pick } from '../../i18n/i18n.js';
import { categoryLabel, featureLabel, rangeText } from '../../lib/problem-text.js';
import { formatNumber } from '../../lib/format.js';
import type { FormValues } from './form-state.js';

export function fieldId(name: string): string {
  return `field-${name}`;
}

function defaultText(f: Feature, locale: Locale, t: T): string {
  switch (f.type) {
    case 'numeric':
      return formatNumber(locale, f.impute, 6);
    case 'categorical':
      return categoryLabel(f, f.impute, locale);
    case 'boolean':
      return f.impute ? t('common.yes') : t('common.no');
  }
}

interface FieldProps {
  feature: Feature;
  value: string;
  error: string | undefined;
  locale: Locale;
  t: T;
  onChange(value: string): void;
  /** `next`: the element the focus moves to, if any. */
  onBlur(next: Element | null): void;
}

function Field({ feature: f, value, error, locale, t, onChange, onBlur }: FieldProps) {
  const id = fieldId(f.name);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const unit = f.unit ? pick(f.unit, locale) : '';
  const range = rangeText(f, locale, t);
  const hint = [pick(f.description, locale), range].filter(Boolean).join(' · ');
  const common = {
    id,
    name: f.name,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined,
    'aria-required': f.required || undefined,
    onBlur: (e: React.FocusEvent) => onBlur(e.relatedTarget),
  } as const;
  const fallback = t('form.defaultOption', { value: defaultText(f, locale, t) });
  return (
    <div className={`field ${error ? 'field-invalid' : ''}`} data-feature={f.name}>
      <label htmlFor={id} className="field-label">
        <span>{featureLabel(f, locale)}</span>
        {f.required && <span className="field-required">{t('form.required')}</span>}
        {f.sensitive && (
          <span className="tag tag-sensitive" title={t('form.sensitiveHint')}>
            {t('form.sensitive')}
          </span>
        )}
      </label>
      <div className="field-control">
        {f.type === 'numeric' ? (
          <>
            <input
              {...common}
              type="text"
              inputMode={f.integer ? 'numeric' : 'decimal'}
              autoComplete="off"
              spellCheck={false}
              value={value}
              placeholder={
                f.required ? '' : t('form.defaultPlaceholder', { value: defaultText(f, locale, t) })
              }
              onChange={(e) => onChange(e.target.value)}
            />
            {unit && (
              <span className="field-unit" aria-hidden="true">
                {unit}
              </span>
            )}
          </>
        ) : f.type === 'categorical' ? (
          <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
            {!f.required && <option value="">{fallback}</option>}
            {f.required && value === '' && <option value="">{t('form.choose')}</option>}
            {f.categories.map((c) => (
              <option key={c} value={c}>
                {categoryLabel(f, c, locale)}
              </option>
            ))}
          </select>
        ) : (
          <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
            {!f.required && <option value="">{fallback}</option>}
            {f.required && value === '' && <option value="">{t('form.choose')}</option>}
            <option value="true">{t('common.yes')}</option>
            <option value="false">{t('common.no')}</option>
          </select>
        )}
      </div>
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error" data-testid={`error-${f.name}`}>
          {error}
        </p>
      )}
    </div>
  );
}

export interface ApplicantFormProps {
  schema: BundleSchema;
  values: FormValues;
  errors: Record<string, string>;
  locale: Locale;
  t: T;
  onChange(name: string, value: string): void;
  onBlur(name: string, next: Element | null): void;
}

export function ApplicantForm({ schema, values, errors, locale, t, onChange, onBlur }: ApplicantFormProps) {
  return (
    <div className="form-grid">
      {schema.features.map((f) => (
        <Field
          key={f.name}
          feature={f}
          value={values[f.name] ?? ''}
          error={errors[f.name]}
          locale={locale}
          t={t}
          onChange={(v) => onChange(f.name, v)}
          onBlur={(next) => onBlur(f.name, next)}
        />
      ))}
    </div>
  );
}
