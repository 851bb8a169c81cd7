// The integration rules of Integrated Gradients, as in Alibi's (and Captum's) approximation_methods:
// a function from (method, n) to (alphas, weights). Pure numbers, no model.

export const IG_METHODS = [
  'gausslegendre',
  'riemann_left',
  'riemann_right',
  'riemann_middle',
  'riemann_trapezoid',
] as const;
export type IgMethod = (typeof IG_METHODS)[number];

export interface Quadrature {
  /** Points on the path from the baseline (0) to the input (1). */
  alphas: number[];
  /** Weight of each point ("step_sizes" in Alibi). */
  weights: number[];
}

/**
 * Alphas and weights for `method` with `n` points.
 * Riemann rules have weights 1/n; the trapezoid rule halves the two end weights, so its weights sum to
 * (n−1)/n rather than 1. That is Alibi's and Captum's behaviour, kept on purpose: attributions from
 * `riemann_trapezoid` are scaled by (n−1)/n compared with the exact integral.
 */
export function quadrature(method: IgMethod, n: number): Quadrature {
  // Every explain call asks for the same few rules; Newton's method for 50 Legendre roots is worth keeping.
  const key = `${method}:${n}`;
  let rule = rules.get(key);
  if (!rule) {
    const { alphas, weights } = computeQuadrature(method, n);
    rule = { alphas: Object.freeze(alphas) as number[], weights: Object.freeze(weights) as number[] };
    if (rules.size < 64) rules.set(key, rule);
  }
  return rule;
}

/** The rules worked out so far, by method and n (frozen: callers only read them). */
const rules = new Map<string, Quadrature>();

function computeQuadrature(method: IgMethod, n: number): Quadrature {
  if (!Number.isInteger(n)) throw new RangeError(`n_steps must be a whole number, got ${n}`);
  if (method === 'gausslegendre') {
    if (n < 1) throw new RangeError('n_steps must be at least 1 for gausslegendre');
    const { nodes, weights } = leggauss(n);
    return { alphas: nodes.map((x) => 0.5 * (1 + x)), weights: weights.map((w) => 0.5 * w) };
  }
  if (n < 2) throw new RangeError(`n_steps must be at least 2 for ${method}`);
  const weights = new Array<number>(n).fill(1 / n);
  switch (method) {
    case 'riemann_trapezoid':
      weights[0] = 1 / n / 2;
      weights[n - 1] = 1 / n / 2;
      return { alphas: linspace(0, 1, n), weights };
    case 'riemann_left':
      return { alphas: linspace(0, 1 - 1 / n, n), weights };
    case 'riemann_middle':
      return { alphas: linspace(1 / (2 * n), 1 - 1 / (2 * n), n), weights };
    case 'riemann_right':
      return { alphas: linspace(1 / n, 1, n), weights };
  }
}

/** numpy.linspace(start, stop, n) with endpoint=True: start + i·step, the last point set to stop exactly. */
export function linspace(start: number, stop: number, n: number): number[] {
  // numpy.linspace(start, stop, 1) is [start]: without the guard, 0 · (1 / 0) would give NaN.
  const step = n > 1 ? (stop - start) / (n - 1) : 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i * step + start);
  if (n > 1) out[n - 1] = stop;
  return out;
}

/** Evaluates the Legendre polynomial P_n and its derivative at x (three-term recurrence). */
function legendre(n: number, x: number): { p: number; dp: number } {
  let p0 = 1;
  let p1 = x;
  if (n === 0) return { p: 1, dp: 0 };
  for (let k = 2; k <= n; k++) {
    const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
    p0 = p1;
    p1 = p2;
  }
  const dp = (n * (x * p1 - p0)) / (x * x - 1);
  return { p: p1, dp };
}

/**
 * Gauss-Legendre nodes and weights on [−1, 1], ascending, as numpy.polynomial.legendre.leggauss(n):
 * roots of P_n by Newton's method, weights 2 / ((1 − x²) P_n'(x)²), symmetrised and scaled to sum to 2.
 */
export function leggauss(n: number): { nodes: number[]; weights: number[] } {
  const x = new Array<number>(n);
  const w = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    // Chebyshev-like first guess of the i-th root from the top, then Newton to full double precision.
    let r = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let iter = 0; iter < 100; iter++) {
      const { p, dp } = legendre(n, r);
      const dr = p / dp;
      r -= dr;
      if (Math.abs(dr) < 1e-16) break;
    }
    const { dp } = legendre(n, r);
    x[n - 1 - i] = r;
    w[n - 1 - i] = 2 / ((1 - r * r) * dp * dp);
  }
  const nodes = x.map((v, i) => (v - x[n - 1 - i]!) / 2);
  const sym = w.map((v, i) => (v + w[n - 1 - i]!) / 2);
  const total = sym.reduce((a, b) => a + b, 0);
  return { nodes, weights: sym.map((v) => (v * 2) / total) };
}
