// The watermark: HMAC-SHA256 over the RFC 8785 canonical JSON of the document without `_meta`.
// Numbers are first fixed to 12 significant digits, so the same explanation signs identically everywhere.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson, canonicalJsonOfSorted } from '../canonical-json.js';
import type { ExplanationDocument, UnsignedDocument } from '../../../shared/explanation.js';
import type { WatermarkFailure, WatermarkFailureKind } from '../../../shared/contract.js';
import type { HmacKey } from '../keys.js';

export const WATERMARK_ALG = 'HMAC-SHA256/JCS' as const;
export const SIGNIFICANT_DIGITS = 12;

/**
 * Rounds every number in a JSON value to SIGNIFICANT_DIGITS (integers and zero stay as they are) and copies
 * every object with its members in RFC 8785 order (UTF-16 code units), dropping undefined ones. A number that
 * JSON cannot hold (NaN, ±Infinity) is refused: a document must never be signed with one.
 */
export function fixPrecision<T>(value: T): T {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    if (!Number.isFinite(value)) throw new RangeError(`a document cannot hold the number ${value}`);
    return Number(value.toPrecision(SIGNIFICANT_DIGITS)) as T;
  }
  if (Array.isArray(value)) return value.map(fixPrecision) as T;
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    // Object.keys rather than Object.entries: no [key, value] pair allocated per member on this hot path. The
    // documents are built with their members in order already: checking costs less than sorting.
    const keys = Object.keys(source);
    if (!inOrder(keys)) keys.sort();
    for (const k of keys) {
      const v = source[k];
      if (v !== undefined) out[k] = fixPrecision(v);
    }
    return out as T;
  }
  return value;
}

/** Whether keys are in RFC 8785 order (UTF-16 code units, as `<` and the default sort compare strings). */
function inOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return false;
  return true;
}

/** The canonical text of fixPrecision's output, whose members are in RFC 8785 order already. */
const canonical = canonicalJsonOfSorted;

function hmac(key: Buffer, canonicalText: string): string {
  return createHmac('sha256', key).update(canonicalText).digest('hex');
}

function mac(key: Buffer, doc: UnsignedDocument): string {
  return hmac(key, canonicalJson(doc));
}

/** Fixes the precision of `doc` and signs it; the returned document is exactly what was signed. */
export function signDocument(doc: UnsignedDocument, key: HmacKey): ExplanationDocument {
  const fixed = fixPrecision(doc);
  return { ...fixed, _meta: { watermark: mac(key.key, fixed), key_id: key.id, alg: WATERMARK_ALG } };
}

/**
 * A signed document as JSON text: `{"_meta":{…},` followed by the document's members in RFC 8785 order. Without
 * its `"_meta":{…},` the text is exactly the canonical text the watermark signs, so it is sent, stored and
 * re-stamped as it is, never parsed and serialised again. The whole text is canonical JSON too.
 */
export interface SignedJson {
  json: string;
  /** Where the members after `_meta` begin: `{` + json.slice(bodyStart) is the signed canonical text. */
  bodyStart: number;
  /** json.slice(metaStart, metaEnd) is the canonical text of `meta`. */
  metaStart: number;
  metaEnd: number;
  watermark: string;
}

/** Lays out and signs a canonical document around meta's text: `head` ends in `"meta":`, `tail` closes it. */
function assemble(key: HmacKey, head: string, metaText: string, tail: string): SignedJson {
  const watermark = hmac(key.key, head + metaText + tail);
  const signature = `{"_meta":${canonicalJson({ alg: WATERMARK_ALG, key_id: key.id, watermark })},`;
  const bodyStart = signature.length;
  const metaStart = bodyStart + head.length - 1;
  return {
    json: signature + head.slice(1) + metaText + tail,
    bodyStart,
    metaStart,
    metaEnd: metaStart + metaText.length,
    watermark,
  };
}

/** Fixes the precision of `doc` and signs it as text: the same watermark signDocument gives. */
export function signToJson(doc: UnsignedDocument, key: HmacKey): SignedJson {
  return signFixedToJson(fixPrecision(doc), key);
}

/** signToJson for a document whose numbers fixPrecision has already fixed. */
export function signFixedToJson(doc: UnsignedDocument, key: HmacKey): SignedJson {
  const fixed = doc as unknown as Record<string, unknown>;
  // RFC 8785 orders members by UTF-16 code units, as `<` compares them: the members before meta, then after.
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const k of Object.keys(fixed)) {
    if (k !== 'meta') (k < 'meta' ? before : after)[k] = fixed[k];
  }
  const b = canonical(before).slice(1, -1);
  const a = canonical(after).slice(1, -1);
  return assemble(key, `{${b}${b ? ',' : ''}"meta":`, canonical(fixed.meta), `${a ? ',' : ''}${a}}`);
}

/**
 * The signed document with another meta (a cache hit's level and latency), signed again: the same text and
 * watermark that signToJson gives for {...doc, meta}, without touching the other members.
 */
export function restampJson(signed: SignedJson, meta: ExplanationDocument['meta'], key: HmacKey): SignedJson {
  return assemble(
    key,
    '{' + signed.json.slice(signed.bodyStart, signed.metaStart),
    canonical(fixPrecision(meta)),
    signed.json.slice(signed.metaEnd),
  );
}

