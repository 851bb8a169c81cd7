// Fits the schema's learned parts on the training split only: scalers, imputation values and the baseline.
import {
  bundleSchemaSchema,
  type BundleSchema,
  type Feature,
  type OutputSpec,
  type RawValue,
} from '../../shared/bundle.js';
import type { FeatureSpec } from './credit-features.js';

export const CREDIT_OUTPUT: Extract<OutputSpec, { kind: 'sigmoid' }> = {
  kind: 'sigmoid',
  classes: ['bad', 'good'],
  explain_class: 'good',
  threshold: 0.5,
  label: { 'zh-CN': '通过率', en: 'Approval probability' },
};

/** Cells as a CSV gives them; '' (or absent) is missing. */
export type RawRow = Record<string, string>;

/**
 * The full schema: numeric features standardised with the training mean and (population) standard deviation,
 * missing numbers imputed with the training median, categories and booleans with the training mode.
 * The baseline, IG's reference applicant, is that same typical applicant.
 */
export function fitSchema(
  specs: readonly FeatureSpec[],
  output: OutputSpec,
  trainRows: readonly RawRow[],
): BundleSchema {
  const features: Feature[] = [];
  const baseline: Record<string, RawValue> = {};
  for (const spec of specs) {
    const cells = trainRows.map((r) => r[spec.name]?.trim() ?? '').filter((c) => c !== '');
    if (cells.length === 0) throw new Error(`no training values for ${spec.name}`);
    switch (spec.type) {
      case 'numeric': {
        const values = cells.map((c) => toNumber(spec.name, c));
        const m = median(values);
        const impute = spec.integer ? Math.round(m) : m;
        features.push({ ...spec, scaler: { mean: round6(mean(values)), std: round6(std(values)) }, impute });
        baseline[spec.name] = impute;
        break;
      }
      case 'categorical': {
        const impute = mode(cells, spec.categories);
        features.push({ ...spec, impute });
        baseline[spec.name] = impute;
        break;
      }
      case 'boolean': {
        const flags = cells.map((c) => toBoolean(spec.name, c, spec.true_values, spec.false_values));
        const trues = flags.filter(Boolean).length;
        const impute = trues > flags.length - trues;
        features.push({ ...spec, impute });
        baseline[spec.name] = impute;
        break;
      }
    }
  }
  const schema: BundleSchema = { schema_version: 1, features, output, baseline };
  // Proves the result is a schema the loader accepts; the unparsed object keeps the readable key order.
  bundleSchemaSchema.parse(schema);
  return schema;
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, v) => a + v, 0) / values.length;
}

/** Population standard deviation (as scikit-learn's StandardScaler), 1 for a constant column. */
export function std(values: readonly number[]): number {
  const m = mean(values);
  const s = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length);
  return s > 0 ? s : 1;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The most frequent value; a tie goes to the one listed first in `order`. */
export function mode(values: readonly string[], order: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = order[0]!;
  for (const c of order) if ((counts.get(c) ?? 0) > (counts.get(best) ?? 0)) best = c;
  return best;
}

/** Six significant digits keep schema.json readable; training uses the rounded values, so nothing drifts. */
function round6(x: number): number {
  return Number(x.toPrecision(6));
}

function toNumber(feature: string, cell: string): number {
  const n = Number(cell);
  if (!Number.isFinite(n)) throw new Error(`${feature}: "${cell}" is not a number`);
  return n;
}

function toBoolean(feature: string, cell: string, yes: readonly string[], no: readonly string[]): boolean {
  const v = cell.toLowerCase();
  if (yes.includes(v)) return true;
  if (no.includes(v)) return false;
  throw new Error(`${feature}: "${cell}" is neither ${yes.join('/')} nor ${no.join('/')}`);
}
