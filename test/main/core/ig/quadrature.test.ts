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
