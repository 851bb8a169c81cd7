// The service's explain path: the cache first; misses micro-batched onto the engines, which return each answer
// already signed as JSON text with its audit entry; hits re-stamped with their cache level and latency; every
// answer audited, and returned once its audit entry is durably committed. Documents stay text from the engine
// to the transport: this thread neither builds nor serialises them.
import { createHmac } from 'node:crypto';
import type { RawApplicant } from '../../shared/bundle.js';
import type { ExplainRequestOptions } from '../../shared/explain-options.js';
import type { CacheLevel, ExplanationDocument } from '../../shared/explanation.js';
import { prepareExplainEntry } from './audit/explain-entry.js';
import { inputHash, preparedModelSha256, restampEntry, type PreparedEntry } from './audit/entry.js';
import type { AuditAppender } from './audit/log.js';
import { RejectedCacheEntry, type CacheCodec, type ExplanationCache } from './cache/explanation-cache.js';
import { cacheKey } from './cache/key.js';
import { EXPLAINER_VERSION, type ExplainOptions } from './engine.js';
import type { HmacKey } from './keys.js';
import type { MicroBatcher } from './microbatch.js';
import type { Monitor } from './monitor/index.js';
import type { Preprocessor } from './preprocess.js';
import {
  epochNow,
  type Answer,
  type AnswerOptions,
  type AnswerRequest,
  type AnswerTiming,
} from './records/answer.js';
import { servedDocumentView } from './records/served-view.js';
import {
  fixPrecision,
  restampJson,
  sameWatermark,
  signFixedToJson,
  type SignedJson,
} from './records/watermark.js';

/** What the cache keeps of an answer: its signed text, and its audit entry as the template for hits. */
export interface CachedAnswer {
  signed: SignedJson;
  audit: PreparedEntry;
}

/** The input hash of an entry made from a stored document: every hit stamps its own. */
const NO_INPUT_HASH = '0'.repeat(64);

/** Separates cache entries' MACs from every other use of the HMAC key. */
const ENTRY_MAC_DOMAIN = 'branchlens/cache-entry/v1\0';

/**
 * Cached answers on disk are their signed document's text; read back, the text is laid out (and signed) again.
 * Text whose watermark does not match its content, or that another key signed, is refused (RejectedCacheEntry):
 * the database can be written outside BranchLens, and signing such a document again would vouch for it. So is
 * text stored under another cache key (another applicant's document, moved): its MAC binds it to its own.
 */
export function answerCodec(hmacKey: HmacKey): CacheCodec<CachedAnswer> {
  return {
    toJson: (answer) => answer.signed.json,
    mac: (key, json) =>
      createHmac('sha256', hmacKey.key).update(ENTRY_MAC_DOMAIN).update(key).update(json).digest('hex'),
    fromJson: (json) => {
      const { _meta, ...stored } = JSON.parse(json) as ExplanationDocument;
      const doc = fixPrecision(stored);
      const signed = signFixedToJson(doc, hmacKey);
      if (_meta?.key_id !== hmacKey.id) {
        throw new RejectedCacheEntry(`signed with key ${String(_meta?.key_id)}, not this installation's`);
      }
      // The stored text is what was signed: laid out again, it must give the same watermark.
      if (!sameWatermark(signed.watermark, _meta.watermark)) {
        throw new RejectedCacheEntry(
          'its watermark does not match its content: it was changed after it was stored',
        );
      }
      return {
        signed,
        // As the engine prepares a miss's entry; every hit stamps its own input hash over NO_INPUT_HASH.
        audit: prepareExplainEntry(
          { ...doc, _meta: { ..._meta, watermark: signed.watermark } },
          NO_INPUT_HASH,
          new Date(),
        ),
      };
    },
    immutable: true,
  };
}

/** How a request that computes an answer hands it to the duplicates waiting for it. */
interface Lead {
  /** The answer, or undefined when it is another model's than the key names (the duplicates compute their own). */
  resolve(answer: CachedAnswer | undefined): void;
  reject(error: unknown): void;
}

/** One applicant waiting for an engine, with its request's timing. */
export interface BatchItem {
  applicant: unknown;
  timing: AnswerTiming;
}

export type AnswerBatcher = MicroBatcher<BatchItem, AnswerRequest, Answer>;

