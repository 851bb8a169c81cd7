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
 * Gauss-Legendre nodes and weights on [−1, 1], ascending, as numpy.polynomial.legendre.leggauss(n).
 * Up to 200 points: roots of P_n by Newton's method, weights 2 / ((1 − x²) P_n'(x)²), symmetrised and
 * scaled to sum to 2, as numpy does (kept unchanged so that explanations at those n stay bit-identical).
 * Beyond (`leggaussAsymptotic`): weights and first guesses from Bogaert's asymptotic formulas, one Newton
 * step for the nodes; ~50 times faster at n = 10 000 (tens of ms, not seconds), weights to ~1e-15, not 1e-10.
 */
export function leggauss(n: number): { nodes: number[]; weights: number[] } {
  if (n > NEWTON_MAX_N) return leggaussAsymptotic(n);
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

/** Largest n whose rule is Newton's method on the recurrence (a few ms); above it, Bogaert's formulas. */
const NEWTON_MAX_N = 200;

/**
 * Gauss-Legendre nodes and weights on [−1, 1] for n > NEWTON_MAX_N (the formulas hold from 100), in n²/2 multiply-adds instead of Newton's ~3n²
 * divisions. Near ±1, a weight from the recurrence loses digits: 1 − x² of a node rounded to a double is
 * off by up to 1e-16 / (1 − x²) relative (8e-12 at n = 1000, 2e-10 at n = 10 000). So the weights, and
 * first guesses of the nodes, come from I. Bogaert's asymptotic formulas in θ = arccos x ("Iteration-free
 * computation of Gauss-Legendre quadrature nodes and weights", SIAM J. Sci. Comput. 36(3), A1008–A1026,
 * 2014; the method of FastGaussQuadrature.jl for large n), accurate to a few ulps; one Newton step on the
 * recurrence, for all nodes at once, then brings each node to within about half an ulp, as Newton's path
 * does. The weights are not rescaled to sum to 2: they do to ~2e-16 already, and dividing by a rounded sum
 * of n terms would add up to 4e-15.
 */
function leggaussAsymptotic(n: number): { nodes: number[]; weights: number[] } {
  // Pairs k = 1 … ⌊n/2⌋ count from x = 1 inwards; the rest mirror them, so the rule is exactly symmetric.
  const half = Math.floor(n / 2);
  const x = new Float64Array(half);
  const w = new Float64Array(half);
  for (let k = 1; k <= half; k++) {
    const pair = bogaertPair(n, k);
    x[k - 1] = pair.x;
    w[k - 1] = pair.weight;
  }
  newtonStep(n, x);
  const nodes = new Array<number>(n);
  const weights = new Array<number>(n);
  for (let k = 1; k <= half; k++) {
    nodes[n - k] = x[k - 1]!;
    nodes[k - 1] = -x[k - 1]!;
    weights[n - k] = w[k - 1]!;
    weights[k - 1] = w[k - 1]!;
  }
  // The middle node of an odd rule is 0 exactly.
  if (n % 2 === 1) {
    nodes[half] = 0;
    weights[half] = bogaertPair(n, half + 1).weight;
  }
  return { nodes, weights };
}

/**
 * One Newton step x ← x − P_n(x) / P_n'(x) for every x in `xs` (in place), by the recurrence
 * P_k = ((2k − 1) x P_{k−1} − (k − 1) P_{k−2}) · (1/k): the reciprocals worked out once, then four nodes
 * at a time in local variables, whose independent multiply-adds the CPU overlaps (a third of the time of
 * one node at a time, and no division in the loop). Rounded coefficients (2k − 1)/k and (k − 1)/k instead
 * would move the nodes next to 0 by tens of their ulps.
 */
function newtonStep(n: number, xs: Float64Array): void {
  const inverse = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) inverse[k] = 1 / k;
  const last = xs.length - 1;
  for (let j = 0; j <= last; j += 4) {
    // A block past the end repeats the last node; only the block's own nodes are written back.
    const x0 = xs[j]!;
    const x1 = xs[Math.min(j + 1, last)]!;
    const x2 = xs[Math.min(j + 2, last)]!;
    const x3 = xs[Math.min(j + 3, last)]!;
    // p: P_{k−1}, q: P_{k−2} at each of the four nodes.
    let p0 = x0;
    let p1 = x1;
    let p2 = x2;
    let p3 = x3;
    let q0 = 1;
    let q1 = 1;
    let q2 = 1;
    let q3 = 1;
    for (let k = 2; k <= n; k++) {
      const ak = 2 * k - 1;
      const bk = k - 1;
      const ik = inverse[k]!;
      const r0 = (ak * x0 * p0 - bk * q0) * ik;
      const r1 = (ak * x1 * p1 - bk * q1) * ik;
      const r2 = (ak * x2 * p2 - bk * q2) * ik;
      const r3 = (ak * x3 * p3 - bk * q3) * ik;
      q0 = p0;
      q1 = p1;
      q2 = p2;
      q3 = p3;
      p0 = r0;
      p1 = r1;
      p2 = r2;
      p3 = r3;
    }
    xs[j] = newtonUpdate(n, x0, p0, q0);
    if (j + 1 <= last) xs[j + 1] = newtonUpdate(n, x1, p1, q1);
    if (j + 2 <= last) xs[j + 2] = newtonUpdate(n, x2, p2, q2);
    if (j + 3 <= last) xs[j + 3] = newtonUpdate(n, x3, p3, q3);
  }
}

