import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendName } from '../../../../main/core/tf/backend.js';
import { DenseChain } from '../../../../main/core/ig/dense-chain.js';
import {
  IntegratedGradients,
  type IgParams,
  type IgResult,
  type TargetSpec,
} from '../../../../main/core/ig/integrated-gradients.js';
import { OUTPUTS, denseModel, fixedMatrix, linearModel, twoLayerModel } from '../../../helpers/bundles.js';
import { BASELINES, X } from '../../../helpers/ig-inputs.js';

const PARAMS: IgParams = { method: 'gausslegendre', nSteps: 20, internalBatchSize: 1000 };

const models: tfl.LayersModel[] = [];
function keep<T extends tfl.LayersModel>(m: T): T {
  models.push(m);
  return m;
}
afterAll(() => models.forEach((m) => m.dispose()));

/** A mask per instance: every output unit weighted differently, so that softmax's cross terms matter. */
function target(units: number): TargetSpec {
  return {
    mask: X.map((_, j) => Array.from({ length: units }, (_, c) => (c === j % units ? 1 : -0.5 * c))),
    offset: X.map(() => 0.25),
  };
}

function reluNet(): tfl.LayersModel {
  return denseModel(4, [
    { activation: 'relu', kernel: fixedMatrix(4, 6, 3), bias: fixedMatrix(1, 6, 4, 0.5)[0]! },
    { activation: 'sigmoid', kernel: fixedMatrix(6, 1, 5), bias: [0.1] },
  ]);
}

/** Dense → Dropout → Dense → Dense(linear): dropout is the identity at inference. */
function dropoutNet(): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ units: 5, activation: 'tanh', inputShape: [4] }));
  model.add(tfl.layers.dropout({ rate: 0.5 }));
  model.add(tfl.layers.dense({ units: 3, activation: 'tanh' }));
  model.add(tfl.layers.dense({ units: 2, activation: 'linear' }));
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  dense.forEach((layer, i) => {
    const [inputs, units] = [
      [4, 5],
      [5, 3],
      [3, 2],
    ][i]!;
    layer.setWeights([
      tf.tensor2d(fixedMatrix(inputs!, units!, 10 + i)),
      tf.tensor1d(fixedMatrix(1, units!, 20 + i)[0]!),
    ]);
  });
  return model;
}

const CHAINS: [string, () => tfl.LayersModel, number][] = [
  ['tanh → sigmoid', () => twoLayerModel(4, OUTPUTS.sigmoid), 1],
  ['tanh → softmax', () => twoLayerModel(4, OUTPUTS.softmax), 3],
  ['linear regression', () => linearModel('regression'), 1],
  ['relu → sigmoid', reluNet, 1],
  ['tanh → dropout → tanh → linear, two outputs', dropoutNet, 2],
];

function both(model: tfl.LayersModel, units: number, params: IgParams = PARAMS): [IgResult, IgResult] {
  const fast = new IntegratedGradients(model);
  const tape = new IntegratedGradients(model, { denseChain: false });
  const r = [
    fast.explain(X, BASELINES, target(units), params),
    tape.explain(X, BASELINES, target(units), params),
  ];
  expect(fast.evaluator).toBe('dense-chain');
  expect(tape.evaluator).toBe('tape');
  fast.dispose();
  return r as [IgResult, IgResult];
}

const rows = (r: readonly Float64Array[]) => r.map((row) => Array.from(row));

