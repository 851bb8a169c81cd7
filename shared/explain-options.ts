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

export type ExplainOptionsInput = z.input<typeof explainOptionsSchema>;
export type ExplainRequestOptions = z.output<typeof explainOptionsSchema>;
