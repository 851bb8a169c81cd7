// The explanation cache key: what a document depends on, hashed.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export interface CacheKeyParts {
  /** sha256 of the model bundle (its manifest.json). */
  modelSha256: string;
  /** Everything else that shapes the document: explainer parameters, explainer version, locale, top-K… */
  params: Readonly<Record<string, unknown>>;
  /** The preprocessed model-input vector. */
  input: ArrayLike<number>;
}

/** SHA-256 (hex) of the RFC 8785 canonical JSON of {model_sha256, params, input}. */
export function cacheKey({ modelSha256, params, input }: CacheKeyParts): string {
  const json = canonicalize({ model_sha256: modelSha256, params, input: Array.from(input) });
  if (json === undefined) throw new TypeError('cache key parts cannot be serialized as JSON');
  return createHash('sha256').update(json).digest('hex');
}
