import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../../main/core/tf/backend.js';
import { IntegratedGradients, type TargetSpec } from '../../../../main/core/ig/integrated-gradients.js';
import { IG_METHODS, quadrature, type IgMethod } from '../../../../main/core/ig/quadrature.js';
import { LINEAR, OUTPUTS, denseModel, linearModel, twoLayerModel } from '../../../helpers/bundles.js';
import { BASELINES, X } from '../../../helpers/ig-inputs.js';

const scalar = (rows: number): TargetSpec => ({
  mask: Array.from({ length: rows }, () => [1]),
  offset: new Array<number>(rows).fill(0),
});
const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

function maxAbsDiff(a: readonly Float64Array[], b: readonly Float64Array[]): number {
  let e = 0;
  a.forEach((row, j) => row.forEach((v, k) => (e = Math.max(e, Math.abs(v - b[j]![k]!)))));
  return e;
}

function explain(
  model: tfl.LayersModel,
  method: IgMethod,
  nSteps: number,
  extra: { internalBatchSize?: number; layer?: { layer: string | number; toInputs?: boolean } } = {},
  x = X,
  baselines = BASELINES,
) {
  return new IntegratedGradients(model).explain(x, baselines, scalar(x.length), {
    method,
    nSteps,
    internalBatchSize: extra.internalBatchSize ?? 1000,
    ...(extra.layer ? { layer: extra.layer } : {}),
  });
}

const models: tfl.LayersModel[] = [];
function keep<T extends tfl.LayersModel>(m: T): T {
  models.push(m);
  return m;
}

beforeAll(async () => {
  await initBackend('cpu');
});
afterAll(() => models.forEach((m) => m.dispose()));

describe('on a linear regression model y = w·x + b', () => {
  it.each(IG_METHODS)('%s attributes (x − baseline)·w, scaled by the weight sum', (method) => {
    const model = keep(linearModel('regression'));
    const n = 7;
    // The weights sum to 1, except the trapezoid rule's (n − 1)/n (Alibi's and Captum's behaviour).
    const scale = method === 'riemann_trapezoid' ? (n - 1) / n : 1;
    const r = explain(model, method, n);
    expect(r.attributions).toHaveLength(X.length);
    X.forEach((x, j) => {
      expect(r.attributions[j]).toHaveLength(LINEAR.w.length);
      x.forEach((v, k) => {
        const expected = (v - BASELINES[j]![k]!) * LINEAR.w[k]! * scale;
        expect(Math.abs(r.attributions[j]![k]! - expected), `instance ${j} input ${k}`).toBeLessThan(1e-6);
      });
      const f = (row: number[]) => sum(row.map((v, k) => v * LINEAR.w[k]!)) + LINEAR.b;
      expect(r.fx[j]).toBeCloseTo(f(x), 5);
      expect(r.fb[j]).toBeCloseTo(f(BASELINES[j]!), 5);
      expect(r.deltas[j]).toBeCloseTo(sum(r.attributions[j]!) - (r.fx[j]! - r.fb[j]!), 12);
      expect(Math.abs(r.deltas[j]!)).toBeLessThan(
        method === 'riemann_trapezoid' ? Math.abs(f(x) - f(BASELINES[j]!)) / n + 1e-5 : 1e-5,
      );
    });
  });

  it('reports inputs, baselines and predictions of every instance', () => {
    const r = explain(keep(linearModel('regression')), 'gausslegendre', 3);
    expect(r.width).toBe(4);
    expect(r.inputs.map((row) => Array.from(row))).toEqual(X);
    expect(r.baselines.map((row) => Array.from(row))).toEqual(BASELINES);
    expect(r.predictions.map((p) => p[0])).toEqual(r.fx);
  });

  it('returns nothing for no instances', () => {
    const r = explain(keep(linearModel('regression')), 'gausslegendre', 3, {}, [], []);
    expect(r.attributions).toEqual([]);
    expect(r.deltas).toEqual([]);
  });

  it('refuses a baseline count different from the instance count', () => {
    expect(() =>
      explain(keep(linearModel('regression')), 'gausslegendre', 3, {}, X, BASELINES.slice(1)),
    ).toThrow(/one baseline per instance/);
  });
});

