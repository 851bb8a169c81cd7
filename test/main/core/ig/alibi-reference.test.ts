// Integrated Gradients held to the sum Alibi computes, worked out independently in float64: the Captum
// (alphas, step_sizes) of each method written out from their definitions (numpy.linspace, closed-form
// Gauss-Legendre nodes), and the gradient of a small tanh → sigmoid/softmax net differentiated on paper.
// Not "the true integral": riemann_left with 4 steps is a specific 4-term sum, and that sum is what is checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../../main/core/tf/backend.js';
import { IntegratedGradients, type TargetSpec } from '../../../../main/core/ig/integrated-gradients.js';
import { IG_METHODS, type IgMethod } from '../../../../main/core/ig/quadrature.js';
import { denseModel } from '../../../helpers/bundles.js';

// 3 inputs → hidden (tanh, 2 units) → output (sigmoid 1 unit, or softmax 3 units).
const W1 = [
  [0.8, -1.1],
  [-0.6, 0.9],
  [1.3, 0.4],
];
const B1 = [0.1, -0.2];
const W2_SIGMOID = [[1.7], [-2.2]];
const B2_SIGMOID = [0.3];
const W2_SOFTMAX = [
  [1.2, -0.7, 0.4],
  [-0.9, 1.5, -0.3],
];
const B2_SOFTMAX = [0.05, -0.1, 0.2];

const X = [
  [1.5, -0.5, 0.75],
  [-1, 2, -0.25],
];
const B = [
  [0, 0, 0],
  [0.5, 0.5, -1],
];

/** numpy.linspace(start, stop, n). */
const linspace = (start: number, stop: number, n: number) =>
  Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : start + (i * (stop - start)) / (n - 1)));

/** Gauss-Legendre on [−1, 1] for n = 1…4, in closed form (numpy's leggauss, ascending). */
function gaussLegendre(n: number): { x: number[]; w: number[] } {
  switch (n) {
    case 1:
      return { x: [0], w: [2] };
    case 2:
      return { x: [-1 / Math.sqrt(3), 1 / Math.sqrt(3)], w: [1, 1] };
    case 3:
      return { x: [-Math.sqrt(3 / 5), 0, Math.sqrt(3 / 5)], w: [5 / 9, 8 / 9, 5 / 9] };
    case 4: {
      const inner = Math.sqrt(3 / 7 - (2 / 7) * Math.sqrt(6 / 5));
      const outer = Math.sqrt(3 / 7 + (2 / 7) * Math.sqrt(6 / 5));
      const wi = (18 + Math.sqrt(30)) / 36;
      const wo = (18 - Math.sqrt(30)) / 36;
      return { x: [-outer, -inner, inner, outer], w: [wo, wi, wi, wo] };
    }
    default:
      throw new Error('closed form only up to n = 4');
  }
}

/** Captum's approximation_parameters(method): step_sizes(n) and alphas(n). */
function captum(method: IgMethod, n: number): { alphas: number[]; steps: number[] } {
  if (method === 'gausslegendre') {
    const { x, w } = gaussLegendre(n);
    return { alphas: x.map((v) => 0.5 * (1 + v)), steps: w.map((v) => 0.5 * v) };
  }
  const steps = new Array<number>(n).fill(1 / n);
  if (method === 'riemann_trapezoid') {
    steps[0]! /= 2;
    steps[n - 1]! /= 2;
    return { alphas: linspace(0, 1, n), steps };
  }
  if (method === 'riemann_left') return { alphas: linspace(0, 1 - 1 / n, n), steps };
  if (method === 'riemann_middle') return { alphas: linspace(1 / (2 * n), 1 - 1 / (2 * n), n), steps };
  return { alphas: linspace(1 / n, 1, n), steps };
}

/** Output units of the net at v, and ∂(Σ_c mask_c·out_c)/∂v, in float64. */
function net(kind: 'sigmoid' | 'softmax', v: number[], mask: number[]): { out: number[]; grad: number[] } {
  const W2 = kind === 'sigmoid' ? W2_SIGMOID : W2_SOFTMAX;
  const B2 = kind === 'sigmoid' ? B2_SIGMOID : B2_SOFTMAX;
  const h = B1.map((b, u) => Math.tanh(b + v.reduce((s, x, i) => s + x * W1[i]![u]!, 0)));
  const z = B2.map((b, c) => b + h.reduce((s, hu, u) => s + hu * W2[u]![c]!, 0));
  let out: number[];
  let dz: number[];
  if (kind === 'sigmoid') {
    out = [1 / (1 + Math.exp(-z[0]!))];
    dz = [mask[0]! * out[0]! * (1 - out[0]!)];
  } else {
    const m = Math.max(...z);
    const e = z.map((zc) => Math.exp(zc - m));
    const total = e.reduce((a, b) => a + b, 0);
    out = e.map((ec) => ec / total);
    const dot = out.reduce((s, p, c) => s + mask[c]! * p, 0);
    dz = out.map((p, c) => p * (mask[c]! - dot));
  }
  const dh = h.map((hu, u) => (1 - hu * hu) * dz.reduce((s, d, c) => s + d * W2[u]![c]!, 0));
  const grad = v.map((_, i) => dh.reduce((s, d, u) => s + d * W1[i]![u]!, 0));
  return { out, grad };
}

