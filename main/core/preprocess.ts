// Raw applicant (feature name → value, as a branch form or a CSV row sends it) → the model's input vector.
import {
  booleanFromInput,
  booleanWords,
  categoryFromInput,
  inputColumns,
  halfWidth,
  numberFromInput,
  scaledPastFloat32,
  type BundleSchema,
  type Feature,
  type InputColumn,
} from '../../shared/bundle.js';
import { describeValue, InputError, type Problem } from '../../shared/problems.js';

/** A raw feature value after validation and imputation. */
export type CleanValue = number | string | boolean;

export interface Preprocessed {
  /** Model-input vector, in the order of `inputColumns(schema)`. */
  vector: number[];
  /** Raw values by feature, with imputed values filled in. */
  values: Record<string, CleanValue>;
  /** Features whose value was missing and imputed. */
  imputed: string[];
  /**
   * The applicant as given, each category and boolean as the code and the true/false it was read as (租房 and
   * " Rent " as rent, 是 and "yes" as true): what the audit log's input hash and the monitor take, so that an
   * applicant typed with the page's labels is the same applicant as one typed with codes. Numbers and missing
   * values stay as given.
   */
  applicant: Record<string, unknown>;
}

/**
 * Whose applicants are encoded:
 * - `caller`: a caller's, as JSON (the service's entry points behind HTTP, IPC and the CLI). Each must give at
 *   least one feature (defaults alone are nothing to decide on), and a number must be a JSON number, not text
 *   such as `"1500"` (text is a CSV cell's form: `numbersFromText` reads those first).
 * - `engine`: the engine's own inputs (a bundle's baseline, which may be all defaults; training rows, as text).
 * - `perturbed`: the stability check's perturbed copies of served applicants: numbers need only be finite, so
 *   a whole-number feature can move by less than one and a value can pass its range by the perturbation.
 */
export type EncodeMode = 'caller' | 'engine' | 'perturbed';

export class Preprocessor {
  readonly columns: InputColumn[];
  private readonly byName: Map<string, Feature>;

  constructor(readonly schema: BundleSchema) {
    this.columns = inputColumns(schema);
    this.byName = new Map(schema.features.map((f) => [f.name, f]));
  }

  get width(): number {
    return this.columns.length;
  }

  /**
   * Validates and encodes every applicant; the problems of all rows are reported together, prefixed by row
   * (a single applicant's are not prefixed). `mode` says whose applicants these are (see EncodeMode).
   */
  encodeAll(applicants: readonly unknown[], mode: EncodeMode = 'engine'): Preprocessed[] {
    if (applicants.length === 1) return [this.encode(applicants[0], '', mode)];
    const problems: Problem[] = [];
    const out: Preprocessed[] = [];
    for (let i = 0; i < applicants.length; i++) {
      try {
        out.push(this.encode(applicants[i], `[${i}].`, mode));
      } catch (e) {
        if (e instanceof InputError) problems.push(...e.problems);
        else throw e;
      }
    }
    if (problems.length) throw new InputError(problems);
    return out;
  }

  /** Validates and encodes one applicant; every problem is collected and thrown together. */
  encode(raw: unknown, fieldPrefix = '', mode: EncodeMode = 'engine'): Preprocessed {
    const problems: Problem[] = [];
    const at = (name: string) => `${fieldPrefix}${name}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new InputError([
        {
          field: fieldPrefix.replace(/\.$/, '') || 'input',
          code: 'wrong_type',
          message: 'must be an object of feature name → value',
        },
      ]);
    }
    const record = raw as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!this.byName.has(key)) {
        problems.push({
          field: at(key),
          code: 'unknown_feature',
          message: `is not a feature of this model (expected one of: ${[...this.byName.keys()].join(', ')})`,
        });
      }
    }
    const vector: number[] = [];
    const values: Record<string, CleanValue> = {};
    const imputed: string[] = [];
    const applicant: Record<string, unknown> = { ...record };
    let givenCount = 0;
    for (const f of this.schema.features) {
      const given = Object.prototype.hasOwnProperty.call(record, f.name) ? record[f.name] : undefined;
      const missing =
        given === undefined || given === null || (typeof given === 'string' && given.trim() === '');
      let value: CleanValue | undefined;
      if (missing) {
        if (f.required) {
          problems.push({ field: at(f.name), code: 'missing', message: 'is required' });
        } else {
          value = f.impute;
          imputed.push(f.name);
        }
      } else {
        givenCount++;
        value = parseValue(f, given, at(f.name), problems, mode);
        if (value !== undefined && f.type !== 'numeric') applicant[f.name] = value;
      }
      if (value === undefined) {
        for (let i = 0; i < widthOf(f); i++) vector.push(0);
        continue;
      }
      values[f.name] = value;
      encodeInto(f, value, vector);
    }
    if (mode === 'caller' && givenCount === 0) {
      problems.push({
        // The applicant itself: `[i]`, and `[0]` for a lone one (whose feature problems carry no prefix).
        field: fieldPrefix.replace(/\.$/, '') || '[0]',
        code: 'missing',
        message: `gives none of the model's features (${[...this.byName.keys()].join(', ')}): there is nothing to decide on`,
      });
    }
    if (problems.length > 0) throw new InputError(problems);
    return { vector, values, imputed, applicant };
  }
}