export type VerifyResult = { ok: true } | WatermarkFailure;

/** A failure: the English `reason`, and its kind and params for a UI to word in its own language. */
function failure(
  reason: string,
  kind: WatermarkFailureKind,
  params: Record<string, string> = {},
): WatermarkFailure {
  return { ok: false, reason, kind, params };
}

/** A string holding a UTF-16 surrogate without its pair, which RFC 8785 refuses (it is no Unicode text). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a parsed document has no canonical JSON, naming where: a number JSON.parse read as ±Infinity (`1e400`), or
 * a string or key with a lone surrogate (`"\ud800"`). Walked without recursion; null when it finds neither.
 */
function notCanonical(doc: Record<string, unknown>): WatermarkFailure | null {
  const stack: { value: unknown; path: string }[] = [{ value: doc, path: '' }];
  const cannot = (where: string, kind: WatermarkFailureKind, params: Record<string, string>) =>
    failure(`the document cannot be canonical JSON: ${where}`, kind, params);
  while (stack.length) {
    const { value, path } = stack.pop()!;
    const at = path || 'the document';
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return cannot(`${at} holds a number beyond a double (read as ${value})`, 'number_beyond_double', {
        path,
        value: String(value),
      });
    }
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) {
      const why = `${at} holds a lone UTF-16 surrogate, which is not Unicode text`;
      return cannot(why, 'string_lone_surrogate', { path });
    }
    if (value === null || typeof value !== 'object') continue;
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    for (const [k, v] of entries.reverse()) {
      if (typeof k === 'string' && LONE_SURROGATE.test(k)) {
        return cannot(
          `${at} has the key ${JSON.stringify(k)}, holding a lone UTF-16 surrogate, which is not Unicode text`,
          'key_lone_surrogate',
          { path: `${path ? `${path}.` : ''}${JSON.stringify(k)}` },
        );
      }
      stack.push({ value: v, path: typeof k === 'number' ? `${path}[${k}]` : path ? `${path}.${k}` : k });
    }
  }
  return null;
}

/** How a reason shows one of the document's values: a string as it is, a list or object by its kind. */
function shown(value: unknown): string {
  if (value === undefined) return 'none';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}

/**
 * Checks a document exactly as given: any change to any field, down to a float's last digit, fails. Never throws
 * for what JSON.parse can give: a document that has no canonical JSON (a number beyond a double, a lone
 * surrogate) is not valid, and the reason says where.
 */
/** What `_meta` holds in a signed document: the signature's own fields, which it does not cover. */
const META_FIELDS = new Set(['alg', 'key_id', 'watermark']);

export function verifyDocument(doc: unknown, key: HmacKey): VerifyResult {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return failure('not a JSON object', 'not_an_object');
  const { _meta, ...rest } = doc as Record<string, unknown>;
  const meta = _meta as Partial<ExplanationDocument['_meta']> | undefined;
  if (!meta || typeof meta.watermark !== 'string')
    return failure('_meta.watermark is missing', 'watermark_missing');
  // _meta is outside what the watermark signs: anything in it besides the signature's own three fields (an
  // "approved_by", a "note: override") would ride along unsigned on a document that verifies.
  const extra = Object.keys(meta).filter((k) => !META_FIELDS.has(k));
  if (extra.length > 0) {
    const fields = extra.map((k) => JSON.stringify(k)).join(', ');
    return failure(
      `_meta holds ${fields}, which the watermark does not cover: only alg, key_id and watermark belong there`,
      'meta_unsigned',
      { fields },
    );
  }
  if (meta.alg !== WATERMARK_ALG) {
    // A UI words the alg the document names; one that is no string (an object) it words by its kind alone.
    if (typeof meta.alg !== 'string')
      return failure(`unsupported _meta.alg ${shown(meta.alg)}`, 'alg_missing');
    const alg = JSON.stringify(meta.alg);
    return failure(`unsupported _meta.alg ${alg}`, 'alg_unsupported', { alg });
  }
  if (meta.key_id !== key.id) {
    const reason = `signed with key ${shown(meta.key_id)}, this installation's key is ${key.id}`;
    if (typeof meta.key_id !== 'string') return failure(reason, 'key_id_missing');
    return failure(reason, 'other_key', { key_id: meta.key_id, installation_key_id: key.id });
  }
  let signed: string;
  try {
    signed = mac(key.key, rest as UnsignedDocument);
  } catch (e) {
    const detail = (e as Error).message;
    return (
      notCanonical(rest) ??
      failure(`the document cannot be canonical JSON: ${detail}`, 'not_canonical', { detail })
    );
  }
  if (!sameWatermark(signed, meta.watermark)) {
    return failure('watermark does not match the content: the document was changed', 'changed');
  }
  return { ok: true };
}

/**
 * Whether `given` is exactly the watermark `expected` (its lowercase hex), compared in constant time. The text is
 * compared, not the bytes hex-decoding gives: decoding stops at the first character that is not hex, so a
 * watermark with characters after it would otherwise pass.
 */
export function sameWatermark(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
