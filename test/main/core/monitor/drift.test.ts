import { describe, expect, it } from 'vitest';
import {
  PSI_EPSILON,
  RecentWindow,
  binIndex,
  binProportions,
  computeDrift,
  jsDivergence,
  massShares,
  psi,
  quantileEdges,
  quantileSorted,
  rowShares,
} from '../../../../main/core/monitor/drift.js';
import { buildReference } from '../../../../main/core/monitor/reference.js';

const EXPLAINER = {
  explainer_version: '1.0.0',
  method: 'gausslegendre',
  n_steps: 50,
  baseline: 'schema' as const,
  target: 'approved',
  backend: 'cpu',
};

describe('attribution-mass shares', () => {
  it('are each feature’s share of all |attribution| mass, and sum to 1', () => {
    const shares = massShares([
      [1, -1, 2],
      [-3, 0, 1],
    ])!;
    expect(shares).toEqual([4 / 8, 1 / 8, 3 / 8]);
    expect(shares.reduce((a, s) => a + s, 0)).toBeCloseTo(1, 15);
  });

  it('weigh rows by their mass (pooled), unlike the mean of per-row shares', () => {
    // Row 1 is all feature 0, row 2 (ten times the mass) all feature 1.
    expect(
      massShares([
        [1, 0],
        [0, -10],
      ]),
    ).toEqual([1 / 11, 10 / 11]);
    expect(rowShares([1, 0])).toEqual([1, 0]);
  });

  it('are undefined for rows without mass (an applicant equal to the baseline)', () => {
    expect(rowShares([0, 0, 0])).toBeNull();
    expect(massShares([[0, 0]])).toBeNull();
    expect(massShares([])).toBeNull();
  });

  it('per row sum to 1 for random rows', () => {
    for (let i = 0; i < 20; i++) {
      const row = Array.from({ length: 11 }, (_, f) => Math.sin(i * 11 + f) * (f + 1));
      expect(rowShares(row)!.reduce((a, s) => a + s, 0)).toBeCloseTo(1, 14);
    }
  });
});

describe('Jensen–Shannon divergence (base 2)', () => {
  it('is 0 for identical distributions', () => {
    expect(jsDivergence([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])).toBe(0);
  });

  it('is 1 for disjoint distributions', () => {
    expect(jsDivergence([1, 0], [0, 1])).toBe(1);
    expect(jsDivergence([0.5, 0.5, 0, 0], [0, 0, 0.3, 0.7])).toBeCloseTo(1, 15);
  });

  it('matches a hand computation: p = (1, 0), q = (½, ½)', () => {
    // m = (¾, ¼); KL(p‖m) = log2(4/3); KL(q‖m) = ½ log2(2/3) + ½ log2 2.
    const expected = 0.5 * Math.log2(4 / 3) + 0.5 * (0.5 * Math.log2(2 / 3) + 0.5);
    expect(expected).toBeCloseTo(0.311278, 6);
    expect(jsDivergence([1, 0], [0.5, 0.5])).toBeCloseTo(expected, 14);
  });

  it('is symmetric and normalises its inputs', () => {
    const [p, q] = [
      [0.1, 0.6, 0.3],
      [0.4, 0.4, 0.2],
    ];
    expect(jsDivergence(p, q)).toBeCloseTo(jsDivergence(q, p), 15);
    expect(jsDivergence([2, 12, 6], [4, 4, 2])).toBeCloseTo(jsDivergence(p, q), 15);
  });

  it('refuses distributions of different lengths or without mass', () => {
    expect(() => jsDivergence([1], [0.5, 0.5])).toThrow(RangeError);
    expect(() => jsDivergence([0, 0], [0.5, 0.5])).toThrow(RangeError);
  });
});

describe('PSI', () => {
  it('matches a hand computation', () => {
    // (0.5 − 0.25) ln 2 + 0 + (0.25 − 0.5) ln ½ = ½ ln 2.
    expect(psi([0.25, 0.25, 0.5], [0.5, 0.25, 0.25])).toBeCloseTo(0.5 * Math.LN2, 14);
  });

  it('is 0 without change and symmetric in its two distributions', () => {
    expect(psi([0.1, 0.9], [0.1, 0.9])).toBe(0);
    expect(psi([0.3, 0.7], [0.6, 0.4])).toBeCloseTo(psi([0.6, 0.4], [0.3, 0.7]), 15);
  });

  it('counts an empty bin as ε = 1e-4: large but finite', () => {
    const value = psi([0.5, 0.5], [1, 0]);
    const expected = 0.5 * Math.log(2) + (PSI_EPSILON - 0.5) * Math.log(PSI_EPSILON / 0.5);
    expect(value).toBeCloseTo(expected, 12);
    expect(value).toBeGreaterThan(0.25);
    expect(Number.isFinite(value)).toBe(true);
    // The same on the reference side: a bin the reference never saw.
    expect(psi([1, 0], [0.5, 0.5])).toBeCloseTo(value, 12);
  });
});

