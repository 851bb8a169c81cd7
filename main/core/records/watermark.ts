// The watermark: HMAC-SHA256 over the RFC 8785 canonical JSON of the document without `_meta`.
// Numbers are first fixed to 12 significant digits, so the same explanation signs identically everywhere.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import type { ExplanationDocument, UnsignedDocument } from '../../../shared/explanation.js';
import type { HmacKey } from '../keys.js';

export const WATERMARK_ALG = 'HMAC-SHA256/JCS' as const;
export const SIGNIFICANT_DIGITS = 12;

/** Rounds every number in a JSON value to SIGNIFICANT_DIGITS (integers and zero stay as they are). */
export function fixPrecision<T>(value: T): T {
  if (typeof value === 'number') {
    return (Number.isInteger(value) ? value : Number(value.toPrecision(SIGNIFICANT_DIGITS))) as T;
  }
  if (Array.isArray(value)) return value.map(fixPrecision) as T;
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    // Object.keys rather than Object.entries: no [key, value] pair allocated per member on this hot path.
    for (const k of Object.keys(source)) {
      const v = source[k];
      if (v !== undefined) out[k] = fixPrecision(v);
    }
    return out as T;
  }
  return value;
}

const canonical = canonicalJson;

function hmac(key: Buffer, canonicalText: string): string {
  return createHmac('sha256', key).update(canonicalText).digest('hex');
}

function mac(key: Buffer, doc: UnsignedDocument): string {
  return hmac(key, canonical(doc));
}

/** Fixes the precision of `doc` and signs it; the returned document is exactly what was signed. */
export function signDocument(doc: UnsignedDocument, key: HmacKey): ExplanationDocument {
  const fixed = fixPrecision(doc);
  return { ...fixed, _meta: { watermark: mac(key.key, fixed), key_id: key.id, alg: WATERMARK_ALG } };
}

/** The canonical members of a document other than `meta`: those whose keys sort before it, and after it. */
interface Members {
  before: string;
  after: string;
}

/** Kept for frozen documents only (the cache's), whose members cannot change. */
const membersOf = new WeakMap<ExplanationDocument, Members>();

function membersBesideMeta(fixed: Record<string, unknown>): Members {
  const before: string[] = [];
  const after: string[] = [];
  // RFC 8785 orders keys by UTF-16 code units, as sort() does; undefined members are skipped.
  for (const k of Object.keys(fixed).sort()) {
    if (k === 'meta' || fixed[k] === undefined) continue;
    (k < 'meta' ? before : after).push(`${canonical(k)}:${canonical(fixed[k])}`);
  }
  return { before: before.join(','), after: after.join(',') };
}

/**
 * `doc` with another meta (a cache hit's level and latency), signed: the same document and watermark that
 * signDocument gives for {...doc, meta}, but a frozen document's other members are canonicalised only once.
 * The canonical object is laid out around meta's canonical text; a test holds it equal to signDocument.
 */
export function signWithMeta(
  doc: ExplanationDocument,
  meta: ExplanationDocument['meta'],
  key: HmacKey,
): ExplanationDocument {
  const { _meta: _signature, ...rest } = doc;
  const fixed = fixPrecision(rest) as UnsignedDocument;
  const fixedMeta = fixPrecision(meta);
  let members = membersOf.get(doc);
  if (!members) {
    members = membersBesideMeta(fixed as unknown as Record<string, unknown>);
    if (Object.isFrozen(doc)) membersOf.set(doc, members);
  }
  const text =
    `{${members.before}${members.before ? ',' : ''}"meta":${canonical(fixedMeta)}` +
    `${members.after ? ',' : ''}${members.after}}`;
  return {
    ...fixed,
    meta: fixedMeta,
    _meta: { watermark: hmac(key.key, text), key_id: key.id, alg: WATERMARK_ALG },
  };
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Checks a document exactly as given: any change to any field, down to a float's last digit, fails. */
export function verifyDocument(doc: unknown, key: HmacKey): VerifyResult {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return { ok: false, reason: 'not a JSON object' };
  const { _meta, ...rest } = doc as Record<string, unknown>;
  const meta = _meta as Partial<ExplanationDocument['_meta']> | undefined;
  if (!meta || typeof meta.watermark !== 'string') return { ok: false, reason: '_meta.watermark is missing' };
  if (meta.alg !== WATERMARK_ALG)
    return { ok: false, reason: `unsupported _meta.alg ${JSON.stringify(meta.alg)}` };
  if (meta.key_id !== key.id)
    return { ok: false, reason: `signed with key ${meta.key_id}, this installation's key is ${key.id}` };
  const expected = Buffer.from(mac(key.key, rest as UnsignedDocument), 'hex');
  const given = Buffer.from(meta.watermark, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'watermark does not match the content: the document was changed' };
  }
  return { ok: true };
}
