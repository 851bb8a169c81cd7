import { randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import {
  fixPrecision,
  restampJson,
  signDocument,
  signToJson,
  verifyDocument,
} from '../../../../main/core/records/watermark.js';
import { keyId, type HmacKey } from '../../../../main/core/keys.js';
import type { UnsignedDocument } from '../../../../shared/explanation.js';

function key(): HmacKey {
  const k = randomBytes(32);
  return { key: k, id: keyId(k) };
}

const unsigned: UnsignedDocument = {
  id: 'doc-1',
  created_at: '2026-11-26T00:00:00.000Z',
  model: { id: 'credit-demo', version: '1.0.0', sha256: 'ab'.repeat(32) },
  predictions: [0.8123456789012345],
  target: { index: 1, name: 'good' },
  score: 0.8123456789012345,
  baseline_score: 0.7,
  decision: { label: 'good', approved: true, threshold: 0.5 },
  attributions: [
    {
      feature: 'Seniority',
      label: '工龄',
      value: 9,
      attribution: 0.0712345678901234,
      direction: 'positive',
      description: '工龄较长',
    },
    {
      feature: 'Home',
      label: '住房',
      value: 'rent',
      attribution: -0.03,
      direction: 'negative',
      description: '租房',
    },
  ],
  rest_sum: 0.0111,
  rest_count: 3,
  reasons: [{ feature: 'Home', label: '住房', attribution: -0.03, description: '租房' }],
  completeness: { sum: 0.1123456789, expected: 0.1123456788, delta: 1e-10 },
  meta: {
    explanation: {
      method: 'integrated_gradients',
      params: {
        method: 'gausslegendre',
        n_steps: 50,
        internal_batch_size: 1000,
        target: 'good',
        baseline: 'schema',
        top_k: 5,
      },
    },
    explainer_version: '1.0.0',
    backend: 'wasm',
    locale: 'zh-CN',
    cache: 'miss',
    latency_ms: 0.734512,
  },
};

describe('watermark', () => {
  it('verifies a signed document, also after a JSON round trip', () => {
    const k = key();
    const doc = signDocument(unsigned, k);
    expect(doc._meta.key_id).toBe(k.id);
    expect(verifyDocument(doc, k)).toEqual({ ok: true });
    expect(verifyDocument(JSON.parse(JSON.stringify(doc)), k)).toEqual({ ok: true });
  });

  it('refuses members added to _meta, which the watermark does not cover', () => {
    const k = key();
    const doc = signDocument(unsigned, k);
    const added = { ...doc, _meta: { ...doc._meta, approved_by: 'manager', note: 'override: approved' } };
    expect(verifyDocument(added, k)).toEqual({
      ok: false,
      reason:
        '_meta holds "approved_by", "note", which the watermark does not cover: only alg, key_id and watermark belong there',
      kind: 'meta_unsigned',
      params: { fields: '"approved_by", "note"' },
    });
    // The three fields, in any order, are what a signed document holds.
    const { alg, key_id, watermark } = doc._meta;
    expect(verifyDocument({ ...doc, _meta: { watermark, key_id, alg } }, k)).toEqual({ ok: true });
  });

  it('signs the same content identically regardless of key order', () => {
    const k = key();
    const reordered = Object.fromEntries(Object.entries(unsigned).reverse()) as UnsignedDocument;
    expect(signDocument(reordered, k)._meta.watermark).toBe(signDocument(unsigned, k)._meta.watermark);
  });

  it('lays members out in RFC 8785 order, whatever order they come in', () => {
    const order = (v: unknown) => Object.keys(v as object);
    expect(order(fixPrecision({ b: 1, a: 2, B: 3, é: 4, '\u{1F600}': 5 }))).toEqual([
      'B',
      'a',
      'b',
      'é',
      '\u{1F600}',
    ]);
    expect(order(fixPrecision({ a: 1, b: { d: 1, c: 2 } }).b)).toEqual(['c', 'd']);
    // Already in order (as buildDocument lays documents out): kept as they are.
    expect(order(fixPrecision({ a: 1, b: 2, c: 3 }))).toEqual(['a', 'b', 'c']);
    // Equal neighbours are impossible in an object; a key out of place anywhere is caught.
    expect(order(fixPrecision({ a: 1, c: 2, b: 3, d: 4 }))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('fixes float precision before signing', () => {
    expect(fixPrecision(0.8123456789012345)).toBe(0.812345678901);
    expect(fixPrecision({ a: [1, 2.00000000000001], b: 'x' })).toEqual({ a: [1, 2], b: 'x' });
    expect(signDocument(unsigned, key()).score).toBe(0.812345678901);
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the edits poke at arbitrary JSON on purpose
  const edits: [string, (d: Record<string, any>) => void][] = [
    [
      'a float’s last digit',
      (d) =>
        (d.attributions[0].attribution = Number(
          String(d.attributions[0].attribution).replace(/\d$/, (x) => String((Number(x) + 1) % 10)),
        )),
    ],
    ['the score', (d) => (d.score = 0.9)],
    ['a description', (d) => (d.attributions[1].description += '!')],
    ['a removed attribution', (d) => d.attributions.pop()],
    ['an added field', (d) => (d.extra = true)],
    ['meta.cache', (d) => (d.meta.cache = 'disk')],
    ['the decision', (d) => (d.decision.approved = false)],
    [
      'the watermark itself',
      (d) => (d._meta.watermark = d._meta.watermark.replace(/^./, (c: string) => (c === '0' ? '1' : '0'))),
    ],
    ['the key id', (d) => (d._meta.key_id = 'kother')],
    ['a missing _meta', (d) => delete d._meta],
  ];
  for (const [what, edit] of edits) {
    it(`fails after editing ${what}`, () => {
      const k = key();
      const doc = JSON.parse(JSON.stringify(signDocument(unsigned, k)));
      edit(doc);
      expect(verifyDocument(doc, k).ok).toBe(false);
    });
  }

  it('signs a known document to pinned canonical bytes and a pinned watermark', () => {
    // Pinned before any change to how documents are canonicalised: the same document must always sign the same.
    const pinned = { key: Buffer.alloc(32, 7), id: 'kpinned' };
    const { _meta, ...signed } = signDocument(unsigned, pinned);
    expect(canonicalize(signed)).toBe(PINNED_CANONICAL);
    expect(_meta.watermark).toBe('6a9ce2c66ee4f4248f2c50569e5d556361afa0235528c9305b81c31318391431');
    expect(verifyDocument(JSON.parse(JSON.stringify({ ...signed, _meta })), pinned)).toEqual({ ok: true });
  });

  it('signToJson is the signed document as canonical text, _meta first, with signDocument’s watermark', () => {
    const k = key();
    const { decision: _decision, ...withoutDecision } = unsigned;
    for (const base of [unsigned, withoutDecision]) {
      const expected = signDocument(base, k);
      const signed = signToJson(base, k);
      expect(signed.watermark).toBe(expected._meta.watermark);
      expect(signed.json).toBe(canonicalize(expected));
      expect(signed.json.startsWith('{"_meta":')).toBe(true);
      // Without _meta, the text is exactly the canonical text that was signed.
      const { _meta: _signature, ...rest } = expected;
      expect('{' + signed.json.slice(signed.bodyStart)).toBe(canonicalize(rest));
      expect(signed.json.slice(signed.metaStart, signed.metaEnd)).toBe(canonicalize(expected.meta));
      expect(verifyDocument(JSON.parse(signed.json), k)).toEqual({ ok: true });
    }
  });

  it('signs exactly the RFC 8785 text of the fixed document, whatever its members hold', () => {
    const k = key();
    const awkward: unknown[] = [
      { b: 1, a: 2, '10': 'index keys sort as text', '9': 'not as numbers' },
      { text: 'control \u0001 and "quotes" and \\ and 中文 😀', list: [undefined, 1e21, 1e-7, -0] },
      [{ z: { y: { x: 0.1 + 0.2 } } }, null, true],
      { é: 1, e: 2, Z: 3, _: 4, '': 5 },
    ];
    for (const extra of awkward) {
      const doc = { ...unsigned, extra } as unknown as UnsignedDocument;
      const signed = signToJson(doc, k);
      const { _meta: _signature, ...rest } = signDocument(doc, k);
      expect('{' + signed.json.slice(signed.bodyStart)).toBe(canonicalize(rest));
      expect(signed.json).toBe(canonicalize(JSON.parse(signed.json)));
      expect(verifyDocument(JSON.parse(signed.json), k)).toEqual({ ok: true });
    }
  });

  it('refuses to sign a number JSON cannot hold', () => {
    expect(() => signToJson({ ...unsigned, score: NaN }, key())).toThrow(/NaN/);
    expect(() => signToJson({ ...unsigned, rest_sum: Infinity }, key())).toThrow(/Infinity/);
  });

  it('restampJson gives the text and watermark signToJson gives for the same content with another meta', () => {
    const k = key();
    const { decision: _decision, ...withoutDecision } = unsigned;
    for (const base of [unsigned, withoutDecision]) {
      let stored = signToJson(base, k);
      // Twice: a re-stamped answer can be re-stamped again.
      for (const [cache, latency] of [
        ['memory', 0.1234567890123456],
        ['disk', 7],
      ] as const) {
        const meta = { ...base.meta, cache, latency_ms: latency };
        const expected = signToJson({ ...base, meta }, k);
        const restamped = restampJson(stored, meta, k);
        expect(restamped).toEqual(expected);
        expect(verifyDocument(JSON.parse(restamped.json), k)).toEqual({ ok: true });
        expect(restamped.watermark).not.toBe(stored.watermark);
        stored = restamped;
      }
    }
  });

  it('refuses a watermark with characters after it, or in another case: the text must be the one signed', () => {
    const k = key();
    const doc = signDocument(unsigned, k);
    for (const watermark of [doc._meta.watermark + 'zz', doc._meta.watermark.toUpperCase(), 'é'.repeat(32)]) {
      expect(verifyDocument({ ...doc, _meta: { ...doc._meta, watermark } }, k).ok, watermark).toBe(false);
    }
  });

  it('fails under another installation’s key', () => {
    const doc = signDocument(unsigned, key());
    const other = key();
    expect(verifyDocument({ ...doc, _meta: { ...doc._meta, key_id: other.id } }, other).ok).toBe(false);
  });
});

/** The RFC 8785 bytes of `unsigned` after fixPrecision, as canonicalize produced them when this test was written. */
const PINNED_CANONICAL =
  '{"attributions":[{"attribution":0.0712345678901,"description":"工龄较长","direction":"positive",' +
  '"feature":"Seniority","label":"工龄","value":9},{"attribution":-0.03,"description":"租房",' +
  '"direction":"negative","feature":"Home","label":"住房","value":"rent"}],"baseline_score":0.7,' +
  '"completeness":{"delta":1e-10,"expected":0.1123456788,"sum":0.1123456789},"created_at":"2026-11-26T00:00:00.000Z",' +
  '"decision":{"approved":true,"label":"good","threshold":0.5},"id":"doc-1","meta":{"backend":"wasm",' +
  '"cache":"miss","explainer_version":"1.0.0","explanation":{"method":"integrated_gradients",' +
  '"params":{"baseline":"schema","internal_batch_size":1000,"method":"gausslegendre",' +
  '"n_steps":50,"target":"good","top_k":5}},"latency_ms":0.734512,"locale":"zh-CN"},' +
  '"model":{"id":"credit-demo","sha256":"abababababababababababababababababababababababababababababababab",' +
  '"version":"1.0.0"},"predictions":[0.812345678901],"reasons":[{"attribution":-0.03,' +
  '"description":"租房","feature":"Home","label":"住房"}],"rest_count":3,"rest_sum":0.0111,' +
  '"score":0.812345678901,"target":{"index":1,"name":"good"}}';
