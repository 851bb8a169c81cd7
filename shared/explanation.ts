// The explanation document: what BranchLens returns, caches, audits and exports for one applicant.
// One definition, used by the core, the transports and the renderer. Documented in docs/api.md.
import { z } from 'zod';
import { LOCALES } from './bundle.js';

export const CACHE_LEVELS = ['miss', 'memory', 'disk'] as const;
export type CacheLevel = (typeof CACHE_LEVELS)[number];

const rawValue = z.union([z.number(), z.string(), z.boolean(), z.null()]);

export const attributionSchema = z
  .object({
    /** The feature's name, or a keyed pseudonym ("sensitive_…") when the feature is sensitive. */
    feature: z.string(),
    /** The business label in the document's locale (absent for masked features). */
    label: z.string().optional(),
    /**
     * The raw value used (after imputation); dropped (null) for sensitive features, and for a layer's units (their
     * activations) when the model has any sensitive feature.
     */
    value: rawValue,
    attribution: z.number(),
    direction: z.enum(['positive', 'negative', 'neutral']),
    description: z.string(),
    masked: z.boolean().optional(),
    imputed: z.boolean().optional(),
  })
  .strict();
export type Attribution = z.infer<typeof attributionSchema>;

export const reasonSchema = z
  .object({
    feature: z.string(),
    label: z.string().optional(),
    attribution: z.number(),
    description: z.string(),
  })
  .strict();
export type Reason = z.infer<typeof reasonSchema>;

export const explanationParamsSchema = z
  .object({
    method: z.string(),
    n_steps: z.number().int(),
    internal_batch_size: z.number().int(),
    target: z.union([z.string(), z.number(), z.null()]),
    baseline: z.union([z.literal('schema'), z.literal('zeros'), z.literal('custom')]),
    layer: z.union([z.string(), z.number(), z.null()]).optional(),
    attribute_to_layer_inputs: z.boolean().optional(),
    top_k: z.number().int().nonnegative(),
  })
  .strict();
export type ExplanationParams = z.infer<typeof explanationParamsSchema>;

export const watermarkSchema = z
  .object({
    /** HMAC-SHA256 (hex) over the RFC 8785 canonical JSON of the document without `_meta`. */
    watermark: z.string().regex(/^[0-9a-f]{64}$/),
    key_id: z.string(),
    alg: z.literal('HMAC-SHA256/JCS'),
  })
  .strict();

export const explanationDocumentSchema = z
  .object({
    id: z.string(),
    created_at: z.string(),
    model: z.object({ id: z.string(), version: z.string(), sha256: z.string() }).strict(),
    /** Model outputs for the applicant (sigmoid: [P(positive class)]). */
    predictions: z.array(z.number()),
    target: z.object({ index: z.number().int().nullable(), name: z.string().nullable() }).strict(),
    /** F(x), the explained output: for the demo model the approval probability. */
    score: z.number(),
    baseline_score: z.number(),
    decision: z
      .object({ label: z.string(), approved: z.boolean(), threshold: z.number() })
      .strict()
      .optional(),
    attributions: z.array(attributionSchema),
    /** Sum and count of the attributions left out by top-K compression. */
    rest_sum: z.number(),
    rest_count: z.number().int().nonnegative(),
    /**
     * Up to four principal reasons against approval (the attributions that lowered the approving class's output
     * most: for a sigmoid model explained for its other class, its most positive), in business words.
     */
    reasons: z.array(reasonSchema).max(4),
    /** Σ all attributions vs F(x) − F(baseline); survives compression: Σ top-K + rest_sum = sum. */
    completeness: z.object({ sum: z.number(), expected: z.number(), delta: z.number() }).strict(),
    detail: z
      .object({
        names: z.array(z.string()),
        /**
         * Preprocessed inputs; null for a sensitive feature, which is one column named by its pseudonym (its
         * columns' attributions summed), after the visible ones. With a layer, its units' activations: all null
         * when the model has any sensitive feature.
         */
        inputs: z.array(z.number().nullable()),
        baseline: z.array(z.number().nullable()),
        attributions_raw: z.array(z.number()),
        predictions: z.array(z.number()),
      })
      .strict()
      .optional(),
    meta: z
      .object({
        explanation: z
          .object({ method: z.literal('integrated_gradients'), params: explanationParamsSchema })
          .strict(),
        explainer_version: z.string(),
        backend: z.string(),
        locale: z.enum(LOCALES),
        cache: z.enum(CACHE_LEVELS),
        latency_ms: z.number(),
      })
      .strict(),
    _meta: watermarkSchema,
  })
  .strict();
export type ExplanationDocument = z.infer<typeof explanationDocumentSchema>;
export type UnsignedDocument = Omit<ExplanationDocument, '_meta'>;
