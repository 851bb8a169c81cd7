// `branchlens explain`'s flags as the service's explain options, checked before anything starts, and the
// service's problems with those options named by the flag the officer typed (`--steps`, not `n_steps`).
import { checkedExplainOptionsSchema } from '../../../shared/explain-options.js';
import { InputError, wholeNumber, type Problem } from '../../../shared/problems.js';

/** Each explain option and the flag that sets it. */
const FLAG_OF: Readonly<Record<string, string>> = {
  method: '--method',
  n_steps: '--steps',
  internal_batch_size: '--internal-batch-size',
  target: '--target',
  baseline: '--baseline',
  layer: '--layer',
  attribute_to_layer_inputs: '--layer-inputs',
  top_k: '--top-k',
  locale: '--locale',
  detail: '--detail',
};

/** What was typed, as a message quotes it: a long run of digits is cut short. */
function shown(raw: unknown): string {
  const text = typeof raw === 'string' ? `"${raw}"` : String(raw);
  return text.length > 24 ? `${text.slice(0, 20)}…${text.slice(-1)}` : text;
}

/**
 * A count flag (`--steps`, `--internal-batch-size`) as the number it spells, whatever its size: which numbers
 * are too few or too many is the options schema's to say (checkExplainOptions), one rule for every one of them.
 * What spells no whole number is refused here, saying the least the flag takes.
 */
export function countFlag(flag: string, raw: string, min: number): number {
  return /^\s*\d+\s*$/.test(raw) ? Number(raw) : wholeNumber(flag, raw, min);
}

interface OptionIssue {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
  maximum?: unknown;
  minimum?: unknown;
  values?: readonly unknown[];
  origin?: string;
}

/** An issue of the options schema in words for the officer ("must be at most 10000"), not zod's. */
function wording(issue: OptionIssue, raw: unknown): string {
  switch (issue.code) {
    case 'too_big':
      return `must be at most ${String(issue.maximum)}, got ${shown(raw)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'is empty';
      // The options' own rule (a Riemann rule's two steps) says why; zod's words for a minimum do not.
      return `${issue.message.startsWith('must be') ? issue.message : `must be a whole number ≥ ${String(issue.minimum)}`}, got ${shown(raw)}`;
    case 'invalid_value':
      return `must be one of ${(issue.values ?? []).join(', ')}, got ${shown(raw)}`;
    default:
      return issue.message;
  }
}

/**
 * Checks the options the flags give against the service's own schema, before the data folder is opened or
 * created: `--method bogus` is refused as `--method: must be one of …` and leaves nothing behind. What needs the
 * model (--target's classes, --layer's layers) can only be checked once it is loaded; those problems are named
 * by problemsByFlag. `raw` holds what was typed for each option, for the messages.
 */
export function checkExplainOptions(
  options: Record<string, unknown>,
  raw: Readonly<Record<string, string | undefined>>,
): void {
  // A run of digits too long for a double reads as Infinity, which is no number to zod, and one beyond 2^53 is
  // no safe integer, which zod says besides its maximum: either is just too big.
  const parsed = checkedExplainOptionsSchema.safeParse(
    Object.fromEntries(
      Object.entries(options).map(([k, v]) => [
        k,
        typeof v === 'number' && v > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : v,
      ]),
    ),
  );
  if (parsed.success) return;
  throw new InputError(
    parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const flag = FLAG_OF[key];
      if (!flag) return { field: key || 'options', code: 'invalid' as const, message: issue.message };
      // A baseline applicant's own problems name its feature after the flag.
      const rest = issue.path.slice(1).map(String).join('.');
      return {
        field: rest ? `${flag}, ${rest}` : flag,
        code: 'invalid' as const,
        message: wording(issue as OptionIssue, raw[key] ?? (options as Record<string, unknown>)[key]),
      };
    }),
  );
}

/**
 * The service's problems with the request's options, named by flag: `n_steps` is `--steps`, `target` is
 * `--target`, and a baseline applicant's `baseline.Amount` is `--baseline, Amount`. Only for problems the
 * service found with a request whose applicants were already checked: a feature called `layer` is no flag.
 */
export function problemsByFlag(problems: readonly Problem[]): Problem[] {
  return problems.map((p) => {
    const m = /^([a-z_]+)(?:\.(.+))?$/.exec(p.field);
    const flag = m ? FLAG_OF[m[1]!] : undefined;
    if (!m || !flag) return p;
    return { ...p, field: m[2] ? `${flag}, ${m[2]}` : flag };
  });
}
