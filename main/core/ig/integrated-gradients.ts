// Integrated Gradients on a TensorFlow.js layers model, with the semantics of Alibi's IntegratedGradients:
// paths baseline + α·(x − baseline) laid out step-major, gradients in batches of `internalBatchSize` path rows,
// attributions (x − baseline) · Σ weight·gradient, per-instance convergence deltas.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { quadrature, type IgMethod } from './quadrature.js';
import { resolveLayerSplit, type LayerSelector, type LayerSplit } from './layers.js';

/** What the explained scalar F is, per instance: Σ_c mask[c]·output[c] + offset. */
export interface TargetSpec {
  /** One row per instance, one entry per output unit. */
  mask: number[][];
  offset: number[];
}

export interface IgParams {
  method: IgMethod;
  nSteps: number;
  internalBatchSize: number;
  layer?: LayerSelector;
}

export interface IgResult {
  /** Per instance, in the attributed space (model inputs, or the chosen layer flattened). */
  attributions: Float64Array[];
  /** Model outputs per instance. */
  predictions: number[][];
  /** F(x) and F(baseline) per instance. */
  fx: number[];
  fb: number[];
  /** Σ attributions − (F(x) − F(baseline)) per instance: ≈ 0 when the path integral converged. */
  deltas: number[];
  /** Width of the attributed space. */
  width: number;
  /** The attributed space's inputs and baselines (layer activations for layer attribution). */
  inputs: Float64Array[];
  baselines: Float64Array[];
}

export class IntegratedGradients {
  constructor(private readonly model: tfl.LayersModel) {}

  explain(
    x: readonly number[][],
    baselines: readonly number[][],
    target: TargetSpec,
    params: IgParams,
  ): IgResult {
    const b = x.length;
    if (baselines.length !== b) throw new Error('one baseline per instance is required');
    if (b === 0)
      return {
        attributions: [],
        predictions: [],
        fx: [],
        fb: [],
        deltas: [],
        width: 0,
        inputs: [],
        baselines: [],
      };
    const d = x[0]!.length;
    const { alphas, weights } = quadrature(params.method, params.nSteps);
    const n = alphas.length;
    const split = params.layer ? resolveLayerSplit(this.model, params.layer) : undefined;

    // Forward pass on inputs and baselines together: predictions, F values, and layer activations.
    const both = tf.tensor2d([...x, ...baselines] as number[][], [2 * b, d], 'float32');
    // arraySync inside tidy, so that the output tensor is disposed too.
    const outRows = tf.tidy(
      () => (this.model.apply(both, { training: false }) as tf.Tensor).arraySync() as number[][],
    );
    let inputs: Float64Array[];
    let bases: Float64Array[];
    if (split) {
      const acts = tf.tidy(() => tf.reshape(split.before(both), [2 * b, -1]).arraySync() as number[][]);
      inputs = acts.slice(0, b).map((r) => Float64Array.from(r));
      bases = acts.slice(b).map((r) => Float64Array.from(r));
    } else {
      inputs = x.map((r) => Float64Array.from(r));
      bases = baselines.map((r) => Float64Array.from(r));
    }
    both.dispose();
    const width = inputs[0]!.length;

    // Step-major path rows, as Alibi concatenates them: row i·b + j is instance j at alpha i (input space).
    const paths = new Float32Array(n * b * d);
    for (let i = 0; i < n; i++) {
      const a = alphas[i]!;
      for (let j = 0; j < b; j++) {
        const xr = x[j]!;
        const br = baselines[j]!;
        const off = (i * b + j) * d;
        for (let k = 0; k < d; k++) paths[off + k] = br[k]! + a * (xr[k]! - br[k]!);
      }
    }

    // Gradients of F with respect to the attributed space, internalBatchSize path rows at a time.
    const rows = n * b;
    const chunk = Math.max(1, params.internalBatchSize);
    const units = outRows[0]!.length;
    const integral = new Float64Array(b * width);
    for (let start = 0; start < rows; start += chunk) {
      const end = Math.min(rows, start + chunk);
      const maskRows = new Float32Array((end - start) * units);
      for (let r = start; r < end; r++) maskRows.set(target.mask[r % b]!, (r - start) * units);
      const grads = tf.tidy(() => {
        const p = tf.tensor2d(paths.subarray(start * d, end * d), [end - start, d], 'float32');
        const mask = tf.tensor2d(maskRows, [end - start, units], 'float32');
        const objective = (out: tf.Tensor) => tf.sum(tf.mul(out, mask));
        if (!split)
          return tf.grad((inp: tf.Tensor) =>
            objective(this.model.apply(inp, { training: false }) as tf.Tensor),
          )(p);
        const h = split.before(p);
        return tf.reshape(tf.grad((act: tf.Tensor) => objective(split.after(act)))(h), [end - start, width]);
      });
      const g = grads.dataSync();
      grads.dispose();
      for (let r = start; r < end; r++) {
        const w = weights[Math.floor(r / b)]!;
        const base = (r % b) * width;
        const goff = (r - start) * width;
        for (let k = 0; k < width; k++) integral[base + k]! += w * g[goff + k]!;
      }
    }

    const attributions: Float64Array[] = [];
    const fx: number[] = [];
    const fb: number[] = [];
    const deltas: number[] = [];
    for (let j = 0; j < b; j++) {
      const attr = new Float64Array(width);
      let sum = 0;
      for (let k = 0; k < width; k++) {
        attr[k] = (inputs[j]![k]! - bases[j]![k]!) * integral[j * width + k]!;
        sum += attr[k]!;
      }
      const fxj = applyTarget(outRows[j]!, target, j);
      const fbj = applyTarget(outRows[b + j]!, target, j);
      attributions.push(attr);
      fx.push(fxj);
      fb.push(fbj);
      deltas.push(sum - (fxj - fbj));
    }
    return {
      attributions,
      predictions: outRows.slice(0, b),
      fx,
      fb,
      deltas,
      width,
      inputs,
      baselines: bases,
    };
  }
}

function applyTarget(out: readonly number[], target: TargetSpec, j: number): number {
  const m = target.mask[j]!;
  let f = target.offset[j]!;
  for (let c = 0; c < out.length; c++) f += m[c]! * out[c]!;
  return f;
}

export type { LayerSplit };
