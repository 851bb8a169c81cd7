// The applicant on the printed report: every feature of the model with the value it was explained with, in the
// schema's order, so that the customer file says what the decision was made on (the factors list only the largest
// few, and a loan's amount or term may not be among them). A sensitive feature's value is masked, as in the
// document; a missing optional one shows the default it was explained with, marked so. Pure.
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import type { T } from '../../i18n/i18n.js';
import { featureLabel, valueText } from '../../lib/problem-text.js';

export interface ApplicantRow {
  name: string;
  label: string;
  value: string;
  masked: boolean;
  /** Not given: the feature's default was used. */
  imputed: boolean;
}

/** `applicant`: the checked values the page explained (validateApplicant's), without the missing ones. */
export function applicantRows(
  schema: Pick<BundleSchema, 'features'>,
  applicant: Readonly<Record<string, unknown>>,
  locale: Locale,
  t: T,
): ApplicantRow[] {
  return schema.features.map((f) => {
    const imputed = !Object.prototype.hasOwnProperty.call(applicant, f.name);
    const masked = f.sensitive;
    return {
      name: f.name,
      label: featureLabel(f, locale),
      value: masked
        ? t('explain.maskedValue')
        : valueText(f, imputed ? f.impute : applicant[f.name], locale, t),
      masked,
      imputed,
    };
  });
}
