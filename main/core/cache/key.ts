// The explanation cache key: what a document depends on, hashed with the installation's HMAC key. Keyed, because
// the input holds every feature's value, the sensitive ones too: an unkeyed hash of it, stored in the database,
// would give a masked value away to anyone with a copy of the file who tries the likely values (as the audit
// log's input_hash is keyed for the same reason).
import { createHmac } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';

export interface CacheKeyParts {
  /** sha256 of the model bundle (its manifest.json). */
  modelSha256: string;
  /** Everything else that shapes the document: explainer parameters, explainer version, locale, top-K… */
  params: Readonly<Record<string, unknown>>;
  /** The preprocessed model-input vector. */
  input: ArrayLike<number>;
  /**
   * The features whose value was missing and imputed: the document says so ("missing; default used"), so an
   * applicant who gave the default value is another document.
   */
  imputed?: readonly string[];
}

/** Separates cache keys from every other use of the HMAC key. */
const DOMAIN = 'branchlens/cache-key/v2\0';

/** canonicalJson(params) by JSON.stringify(params): a service sees a handful of distinct option sets. */
const canonicalParams = new Map<string, string>();
const MAX_REMEMBERED_PARAMS = 256;

const canonical = canonicalJson;

function paramsJson(params: Readonly<Record<string, unknown>>): string {
  // JSON.stringify is deterministic for a given object (key order included), so it identifies the
  // canonical text; it is only a lookup key, never hashed.
  const plain = JSON.stringify(params);
  let text = canonicalParams.get(plain);
  if (text === undefined) {
    text = canonical(params);
    if (canonicalParams.size >= MAX_REMEMBERED_PARAMS) canonicalParams.clear();
    canonicalParams.set(plain, text);
  }
  return text;
}

/**
 * HMAC-SHA256 (hex), under `key` (the installation's HMAC key) and a domain tag, of the RFC 8785 canonical JSON of
 * {imputed, input, model_sha256, params}. The object's keys are laid out in their canonical order around the
 * canonical text of each value (`imputed` sorted, and left out when empty); the input's numbers are written as
 * RFC 8785 writes numbers (ECMAScript's Number to String), and a test holds the whole equal to the reference
 * `canonicalize`.
 */
export function cacheKey(key: Buffer, { modelSha256, params, input, imputed }: CacheKeyParts): string {
  for (let i = 0; i < input.length; i++) {
    if (!Number.isFinite(input[i])) throw new TypeError(`cache key input[${i}] is not a finite number`);
  }
  const missing = imputed && imputed.length > 0 ? `"imputed":${canonical([...imputed].sort())},` : '';
  const json =
    `{${missing}"input":[${Array.prototype.join.call(input, ',')}],` +
    `"model_sha256":${canonical(modelSha256)},"params":${paramsJson(params)}}`;
  return createHmac('sha256', key).update(DOMAIN).update(json).digest('hex');
}
