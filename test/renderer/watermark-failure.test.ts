// Why a document's watermark does not verify, worded from the kind the service names in the user's language: a
// Chinese sentence never carries the service's English reason.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WATERMARK_FAILURES, type WatermarkFailure } from '../../shared/contract.js';
import { LOCALES } from '../../shared/bundle.js';
import { MESSAGES, placeholders } from '../../shared/i18n/index.js';
import { keyId, type HmacKey } from '../../main/core/keys.js';
import { signDocument, verifyDocument } from '../../main/core/records/watermark.js';
import type { UnsignedDocument } from '../../shared/explanation.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { watermarkFailureText } from '../../renderer/src/pages/explain/watermark-failure.js';

const zh = makeT('zh-CN');
const en = makeT('en');

function key(): HmacKey {
  const k = randomBytes(32);
  return { key: k, id: keyId(k) };
}

/** What verifyDocument answers for a document that does not verify. */
function failureOf(doc: unknown, k: HmacKey): WatermarkFailure {
  const r = verifyDocument(doc, k);
  if (r.ok) throw new Error('the document verified');
  return r;
}

describe('a watermark that does not verify', () => {
  const k = key();
  const signed = signDocument(
    { id: 'd1', score: 0.5, meta: { locale: 'zh-CN' } } as unknown as UnsignedDocument,
    k,
  );
  const meta = (m: Record<string, unknown>) => ({ ...signed, _meta: { ...signed._meta, ...m } });
  const parsed = (members: string) =>
    JSON.parse(`{"_meta":${JSON.stringify(signed._meta)},${members}}`) as unknown;
  // Each kind, as the service gives it for a document that has it.
  const failures: [string, unknown][] = [
    ['not_an_object', [signed]],
    ['watermark_missing', { ...signed, _meta: undefined }],
    ['meta_unsigned', meta({ approved_by: 'manager' })],
    ['alg_missing', meta({ alg: { name: 'x' } })],
    ['alg_unsupported', meta({ alg: 'HS256' })],
    ['key_id_missing', meta({ key_id: undefined })],
    ['other_key', meta({ key_id: 'k-0123456789ab' })],
    ['number_beyond_double', parsed('"attributions":[{"attribution":-1e400}]')],
    ['string_lone_surrogate', parsed('"id":"x\\ud800"')],
    ['key_lone_surrogate', parsed('"meta":{"\\ud800":1}')],
    ['changed', { ...signed, score: 0.99 }],
  ];

  it.each(failures)('%s: worded in Chinese with no English from the service', (kind, doc) => {
    const failure = failureOf(doc, k);
    expect(failure.kind).toBe(kind);
    const text = watermarkFailureText(failure, zh);
    expect(text).toMatch(/[\u4e00-\u9fff]/);
    expect(text).not.toContain(failure.reason);
    // Left in Latin letters: what the document itself holds (its params) and the names JSON, UTF-16, Unicode.
    const bare = Object.values(failure.params)
      .reduce((s, v) => s.split(v).join(' '), text)
      .replace(/JSON|UTF-16|Unicode/g, ' ');
    expect(bare).not.toMatch(/[A-Za-z{}]/);
    expect(zh('explain.watermark.bad', { reason: text })).toMatch(/^水印未通过验证：[^A-Za-z]/);
    expect(watermarkFailureText(failure, en)).not.toMatch(/[{}\u4e00-\u9fff]/);
  });

  it('names where the document cannot be canonical JSON, and the keys of a document signed elsewhere', () => {
    const number = failureOf(parsed('"attributions":[{"attribution":-1e400}]'), k);
    expect(watermarkFailureText(number, zh)).toBe(
      '文档中 attributions[0].attribution 处的数值超出双精度范围（读作 -Infinity），因此无法转为规范 JSON',
    );
    const other = failureOf(meta({ key_id: 'k-0123456789ab' }), k);
    expect(watermarkFailureText(other, zh)).toBe(`文档由另一密钥 k-0123456789ab 签名，本机密钥为 ${k.id}`);
    expect(watermarkFailureText(failureOf({ ...signed, score: 0.99 }, k), zh)).toBe(
      '文档在签名后被改动过，内容与水印不符',
    );
  });

  it('has a wording in every language that fills in only the params its kind gives', () => {
    for (const kind of Object.keys(WATERMARK_FAILURES) as (keyof typeof WATERMARK_FAILURES)[]) {
      const given: readonly string[] = WATERMARK_FAILURES[kind];
      for (const locale of LOCALES) {
        const used = placeholders(MESSAGES[locale][`watermark.fail.${kind}`]);
        expect(
          used.filter((name) => !given.includes(name)),
          `${locale} ${kind}`,
        ).toEqual([]);
      }
    }
  });

  it("keeps the service's words for a kind this UI does not know (a newer server's), or one without its params", () => {
    const newer = {
      reason: 'signed in the future',
      kind: 'from_the_future',
      params: {},
    } as unknown as WatermarkFailure;
    expect(watermarkFailureText(newer, zh)).toBe('signed in the future');
    const bare = { reason: 'unsupported _meta.alg "HS256"', kind: 'alg_unsupported', params: {} } as const;
    expect(watermarkFailureText(bare, zh)).toBe('unsupported _meta.alg "HS256"');
  });
});