describe('quantile bins', () => {
  it('quantiles are numpy’s linear ones', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([5], 0.9)).toBe(5);
  });

  it('deciles of 1…100 give ten bins of ten', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const edges = quantileEdges(values, 10);
    expect(edges).toHaveLength(9);
    expect(binProportions(values, edges)).toEqual(new Array(10).fill(0.1));
  });

  it('merge tied quantiles: a point mass at 0 is one right-closed bin', () => {
    const values = [...new Array<number>(70).fill(0), ...Array.from({ length: 30 }, (_, i) => (i + 1) / 100)];
    const edges = quantileEdges(values, 10);
    expect(edges[0]).toBe(0);
    expect(new Set(edges).size).toBe(edges.length);
    expect(binIndex(0, edges)).toBe(0);
    expect(binProportions(values, edges)[0]).toBeCloseTo(0.7, 12);
  });

  it('put values below the first edge in bin 0 and above the last in the last bin', () => {
    expect(binIndex(-5, [0, 1])).toBe(0);
    expect(binIndex(0.5, [0, 1])).toBe(1);
    expect(binIndex(1, [0, 1])).toBe(1);
    expect(binIndex(7, [0, 1])).toBe(2);
  });
});

describe('the recent window', () => {
  it('keeps the last N rows, oldest first', () => {
    const w = new RecentWindow(2, 3);
    for (let i = 1; i <= 5; i++) w.push([i, -i]);
    expect(w.size).toBe(3);
    expect(w.rows().map((r) => Array.from(r))).toEqual([
      [3, -3],
      [4, -4],
      [5, -5],
    ]);
    w.clear();
    expect(w.size).toBe(0);
  });

  it('copies the rows it keeps and refuses rows of the wrong width', () => {
    const w = new RecentWindow(2, 3);
    const row = [1, 2];
    w.push(row);
    row[0] = 99;
    expect(Array.from(w.rows()[0]!)).toEqual([1, 2]);
    expect(() => w.push([1, 2, 3])).toThrow(RangeError);
  });
});

describe('drift on a hand example', () => {
  // Two features, the second sensitive: the snapshot names it by its pseudonym, the reference by its name, and
  // they are matched by schema position. Reference: pooled shares 0.75 / 0.25, one edge per feature, half the
  // reference rows on either side of it.
  const reference = {
    reference_version: 1 as const,
    data: 'hand',
    rows: 4,
    rows_with_mass: 4,
    explainer: EXPLAINER,
    binning: { statistic: 'row_share' as const, quantiles: 2 },
    features: [
      { name: 'x', share: 0.75, edges: [0.7], proportions: [0.5, 0.5] },
      { name: 's', share: 0.25, edges: [0.3], proportions: [0.5, 0.5] },
    ],
  };
  // Row shares (x, s): (0.75, 0.25), (0.5, 0.5), (1, 0); the last row is at the baseline and has none.
  const rows = [
    [3, -1],
    [-1, 1],
    [4, 0],
    [0, 0],
  ];
  const d = computeDrift(rows, reference, ['x', 'sensitive_0123abcd'], { minRows: 3 });

  it('pools |attribution| mass into shares, and gives their JS divergence in bits', () => {
    expect(d.state).toBe('computed');
    expect(d.rows).toBe(3);
    // Pooled: x 3 + 1 + 4 = 8, s 1 + 1 + 0 = 2 of 10.
    expect(d.features.map((f) => [f.feature, f.share_recent, f.share_reference])).toEqual([
      ['x', 0.8, 0.75],
      ['sensitive_0123abcd', 0.2, 0.25],
    ]);
    const kl = (p: number[], m: number[]) => p.reduce((a, pi, i) => a + pi * Math.log2(pi / m[i]!), 0);
    const m = [0.775, 0.225];
    expect(d.js!).toBeCloseTo(0.5 * kl([0.75, 0.25], m) + 0.5 * kl([0.8, 0.2], m), 12);
  });

  it('bins each row’s share with the reference edges, right-closed, and gives PSI in nats', () => {
    // x: 0.5 ≤ 0.7 in bin 0, 0.75 and 1 in bin 1: (1/3, 2/3). s: 0.25 and 0 ≤ 0.3 in bin 0, 0.5 above: (2/3, 1/3).
    // Both: (1/3 − ½)·ln(⅔) + (⅔ − ½)·ln(4/3) = ln(2) / 6 ≈ 0.1155, amber (0.1 < PSI ≤ 0.25).
    for (const f of d.features) {
      expect(f.psi!).toBeCloseTo(Math.log(2) / 6, 12);
      expect(f.status).toBe('amber');
    }
    expect(d.psi_max!).toBeCloseTo(Math.log(2) / 6, 12);
    const js = (p: number[], q: number[]) => {
      const m = p.map((pi, i) => (pi + q[i]!) / 2);
      const kl = (a: number[]) => a.reduce((s, ai, i) => s + (ai > 0 ? ai * Math.log2(ai / m[i]!) : 0), 0);
      return 0.5 * kl(p) + 0.5 * kl(q);
    };
    expect(d.features[0]!.js!).toBeCloseTo(js([0.5, 0.5], [1 / 3, 2 / 3]), 12);
  });
});