/** Alibi's attributions: (x − b) · Σ_i step_i · ∇F(b + α_i (x − b)). */
function alibiAttributions(kind: 'sigmoid' | 'softmax', method: IgMethod, n: number, target: TargetSpec) {
  const { alphas, steps } = captum(method, n);
  return X.map((x, j) => {
    const b = B[j]!;
    const integral = x.map(() => 0);
    alphas.forEach((a, i) => {
      const { grad } = net(
        kind,
        x.map((xk, k) => b[k]! + a * (xk - b[k]!)),
        target.mask[j]!,
      );
      grad.forEach((g, k) => (integral[k]! += steps[i]! * g));
    });
    return x.map((xk, k) => (xk - b[k]!) * integral[k]!);
  });
}

const models = new Map<'sigmoid' | 'softmax', tfl.LayersModel>();
function model(kind: 'sigmoid' | 'softmax'): tfl.LayersModel {
  let m = models.get(kind);
  if (!m) {
    m = denseModel(3, [
      { activation: 'tanh', kernel: W1, bias: B1 },
      kind === 'sigmoid'
        ? { activation: 'sigmoid', kernel: W2_SIGMOID, bias: B2_SIGMOID }
        : { activation: 'softmax', kernel: W2_SOFTMAX, bias: B2_SOFTMAX },
    ]);
    models.set(kind, m);
  }
  return m;
}

beforeAll(async () => {
  await initBackend('cpu');
});
afterAll(() => models.forEach((m) => m.dispose()));

const TARGETS: [string, 'sigmoid' | 'softmax', TargetSpec][] = [
  ['sigmoid, positive class (F = p)', 'sigmoid', { mask: [[1], [1]], offset: [0, 0] }],
  ['sigmoid, negative class (F = 1 − p)', 'sigmoid', { mask: [[-1], [-1]], offset: [1, 1] }],
  [
    'softmax, a class per instance',
    'softmax',
    {
      mask: [
        [0, 0, 1],
        [1, 0, 0],
      ],
      offset: [0, 0],
    },
  ],
];

describe("attributions equal Alibi's weighted gradient sum, computed independently", () => {
  const cases = IG_METHODS.flatMap((method) =>
    (method === 'gausslegendre' ? [1, 2, 3, 4] : [2, 3, 4]).flatMap((n) =>
      TARGETS.map(([label, kind, target]) => [method, n, label, kind, target] as const),
    ),
  );
  it.each(cases)('%s with n_steps %i, %s', (method, n, _label, kind, target) => {
    const expected = alibiAttributions(kind, method, n, target);
    for (const denseChain of [true, false]) {
      for (const internalBatchSize of [1, 3, 100]) {
        const ig = new IntegratedGradients(model(kind), { denseChain });
        // The tape for denseChain false; a plain chain of Dense layers runs through DenseChain otherwise.
        expect(ig.evaluator).toBe(denseChain ? 'dense-chain' : 'tape');
        const r = ig.explain(X, B, target, { method, nSteps: n, internalBatchSize });
        ig.dispose();
        X.forEach((x, j) => {
          x.forEach((_, k) =>
            expect(
              Math.abs(r.attributions[j]![k]! - expected[j]![k]!),
              `denseChain ${denseChain}, batch ${internalBatchSize}, instance ${j}, input ${k}`,
            ).toBeLessThan(2e-6),
          );
          // F and the delta use the same target as the gradients.
          const f = (v: number[]) => {
            const { out } = net(kind, v, target.mask[j]!);
            return target.offset[j]! + out.reduce((s, o, c) => s + target.mask[j]![c]! * o, 0);
          };
          expect(Math.abs(r.fx[j]! - f(x))).toBeLessThan(1e-6);
          expect(Math.abs(r.fb[j]! - f(B[j]!))).toBeLessThan(1e-6);
          const total = expected[j]!.reduce((s, a) => s + a, 0);
          expect(Math.abs(r.deltas[j]! - (total - (f(x) - f(B[j]!))))).toBeLessThan(5e-6);
        });
      }
    }
  });
});
