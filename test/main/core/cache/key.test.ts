import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../../../main/core/cache/key.js';

const params = { method: 'gausslegendre', n_steps: 50, top_k: 10, locale: 'zh-CN' };
const base = { modelSha256: 'a'.repeat(64), params, input: [0.5, -1.25, 2] };

describe('cacheKey', () => {
  it('is the sha256 hex of the canonical JSON of model, params and input', () => {
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(base)).toBe(cacheKey({ ...base }));
  });

  it('does not depend on the order of the params keys', () => {
    const reordered = { locale: 'zh-CN', top_k: 10, n_steps: 50, method: 'gausslegendre' };
    expect(cacheKey({ ...base, params: reordered })).toBe(cacheKey(base));
  });

  it('treats a Float32Array input like the same numbers in an array', () => {
    const f32 = Float32Array.from([0.1, 0.2]);
    expect(cacheKey({ ...base, input: f32 })).toBe(cacheKey({ ...base, input: Array.from(f32) }));
  });

  it('changes with the model, the params and the input', () => {
    const key = cacheKey(base);
    expect(cacheKey({ ...base, modelSha256: 'b'.repeat(64) })).not.toBe(key);
    expect(cacheKey({ ...base, params: { ...params, n_steps: 51 } })).not.toBe(key);
    expect(cacheKey({ ...base, input: [0.5, -1.25, 2.0000001] })).not.toBe(key);
  });

  it('keeps its pinned value for a known model, params and input', () => {
    // Pinned before any change to how keys are laid out: a changed key would orphan every cached document.
    const input = [0.5, -1.25, 2, 1e-7, 123456789012, -0];
    expect(cacheKey({ ...base, input })).toBe(
      '8a4ac6e4f277b59a2b09515f7e4601ec0a0d0cf741b64a4442e7e066e4786eda',
    );
  });

  it('is the sha256 of exactly what canonicalize gives for the three parts', () => {
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
      const expected = canonicalize({ model_sha256: base.modelSha256, params: p, input: Array.from(input) })!;
      expect(cacheKey({ modelSha256: base.modelSha256, params: p, input })).toBe(
        createHash('sha256').update(expected).digest('hex'),
      );
    }
  });

  it('refuses a non-finite input', () => {
    expect(() => cacheKey({ ...base, input: [NaN] })).toThrow();
  });
});
