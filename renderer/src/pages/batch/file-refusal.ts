// A batch file's refusal as a sentence in the page's language. The store keeps what is wrong (FileRefusal), not a
// sentence, so that switching the language rewords a refusal already on screen. Pure: runs under test in Node.
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import type { T } from '../../i18n/i18n.js';
import { featureLabel } from '../../lib/problem-text.js';
import type { FileRefusal } from './batch-store.js';

/** Features by their labels in the page's language, as a list: what an officer reads, and a header that works. */
export function featureList(schema: BundleSchema, names: readonly string[], locale: Locale, t: T): string {
  const features = new Map(schema.features.map((f) => [f.name, f]));
  return names
    .map((name) => {
      const f = features.get(name);
      return f ? featureLabel(f, locale) : name;
    })
    .join(t('common.listSeparator'));
}

/**
 * The columns a file may have, for the page's hint and a refusal: each feature by its label in the page's language
 * and its name ("工龄（Seniority）"), as the Models page shows them; a label that is the name, once ("Assets").
 */
export function expectedColumns(schema: Pick<BundleSchema, 'features'>, locale: Locale, t: T): string {
  return schema.features
    .map((f) => {
      const label = featureLabel(f, locale);
      return label.toLowerCase() === f.name.toLowerCase()
        ? f.name
        : t('batch.featureColumn', { label, name: f.name });
    })
    .join(t('common.listSeparator'));
}

/** Why the file is refused, in the page's language (worded here, so that a language switch rewords it). */
export function fileRefusalText(
  refusal: FileRefusal,
  schema: BundleSchema | undefined,
  locale: Locale,
  t: T,
): string {
  switch (refusal.kind) {
    case 'notCsv':
      return refusal.detail
        ? t('batch.notCsvDetail', { message: t('batch.notCsv'), detail: refusal.detail })
        : t('batch.notCsv');
    case 'emptyFile':
      return t('batch.emptyFile');
    case 'noRows':
      return t('batch.noRows');
    case 'noFeatureColumns':
      return t('batch.noFeatureColumns', { columns: schema ? expectedColumns(schema, locale, t) : '' });
    case 'missingRequiredColumns':
      return t('batch.missingRequiredColumns', {
        features: schema
          ? featureList(schema, refusal.features, locale, t)
          : refusal.features.join(t('common.listSeparator')),
      });
    case 'repeatedColumns':
      return t('batch.repeatedColumns', {
        list: refusal.repeated
          .map((r) => `${r.feature} ← ${r.columns.map((c) => `“${c}”`).join(t('common.listSeparator'))}`)
          .join(t('error.problemSeparator')),
      });
  }
}
