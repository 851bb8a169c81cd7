// Problems with a user's input, collected and reported together. Each names the field and says what is wrong.
export type ProblemCode =
  | 'unknown_feature'
  | 'missing'
  | 'wrong_type'
  | 'not_finite'
  | 'unknown_category'
  | 'out_of_range'
  | 'not_integer'
  | 'invalid';

/**
 * Why a model bundle or the model registry refused something, as a key a UI words in its own language, with
 * the names of the params that wording may fill in. `message` stays the English for the CLI, logs and API
 * clients; a UI that does not know a reason (a newer server's) shows `message`.
 */
export const PROBLEM_REASONS = {
  // A bundle's files: main/core/bundle/load.ts, main/core/monitor/reference.ts.
  not_a_folder: { scope: 'bundle', params: ['dir'] },
  file_missing: { scope: 'bundle', params: ['file', 'dir'] },
  not_json: { scope: 'bundle', params: ['file', 'detail'] },
  /** The file as a whole is not what its schema describes (an array for an object, say). */
  file_invalid: { scope: 'bundle', params: ['file', 'detail'] },
  field_missing: { scope: 'bundle', params: ['file', 'path'] },
  /** `fields`: the unknown fields' paths, comma-separated. */
  field_unknown: { scope: 'bundle', params: ['file', 'fields'] },
  /** `detail`: the schema's own words (English) for what is wrong with the value. */
  field_invalid: { scope: 'bundle', params: ['file', 'path', 'detail'] },
  listed_file_missing: { scope: 'bundle', params: ['file'] },
  /** `expected`: the sha256 manifest.json lists; `actual`: the file's. */
  sha256_mismatch: { scope: 'bundle', params: ['file', 'expected', 'actual'] },
  file_not_listed: { scope: 'bundle', params: ['file'] },
  /** `kind`: what the file is instead, in English: symbolic link, FIFO, socket, device, directory. */
  not_regular_file: { scope: 'bundle', params: ['file', 'kind'] },
  /** `size`, `limit`: in bytes. */
  file_too_large: { scope: 'bundle', params: ['file', 'size', 'limit'] },
  /** `size`: the listed files' bytes together; `limit`: in bytes. */
  bundle_too_large: { scope: 'bundle', params: ['size', 'limit'] },
  /** `count`: the entries found (or listed) so far; `limit`: the most a bundle may hold. */
  bundle_too_many_files: { scope: 'bundle', params: ['count', 'limit'] },
  /** `detail`: the operating system's own words (English), e.g. `EACCES: permission denied`. */
  file_unreadable: { scope: 'bundle', params: ['file', 'detail'] },
  required_file_not_listed: { scope: 'bundle', params: ['file'] },
  not_layers_model: { scope: 'bundle', params: [] },
  model_format: { scope: 'bundle', params: ['format'] },
  shard_not_listed: { scope: 'bundle', params: ['shard'] },
  /** `detail`: TensorFlow.js's own words (English). */
  model_unloadable: { scope: 'bundle', params: ['detail'] },
  /** `expected`: the bytes weightsManifest's shapes and dtypes take; `actual`: the bytes its shards hold. */
  weights_size_mismatch: { scope: 'bundle', params: ['expected', 'actual'] },
  /** `values`: the weight values weightsManifest declares; `limit`: the most a bundle can hold. */
  weights_too_large: { scope: 'bundle', params: ['values', 'limit'] },
  /** `shape`: the weight the layer asked for, as `[19, 50000000]`; `limit`: the values weightsManifest holds. */
  topology_too_large: { scope: 'bundle', params: ['layer', 'shape', 'limit'] },
  /** `kind`: the schema's output kind; `activation`: the model's last activation (`linear`, `relu`, …). */
  output_activation_mismatch: { scope: 'bundle', params: ['kind', 'activation'] },
  /**
   * `source`: which value of the feature (`impute`, `range.min`, `range.max`, `baseline`); `value`: the raw
   * value; `encoded`: what it encodes to, as a bare number (`Infinity`, `-Infinity`, or one beyond float32's
   * range, as `1e+42`): the wording says it is beyond that range.
   */
  encoding_not_finite: { scope: 'bundle', params: ['feature', 'source', 'value', 'encoded'] },
  /** `input`: the schema's baseline, or a feature at one of its extremes (`Income = 0 (range.min)`). */
  prediction_not_finite: { scope: 'bundle', params: ['input', 'value'] },
  /** `width`: the inputs the schema encodes to; `shape`: the model's input shape, as `[null, 21]`. */
  input_width_mismatch: { scope: 'bundle', params: ['width', 'shape'] },
  output_units_mismatch: { scope: 'bundle', params: ['kind', 'expected', 'actual'] },
  /** `index`: the position of the first bad value in the weight; `value`: NaN, Infinity or -Infinity. */
  weight_not_finite: { scope: 'bundle', params: ['weight', 'index', 'value'] },
  /** `expected`, `got`: the feature names, comma-separated. */
  reference_features_mismatch: { scope: 'bundle', params: ['expected', 'got'] },
  /** `target`: the reference's class as JSON (`"good"`, `0`, `null`); `classes`: the model's, comma-separated. */
  reference_target_mismatch: { scope: 'bundle', params: ['target', 'classes'] },
  changed_during_import: { scope: 'bundle', params: [] },
  /** `installed`, `imported`: the first 12 hex digits of each sha256. */
  installed_copy_changed: { scope: 'bundle', params: ['model', 'installed', 'imported'] },
  installed_copy_unverified: { scope: 'bundle', params: ['model'] },
  active_model_unservable: { scope: 'bundle', params: [] },

  // The registry of installed models: main/core/registry.
  /** `installed`, `bundle`: the first 12 hex digits of each sha256. */
  installed_with_other_sha256: { scope: 'registry', params: ['model', 'installed', 'bundle'] },
  installed_meanwhile_with_other_sha256: { scope: 'registry', params: ['model'] },
  /** `installed`: the installed version whose folder `model`'s would be on Windows and macOS. */
  version_folder_taken: { scope: 'registry', params: ['model', 'installed'] },
  /** `versions`: comma-separated. */
  model_ambiguous: { scope: 'registry', params: ['id', 'versions'] },
  /** `installed`: the installed models' refs, comma-separated. */
  model_not_installed: { scope: 'registry', params: ['ref', 'installed'] },
  no_model_installed: { scope: 'registry', params: ['ref'] },
  no_active_model: { scope: 'registry', params: [] },
  no_earlier_model: { scope: 'registry', params: ['model'] },
  /** `later`: the versions activated after `model` and rolled back since, comma-separated. */
  rolled_back_to_first: { scope: 'registry', params: ['model', 'later'] },
  active_model_changed: { scope: 'registry', params: ['model'] },
} as const satisfies Record<string, { scope: 'bundle' | 'registry'; params: readonly string[] }>;

