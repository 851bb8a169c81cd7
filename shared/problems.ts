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

export interface Problem {
  /** The field, as the user named it: a feature name, a CLI option, a CSV row/column, a JSON path. */
  field: string;
  code: ProblemCode;
  message: string;
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
          code: 'unknown_feature' as const,
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