describe('on a linear sigmoid model', () => {
  it('is complete: Σ attributions = F(x) − F(baseline) at 50 Gauss-Legendre steps', () => {
    const r = explain(keep(linearModel('sigmoid')), 'gausslegendre', 50);
    r.deltas.forEach((delta, j) => {
      expect(Math.abs(delta), `instance ${j}`).toBeLessThan(1e-5);
      expect(Math.abs(r.fx[j]! - r.fb[j]!)).toBeGreaterThan(0.01);
    });
  });

  it('is not complete with too few steps on a curved path, so the check above can fail', () => {
    const r = explain(keep(linearModel('sigmoid')), 'riemann_left', 2);
    expect(Math.max(...r.deltas.map(Math.abs))).toBeGreaterThan(1e-3);
  });
});

describe('on a nonlinear two-layer net', () => {
  const reference = () => explain(keep(twoLayerModel(4, OUTPUTS.sigmoid)), 'gausslegendre', 50);

  it('gausslegendre is complete at 50 steps', () => {
    const r = reference();
    r.deltas.forEach((d) => expect(Math.abs(d)).toBeLessThan(1e-5));
  });

  it.each(['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'] as const)(
    '%s converges to the Gauss-Legendre attributions as n grows',
    (method) => {
      const model = keep(twoLayerModel(4, OUTPUTS.sigmoid));
      const ref = explain(model, 'gausslegendre', 50).attributions;
      const scale = Math.max(...ref.flatMap((row) => Array.from(row, Math.abs)));
      const err10 = maxAbsDiff(explain(model, method, 10).attributions, ref);
      const err200 = maxAbsDiff(explain(model, method, 200).attributions, ref);
      expect(err200).toBeLessThan(err10 / 4);
      expect(err200).toBeLessThan(0.02 * scale);
    },
  );

  it('gives the same attributions whatever the internal batch size (path rows are step-major)', () => {
    const model = keep(twoLayerModel(4, OUTPUTS.sigmoid));
    const whole = explain(model, 'gausslegendre', 5, { internalBatchSize: 1000 });
    // 4 does not divide the 3 instances: batches mix instances and steps.
    for (const internalBatchSize of [1, 4, 7]) {
      const chunked = explain(model, 'gausslegendre', 5, { internalBatchSize });
      expect(maxAbsDiff(chunked.attributions, whole.attributions)).toBeLessThan(1e-7);
    }
  });

  it('attributes the mask-weighted sum of the outputs, plus the offset', () => {
    const model = keep(twoLayerModel(4, OUTPUTS.softmax));
    const ig = new IntegratedGradients(model);
    const params = { method: 'gausslegendre' as const, nSteps: 20, internalBatchSize: 1000 };
    const one = (c: number): TargetSpec => ({
      mask: X.map(() => [0, 1, 2].map((i) => (i === c ? 1 : 0))),
      offset: X.map(() => 0),
    });
    const perClass = [0, 1, 2].map((c) => ig.explain(X, BASELINES, one(c), params));
    // F = 2·out[0] − out[2] + 3: linear in the outputs, so its attributions combine the per-class ones.
    const combined = ig.explain(
      X,
      BASELINES,
      { mask: X.map(() => [2, 0, -1]), offset: X.map(() => 3) },
      params,
    );
    X.forEach((_, j) => {
      expect(combined.fx[j]).toBeCloseTo(2 * perClass[0]!.fx[j]! - perClass[2]!.fx[j]! + 3, 6);
      combined.attributions[j]!.forEach((v, k) => {
        const expected = 2 * perClass[0]!.attributions[j]![k]! - perClass[2]!.attributions[j]![k]!;
        expect(Math.abs(v - expected)).toBeLessThan(1e-6);
      });
    });
  });
});

