// How an audit entry names a feature: the business label from the active model's schema where the name is one of
// its features; a sensitive feature is recorded under a keyed pseudonym ("sensitive_…"), which stays as it is.
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import { PSEUDONYM_PREFIX } from '../../lib/labels.js';
import { featureLabel } from '../../lib/problem-text.js';

export interface AuditFeatureName {
  /** What the row shows: the label, or the recorded name when the schema does not know it. */
  label: string;
  /** The name as recorded in the log. */
  recorded: string;
  masked: boolean;
}

export { PSEUDONYM_PREFIX };

export function auditFeatureName(
  recorded: string,
  schema: Pick<BundleSchema, 'features'> | null,
  locale: Locale,
): AuditFeatureName {
  const f = schema?.features.find((x) => x.name === recorded);
  if (f) return { label: featureLabel(f, locale), recorded, masked: false };
  return { label: recorded, recorded, masked: recorded.startsWith(PSEUDONYM_PREFIX) };
}
