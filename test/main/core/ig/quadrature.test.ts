import { describe, expect, it } from 'vitest';
import { IG_METHODS, leggauss, linspace, quadrature } from '../../../../main/core/ig/quadrature.js';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function expectClose(actual: readonly number[], expected: readonly number[], tol: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) =>
    expect(Math.abs(v - expected[i]!), `index ${i}: ${v} vs ${expected[i]}`).toBeLessThan(tol),
  );
}

describe('gausslegendre nodes', () => {
  // Published values of 0.5·(1 + x), 0.5·w for numpy.polynomial.legendre.leggauss(n), as Alibi builds them.
  it('match numpy leggauss for n = 2', () => {
    const q = quadrature('gausslegendre', 2);
    expectClose(q.alphas, [0.21132486540518713, 0.7886751345948129], 1e-12);
    expectClose(q.weights, [0.5, 0.5], 1e-12);
  });

  it('match numpy leggauss for n = 3', () => {
    const q = quadrature('gausslegendre', 3);
    expectClose(q.alphas, [0.1127016653792583, 0.5, 0.8872983346207417], 1e-12);
    expectClose(q.weights, [0.27777777777777785, 0.4444444444444444, 0.27777777777777785], 1e-12);
  });

  it('match numpy leggauss for n = 50', () => {
    const q = quadrature('gausslegendre', 50);
    expect(q.alphas).toHaveLength(50);
    expect(Math.abs(q.alphas[0]! - 0.0005667977899644905)).toBeLessThan(1e-12);
    expect(Math.abs(q.weights[0]! - 0.0014543112765789633)).toBeLessThan(1e-12);
  });

  it.each([1, 2, 5, 50, 200])(
    'are ascending in (0, 1), symmetric about 1/2, with weights summing to 1 (n = %i)',
    (n) => {
      const { alphas, weights } = quadrature('gausslegendre', n);
      expect(alphas).toHaveLength(n);
      expect(weights).toHaveLength(n);
      for (let i = 0; i < n; i++) {
        expect(alphas[i]!).toBeGreaterThan(0);
        expect(alphas[i]!).toBeLessThan(1);
        if (i > 0) expect(alphas[i]!).toBeGreaterThan(alphas[i - 1]!);
        expect(Math.abs(alphas[i]! + alphas[n - 1 - i]! - 1)).toBeLessThan(1e-14);
        expect(Math.abs(weights[i]! - weights[n - 1 - i]!)).toBeLessThan(1e-15);
        expect(weights[i]!).toBeGreaterThan(0);
      }
      expect(Math.abs(sum(weights) - 1)).toBeLessThan(1e-13);
    },
  );

  it('integrate polynomials up to degree 2n − 1 exactly', () => {
    const n = 4;
    const { alphas, weights } = quadrature('gausslegendre', n);
    for (let degree = 0; degree <= 2 * n - 1; degree++) {
      const approx = sum(alphas.map((a, i) => weights[i]! * a ** degree));
      expect(Math.abs(approx - 1 / (degree + 1)), `degree ${degree}`).toBeLessThan(1e-14);
    }
  });

  it('leggauss returns nodes on [−1, 1] with weights summing to 2', () => {
    const { nodes, weights } = leggauss(7);
    expect(nodes[3]).toBe(0);
    expect(Math.abs(sum(weights) - 2)).toBeLessThan(1e-14);
  });
});

