// One explained applicant made into what the service hands out and keeps: the signed document as JSON text, its
// audit entry, and its attributions for monitoring. Built where the explanation was computed (an engine worker,
// or this thread for a one-off command), so the thread answering callers only stores and forwards text.
import { performance } from 'node:perf_hooks';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BundleSchema, Locale } from '../../../shared/bundle.js';
import type { ExplanationParams } from '../../../shared/explanation.js';
import { InputError } from '../../../shared/problems.js';
import { prepareExplainEntry } from '../audit/explain-entry.js';
import { inputHash, type PreparedEntry } from '../audit/entry.js';
import type { EngineExplanation, ExplainOptions } from '../engine.js';
import { chain, resolveLayerSplit } from '../ig/layers.js';
import type { HmacKey } from '../keys.js';
import { buildDocument } from './document.js';
import { fixPrecision, signFixedToJson, WATERMARK_ALG, type SignedJson } from './watermark.js';

/** What shapes the documents of a request (the same for every request batched together). */
export interface AnswerOptions {
  params: ExplanationParams;
  locale: Locale;
  detail: boolean;
}

/** When an applicant's request reached the service, and how many applicants it held. */
export interface AnswerTiming {
  /** performance.timeOrigin + performance.now() at the request's start: comparable across threads. */
  startedAt: number;
  /** Applicants in the request: each document's latency is its share of the request's time. */
  count: number;
}

/** Fixed for an engine: the model it runs and the installation's key. */
export interface AnswerEnvironment {
  schema: BundleSchema;
  model: { id: string; version: string; sha256: string };
  backend: string;
  hmacKey: HmacKey;
}

export interface Answer {
  signed: SignedJson;
  /** The answer's audit entry (cache level "miss"), checked and laid out for the writer. */
  audit: PreparedEntry;
  /** One attribution per feature (or layer unit), in schema order: what monitoring watches. */
  attributions: number[];
}

/** Milliseconds since the Unix epoch, with sub-millisecond precision, on a clock every thread shares. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export function buildAnswer(
  ex: EngineExplanation,
  applicant: unknown,
  timing: AnswerTiming,
  options: AnswerOptions,
  env: AnswerEnvironment,
): Answer {
  const doc = fixPrecision(
    buildDocument(ex, {
      schema: env.schema,
      model: env.model,
      params: options.params,
      locale: options.locale,
      backend: env.backend,
      latencyMs: Math.max(0, epochNow() - timing.startedAt) / Math.max(1, timing.count),
      cache: 'miss',
      maskKey: env.hmacKey.key,
      detail: options.detail,
    }),
  );
  const signed = signFixedToJson(doc, env.hmacKey);
  const _meta = { watermark: signed.watermark, key_id: env.hmacKey.id, alg: WATERMARK_ALG };
  return {
    signed,
    // From the signed numbers, as the entry of a document read back would be.
    audit: prepareExplainEntry({ ...doc, _meta }, inputHash(env.hmacKey.key, applicant), new Date()),
    attributions: ex.attributions.map((a) => a.attribution),
  };
}

/** What answerBatch needs of an engine. */
export interface AnsweringEngine {
  readonly backend: string;
  readonly bundle: {
    schema: BundleSchema;
    manifest: { id: string; version: string };
    sha256: string;
    model: tfl.LayersModel;
  };
  explain(applicants: readonly unknown[], options: ExplainOptions): EngineExplanation[];
}

/**
 * Refuses layer attribution whose units are the model's inputs themselves, for a model with a sensitive feature.
 * Units that no Dense layer comes before (the first layer's inputs, or the outputs of a Dropout, an Activation,
 * a BatchNormalization … ahead of the first Dense) are the input columns, one by one or each by itself
 * transformed: their attributions are the features' own, under unit names that say which column, so which
 * sensitive feature, each is (and a one-hot column's, which category). Masking them would give back the
 * explanation without `layer`, which is what to ask for. A layer the model does not have is left to the engine
 * to report.
 */
export function refuseInputUnits(
  model: tfl.LayersModel,
  schema: BundleSchema,
  options: ExplainOptions,
): void {
  const selected = options.layer;
  if (!selected || !schema.features.some((f) => f.sensitive)) return;
  let layers: ReturnType<typeof chain>;
  let name: string;
  try {
    name = resolveLayerSplit(model, selected).layerName;
    layers = chain(model);
  } catch {
    return; // the engine says what is wrong with it
  }
  const index = layers.findIndex((l) => l.name === name);
  const cut = selected.toInputs ? index : index + 1;
  if (layers.slice(0, cut).some((l) => l.getClassName() === 'Dense')) return;
  const sensitive = schema.features.filter((f) => f.sensitive).length;
  throw new InputError([
    {
      field: 'layer',
      code: 'invalid',
      message:
        `the ${selected.toInputs ? 'inputs' : 'outputs'} of layer ${JSON.stringify(name)} are the model's inputs ` +
        `(no Dense layer comes before them), and this model has ${sensitive} sensitive feature` +
        `${sensitive === 1 ? '' : 's'}, which their unit names would unmask: explain without layer ` +
        '(the same attributions, per feature, with the sensitive ones masked), or name a layer after a Dense layer',
    },
  ]);
}

/** A batch of applicants explained together, each with its document options and timing. */
export interface AnswerRequest {
  options: ExplainOptions;
  answer: AnswerOptions;
}

/** Explains `applicants` in one engine call and makes each an Answer. */
export function answerBatch(
  engine: AnsweringEngine,
  hmacKey: HmacKey,
  applicants: readonly unknown[],
  timings: readonly AnswerTiming[],
  request: AnswerRequest,
): Answer[] {
  const { schema, manifest, sha256, model } = engine.bundle;
  refuseInputUnits(model, schema, request.options);
  const explanations = engine.explain(applicants, request.options);
  const env: AnswerEnvironment = {
    schema,
    model: { id: manifest.id, version: manifest.version, sha256 },
    backend: engine.backend,
    hmacKey,
  };
  return explanations.map((ex, j) => buildAnswer(ex, applicants[j], timings[j]!, request.answer, env));
}
