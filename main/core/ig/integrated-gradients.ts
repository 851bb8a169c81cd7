// Integrated Gradients on a TensorFlow.js layers model, with the semantics of Alibi's IntegratedGradients:
// paths baseline + α·(x − baseline) laid out step-major, gradients in batches of `internalBatchSize` path rows,
// attributions (x − baseline) · Σ weight·gradient, per-instance convergence deltas.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { quadrature, type IgMethod } from './quadrature.js';
import { resolveLayerSplit, type LayerSelector, type LayerSplit } from './layers.js';
import { DenseChain } from './dense-chain.js';

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
  /** undefined: not compiled yet; null: the model is not a Dense chain. */
  private chain: DenseChain | null | undefined;

  /**
   * `denseChain: false` keeps every model on tfjs-layers' apply and the gradient tape; by default a plain chain of
   * Dense layers runs through DenseChain, which computes the same numbers with less overhead.
   */
  constructor(
    private readonly model: tfl.LayersModel,
    opts: { denseChain?: boolean } = {},
  ) {
    if (opts.denseChain === false) this.chain = null;
  }

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
    const { alphas, weights } = quadrature(params.method, params.nSteps);
    const split = params.layer ? resolveLayerSplit(this.model, params.layer) : undefined;
    const chain = split ? undefined : this.denseChain();
    const input: PassInput = {
      x,
      baselines,
      target,
      alphas,
      weights,
      internalBatchSize: params.internalBatchSize,
    };
    const { outRows, inputs, bases, integral, width } = chain
      ? this.chainPass(chain, input)
      : this.tapePass(split, input);

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

  /** How input attributions are computed for this model (layer attribution always uses the tape). */
  get evaluator(): 'dense-chain' | 'tape' {
    return this.denseChain() ? 'dense-chain' : 'tape';
  }

  /** The Dense-chain evaluator when the model is one (compiled once), else null: the tape path is used. */
  private denseChain(): DenseChain | null {
    if (this.chain === undefined) this.chain = DenseChain.compile(this.model) ?? null;
    return this.chain;
  }

  /**
   * Forward and backward by hand over path rows, then the inputs and the baselines appended as plain rows (their
   * outputs are the predictions and F values; their gradients are not used), internalBatchSize rows at a time.
   */
  private chainPass(
    chain: DenseChain,
    { x, baselines, target, alphas, weights, internalBatchSize }: PassInput,
  ): Pass {
    const b = x.length;
    const d = chain.width;
    const units = chain.units;
    if (x[0]!.length !== d) throw new Error(`the model takes ${d} inputs, got ${x[0]!.length}`);
    const pathRows = alphas.length * b;
    const rows = pathRows + 2 * b;
    const all = stepMajorPaths(x, baselines, alphas, 2 * b);
    for (let j = 0; j < b; j++) {
      all.set(x[j]!, (pathRows + j) * d);
      all.set(baselines[j]!, (pathRows + b + j) * d);
    }
    const masks = Float32Array.from(target.mask.flat());
    const outRows: number[][] = [];
    const integral = new Float64Array(b * d);
    const chunk = Math.max(1, internalBatchSize);
    for (let start = 0; start < rows; start += chunk) {
      const end = Math.min(rows, start + chunk);
      const mask = new Float32Array((end - start) * units);
      for (let r = start; r < Math.min(end, pathRows); r++) {
        const from = (r % b) * units;
        const to = (r - start) * units;
        for (let c = 0; c < units; c++) mask[to + c] = masks[from + c]!;
      }
      const { outputs, grads } = chain.run(all.subarray(start * d, end * d), end - start, mask);
      accumulate(integral, grads, start, Math.min(end, pathRows), b, d, weights);
      for (let r = Math.max(start, pathRows); r < end; r++) {
        const o = (r - start) * units;
        outRows.push(Array.from(outputs.subarray(o, o + units)));
      }
    }
    return {
      outRows,
      inputs: x.map((r) => Float64Array.from(r)),
      bases: baselines.map((r) => Float64Array.from(r)),
      integral,
      width: d,
    };
  }

  /** tfjs-layers' apply and the gradient tape: any model, and layer attribution. */
  private tapePass(
    split: LayerSplit | undefined,
    { x, baselines, target, alphas, weights, internalBatchSize }: PassInput,
  ): Pass {
    const b = x.length;
    const d = x[0]!.length;
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
    const paths = stepMajorPaths(x, baselines, alphas, 0);

    // Gradients of F with respect to the attributed space, internalBatchSize path rows at a time.
    const rows = alphas.length * b;
    const chunk = Math.max(1, internalBatchSize);
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
      accumulate(integral, g, start, end, b, width, weights);
    }
    return { outRows, inputs, bases, integral, width };
  }

  /** Frees the Dense-chain evaluator's tensors (it is not compiled again); the model is the caller's. */
  dispose(): void {
    this.chain?.dispose();
    this.chain = null;
  }
}

/** What both ways of computing the path integral take. */
interface PassInput {
  x: readonly number[][];
  baselines: readonly number[][];
  target: TargetSpec;
  /** The quadrature rule's points and weights. */
  alphas: readonly number[];
  weights: readonly number[];
  internalBatchSize: number;
}

interface Pass {
  /** Model outputs for the inputs, then for the baselines. */
  outRows: number[][];
  inputs: Float64Array[];
  bases: Float64Array[];
  /** Σ weight·gradient per instance, in the attributed space. */
  integral: Float64Array;
  width: number;
}

/** Step-major path rows, as Alibi concatenates them: row i·b + j is instance j at alpha i; `extra` rows after. */
function stepMajorPaths(
  x: readonly number[][],
  baselines: readonly number[][],
  alphas: readonly number[],
  extra: number,
): Float32Array {
  const b = x.length;
  const d = x[0]!.length;
  const n = alphas.length;
  const paths = new Float32Array((n * b + extra) * d);
  for (let i = 0; i < n; i++) {
    const a = alphas[i]!;
    for (let j = 0; j < b; j++) {
      const xr = x[j]!;
      const br = baselines[j]!;
      const off = (i * b + j) * d;
      for (let k = 0; k < d; k++) paths[off + k] = br[k]! + a * (xr[k]! - br[k]!);
    }
  }
  return paths;
}

/** Adds weight(step)·gradient of path rows [start, end) (gradients from row `start` on) to each instance's sum. */
function accumulate(
  integral: Float64Array,
  g: ArrayLike<number>,
  start: number,
  end: number,
  b: number,
  width: number,
  weights: readonly number[],
): void {
  for (let r = start; r < end; r++) {
    const w = weights[Math.floor(r / b)]!;
    const base = (r % b) * width;
    const goff = (r - start) * width;
    for (let k = 0; k < width; k++) integral[base + k]! += w * g[goff + k]!;
  }
}

function applyTarget(out: readonly number[], target: TargetSpec, j: number): number {
  const m = target.mask[j]!;
  let f = target.offset[j]!;
  for (let c = 0; c < out.length; c++) f += m[c]! * out[c]!;
  return f;
}

export type { LayerSplit };