export type ProblemReason = keyof typeof PROBLEM_REASONS;

/** The values a problem's wording fills in, by name. */
export type ProblemParams = Readonly<Record<string, string | number>>;

/** The params of `reason`, each one required. */
export type ReasonParams<R extends ProblemReason> = {
  readonly [K in (typeof PROBLEM_REASONS)[R]['params'][number]]: string | number;
};

export interface Problem {
  /** The field, as the user named it: a feature name, a CLI option, a CSV row/column, a JSON path. */
  field: string;
  code: ProblemCode;
  /** What is wrong, in English: the CLI, the logs and API clients show it. */
  message: string;
  /** Why, as a key a UI words in the user's language (absent on most problems: they are worded from `code`). */
  reason?: ProblemReason;
  /** The values the reason's wording fills in (file names, counts, sha256 prefixes…); present with `reason`. */
  params?: ProblemParams;
}

/** Whether `reason` (from a server, perhaps a newer one) is a reason this code knows. */
export function isProblemReason(reason: unknown): reason is ProblemReason {
  return typeof reason === 'string' && Object.prototype.hasOwnProperty.call(PROBLEM_REASONS, reason);
}

/** A problem's reason and params, with the params the reason names checked by the compiler. */
export function because<R extends ProblemReason>(
  reason: R,
  params: ReasonParams<R>,
): { reason: R; params: ProblemParams } {
  return { reason, params };
}

/** Thrown at the edges (CLI args, HTTP bodies, IPC payloads, bundle files) when input is unusable. */
export class InputError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[], summary?: string) {
    super(summary ?? problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    this.name = 'InputError';
    this.problems = problems;
  }
}

/** An InputError or a subclass (BundleError, …), also across module copies (e.g. a worker's). */
export function isInputError(e: unknown): e is InputError {
  return (
    e instanceof InputError || (e instanceof Error && Array.isArray((e as Partial<InputError>).problems))
  );
}

/**
 * A given value as a problem's message quotes it: text in quotes, `shortened` as every other quoted name or value
 * is (a long one cut with its length said), a list or an object by its kind.
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `"${shortened(v)}"`;
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'an object';
  return String(v);
}

/** The most of a name or value given by the user that a problem quotes (a sha256 in hex still fits whole). */
export const MAX_QUOTED_CHARS = 64;

/**
 * `text` as a problem may quote it: whole up to `max` characters, else its start, an ellipsis and its length
 * (`kkkk…(1048576 characters)`), so that a 1 MB key is not echoed back in full, and a name cut still shows
 * which one is meant.
 */
export function shortened(text: string, max = MAX_QUOTED_CHARS): string {
  if (text.length <= max) return text;
  // Not between the two halves of a surrogate pair: a lone half is no text.
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max;
  return `${text.slice(0, end)}…(${text.length} characters)`;
}

/** Formats problems as plain lines for a terminal or a log, one per problem. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n');
}

/** A zod error as problems, each naming its field by path (prefixed by `prefix`). */
export function problemsFromZod(
  error: {
    issues: readonly {
      path: readonly PropertyKey[];
      message: string;
      code?: string;
      keys?: readonly string[];
    }[];
  },
  prefix = '',
): Problem[] {
  const name = (path: readonly PropertyKey[]) =>
    prefix +
      path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '') ||
    prefix.replace(/[.:]\s*$/, '') ||
    'body';
  return error.issues.flatMap((i): Problem[] =>
    // An unknown key is reported under its own name, so the user sees which field is wrong.
    i.code === 'unrecognized_keys' && i.keys?.length
      ? i.keys.map((k) => ({
          field: name([...i.path, k]),
          // Not a model feature (that is preprocess's unknown_feature): a key the request's shape has no place for.
          code: 'invalid' as const,
          message: 'is not a known field',
        }))
      : [{ field: name(i.path), code: 'invalid' as const, message: i.message }],
  );
}

/** `raw` as a whole number of at least `min` (spaces around it allowed), or an InputError naming `field`. */
export function wholeNumber(field: string, raw: string, min = 0): number {
  const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min)) {
    throw new InputError([
      { field, code: 'invalid', message: `must be a whole number ≥ ${min}, got "${raw}"` },
    ]);
  }
  return n;
}
