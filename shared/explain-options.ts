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

/** Each option by itself. A plain object (the API contract takes `.partial()` of it, which refinements forbid). */
export const explainOptionsSchema = z
  .object({
    method: z.enum(IG_METHOD_NAMES).default('gausslegendre'),
    n_steps: z.number().int().min(1).max(10_000).default(50),
    internal_batch_size: z.number().int().min(1).max(1_000_000).default(8192),
    /** Class name or output index; the schema's class when absent. */
    target: z.union([z.string().min(1), z.number().int().min(0)]).optional(),
    /** 'schema' (the reference applicant), 'zeros' (model-input zeros) or a raw applicant. */
    baseline: z
      .union([z.literal('schema'), z.literal('zeros'), z.record(z.string(), z.unknown())])
      .default('schema'),
    layer: z.union([z.string().min(1), z.number().int().min(0)]).optional(),
    attribute_to_layer_inputs: z.boolean().default(false),
    /** 0 keeps every feature. */
    top_k: z.number().int().min(0).max(10_000).default(5),
    locale: z.enum(LOCALES).default('zh-CN'),
    /** Adds the model-input detail (inputs, baseline, attributions_raw, predictions). */
    detail: z.boolean().default(false),
    /** Keep this answer in the disk cache until the model changes (a stable customer profile), not just for the TTL. */
    cache_long_term: z.boolean().default(false),
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
