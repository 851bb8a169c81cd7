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

  it('refuses a non-finite input', () => {
    expect(() => cacheKey({ ...base, input: [NaN] })).toThrow();
  });
});
