// A chain of Dense layers run with raw tfjs-core ops and differentiated by hand.
//
// Integrated Gradients on the small tabular models a branch runs is dominated by framework overhead, not
// arithmetic: tfjs-layers' `apply` (name scopes, input checks, a tidy per layer) and the gradient tape
// (recording, then walking the tape backwards) cost ~450 µs a call on the wasm backend, against ~20 µs of kernel
// time per explained applicant. For a model that is a plain chain of Dense layers, this module computes the same
// forward pass with the same kernels tfjs-layers' Dense uses, and the input gradient with the same ops the tape
// would run (tfjs-core's registered gradients of MatMul, Add, Sigmoid, Tanh, Relu, Softmax and Sum·mask), so
// the numbers are the tape's, bit for bit, at a third of the cost. Any other model (other layer types or
// activations) returns `undefined` from `compile` and keeps the tape path.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { chain } from './layers.js';

export type ChainActivation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

const ACTIVATIONS: Record<string, ChainActivation> = {
  linear: 'linear',
  relu: 'relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
};

/** Layers that are the identity at inference. */
const IDENTITY_LAYERS = new Set(['Dropout', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

interface DenseStep {
  kernel: tf.Tensor2D;
  /** The kernel transposed once, for the input gradient g·Wᵀ. */
  kernelT: tf.Tensor2D;
  bias: tf.Tensor | null;
  activation: ChainActivation;
}

/** What a Dense layer exposes at run time; tfjs-layers does not export the class's fields as types. */
interface DenseLike {
  kernel?: { read(): tf.Tensor };
  bias?: { read(): tf.Tensor } | null;
  activation?: { getClassName(): string };
}

export interface ChainRun {
  /** Model outputs, `units` per row. */
  outputs: Float32Array;
  /** ∂(Σ_c mask[c]·output[c]) / ∂input, `width` per row. */
  grads: Float32Array;
}

export class DenseChain {
  private constructor(
    private readonly steps: readonly DenseStep[],
    readonly width: number,
    readonly units: number,
  ) {}

  /**
   * The chain for `model`, or undefined when the model is anything but Dense layers with known activations. The
   * transposed kernels are copied now: a model whose weights change afterwards (a bundle never does) needs a
   * new chain.
   */
  static compile(model: tfl.LayersModel): DenseChain | undefined {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
    let layers;
    try {
      layers = chain(model);
    } catch {
      return undefined;
    }
    const plan: { kernel: tf.Tensor2D; bias: tf.Tensor | null; activation: ChainActivation }[] = [];
    for (const layer of layers) {
      const name = layer.getClassName();
      if (IDENTITY_LAYERS.has(name)) continue;
      if (name !== 'Dense') return undefined;
      const dense = layer as unknown as DenseLike;
      const kernel = dense.kernel?.read();
      const activation = ACTIVATIONS[dense.activation?.getClassName() ?? ''];
      if (!kernel || kernel.rank !== 2 || !activation) return undefined;
      plan.push({ kernel: kernel as tf.Tensor2D, bias: dense.bias?.read() ?? null, activation });
    }
    if (plan.length === 0) return undefined;
    const steps = plan.map((s) => ({ ...s, kernelT: tf.transpose(s.kernel) }));
    return new DenseChain(steps, steps[0]!.kernel.shape[0], steps.at(-1)!.kernel.shape[1]);
  }

  /**
   * Runs `count` rows of `rows` (row-major, `width` each) forward and back. `mask` holds `units` weights per
   * row: the gradient is that of Σ mask·output, as `tf.grad` of `sum(output · mask)` would give it.
   */
  run(rows: Float32Array, count: number, mask: Float32Array): ChainRun {
    const [outT, gradT] = tf.tidy(() => {
      let h: tf.Tensor = tf.tensor2d(rows, [count, this.width], 'float32');
      const activations: tf.Tensor[] = [];
      for (const step of this.steps) {
        h = forward(h, step);
        activations.push(h);
      }
      // d(Σ out·mask)/d out is the mask: the tape's Sum gradient is ones, and Mul's multiplies them by it.
      let g: tf.Tensor = tf.tensor2d(mask, [count, this.units], 'float32');
      for (let i = this.steps.length - 1; i >= 0; i--) {
        const step = this.steps[i]!;
        g = tf.matMul(activationGrad(g, activations[i]!, step.activation), step.kernelT);
      }
      return [h, g];
    });
    // Read outside tidy: tidy walks whatever it returns, and a typed array is walked element by element.
    const outputs = outT.dataSync() as Float32Array;
    const grads = gradT.dataSync() as Float32Array;
    outT.dispose();
    gradT.dispose();
    return { outputs, grads };
  }

  dispose(): void {
    for (const step of this.steps) step.kernelT.dispose();
  }
}

/**
 * tfjs-layers' Dense.call as it runs under the gradient tape: a linear layer is one FusedMatMul with its bias;
 * relu (fused only outside the tape) is MatMul, Add, Relu; the other activations are FusedMatMul, Add, activation.
 */
function forward(h: tf.Tensor, step: DenseStep): tf.Tensor {
  const { kernel, bias, activation } = step;
  const a = h as tf.Tensor2D;
  if (activation === 'linear') return tf.fused.matMul({ a, b: kernel, bias: bias ?? undefined });
  let z: tf.Tensor = activation === 'relu' ? tf.matMul(a, kernel) : tf.fused.matMul({ a, b: kernel });
  if (bias) z = tf.add(z, bias);
  switch (activation) {
    case 'relu':
      return tf.relu(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'tanh':
      return tf.tanh(z);
    case 'softmax':
      return tf.softmax(z, -1);
  }
}

/** The gradient through an activation, from its output y, with tfjs-core's registered formulas. */
function activationGrad(dy: tf.Tensor, y: tf.Tensor, activation: ChainActivation): tf.Tensor {
  switch (activation) {
    case 'linear':
      return dy;
    case 'relu':
      // Relu's gradient is dy · step(x); x > 0 exactly when y = relu(x) > 0.
      return tf.mul(dy, tf.step(y));
    case 'sigmoid':
      return tf.mul(dy, tf.mul(y, tf.sub(tf.scalar(1), y)));
    case 'tanh':
      return tf.mul(tf.sub(tf.scalar(1), tf.square(y)), dy);
    case 'softmax': {
      const dyTimesY = tf.mul(dy, y);
      return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [-1], true), y));
    }
  }
}