/** What the explain path works with; the service swaps the model's parts when the active model changes. */
export interface PipelineContext {
  /** The model serving when the request arrived. */
  readonly modelSha256: string;
  /** The model serving now (an activation may replace it while the request is answered). */
  readonly activeModelSha256: () => string;
  /**
   * The TensorFlow.js backend the engines run on. Part of the cache key: backends may differ in the last bits,
   * and a document says which backend computed it, so one started on another backend computes its own.
   */
  readonly backend: string;
  readonly preprocessor: Preprocessor;
  readonly cache: ExplanationCache<CachedAnswer>;
  readonly batcher: AnswerBatcher;
  readonly audit: AuditAppender;
  readonly hmacKey: HmacKey;
  readonly monitor: Monitor<ExplainOptions>;
  /**
   * The answers being computed, by cache key: an applicant whose answer is already being computed, for another
   * request or earlier in the same one, waits for it and is answered as a memory hit instead of being computed
   * again. Kept by the service for as long as it lives (the key names the model).
   */
  readonly inFlight: Map<string, Promise<CachedAnswer | undefined>>;
}

export interface ExplainedText {
  /** Each applicant's signed document as JSON text, in request order. */
  texts: string[];
  levels: CacheLevel[];
}

/**
 * Explains `applicants` (already validated options, resolved target) and returns each signed document's text
 * once every answer's audit entry has committed.
 */
