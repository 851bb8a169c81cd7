import canonicalize from 'canonicalize';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../../../main/core/cache/key.js';

const params = { method: 'gausslegendre', n_steps: 50, top_k: 10, locale: 'zh-CN' };
const base = { modelSha256: 'a'.repeat(64), params, input: [0.5, -1.25, 2] };
const KEY = Buffer.alloc(32, 1);
const PINNED = 'ea2c992fbf9e45d604582bf6cd595ba1e9ba8704114dc9ce9fbba7cf8f99abb4';
const key = (parts: Parameters<typeof cacheKey>[1], k: Buffer = KEY) => cacheKey(k, parts);

describe('cacheKey', () => {
  it('is an HMAC-SHA256 hex of the canonical JSON of model, params and input, under the installation key', () => {
    expect(key(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(key(base)).toBe(key({ ...base }));
  });

  it('does not depend on the order of the params keys', () => {
    const reordered = { locale: 'zh-CN', top_k: 10, n_steps: 50, method: 'gausslegendre' };
    expect(key({ ...base, params: reordered })).toBe(key(base));
  });

  it('treats a Float32Array input like the same numbers in an array', () => {
    const f32 = Float32Array.from([0.1, 0.2]);
    expect(key({ ...base, input: f32 })).toBe(key({ ...base, input: Array.from(f32) }));
  });

  it('changes with the model, the params, the input, the imputed features and the installation key', () => {
    const first = key(base);
    expect(key({ ...base, modelSha256: 'b'.repeat(64) })).not.toBe(first);
    expect(key({ ...base, params: { ...params, n_steps: 51 } })).not.toBe(first);
    expect(key({ ...base, input: [0.5, -1.25, 2.0000001] })).not.toBe(first);
    // A value left out and imputed is another document than the same value given ("missing; default used").
    expect(key({ ...base, imputed: ['Home'] })).not.toBe(first);
    expect(key({ ...base, imputed: [] })).toBe(first);
    expect(key({ ...base, imputed: ['b', 'a'] })).toBe(key({ ...base, imputed: ['a', 'b'] }));
    // Another installation's key: no key of this one can be computed without its HMAC key.
    expect(key(base, Buffer.alloc(32, 2))).not.toBe(first);
  });

  it('keeps its pinned value for a known key, model, params and input', () => {
    // Pinned: a change to how keys are laid out would orphan every cached document (as keying them did once).
    const input = [0.5, -1.25, 2, 1e-7, 123456789012, -0];
    expect(key({ ...base, input })).toBe(PINNED);
  });

  it('is the HMAC of exactly what canonicalize gives for the parts, after the domain tag', () => {
    const numbers = [
      0,
      -0,
      1,
      -1.5,
      1e21,
      1e-7,
      123.456,
      2 ** 53,
      -(2 ** -1074),
      0.1 + 0.2,
      5e-324,
      1.7976931348623157e308,
    ];
    const f32 = Float32Array.from([0.1, -2.5, 3.4028234663852886e38, 1e-45]);
    const nested = {
      ...params,
      baseline: { Seniority: 3, Home: 'rent', nested: [1, { b: 2, a: '\u00e9' }] },
    };
    for (const [p, input] of [
      [params, numbers],
      [nested, f32],
      [{}, []],
    ] as const) {
      const hmac = (text: string) =>
        createHmac('sha256', KEY).update('branchlens/cache-key/v2\0').update(text).digest('hex');
      const expected = canonicalize({ model_sha256: base.modelSha256, params: p, input: Array.from(input) })!;
      expect(key({ modelSha256: base.modelSha256, params: p, input })).toBe(hmac(expected));
      const imputed = ['Home', 'Amount'];
      const withImputed = canonicalize({
        imputed: [...imputed].sort(),
        model_sha256: base.modelSha256,
        params: p,
        input: Array.from(input),
      })!;
      expect(key({ modelSha256: base.modelSha256, params: p, input, imputed })).toBe(hmac(withImputed));
    }
  });

  it('refuses a non-finite input', () => {
    expect(() => key({ ...base, input: [NaN] })).toThrow();
  });
});
