// EngineExplanation → the explanation document: top-K compression, business wording, principal reasons,
// sensitive features masked. Signing is separate (watermark.ts) so that cache hits can be re-stamped.
import { randomUUID } from 'node:crypto';
import type { BundleSchema, Feature, Locale } from '../../../shared/bundle.js';
import type {
  Attribution,
  CacheLevel,
  ExplanationParams,
  Reason,
  UnsignedDocument,
} from '../../../shared/explanation.js';
import type { EngineExplanation } from '../engine.js';
import { EXPLAINER_VERSION } from '../engine.js';
import { compressTopK, principalReasons } from './compress.js';
import { MASKED_DESCRIPTION, describe, directionOf } from './wording.js';
import { pseudonym } from './mask.js';

export interface DocumentContext {
  schema: BundleSchema;
  model: { id: string; version: string; sha256: string };
  params: ExplanationParams;
  locale: Locale;
  backend: string;
  latencyMs: number;
  cache: CacheLevel;
  /** The installation's HMAC key, for the pseudonyms of sensitive features. */
  maskKey: Buffer;
  detail: boolean;
  now?: Date;
}

/** Features by name, per schema (a service keeps one schema per model). */
const featureMaps = new WeakMap<BundleSchema, Map<string, Feature>>();

function featuresOf(schema: BundleSchema): Map<string, Feature> {
  let map = featureMaps.get(schema);
  if (!map) featureMaps.set(schema, (map = new Map(schema.features.map((f) => [f.name, f]))));
  return map;
}

function attributionOf(
  feature: Feature | undefined,
  ex: EngineExplanation,
  name: string,
  value: unknown,
  attribution: number,
  ctx: DocumentContext,
): Attribution {
  const direction = directionOf(attribution);
  if (!feature) {
    // Layer attribution: units of a hidden layer have no business meaning of their own.
    return { attribution, description: name, direction, feature: name, value: value as number };
  }
  if (feature.sensitive) {
    return {
      attribution,
      description: MASKED_DESCRIPTION[ctx.locale],
      direction,
      feature: pseudonym(ctx.maskKey, feature.name),
      masked: true,
      value: null,
    };
  }
  const imputed = ex.imputed.includes(feature.name);
  return {
    attribution,
    description: describe(feature, value, attribution, ctx.locale, imputed),
    direction,
    feature: feature.name,
    ...(imputed ? { imputed: true } : {}),
    label: feature.label[ctx.locale],
    value: value as Attribution['value'],
  };
}

export function buildDocument(ex: EngineExplanation, ctx: DocumentContext): UnsignedDocument {
  const features = featuresOf(ctx.schema);
  // Ranked on the bare numbers; only the attributions that are kept (top-K and reasons) are worded.
  const { top, rest_sum, rest_count } = compressTopK(ex.attributions, ctx.params.top_k);
  const worded = new Map<EngineExplanation['attributions'][number], Attribution>();
  const word = (a: EngineExplanation['attributions'][number]): Attribution => {
    let out = worded.get(a);
    if (!out) {
      out = attributionOf(features.get(a.feature), ex, a.feature, a.value, a.attribution, ctx);
      worded.set(a, out);
    }
    return out;
  };
  const attributions = top.map(word);
  const reasons: Reason[] = principalReasons(ex.attributions).map((a) => {
    const { feature, label, attribution, description } = word(a);
    return { attribution, description, feature, ...(label !== undefined ? { label } : {}) };
  });
  const out = ctx.schema.output;
  const decision =
    out.kind === 'sigmoid'
      ? (() => {
          const p = ex.predictions[0]!;
          const label = out.classes[p >= out.threshold ? 1 : 0];
          return { approved: label === out.explain_class, label, threshold: out.threshold };
        })()
      : undefined;
  // Members in RFC 8785 order, as fixPrecision would sort them: it then only checks the order.
  const { sum, expected, delta } = ex.completeness;
  const { id, version, sha256 } = ctx.model;
  return {
    attributions,
    baseline_score: ex.baseline_score,
    completeness: { delta, expected, sum },
    created_at: (ctx.now ?? new Date()).toISOString(),
    ...(decision ? { decision } : {}),
    ...(ctx.detail ? { detail: maskedDetail(ex, ctx, features) } : {}),
    id: randomUUID(),
    meta: {
      backend: ctx.backend,
      cache: ctx.cache,
      explainer_version: EXPLAINER_VERSION,
      explanation: { method: 'integrated_gradients', params: ctx.params },
      latency_ms: ctx.latencyMs,
      locale: ctx.locale,
    },
    model: { id, sha256, version },
    predictions: ex.predictions,
    reasons,
    rest_count,
    rest_sum,
    score: ex.score,
    target: ex.target,
  };
}

/** The model-input detail, with a sensitive feature's columns renamed and their values dropped. */
function maskedDetail(
  ex: EngineExplanation,
  ctx: DocumentContext,
  features: Map<string, Feature>,
): NonNullable<UnsignedDocument['detail']> {
  const d = ex.detail;
  const sensitiveAt = d.names.map((name) => {
    const feature = features.get(name.split('=')[0]!);
    return feature?.sensitive ? feature : undefined;
  });
  return {
    attributions_raw: d.attributions_raw,
    baseline: d.baseline.map((v, i) => (sensitiveAt[i] ? null : v)),
    inputs: d.inputs.map((v, i) => (sensitiveAt[i] ? null : v)),
    names: d.names.map((name, i) => {
      const f = sensitiveAt[i];
      return f ? pseudonym(ctx.maskKey, f.name) + name.slice(f.name.length).replace(/=.*/, '=' + '*') : name;
    }),
    predictions: d.predictions,
  };
}
