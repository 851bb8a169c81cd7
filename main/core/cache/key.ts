// The explanation cache key: what a document depends on, hashed.
import { hash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';

export interface CacheKeyParts {
  /** sha256 of the model bundle (its manifest.json). */
  modelSha256: string;
  /** Everything else that shapes the document: explainer parameters, explainer version, locale, top-K… */
  params: Readonly<Record<string, unknown>>;
  /** The preprocessed model-input vector. */
  input: ArrayLike<number>;
}

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
 * SHA-256 (hex) of the RFC 8785 canonical JSON of {model_sha256, params, input}. The object's three keys are
 * laid out in their canonical order around the canonical text of each value; the input's numbers are written
 * as RFC 8785 writes numbers (ECMAScript's Number to String), and a test holds the whole equal to
 * the reference `canonicalize`.
 */
export function cacheKey({ modelSha256, params, input }: CacheKeyParts): string {
  for (let i = 0; i < input.length; i++) {
    if (!Number.isFinite(input[i])) throw new TypeError(`cache key input[${i}] is not a finite number`);
  }
  const json =
    `{"input":[${Array.prototype.join.call(input, ',')}],` +
    `"model_sha256":${canonical(modelSha256)},"params":${paramsJson(params)}}`;
  return hash('sha256', json, 'hex');
}
