// Two of the wasm backend's kernels are much slower than the ones they can be built from, on exactly the shapes
// Integrated Gradients runs (1,600 path rows × 8–19 units per 32 applicants): `Tanh` is computed one element at
// a time, 12× slower than the vectorised `Sigmoid`, and `BatchMatMul` with transposeB (every Dense layer's
// input gradient, dy·Wᵀ) runs 4× slower than a plain product. They are re-registered here on top of the
// backend's own kernels:
//   tanh(x) = 2·sigmoid(2x) − 1      (the same function; float32 rounding differs by ~1e-7 absolute)
//   a·bᵀ    = a·transpose(b)          (b is a layer's small weight matrix)
// Gradients are unchanged: they are defined per kernel name, and Tanh's uses its output.
import * as tf from '@tensorflow/tfjs-core';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type KernelArgs = Parameters<KernelFunc>[0];

/** What these kernels need of the wasm backend (BackendWasm is not exported as a type). */
interface WasmBackendLike {
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: tf.TypedArray,
  ): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

let installed = false;

function kernel(name: string): tf.KernelConfig {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k;
}

/** Replaces wasm's Tanh and transposed BatchMatMul with faster equivalents. Idempotent; wasm must be registered. */
export function installFastWasmKernels(): void {
  if (installed) return;
  const tanh = kernel('Tanh');
  const sigmoid = kernel('Sigmoid').kernelFunc;
  const multiply = kernel('Multiply').kernelFunc;
  const sub = kernel('Sub').kernelFunc;
  const batchMatMul = kernel('BatchMatMul');
  const transpose = kernel('Transpose').kernelFunc;
  const run = (f: KernelFunc, args: KernelArgs) => f(args) as tf.TensorInfo;

  const fastTanh: KernelFunc = ({ inputs, backend }) => {
    const b = backend as unknown as WasmBackendLike;
    const x = inputs.x as tf.TensorInfo;
    const two = b.makeOutput([], 'float32', undefined, new Float32Array([2]));
    const one = b.makeOutput([], 'float32', undefined, new Float32Array([1]));
    const x2 = run(multiply, { inputs: { a: x, b: two }, backend, attrs: {} });
    const s = run(sigmoid, { inputs: { x: x2 }, backend, attrs: {} });
    const s2 = run(multiply, { inputs: { a: s, b: two }, backend, attrs: {} });
    const y = run(sub, { inputs: { a: s2, b: one }, backend, attrs: {} });
    for (const t of [two, one, x2, s, s2]) b.disposeData(t.dataId);
    return y;
  };

  const plainBatchMatMul = batchMatMul.kernelFunc;
  const fastBatchMatMul: KernelFunc = (args) => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const bIn = args.inputs.b as tf.TensorInfo;
    if (!transposeB || transposeA) return plainBatchMatMul(args);
    const rank = bIn.shape.length;
    const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
    const bT = run(transpose, { inputs: { x: bIn }, backend: args.backend, attrs: { perm } });
    const out = run(plainBatchMatMul, {
      ...args,
      inputs: { ...args.inputs, b: bT },
      attrs: { ...args.attrs, transposeB: false },
    });
    (args.backend as unknown as WasmBackendLike).disposeData(bT.dataId);
    return out;
  };

  tf.unregisterKernel('Tanh', 'wasm');
  tf.registerKernel({ ...tanh, kernelFunc: fastTanh });
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...batchMatMul, kernelFunc: fastBatchMatMul });
  installed = true;
}
