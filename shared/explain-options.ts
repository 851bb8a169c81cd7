// The options of an explain request, validated the same way for the CLI, HTTP and IPC.
import { z } from 'zod';
import { LOCALES } from './bundle.js';

export const IG_METHOD_NAMES = [
  'gausslegendre',
  'riemann_left',
  'riemann_right',
  'riemann_middle',
  'riemann_trapezoid',
] as const;

/**
 * The fewest steps `method` integrates with: a Riemann rule's points are spaced over the path (linspace), which
 * takes two, Gauss-Legendre's one (main/core/ig/quadrature.ts). The engine refuses fewer, once it is asked
 * (main/core/engine.ts validateExplainOptions).
 */
export function minSteps(method: string): number {
  return method === 'gausslegendre' ? 1 : 2;
}

/** Each option by itself, with no default: what a request may give. */
const optionFields = {
  method: z.enum(IG_METHOD_NAMES),
  n_steps: z.number().int().min(1).max(10_000),
  internal_batch_size: z.number().int().min(1).max(1_000_000),
  /** Class name or output index; the schema's class when absent. */
  target: z.union([z.string().min(1), z.number().int().min(0)]),
  /** 'schema' (the reference applicant), 'zeros' (model-input zeros) or a raw applicant. */
  baseline: z.union([z.literal('schema'), z.literal('zeros'), z.record(z.string(), z.unknown())]),
  layer: z.union([z.string().min(1), z.number().int().min(0)]),
  attribute_to_layer_inputs: z.boolean(),
  /** 0 keeps every feature. */
  top_k: z.number().int().min(0).max(10_000),
  locale: z.enum(LOCALES),
  /** Adds the model-input detail (inputs, baseline, attributions_raw, predictions). */
  detail: z.boolean(),
  /** Keep this answer in the disk cache until the model changes (a stable customer profile), not just for the TTL. */
  cache_long_term: z.boolean(),
};

/**
 * The options as a request gives them (the API contract's), each optional and none filled in: one left out is
 * the branch's setting (the service's), else explainOptionsSchema's default. Not explainOptionsSchema.partial(),
 * which fills in the defaults (zod 4 keeps a field's default under partial()), and so would override the
 * branch's top-K, steps or language with them whenever a request gave another option. A plain object.
 */
export const explainRequestOptionsSchema = z.object(optionFields).partial().strict();

/** Every option, a default for each left out (the branch's settings come first: see the service). */
export const explainOptionsSchema = z
  .object({
    method: optionFields.method.default('gausslegendre'),
    n_steps: optionFields.n_steps.default(50),
    internal_batch_size: optionFields.internal_batch_size.default(8192),
    target: optionFields.target.optional(),
    baseline: optionFields.baseline.default('schema'),
    layer: optionFields.layer.optional(),
    attribute_to_layer_inputs: optionFields.attribute_to_layer_inputs.default(false),
    top_k: optionFields.top_k.default(5),
    locale: optionFields.locale.default('zh-CN'),
    detail: optionFields.detail.default(false),
    cache_long_term: optionFields.cache_long_term.default(false),
  })
  .strict();

/**
 * explainOptionsSchema with the rules between options too (a Riemann rule's fewest steps), so that a front end
 * checking options before anything starts (the CLI's flags) refuses `--method riemann_left --steps 1` up front,
 * with the same rule `--steps 0` is refused by, rather than once the engine is asked.
 */
export const checkedExplainOptionsSchema = explainOptionsSchema.superRefine((o, ctx) => {
  const min = minSteps(o.method);
  // Only a whole number of steps the schema takes otherwise: one it refused already is not refused twice.
  if (Number.isInteger(o.n_steps) && o.n_steps >= 1 && o.n_steps < min) {
    ctx.addIssue({
      code: 'too_small',
      origin: 'number',
      minimum: min,
      inclusive: true,
      path: ['n_steps'],
      input: o.n_steps,
      message: `must be a whole number ≥ ${min} with ${o.method} (a Riemann rule needs two points)`,
    });
  }
});

export type ExplainOptionsInput = z.input<typeof explainOptionsSchema>;
export type ExplainRequestOptions = z.output<typeof explainOptionsSchema>;