describe.each<BackendName>(['wasm', 'cpu'])('on the %s backend', (backend) => {
  beforeAll(async () => {
    expect(await initBackend(backend)).toBe(backend);
  });

  it.each(CHAINS)(
    '%s: the Dense chain gives the gradient tape’s attributions, bit for bit',
    (_, make, units) => {
      const model = keep(make());
      const [fast, tape] = both(model, units);
      expect(rows(fast.attributions)).toEqual(rows(tape.attributions));
      expect(rows(fast.inputs)).toEqual(rows(tape.inputs));
      expect(fast.width).toBe(tape.width);
      // The tape path's predictions come from model.apply, which fuses relu into the MatMul outside the tape.
      const tolerance = _.startsWith('relu') ? 1e-6 : 0;
      if (tolerance === 0) expect(fast.deltas).toEqual(tape.deltas);
      fast.predictions.forEach((p, j) =>
        p.forEach((v, c) => expect(Math.abs(v - tape.predictions[j]![c]!)).toBeLessThanOrEqual(tolerance)),
      );
      // And the attributions are not trivially equal: every instance has a nonzero attribution.
      fast.attributions.forEach((a) => expect(a.some((v) => Math.abs(v) > 1e-4)).toBe(true));
    },
  );

  it('gives the same result whatever the internal batch size, with inputs and baselines across chunk edges', () => {
    const model = keep(dropoutNet());
    const ig = new IntegratedGradients(model);
    const whole = ig.explain(X, BASELINES, target(2), PARAMS);
    for (const internalBatchSize of [1, 4, 7, 59, 61, 62]) {
      const chunked = ig.explain(X, BASELINES, target(2), { ...PARAMS, internalBatchSize });
      expect(rows(chunked.attributions)).toEqual(rows(whole.attributions));
      expect(chunked.predictions).toEqual(whole.predictions);
    }
    ig.dispose();
  });

  it('leaks no tensors, and dispose frees the transposed kernels', () => {
    const model = keep(twoLayerModel(4, OUTPUTS.sigmoid));
    const before = tf.memory().numTensors;
    const ig = new IntegratedGradients(model);
    ig.explain(X, BASELINES, target(1), PARAMS);
    const compiled = tf.memory().numTensors;
    expect(compiled).toBe(before + 2); // one transposed kernel per Dense layer
    for (let i = 0; i < 5; i++) ig.explain(X, BASELINES, target(1), PARAMS);
    expect(tf.memory().numTensors).toBe(compiled);
    ig.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // Not compiled again once disposed.
    expect(ig.evaluator).toBe('tape');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('models that are not a plain Dense chain', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  const elu = () =>
    denseModel(4, [
      { activation: 'elu', kernel: fixedMatrix(4, 3, 7), bias: [0.1, -0.2, 0.3] },
      { activation: 'sigmoid', kernel: fixedMatrix(3, 1, 8), bias: [0] },
    ]);
  const batchNorm = () => {
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ units: 3, activation: 'tanh', inputShape: [4] }));
    model.add(tfl.layers.batchNormalization());
    model.add(tfl.layers.dense({ units: 1, activation: 'sigmoid' }));
    return model;
  };
  const twoInputs = () => {
    const a = tfl.input({ shape: [2] });
    const b = tfl.input({ shape: [2] });
    const out = tfl.layers
      .dense({ units: 1, activation: 'sigmoid' })
      .apply(tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    return tfl.model({ inputs: [a, b], outputs: out });
  };

  it.each([
    ['an activation it does not differentiate (elu)', elu],
    ['a layer other than Dense (BatchNormalization)', batchNorm],
    ['two inputs', twoInputs],
  ])('%s does not compile', (_, make) => {
    expect(DenseChain.compile(keep(make()))).toBeUndefined();
  });

  it('falls back to the gradient tape, with the tape’s results', () => {
    const model = keep(elu());
    const fast = new IntegratedGradients(model);
    const r = fast.explain(X, BASELINES, target(1), PARAMS);
    expect(fast.evaluator).toBe('tape');
    const tape = new IntegratedGradients(model, { denseChain: false }).explain(
      X,
      BASELINES,
      target(1),
      PARAMS,
    );
    expect(rows(r.attributions)).toEqual(rows(tape.attributions));
  });

  it('layer attribution keeps the tape even on a Dense chain', () => {
    const model = keep(twoLayerModel(4, OUTPUTS.sigmoid));
    const params = { ...PARAMS, layer: { layer: 0 } };
    const r = new IntegratedGradients(model).explain(X, BASELINES, target(1), params);
    const tape = new IntegratedGradients(model, { denseChain: false }).explain(
      X,
      BASELINES,
      target(1),
      params,
    );
    expect(r.width).toBe(5);
    expect(rows(r.attributions)).toEqual(rows(tape.attributions));
  });
});