describe('layer attribution', () => {
  // 2 inputs → h = W1ᵀx + b1 (Dense 2, linear) → F = w2·h + b2 (Dense 1, linear).
  const W1 = [
    [1, 2],
    [3, -1],
  ];
  const B1 = [0.5, -0.5];
  const W2 = [2, -3];
  const handNet = () =>
    keep(
      denseModel(2, [
        { name: 'first', activation: 'linear', kernel: W1, bias: B1 },
        { name: 'second', activation: 'linear', kernel: W2.map((w) => [w]), bias: [1] },
      ]),
    );
  const x = [
    [1, 2],
    [-2, 0.5],
  ];
  const b = [
    [0, 0],
    [1, -1],
  ];
  const h = (v: number[]) => [0, 1].map((u) => v[0]! * W1[0]![u]! + v[1]! * W1[1]![u]! + B1[u]!);

  it("to the first layer's outputs equals (h(x) − h(baseline))·w2", () => {
    for (const layer of ['first', 0] as const) {
      const r = explain(handNet(), 'gausslegendre', 5, { layer: { layer } }, x, b);
      expect(r.width).toBe(2);
      x.forEach((xi, j) => {
        const hx = h(xi);
        const hb = h(b[j]!);
        expect(Array.from(r.inputs[j]!)).toEqual(hx);
        expect(Array.from(r.baselines[j]!)).toEqual(hb);
        hx.forEach((v, u) => {
          expect(
            Math.abs(r.attributions[j]![u]! - (v - hb[u]!) * W2[u]!),
            `instance ${j} unit ${u}`,
          ).toBeLessThan(1e-5);
        });
        expect(Math.abs(r.deltas[j]!)).toBeLessThan(1e-5);
      });
    }
  });

  it("to the first layer's inputs (toInputs) equals the input attributions", () => {
    const model = handNet();
    const input = explain(model, 'gausslegendre', 5, {}, x, b);
    const layer = explain(model, 'gausslegendre', 5, { layer: { layer: 'first', toInputs: true } }, x, b);
    expect(maxAbsDiff(layer.attributions, input.attributions)).toBeLessThan(1e-6);
    // By hand: the gradient is W1·w2 everywhere.
    const grad = [0, 1].map((i) => W1[i]![0]! * W2[0]! + W1[i]![1]! * W2[1]!);
    x.forEach((xi, j) =>
      xi.forEach((v, i) =>
        expect(Math.abs(input.attributions[j]![i]! - (v - b[j]![i]!) * grad[i]!)).toBeLessThan(1e-5),
      ),
    );
  });

  it('is complete for a nonlinear layer whose input moves along a straight path', () => {
    // proj (linear) → squash (tanh) → out (sigmoid): squash's inputs are affine in x, so the path in its input
    // space is a straight line and completeness must hold, through two nonlinearities.
    const model = keep(
      denseModel(4, [
        {
          name: 'proj',
          activation: 'linear',
          kernel: [
            [1, -0.5, 0.25],
            [0.5, 1, -1],
            [-1, 0.75, 0.5],
            [0.2, 0.3, -0.6],
          ],
          bias: [0.1, -0.2, 0.3],
        },
        {
          name: 'squash',
          activation: 'tanh',
          kernel: [
            [1.5, -1],
            [-0.8, 1.2],
            [0.6, 0.9],
          ],
          bias: [0.2, -0.1],
        },
        { name: 'out', activation: 'sigmoid', kernel: [[2], [-1.5]], bias: [0.3] },
      ]),
    );
    for (const layer of [{ layer: 'squash', toInputs: true }, { layer: 'proj' }]) {
      const r = explain(model, 'gausslegendre', 50, { layer });
      r.deltas.forEach((d, j) => {
        expect(Math.abs(d), `${JSON.stringify(layer)} instance ${j}`).toBeLessThan(1e-5);
        expect(Math.abs(r.fx[j]! - r.fb[j]!)).toBeGreaterThan(1e-3);
      });
    }
  });

  it('with every quadrature rule uses the same weights as input attribution', () => {
    const model = handNet();
    for (const method of IG_METHODS) {
      const n = 4;
      const total = quadrature(method, n).weights.reduce((p, q) => p + q, 0);
      const r = explain(model, method, n, { layer: { layer: 'first' } }, x, b);
      const hx = h(x[0]!);
      const hb = h(b[0]!);
      expect(Math.abs(r.attributions[0]![0]! - (hx[0]! - hb[0]!) * W2[0]! * total)).toBeLessThan(1e-5);
    }
  });

  it('names the layers when the layer is unknown', () => {
    const model = handNet();
    expect(() => explain(model, 'gausslegendre', 5, { layer: { layer: 'nope' } }, x, b)).toThrow(
      /layer "nope" is not a layer of this model \(layers: first, second\)/,
    );
    expect(() => explain(model, 'gausslegendre', 5, { layer: { layer: 9 } }, x, b)).toThrow(
      /layer 9 is not a layer/,
    );
  });
});
