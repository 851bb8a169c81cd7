// One explained applicant made into what the service hands out and keeps: the signed document as JSON text, its
// audit entry, and its attributions for monitoring. Built where the explanation was computed (an engine worker,
// or this thread for a one-off command), so the thread answering callers only stores and forwards text.
import { performance } from 'node:perf_hooks';
import type { BundleSchema, Locale } from '../../../shared/bundle.js';
import type { ExplanationParams } from '../../../shared/explanation.js';
import { prepareExplainEntry } from '../audit/explain-entry.js';
import { inputHash, type PreparedEntry } from '../audit/entry.js';
import type { EngineExplanation, ExplainOptions } from '../engine.js';
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
  readonly bundle: { schema: BundleSchema; manifest: { id: string; version: string }; sha256: string };
  explain(applicants: readonly unknown[], options: ExplainOptions): EngineExplanation[];
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
  const explanations = engine.explain(applicants, request.options);
  const { schema, manifest, sha256 } = engine.bundle;
  const env: AnswerEnvironment = {
    schema,
    model: { id: manifest.id, version: manifest.version, sha256 },
    backend: engine.backend,
    hmacKey,
  };
  return explanations.map((ex, j) => buildAnswer(ex, applicants[j], timings[j]!, request.answer, env));
}
