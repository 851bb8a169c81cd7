// The watermark: HMAC-SHA256 over the RFC 8785 canonical JSON of the document without `_meta`.
// Numbers are first fixed to 12 significant digits, so the same explanation signs identically everywhere.
import { createHmac, timingSafeEqual } from 'node:crypto';
import canonicalize from 'canonicalize';
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
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = fixPrecision(v);
    return out as T;
  }
  return value;
}

function mac(key: Buffer, doc: UnsignedDocument): string {
  const canonical = canonicalize(doc);
  if (canonical === undefined) throw new Error('document cannot be canonicalised');
  return createHmac('sha256', key).update(canonical).digest('hex');
}

/** Fixes the precision of `doc` and signs it; the returned document is exactly what was signed. */
export function signDocument(doc: UnsignedDocument, key: HmacKey): ExplanationDocument {
  const fixed = fixPrecision(doc);
  return { ...fixed, _meta: { watermark: mac(key.key, fixed), key_id: key.id, alg: WATERMARK_ALG } };
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