/** x − P_n(x) / P_n'(x) from p = P_n(x), q = P_{n−1}(x); 1 − x² as (1 − x)(1 + x): no cancellation at ±1. */
function newtonUpdate(n: number, x: number, p: number, q: number): number {
  const dp = (n * (q - x * p)) / ((1 - x) * (1 + x));
  return x - p / dp;
}

/** The k-th largest node x of the n-point rule and its weight; n > 100, 1 ≤ k ≤ (n + 1) / 2. */
function bogaertPair(n: number, k: number): { x: number; weight: number } {
  const h = 1 / (n + 0.5);
  const nu = besselJ0Zero(k);
  const alpha = h * nu; // first-order node, refined below by the paper's series in h²
  const a2 = alpha * alpha;
  const nuOverSin = nu / Math.sin(alpha);
  const hs = h * h * nuOverSin;
  const hs2 = hs * hs;
  const f1 = horner(BOGAERT_F1, a2);
  const f2 = horner(BOGAERT_F2, a2);
  const f3 = horner(BOGAERT_F3, a2);
  const g1 = horner(BOGAERT_W1, a2);
  const g2 = horner(BOGAERT_W2, a2);
  const g3 = horner(BOGAERT_W3, a2);
  const theta = h * (nu + alpha * hs * (f1 + hs2 * (f2 + hs2 * f3)));
  const bNuOverSin = besselJ1SquaredAtJ0Zero(k) * nuOverSin;
  const weight = (2 * h) / (bNuOverSin + bNuOverSin * hs2 * (g1 + hs2 * (g2 + hs2 * g3)));
  return { x: Math.cos(theta), weight };
}

/** c[0]·x^(m−1) + … + c[m−1], coefficients from the highest power down. */
function horner(c: readonly number[], x: number): number {
  let acc = 0;
  for (const ci of c) acc = acc * x + ci;
  return acc;
}

/** The k-th positive zero of J₀: 20 tabulated (mpmath), then McMahon's expansion in 1/((k − ¼)π). */
function besselJ0Zero(k: number): number {
  if (k <= J0_ZEROS.length) return J0_ZEROS[k - 1]!;
  const z = Math.PI * (k - 0.25);
  const r = 1 / z;
  return z + r * horner(MCMAHON, r * r);
}

/** J₁(j₀,ₖ)²: the first 21 tabulated (mpmath), then its expansion in 1/(k − ¼). */
function besselJ1SquaredAtJ0Zero(k: number): number {
  if (k <= J1_SQUARED.length) return J1_SQUARED[k - 1]!;
  const x = 1 / (k - 0.25);
  const x2 = x * x;
  return x * (2 / Math.PI ** 2 + x2 * x2 * horner(J1_SQUARED_SERIES, x2));
}

