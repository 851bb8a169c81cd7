// The applicant form's validation: the same rules, in the same order, as the engine's preprocessing
// (main/core/preprocess.ts), so a value the form accepts is a value the API accepts (a category's label or its
// code in another case is taken as the code, which is what the form sends). Problems carry a code and
// the numbers a message needs, and are worded in the user's language by the page. Pure: runs under test in Node.
import {
  booleanFromInput,
  categoryFromInput,
  numberFromInput,
  scaledPastFloat32,
  type BundleSchema,
  type Feature,
} from '../../../shared/bundle.js';
import type { ProblemCode } from '../../../shared/problems.js';

export type CleanValue = number | string | boolean;

/**
 * The field of a problem with the applicant (a CSV row) as a whole rather than one of its values: nothing
 * given at all, or a row the CSV parser could not read. The engine names such a problem by the applicant
 * itself (`[3]` in a call of many, `[0]` alone).
 */
export const WHOLE_APPLICANT = '*';

export interface FieldProblem {
  /** The feature name (or the unknown key), or WHOLE_APPLICANT. */
  field: string;
  code: ProblemCode;
  /** The value as given, for messages; absent when missing. */
  given?: string;
}

export interface ValidationResult {
  /** Valid values by feature; a missing optional value is left out (the service imputes it). */
  values: Record<string, CleanValue>;
  /** Optional features left empty: the service fills in the schema's default. */
  imputed: string[];
  problems: FieldProblem[];
}

export function isMissing(given: unknown): boolean {
  return given === undefined || given === null || (typeof given === 'string' && given.trim() === '');
}

function show(given: unknown): string {
  if (typeof given === 'string') return given.length > 40 ? given.slice(0, 40) + '…' : given;
  return String(given);
}

/** One feature's value: the clean value, or the problem with it. */
export function validateValue(
  f: Feature,
  given: unknown,
): { value: CleanValue; problem?: undefined } | { value?: undefined; problem: FieldProblem } {
  const fail = (code: ProblemCode) => ({ problem: { field: f.name, code, given: show(given) } });
  switch (f.type) {
    case 'numeric': {
      const n = numberFromInput(given);
      if (n === undefined) return fail('wrong_type');
      if (!Number.isFinite(n) || scaledPastFloat32(f, n)) return fail('not_finite');
      if (f.integer && !Number.isInteger(n)) return fail('not_integer');
      const { min, max } = f.range ?? {};
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) return fail('out_of_range');
      return { value: n };
    }
    case 'categorical': {
      if (typeof given !== 'string') return fail('wrong_type');
      // As the engine reads it: the code, or the one category whose code in another case or width, or label in
      // either language, it is (`Rent` and 租房 for `rent`); the form and a batch send the code.
      const code = categoryFromInput(f, given);
      return code !== undefined ? { value: code } : fail('unknown_category');
    }
    case 'boolean': {
      const b = booleanFromInput(f, given);
      if (b !== undefined) return { value: b };
      return fail('wrong_type');
    }
  }
}

/** Whether any feature has a value: what the engine counts as given (an empty or blank text is not). */
function givesAnyFeature(
  schema: Pick<BundleSchema, 'features'>,
  raw: Readonly<Record<string, unknown>>,
): boolean {
  return schema.features.some(
    (f) => Object.prototype.hasOwnProperty.call(raw, f.name) && !isMissing(raw[f.name]),
  );
}

/** Validates one raw applicant (a form's strings or a CSV row) against the model's schema. */
export function validateApplicant(
  schema: Pick<BundleSchema, 'features'>,
  raw: Readonly<Record<string, unknown>>,
): ValidationResult {
  const problems: FieldProblem[] = [];
  const known = new Set(schema.features.map((f) => f.name));
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) problems.push({ field: key, code: 'unknown_feature' });
  }
  // An applicant that gives none of the features is nothing to decide on, and the engine refuses it (as
  // `missing`, on the applicant itself). That is then the one problem with its features: the engine also lists
  // every required one as missing, which would say again, feature by feature, what this says once.
  if (!givesAnyFeature(schema, raw)) {
    problems.push({ field: WHOLE_APPLICANT, code: 'missing' });
    return { values: {}, imputed: [], problems };
  }
  const values: Record<string, CleanValue> = {};
  const imputed: string[] = [];
  for (const f of schema.features) {
    const given = Object.prototype.hasOwnProperty.call(raw, f.name) ? raw[f.name] : undefined;
    if (isMissing(given)) {
      if (f.required) problems.push({ field: f.name, code: 'missing' });
      else imputed.push(f.name);
      continue;
    }
    const r = validateValue(f, given);
    if (r.problem) problems.push(r.problem);
    else values[f.name] = r.value;
  }
  return { values, imputed, problems };
}