export async function explainToText(
  ctx: PipelineContext,
  given: unknown[],
  options: ExplainRequestOptions,
  request: AnswerRequest,
  startedAt: number,
): Promise<ExplainedText> {
  const encoded = ctx.preprocessor.encodeAll(given, 'caller');
  // Categories and booleans as read (租房 as rent, 是 as true): one applicant hashes, and is watched, alike
  // however it was typed, as its cache key (from the encoded vector) already is.
  const applicants = encoded.map((e) => e.applicant);
  const keyParams = {
    explainer: EXPLAINER_VERSION,
    backend: ctx.backend,
    params: request.answer.params,
    locale: options.locale,
    detail: options.detail,
    baseline: options.baseline,
  };
  const keys = encoded.map((e) =>
    cacheKey(ctx.hmacKey.key, {
      modelSha256: ctx.modelSha256,
      params: keyParams,
      input: e.vector,
      imputed: e.imputed,
    }),
  );
  const n = applicants.length;
  const texts = new Array<string>(n);
  const levels = new Array<CacheLevel>(n);
  const audits = new Array<PreparedEntry>(n);
  const hits: { i: number; answer: CachedAnswer }[] = [];
  const notInMemory: number[] = [];
  keys.forEach((key, i) => {
    const hit = ctx.cache.getMemory(key);
    if (hit) {
      levels[i] = hit.level;
      hits.push({ i, answer: hit.value });
    } else notInMemory.push(i);
  });
  const missing: number[] = [];
  if (notInMemory.length) {
    // One disk read for every request of this turn (see getDiskSoon).
    const onDisk = await ctx.cache.getDiskSoon(notInMemory.map((i) => keys[i]!));
    notInMemory.forEach((i, j) => {
      const hit = onDisk[j];
      if (hit) {
        levels[i] = hit.level;
        hits.push({ i, answer: hit.value });
      } else missing.push(i);
    });
  }

  // Of the applicants in neither cache, those whose answer is already being computed wait for it (a follower
  // becomes a memory hit once it is there); the rest are computed, and are awaited by any later duplicate.
  const computed: number[] = [];
  const followers: { i: number; answer: Promise<CachedAnswer | undefined> }[] = [];
  const leading = new Map<string, Lead>();
  for (const i of missing) {
    const key = keys[i]!;
    const answer = ctx.inFlight.get(key);
    if (answer) {
      followers.push({ i, answer });
      continue;
    }
    computed.push(i);
    const promise = new Promise<CachedAnswer | undefined>((resolve, reject) =>
      leading.set(key, { resolve, reject }),
    );
    promise.catch(() => {}); // the failure is reported to this request; a follower sees it when it awaits
    ctx.inFlight.set(key, promise);
  }
  /** The lead of a key this request computes, let go: later requests find the answer in the cache. */
  const lead = (key: string): Lead | undefined => {
    const l = leading.get(key);
    if (!l) return undefined;
    leading.delete(key);
    ctx.inFlight.delete(key);
    return l;
  };

  const compute = async (indices: number[]): Promise<void> => {
    const timing: AnswerTiming = { startedAt, count: n };
    let answers: Answer[];
    try {
      answers = await ctx.batcher.explain(
        indices.map((i) => ({ applicant: applicants[i], timing })),
        request,
      );
      const longTerm = options.cache_long_term;
      answers.forEach((answer, j) => {
        const i = indices[j]!;
        // A model activated while the request waited answers it with the new model; that answer is neither
        // cached under the old model's key (a rollback would serve it as the old model's) nor handed to the
        // duplicates waiting under that key, which compute their own with the model active then.
        const sameModel = preparedModelSha256(answer.audit) === ctx.modelSha256;
        // Nor cached once that model no longer serves: swapIn invalidated the cache of every other model.
        if (sameModel && ctx.activeModelSha256() === ctx.modelSha256) {
          ctx.cache.set(
            keys[i]!,
            { signed: answer.signed, audit: answer.audit },
            { modelSha256: ctx.modelSha256, longTerm },
          );
        }
        lead(keys[i]!)?.resolve(sameModel ? { signed: answer.signed, audit: answer.audit } : undefined);
        texts[i] = answer.signed.json;
        levels[i] = 'miss';
        audits[i] = answer.audit;
      });
    } catch (e) {
      // Duplicates waiting for these answers fail with this request (they would not be computed otherwise).
      for (const key of [...leading.keys()]) lead(key)!.reject(e);
      throw e;
    }
    // The monitor's samples: only answers of the request's model, which the monitor drops in turn once another
    // model serves (answers the replaced engines finished would otherwise be compared with the new model).
    const ofModel = answers.flatMap((a, j) =>
      preparedModelSha256(a.audit) === ctx.modelSha256 ? [{ answer: a, i: indices[j]! }] : [],
    );
    ctx.monitor.recordExplain({
      // Per answered applicant, as each document stamps it (the request time over all n, hits included).
      latencyMs: (epochNow() - startedAt) / n,
      cacheLevel: 'miss',
      count: indices.length,
      computed: {
        modelSha256: ctx.modelSha256,
        // Schema feature order (or layer units, which the monitor keeps out of drift by `settings.layer`).
        attributions: ofModel.map(({ answer }) => answer.attributions),
        settings: {
          baseline: request.answer.params.baseline,
          target: request.answer.params.target,
          layer: request.answer.params.layer ?? null,
        },
        applicants: ofModel.map(({ i }) => applicants[i] as Record<string, unknown>),
        options: request.options,
      },
    });
  };

  if (computed.length) await compute(computed);
  const uncovered: number[] = [];
  for (const { i, answer } of followers) {
    const shared = await answer;
    if (shared) {
      levels[i] = 'memory';
      hits.push({ i, answer: shared });
    } else uncovered.push(i); // answered by another model than its key names: computed here
  }
  if (uncovered.length) await compute(uncovered);

  if (hits.length) {
    const hitLatency = fixPrecision((epochNow() - startedAt) / n);
    const now = new Date();
    for (const { i, answer } of hits) {
      const level = levels[i] as Exclude<CacheLevel, 'miss'>;
      // The identical document, stamped with where it came from and this answer's latency, signed again.
      const stored = answer.signed;
      const meta = JSON.parse(
        stored.json.slice(stored.metaStart, stored.metaEnd),
      ) as ExplanationDocument['meta'];
      const signed = restampJson(stored, { ...meta, cache: level, latency_ms: hitLatency }, ctx.hmacKey);
      texts[i] = signed.json;
      // A few answers served from the cache are recomputed by the next stability run (a layer's units are not
      // features: those are left out).
      if (ctx.monitor.wantsCachedSample && (request.answer.params.layer ?? null) === null) {
        ctx.monitor.recordCachedSample({
          modelSha256: ctx.modelSha256,
          applicant: applicants[i] as RawApplicant,
          document: servedDocumentView(stored.json, ctx.preprocessor.schema, ctx.hmacKey.key),
          options: request.options,
        });
      }
      audits[i] = restampEntry(
        answer.audit,
        {
          inputHash: inputHash(ctx.hmacKey.key, applicants[i]),
          cache: level,
          latencyMs: hitLatency,
          watermark: signed.watermark,
        },
        now,
      );
    }
    for (const level of ['memory', 'disk'] as const) {
      const count = hits.filter((h) => levels[h.i] === level).length;
      if (count) ctx.monitor.recordExplain({ latencyMs: hitLatency, cacheLevel: level, count });
    }
  }

  // One transaction for the whole request: on a storage failure none of it is audited, never a part.
  await ctx.audit.appendAll(audits);
  return { texts, levels };
}

/** The document options of a request. */
export function answerOptions(
  options: ExplainRequestOptions,
  params: AnswerOptions['params'],
): AnswerOptions {
  return { params, locale: options.locale, detail: options.detail };
}
