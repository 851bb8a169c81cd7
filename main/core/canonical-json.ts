// RFC 8785 (JSON Canonicalization Scheme) text, as the watermark, the audit chain and the cache key hash it.
// JCS is ECMAScript's JSON.stringify with object members sorted by UTF-16 code units, which is exactly what
// safe-stable-stringify's deterministic mode produces, natively and about 4× faster than the reference
// `canonicalize` package. The two differ only where JSON.stringify escapes a string as \uXXXX (a control
// character, or a lone surrogate, which JCS refuses): such text goes to `canonicalize` itself. A test holds the
// two equal over awkward strings, numbers and nesting.
import canonicalize from 'canonicalize';
import { configure } from 'safe-stable-stringify';

const stringify = configure({ deterministic: true, bigint: false, strict: true, circularValue: Error });

/**
 * The RFC 8785 canonical JSON of `value`. Throws for what JSON cannot hold exactly: NaN, ±Infinity, a lone
 * surrogate, a function, a BigInt, a cycle, or `undefined` itself.
 */
export function canonicalJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('undefined has no JSON text');
  if (!text.includes('\\u')) return text;
  const exact = canonicalize(value);
  if (exact === undefined) throw new TypeError('undefined has no JSON text');
  return exact;
}

/** A member whose key is an array index: objects list those first, whatever their insertion order. */
const INDEX_KEY = /[{,]"(?:0|[1-9]\d*)":/;

/**
 * canonicalJson for a value whose objects already hold their members in RFC 8785 order (as fixPrecision and
 * the audit entry builder make them): JSON.stringify alone writes the canonical text, natively, unless a string
 * needed a \u escape or a key is an array index (listed first by every object): canonicalJson decides those.
 * A test holds the two equal.
 */
export function canonicalJsonOfSorted(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined || text.includes('\\u') || INDEX_KEY.test(text)) return canonicalJson(value);
  return text;
}