function widthOf(f: Feature): number {
  return f.type === 'categorical' ? f.categories.length : 1;
}

function encodeInto(f: Feature, value: CleanValue, out: number[]): void {
  switch (f.type) {
    case 'numeric':
      out.push(((value as number) - f.scaler.mean) / f.scaler.std);
      return;
    case 'boolean':
      out.push(value ? 1 : 0);
      return;
    case 'categorical':
      for (const c of f.categories) out.push(c === value ? 1 : 0);
      return;
  }
}

function parseValue(
  f: Feature,
  given: unknown,
  field: string,
  problems: Problem[],
  mode: EncodeMode,
): CleanValue | undefined {
  switch (f.type) {
    case 'numeric': {
      const n = numberFromInput(given);
      // "NaN" as text falls through to the finite-number rule below, which names the real problem.
      if (mode === 'caller' && typeof given === 'string' && Number.isFinite(n)) {
        problems.push({
          field,
          code: 'wrong_type',
          message: `must be a JSON number, got the text ${describeValue(given)} (send ${halfWidth(given).trim()} without quotes)`,
        });
        return undefined;
      }
      if (n === undefined) {
        problems.push({
          field,
          code: 'wrong_type',
          message: `must be a number, got ${describeValue(given)}`,
        });
        return undefined;
      }
      if (!Number.isFinite(n)) {
        problems.push({
          field,
          code: 'not_finite',
          message: 'must be a finite number (NaN and Infinity are not allowed)',
        });
        return undefined;
      }
      // The model computes in float32: a value that scales past its range reaches the model as Infinity, and its
      // attributions as NaN, which no document can hold (a feature without `range` lets such a value through).
      if (scaledPastFloat32(f, n)) {
        const scaled = (n - f.scaler.mean) / f.scaler.std;
        problems.push({
          field,
          // To the model it is not a finite number; `out_of_range` would be worded with a range it may not have.
          code: 'not_finite',
          message: `is too large for this model: scaled by its scaler it is ${scaled}, past the ±3.4e38 its float32 inputs hold`,
        });
        return undefined;
      }
      // A perturbation for the stability check moves numbers off the whole-number grid and past the range by a
      // hair, as Captum perturbs the model's input; the model takes any number.
      if (mode === 'perturbed') return n;
      if (f.integer && !Number.isInteger(n)) {
        problems.push({ field, code: 'not_integer', message: `must be a whole number, got ${n}` });
        return undefined;
      }
      const { min, max } = f.range ?? {};
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
        problems.push({
          field,
          code: 'out_of_range',
          message: `must be between ${min ?? '-∞'} and ${max ?? '∞'}, got ${n}`,
        });
        return undefined;
      }
      return n;
    }
    case 'categorical': {
      if (typeof given !== 'string') {
        // Categories are text: the JSON number 2 is not the category "2", and "must be one of 1, 2, 3, got 2"
        // would contradict itself.
        const text = typeof given === 'number' || typeof given === 'boolean' ? String(given) : undefined;
        problems.push({
          field,
          code: 'wrong_type',
          message:
            text !== undefined && f.categories.includes(text)
              ? `must be text, one of ${f.categories.join(', ')}: got the ${typeof given} ${text} (send "${text}" in quotes)`
              : `must be one of ${f.categories.join(', ')}, got ${describeValue(given)}`,
        });
        return undefined;
      }
      const code = categoryFromInput(f, given);
      if (code === undefined) {
        problems.push({
          field,
          code: 'unknown_category',
          message: `must be one of ${f.categories.join(', ')}${f.category_labels ? " (or a category's label, as the page shows it)" : ''}, got "${given.trim()}"`,
        });
        return undefined;
      }
      return code;
    }
    case 'boolean': {
      const b = booleanFromInput(f, given);
      if (b !== undefined) return b;
      const words = booleanWords(f);
      problems.push({
        field,
        code: 'wrong_type',
        message: `must be true or false (for true: ${words.yes.join(', ')}; for false: ${words.no.join(', ')}), got ${describeValue(given)}`,
      });
      return undefined;
    }
  }
}