const J0_ZEROS: readonly number[] = [
  2.404825557695773, 5.520078110286311, 8.653727912911013, 11.791534439014281, 14.930917708487787,
  18.071063967910924, 21.21163662987926, 24.352471530749302, 27.493479132040253, 30.634606468431976,
  33.77582021357357, 36.917098353664045, 40.05842576462824, 43.19979171317673, 46.341188371661815,
  49.482609897397815, 52.624051841115, 55.76551075501998, 58.90698392608094, 62.048469190227166,
];

const J1_SQUARED: readonly number[] = [
  0.2695141239419169, 0.11578013858220369, 0.07368635113640822, 0.05403757319811628, 0.04266142901724309,
  0.0352421034909961, 0.030021070103054673, 0.02614739149530809, 0.023159121824691393, 0.02078382912226786,
  0.01885045066931767, 0.017246157569665008, 0.0158935181059236, 0.01473762609647219, 0.013738465145387117,
  0.012866181737615133, 0.012098051548626797, 0.011416471224491609, 0.010807592791180204,
  0.010260372926280762, 0.009765897139791051,
];

// The expansions' coefficients, highest power first. McMahon's: 1/8, −31/384, 3779/15360, … (in r²).
const MCMAHON: readonly number[] = [
  50922546.24022268, -849353.5802991488, 18690.476528232066, -567.6444121351834, 25.336414797343906,
  -1.824438767206101, 0.24602864583333334, -0.08072916666666667, 0.125,
];
// J₁(j₀,ₖ)² ≈ x (2/π² + x⁴ (…)) with x = 1/(k − ¼): the bracket's series in x².
const J1_SQUARED_SERIES: readonly number[] = [
  0.18539539820634562, -0.026683739370232377, 0.0049610142326888314, -0.001236323497271754,
  0.0004337107191307463, -0.00022896990277211166, 0.0001989243642459693, -0.00030338042971129027,
];
// Bogaert's Chebyshev interpolants in α² of the node corrections F₁…F₃ and the weight corrections W₁…W₃, as
// published with the paper above and in his reference code, fastgl ("Copyright (C) 2014 by Ignace Bogaert",
// distributed under the BSD license; provided "as is", without any express or implied warranty). Every
// coefficient is checked by the 40-digit values in test/main/core/ig/quadrature.test.ts.
const BOGAERT_F1: readonly number[] = [
  -1.2905299627428051e-12, 2.4072468586433013e-10, -3.1314865463599204e-8, 2.7557316896206124e-6,
  -0.00014880952371390914, 0.004166666666651934, -0.0416666666666663,
];
const BOGAERT_F2: readonly number[] = [
  2.20639421781871e-9, -7.530367713737693e-8, 1.6196925945383627e-6, -2.53300326008232e-5,
  0.00028211688605756045, -0.002090222483878529, 0.008159722217729322,
];
const BOGAERT_F3: readonly number[] = [
  -2.9705822537552623e-8, 5.558453302237962e-7, -5.677978413568331e-6, 4.184981003295046e-5,
  -0.0002513952932839659, 0.0012865419854284513, -0.004160121656202043,
];
const BOGAERT_W1: readonly number[] = [
  -2.2090286104461664e-14, 2.3036572686037738e-12, -1.752577007354238e-10, 1.037560669279168e-8,
  -4.639686475532213e-7, 1.4964459362502864e-5, -0.0003262786595944122, 0.004365079365075981,
  -0.0305555555555553, 0.0833333333333333,
];
const BOGAERT_W2: readonly number[] = [
  3.631174121526548e-12, 7.676435450698932e-11, -7.129128572336422e-9, 2.1148388068594716e-7,
  -3.818179186800454e-6, 4.659695306949684e-5, -0.00040729718561133575, 0.002689594356947297,
  -0.011111111111121492,
];
const BOGAERT_W3: readonly number[] = [
  2.018267912567033e-9, -4.386471225202067e-8, 5.088983472886716e-7, -3.9793331651913525e-6,
  2.0055932639645834e-5, -4.228880592829212e-5, -0.00010564605025407614, -9.479693089585773e-5,
  0.006569664899264848,
];
