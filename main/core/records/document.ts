// EngineExplanation → the explanation document: top-K compression, business wording, principal reasons,
// sensitive features masked. Signing is separate (watermark.ts) so that cache hits can be re-stamped.
import { randomUUID } from 'node:crypto';
import { inputColumns, type BundleSchema, type Feature, type Locale } from '../../../shared/bundle.js';
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
import { maskedDescription, describeIn, directionOf, wordingFrame, type WordingFrame } from './wording.js';
import { maskedTags, pseudonym } from './mask.js';
import { maskedLast } from '../../../shared/masked-features.js';

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

/**
 * Whether the document explains a layer's units rather than the model's features. Units are never taken for
 * features, whatever they are called.
 */
function explainsLayer(ctx: DocumentContext): boolean {
  return ctx.params.layer !== undefined && ctx.params.layer !== null;
}

/**
 * Whether the model has a sensitive feature. Then a layer's activations stay out of the document: from them (the
 * first layer's inputs are the scaled model inputs; any layer's, with the bundle's weights, can be inverted) the
 * sensitive values are recovered. Their attributions stay: a unit's is a sum over features, not a value. (The
 * units that are the model's inputs themselves are refused before anything is computed: see answer.ts.)
 */
function hasSensitive(schema: BundleSchema): boolean {
  return schema.features.some((f) => f.sensitive);
}

function attributionOf(
  feature: Feature | undefined,
  ex: EngineExplanation,
  name: string,
  value: unknown,
  attribution: number,
  ctx: DocumentContext,
  frame: WordingFrame,
): Attribution {
  const direction = directionOf(attribution);
  if (!feature) {
    // Layer attribution: units of a hidden layer have no business meaning of their own.
    const shown = hasSensitive(ctx.schema) ? null : (value as number);
    return { attribution, description: name, direction, feature: name, value: shown };
  }
  if (feature.sensitive) {
    return {
      attribution,
      description: maskedDescription(ctx.locale, maskedTags(ctx.maskKey, ctx.schema).get(feature.name)!),
      direction,
      feature: pseudonym(ctx.maskKey, feature.name),
      masked: true,
      value: null,
    };
  }
  const imputed = ex.imputed.includes(feature.name);
  return {
    attribution,
    // Worded from the approval direction (see wordingFrame); `attribution` and `direction` stay the target's.
    description: describeIn(frame, feature, value, attribution, ctx.locale, imputed),
    direction,
    feature: feature.name,
    ...(imputed ? { imputed: true } : {}),
    label: feature.label[ctx.locale],
    value: value as Attribution['value'],
  };
}

/**
 * The principal reasons against approval: the attributions that lowered the approving class's output most.
 * For a sigmoid model explained for its other class those are its most positive attributions (see
 * wordingFrame); for a softmax model explained for a class other than its approving one, the reasons against
 * that class (worded so).
 */
function reasonsOf(
  attributions: EngineExplanation['attributions'],
  frame: WordingFrame,
): EngineExplanation['attributions'] {
  const sign = frame.kind === 'approval' ? frame.sign : 1;
  if (sign === 1) return principalReasons(attributions);
  return principalReasons(attributions.map((a) => ({ a, attribution: sign * a.attribution }))).map(
    ({ a }) => a,
  );
}

/**
 * The attributions in the order ties are ranked in: the visible features in schema order, then the sensitive ones
 * sorted by pseudonym, as the detail lays its columns out. Ties keep this order (byMagnitude), and ties are
 * common (every feature at its baseline value, or imputed to it, has an attribution of exactly 0): in schema
 * order, two masked features tied at 0 would be listed as the schema lists them, saying which pseudonym is which
 * feature, for every document of the installation.
 */
function inRankingOrder(
  attributions: EngineExplanation['attributions'],
  features: Map<string, Feature>,
  ctx: DocumentContext,
): EngineExplanation['attributions'] {
  return maskedLast(
    attributions,
    (a) => pseudonym(ctx.maskKey, a.feature),
    (a) => features.get(a.feature)?.sensitive === true,
  );
}