describe('drift against a reference', () => {
  // Feature a carries most of the mass in the reference population; b and c less, with some spread.
  const population = (n: number, weights: number[], seed: number) =>
    Array.from({ length: n }, (_, i) =>
      weights.map((w, f) => w * (1 + 0.5 * Math.sin(seed + i * 1.7 + f * 2.3))),
    );
  const names = ['a', 'b', 'c'];
  const reference = buildReference({
    attributions: population(2000, [3, 1, 0.5], 1),
    features: names,
    data: 'synthetic',
    explainer: EXPLAINER,
  });

  it('is small for another sample of the same population', () => {
    const d = computeDrift(population(500, [3, 1, 0.5], 7), reference, names, { minRows: 100 });
    expect(d.state).toBe('computed');
    expect(d.js!).toBeLessThan(0.01);
    expect(d.psi_max!).toBeLessThan(0.1);
    expect(d.features.every((f) => f.status === 'ok')).toBe(true);
  });

  it('is large when the mass moves to another feature, and PSI turns the feature red', () => {
    const d = computeDrift(population(500, [1, 3, 0.5], 7), reference, names, { minRows: 100 });
    expect(d.js!).toBeGreaterThan(0.1);
    expect(d.psi_max!).toBeGreaterThan(0.25);
    expect(d.features.find((f) => f.feature === 'b')!.status).toBe('red');
    expect(d.features.find((f) => f.feature === 'b')!.share_recent!).toBeGreaterThan(0.6);
  });

  it('reports too few rows instead of a noisy number, and withholds the recent shares', () => {
    const d = computeDrift(population(50, [1, 3, 0.5], 7), reference, names, { minRows: 100 });
    expect(d.state).toBe('insufficient_data');
    expect(d.js).toBeNull();
    // A few applicants' own shares (sensitive features among them) are not shown until there are enough.
    expect(d.features.map((f) => f.share_recent)).toEqual([null, null, null]);
    expect(d.features[1]!.share_reference).toBe(reference.features[1]!.share);
    const one = computeDrift(population(1, [1, 3, 0.5], 7), null, names, { minRows: 100 });
    expect(one.features.map((f) => f.share_recent)).toEqual([null, null, null]);
  });

  it('counts toward the minimum only rows with attribution mass, which alone can be binned', () => {
    const zeros = Array.from({ length: 99 }, () => [0, 0, 0]);
    const one = population(1, [1, 3, 0.5], 7);
    const d = computeDrift([...zeros, ...one], reference, names, { minRows: 100 });
    expect(d.rows).toBe(1);
    expect(d.state).toBe('insufficient_data');
    expect(d.psi_max).toBeNull();
  });

  it('reports as its rows those compared with min_rows, never more rows than the minimum with too few', () => {
    // 290 applicants with attribution mass and 20 at the baseline: the page must not read "310 recent
    // explanations, drift needs 300" beside "not enough data".
    const zeros = Array.from({ length: 20 }, () => [0, 0, 0]);
    const short = computeDrift([...population(290, [3, 1, 0.5], 7), ...zeros], reference, names, {
      minRows: 300,
    });
    expect(short.state).toBe('insufficient_data');
    expect(short.rows).toBe(290);
    expect(short.rows).toBeLessThan(short.min_rows);
    const enough = computeDrift([...population(300, [3, 1, 0.5], 7), ...zeros], reference, names, {
      minRows: 300,
    });
    expect(enough.state).toBe('computed');
    expect(enough.rows).toBe(300);
  });

  it('reports no reference when the bundle ships none, with the recent shares', () => {
    const d = computeDrift(population(500, [3, 1, 0.5], 7), null, names, { minRows: 100 });
    expect(d.state).toBe('no_reference');
    expect(d.reference_rows).toBeNull();
    expect(d.features.map((f) => f.share_reference)).toEqual([null, null, null]);
    expect(d.features.reduce((a, f) => a + f.share_recent!, 0)).toBeCloseTo(1, 12);
  });
});