/** Σ xs with Neumaier's compensation: a plain sum of 10 000 weights is itself off by ~1e-15. */
function accurateSum(xs: readonly number[]): number {
  let s = 0;
  let c = 0;
  for (const x of xs) {
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}

describe('gausslegendre nodes and weights, up to the largest n_steps', () => {
  it('match the closed forms for n = 1 … 5', () => {
    const r = Math.sqrt;
    const [a4, b4] = [r(3 / 7 + (2 / 7) * r(6 / 5)), r(3 / 7 - (2 / 7) * r(6 / 5))];
    const [a5, b5] = [r(5 + 2 * r(10 / 7)) / 3, r(5 - 2 * r(10 / 7)) / 3];
    const closed: Record<number, { nodes: number[]; weights: number[] }> = {
      1: { nodes: [0], weights: [2] },
      2: { nodes: [-1 / r(3), 1 / r(3)], weights: [1, 1] },
      3: { nodes: [-r(3 / 5), 0, r(3 / 5)], weights: [5 / 9, 8 / 9, 5 / 9] },
      4: {
        nodes: [-a4, -b4, b4, a4],
        weights: [(18 - r(30)) / 36, (18 + r(30)) / 36, (18 + r(30)) / 36, (18 - r(30)) / 36],
      },
      5: {
        nodes: [-a5, -b5, 0, b5, a5],
        weights: [
          (322 - 13 * r(70)) / 900,
          (322 + 13 * r(70)) / 900,
          128 / 225,
          (322 + 13 * r(70)) / 900,
          (322 - 13 * r(70)) / 900,
        ],
      },
    };
    for (const [n, want] of Object.entries(closed)) {
      const got = leggauss(Number(n));
      expectClose(got.nodes, want.nodes, 1e-15);
      got.weights.forEach((w, i) =>
        expect(Math.abs(w / want.weights[i]! - 1), `n = ${n}, weight ${i}`).toBeLessThan(1e-15),
      );
    }
  });

  it.each([10, 50, 100, 201, 202, 1000, 4999, 10000])(
    'are ascending, exactly symmetric, sum to 2 and integrate x^k exactly for k < 2n (n = %i)',
    (n) => {
      const { nodes, weights } = leggauss(n);
      expect(nodes).toHaveLength(n);
      expect(weights).toHaveLength(n);
      const ok = (i: number) =>
        (i === 0 ? nodes[0]! > -1 : nodes[i]! > nodes[i - 1]!) &&
        nodes[i]! + nodes[n - 1 - i]! === 0 &&
        weights[i] === weights[n - 1 - i] &&
        weights[i]! > 0;
      expect(
        nodes.findIndex((_, i) => !ok(i)),
        'first node out of order, asymmetric or with weight ≤ 0',
      ).toBe(-1);
      expect(Math.abs(accurateSum(weights) - 2)).toBeLessThan(1e-15);
      // On [0, 1], as IG uses the rule: Σ w α^k = 1/(k + 1) up to degree 2n − 1 (here up to 40).
      const { alphas, weights: halves } = quadrature('gausslegendre', n);
      for (let k = 0; k < Math.min(2 * n, 41); k++) {
        const approx = accurateSum(alphas.map((a, i) => halves[i]! * a ** k));
        expect(Math.abs(approx * (k + 1) - 1), `degree ${k}`).toBeLessThan(1e-14);
      }
    },
  );

  // [n, index (ascending), node, weight] on [−1, 1], from Newton's method on the recurrence at 40 digits in
  // mpmath: the outermost nodes, whose weights are the hardest to get right, one at ¾, one by the middle.
  const reference: [number, number, string, string][] = [
    [10, 9, '0.973906528517171720078', '0.06667134430868813759357'],
    [10, 5, '0.1488743389816312108848', '0.2955242247147528701739'],
    [50, 49, '0.9988664044200710501855', '0.002908622553155140958401'],
    [50, 37, '0.7015524687068222510895', '0.04432750433880327549202'],
    [100, 99, '0.9997137267734412336782', '0.0007346344905056717304063'],
    [100, 50, '0.01562898442154308287222', '0.03125542345386335694764'],
    [201, 200, '0.9999287834362645959765', '0.0001827625311345397011479'],
    [201, 101, '0.01559035090483694734266', '0.01558908764898742766686'],
    [1000, 999, '0.9999971112980755105699', '0.000007413338416432071517477'],
    [1000, 998, '0.9999847796329174183243', '0.00001725676977373923011776'],
    [1000, 750, '0.7079388266180989626648', '0.002217715028859311318754'],
    [1000, 500, '0.001570010480083193829005', '0.003140018380182867786996'],
    [4999, 4998, '0.9999998843131471431129', '2.968898174152501996692e-7'],
    [10000, 9999, '0.9999999710869617248116', '7.42001927323932279658e-8'],
    [10000, 9998, '0.9999998476589267651707', '1.727239176140950166905e-7'],
    [10000, 7500, '0.7071900752860284079308', '0.0002221068703131367248067'],
    [10000, 5000, '0.0001570717782483478341764', '0.0003141435539132268276346'],
  ];

  it.each(reference)(
    'match 40-digit values, weights near ±1 included (n = %i, node %i)',
    (n, i, node, weight) => {
      const { nodes, weights } = leggauss(n);
      // Nodes to within an ulp of 1 everywhere; weights to a few ulps above 200 points. Up to 200 points, the
      // rule is Newton's on the recurrence, kept bit for bit (below): its outer weights are off by ~1e-13.
      expect(Math.abs(nodes[i]! - Number(node))).toBeLessThan(1.2e-16);
      expect(Math.abs(nodes[n - 1 - i]! + Number(node))).toBeLessThan(1.2e-16);
      expect(Math.abs(weights[i]! / Number(weight) - 1)).toBeLessThan(n > 200 ? 1e-15 : 2e-13);
    },
  );

  it('up to 200 points, as for the default n_steps of 50, are bit for bit those of earlier versions', () => {
    // FNV-1a over the doubles of every rule n = 1 … 200, and of n = 50 alone, as quadrature() hands them
    // to IG: explanations at those n stay reproducible to the last bit.
    const fnv = (ns: number[]) => {
      let h = 0x811c9dc5;
      for (const n of ns) {
        const { alphas, weights } = quadrature('gausslegendre', n);
        for (const word of new Uint32Array(new Float64Array([...alphas, ...weights]).buffer)) {
          h = Math.imul(h ^ word, 0x01000193) >>> 0;
        }
      }
      return h.toString(16);
    };
    expect(fnv([50])).toBe('a3577bf9');
    expect(fnv(Array.from({ length: 200 }, (_, i) => i + 1))).toBe('db6f928a');
  });
});

describe('riemann rules', () => {
  const ns = [2, 3, 7, 50];

  it.each(ns)('place alphas as numpy.linspace does (n = %i)', (n) => {
    const expected = {
      riemann_left: (i: number) => i / n,
      riemann_right: (i: number) => (i + 1) / n,
      riemann_middle: (i: number) => (2 * i + 1) / (2 * n),
      riemann_trapezoid: (i: number) => i / (n - 1),
    };
    for (const [method, alpha] of Object.entries(expected)) {
      const q = quadrature(method as keyof typeof expected, n);
      expectClose(
        q.alphas,
        Array.from({ length: n }, (_, i) => alpha(i)),
        1e-15,
      );
    }
    // linspace with endpoint=True sets the last point to `stop` exactly.
    expect(quadrature('riemann_trapezoid', n).alphas[0]).toBe(0);
    expect(quadrature('riemann_trapezoid', n).alphas.at(-1)).toBe(1);
    expect(quadrature('riemann_right', n).alphas.at(-1)).toBe(1);
    expect(quadrature('riemann_left', n).alphas[0]).toBe(0);
  });

  it.each(ns)(
    'weigh each point 1/n; the trapezoid halves its end weights to sum to (n − 1)/n (n = %i)',
    (n) => {
      for (const method of ['riemann_left', 'riemann_right', 'riemann_middle'] as const) {
        const { weights } = quadrature(method, n);
        expect(weights.every((w) => w === 1 / n)).toBe(true);
        expect(Math.abs(sum(weights) - 1)).toBeLessThan(1e-13);
      }
      const { weights } = quadrature('riemann_trapezoid', n);
      expect(weights[0]).toBe(1 / n / 2);
      expect(weights.at(-1)).toBe(1 / n / 2);
      expect(weights.slice(1, -1).every((w) => w === 1 / n)).toBe(true);
      expect(Math.abs(sum(weights) - (n - 1) / n)).toBeLessThan(1e-13);
    },
  );

  it('linspace ends exactly at stop', () => {
    expect(linspace(0, 1, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(0.1, 0.7, 3).at(-1)).toBe(0.7);
    expect(linspace(2, 3, 1)).toEqual([2]);
  });
});

describe('a bad number of steps', () => {
  it.each(IG_METHODS)('is rejected by %s', (method) => {
    for (const n of [0, -3, 2.5, NaN, Infinity]) {
      expect(() => quadrature(method, n), `n = ${n}`).toThrow(/n_steps/);
    }
  });

  it('of 1 is rejected by the riemann rules but allowed by gausslegendre (its midpoint)', () => {
    for (const method of IG_METHODS.filter((m) => m !== 'gausslegendre')) {
      expect(() => quadrature(method, 1)).toThrow(/n_steps must be at least 2/);
    }
    expect(quadrature('gausslegendre', 1)).toEqual({ alphas: [0.5], weights: [1] });
  });
});