export function buildDocument(ex: EngineExplanation, ctx: DocumentContext): UnsignedDocument {
  const features = featuresOf(ctx.schema);
  const layer = explainsLayer(ctx);
  const frame = wordingFrame(ctx.schema.output, ex.target);
  const ranked = layer ? ex.attributions : inRankingOrder(ex.attributions, features, ctx);
  // Ranked on the bare numbers; only the attributions that are kept (top-K and reasons) are worded.
  const { top, rest_sum, rest_count } = compressTopK(ranked, ctx.params.top_k);
  const worded = new Map<EngineExplanation['attributions'][number], Attribution>();
  const word = (a: EngineExplanation['attributions'][number]): Attribution => {
    let out = worded.get(a);
    if (!out) {
      const feature = layer ? undefined : features.get(a.feature);
      out = attributionOf(feature, ex, a.feature, a.value, a.attribution, ctx, frame);
      worded.set(a, out);
    }
    return out;
  };
  const attributions = top.map(word);
  const reasons: Reason[] = reasonsOf(ranked, frame).map((a) => {
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

/** The model-input columns of a schema, in order (a service keeps one schema per model). */
const columnLists = new WeakMap<BundleSchema, ReturnType<typeof inputColumns>>();

function columnsOf(schema: BundleSchema): ReturnType<typeof inputColumns> {
  let columns = columnLists.get(schema);
  if (!columns) columnLists.set(schema, (columns = inputColumns(schema)));
  return columns;
}

/**
 * The model-input detail, with nothing of a sensitive feature but its attribution:
 * - each sensitive feature's columns (a categorical feature's one-hot columns, whose non-zero attribution would
 *   name its category) collapse into one column named by its pseudonym, whose `attributions_raw` is the sum of
 *   theirs (Σ `attributions_raw` still equals `completeness.sum`) and whose `inputs` and `baseline` are null;
 * - those columns come after the visible ones, sorted by pseudonym, so that no position maps to the schema's
 *   order (the pseudonym of the 15th column would be the 15th column's feature).
 * A layer's units (`names` are the units) keep their attributions; with a sensitive feature in the model their
 * `inputs` and `baseline` (the layer's activations, from which the sensitive values are recovered) are null.
 */
function maskedDetail(
  ex: EngineExplanation,
  ctx: DocumentContext,
  features: Map<string, Feature>,
): NonNullable<UnsignedDocument['detail']> {
  const d = ex.detail;
  const columns = columnsOf(ctx.schema);
  const isFeatureColumns =
    !explainsLayer(ctx) &&
    d.names.length === columns.length &&
    d.names.every((name, i) => name === columns[i]!.name);
  if (!isFeatureColumns) {
    // A layer's units. Without a sensitive feature their activations are shown as computed.
    const hide = hasSensitive(ctx.schema);
    return {
      attributions_raw: d.attributions_raw,
      baseline: hide ? d.baseline.map(() => null) : d.baseline,
      inputs: hide ? d.inputs.map(() => null) : d.inputs,
      names: d.names,
      predictions: d.predictions,
    };
  }
  const names: string[] = [];
  const inputs: (number | null)[] = [];
  const baseline: (number | null)[] = [];
  const attributions: number[] = [];
  /** Each sensitive feature's attribution, summed over its columns in their order, by pseudonym. */
  const masked = new Map<string, number>();
  columns.forEach((column, i) => {
    const feature = features.get(column.feature);
    const raw = d.attributions_raw[i]!;
    if (feature?.sensitive) {
      const name = pseudonym(ctx.maskKey, feature.name);
      masked.set(name, (masked.get(name) ?? 0) + raw);
      return;
    }
    names.push(column.name);
    inputs.push(d.inputs[i]!);
    baseline.push(d.baseline[i]!);
    attributions.push(raw);
  });
  for (const name of [...masked.keys()].sort()) {
    names.push(name);
    inputs.push(null);
    baseline.push(null);
    attributions.push(masked.get(name)!);
  }
  return { attributions_raw: attributions, baseline, inputs, names, predictions: d.predictions };
}
