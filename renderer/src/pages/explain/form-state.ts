// The applicant form's state: one string per feature (what the inputs hold), turned into the raw applicant the
// API takes. Samples and the schema's reference applicant fill it in. Pure.
import { ungrouped, type BundleSchema, type Feature } from '../../../../shared/bundle.js';

export type FormValues = Record<string, string>;

/** A raw value as the form shows it: booleans as "true"/"false", missing as "". */
export function toFormValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

export function emptyForm(schema: Pick<BundleSchema, 'features'>): FormValues {
  return Object.fromEntries(schema.features.map((f) => [f.name, '']));
}

/** A sample or the baseline as form values; keys that are not features of this model are dropped. */
export function formFrom(
  schema: Pick<BundleSchema, 'features'>,
  applicant: Record<string, unknown>,
): FormValues {
  const out = emptyForm(schema);
  for (const f of schema.features) {
    if (Object.prototype.hasOwnProperty.call(applicant, f.name)) out[f.name] = toFormValue(applicant[f.name]);
  }
  return out;
}

/**
 * A form value as the raw applicant value: a boolean select gives a JSON boolean, the rest stays a string (a
 * number without its grouping commas).
 */
export function rawValue(f: Feature, value: string): unknown {
  if (value.trim() === '') return undefined;
  if (f.type === 'numeric') return ungrouped(value);
  if (f.type === 'boolean') {
    if (value === 'true') return true;
    if (value === 'false') return false;
  }
  return value;
}

export function rawApplicant(
  schema: Pick<BundleSchema, 'features'>,
  form: FormValues,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.features) {
    const v = rawValue(f, form[f.name] ?? '');
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

/** Samples that fit the model: only their known features are kept, and a sample with none is dropped. */
export function fittingSamples(
  schema: Pick<BundleSchema, 'features'>,
  samples: readonly Record<string, unknown>[],
): Record<string, unknown>[] {
  const names = new Set(schema.features.map((f) => f.name));
  return samples
    .map((s) => Object.fromEntries(Object.entries(s).filter(([k]) => names.has(k))))
    .filter((s) => Object.keys(s).length > 0);
}

/** Which of `forms` (the samples as loaded) the form holds, value for value; -1 for none (typed, or changed). */
export function loadedForm(
  schema: Pick<BundleSchema, 'features'>,
  values: FormValues,
  forms: readonly FormValues[],
): number {
  return forms.findIndex((form) => schema.features.every((f) => (values[f.name] ?? '') === form[f.name]));
}

/**
 * The form for another model (one activated meanwhile): what was typed into a feature it still has is kept, a
 * feature it adds starts empty, and a feature it dropped is let go.
 */
export function carriedForm(schema: Pick<BundleSchema, 'features'>, values: FormValues): FormValues {
  const out = emptyForm(schema);
  for (const f of schema.features) {
    if (Object.prototype.hasOwnProperty.call(values, f.name)) out[f.name] = values[f.name]!;
  }
  return out;
}

/** How one model's applicant differs from another's: features added, removed, and those whose values changed rules. */
export interface SchemaChanges {
  added: Feature[];
  removed: Feature[];
  /** Same name, but another type, range, integer rule, categories, boolean words or required. */
  changed: Feature[];
}

/** What of a feature decides which values it takes (its labels and descriptions do not). */
function valueRules(f: Feature): string {
  const { type, required } = f;
  if (f.type === 'numeric') return JSON.stringify([type, required, f.range?.min, f.range?.max, f.integer]);
  if (f.type === 'categorical') return JSON.stringify([type, required, f.categories]);
  return JSON.stringify([type, required, f.true_values, f.false_values]);
}

export function schemaChanges(
  before: Pick<BundleSchema, 'features'>,
  after: Pick<BundleSchema, 'features'>,
): SchemaChanges {
  const old = new Map(before.features.map((f) => [f.name, f]));
  const now = new Set(after.features.map((f) => f.name));
  return {
    added: after.features.filter((f) => !old.has(f.name)),
    removed: before.features.filter((f) => !now.has(f.name)),
    changed: after.features.filter((f) => old.has(f.name) && valueRules(old.get(f.name)!) !== valueRules(f)),
  };
}

export function schemaDiffers(c: SchemaChanges): boolean {
  return c.added.length + c.removed.length + c.changed.length > 0;
}
