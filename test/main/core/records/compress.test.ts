import { describe, expect, it } from 'vitest';
import { byMagnitude, compressTopK, principalReasons } from '../../../../main/core/records/compress.js';

const items = [
  { feature: 'a', attribution: 0.1 },
  { feature: 'b', attribution: -0.5 },
  { feature: 'c', attribution: 0.3 },
  { feature: 'd', attribution: -0.05 },
  { feature: 'e', attribution: -0.2 },
  { feature: 'f', attribution: 0.01 },
];
const total = items.reduce((s, a) => s + a.attribution, 0);

describe('top-K compression', () => {
  it('keeps the K largest magnitudes in order and sums the rest', () => {
    const { top, rest_sum, rest_count } = compressTopK(items, 3);
    expect(top.map((a) => a.feature)).toEqual(['b', 'c', 'e']);
    expect(rest_count).toBe(3);
    expect(rest_sum).toBeCloseTo(0.1 - 0.05 + 0.01, 12);
  });

  it('survives compression: Σ top-K + rest_sum equals the full sum for every K', () => {
    for (let k = 0; k <= items.length + 1; k++) {
      const { top, rest_sum } = compressTopK(items, k);
      expect(top.reduce((s, a) => s + a.attribution, 0) + rest_sum).toBeCloseTo(total, 12);
    }
  });

  it('treats top_k 0 as all features', () => {
    const { top, rest_count, rest_sum } = compressTopK(items, 0);
    expect(top).toHaveLength(items.length);
    expect(rest_count).toBe(0);
    expect(rest_sum).toBe(0);
  });

  it('breaks ties by input order and rejects a negative K', () => {
    const tied = [
      { feature: 'x', attribution: -1 },
      { feature: 'y', attribution: 1 },
    ];
    expect(byMagnitude(tied).map((a) => a.feature)).toEqual(['x', 'y']);
    expect(() => compressTopK(items, -1)).toThrow(/top_k/);
  });
});

describe('principal reasons', () => {
  it('lists only negative attributions, most negative first, at most four', () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ feature: `f${i}`, attribution: -(i + 1) / 10 }));
    expect(principalReasons(many).map((r) => r.feature)).toEqual(['f6', 'f5', 'f4', 'f3']);
    expect(principalReasons(items).map((r) => r.feature)).toEqual(['b', 'e', 'd']);
    expect(principalReasons([{ attribution: 0.4 }])).toEqual([]);
  });
});
