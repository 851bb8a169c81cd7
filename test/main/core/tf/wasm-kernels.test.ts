import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../main/core/tf/backend.js';

/** Deterministic values spread over tanh's interesting range, saturation included. */
function values(n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * scale);
}

function matmulRef(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bTransposed: boolean) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * (bTransposed ? b[j * k + p]! : b[p * n + j]!);
      out[i * n + j] = s;
    }
  return out;
}

const maxAbsDiff = (x: ArrayLike<number>, y: ArrayLike<number>) =>
  Array.from(x).reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);

describe('the fast wasm kernels (Tanh via Sigmoid, BatchMatMul with transposeB via Transpose)', () => {
  beforeAll(async () => {
    expect(await initBackend('wasm')).toBe('wasm');
  });

  it('are the kernels the wasm backend runs', () => {
    expect(tf.getKernel('Tanh', 'wasm')?.kernelFunc.name).toBe('fastTanh');
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name).toBe('fastBatchMatMul');
  });

  it('tanh matches Math.tanh to float32 precision, saturation and zero included', () => {
    const x = values(4096, 12);
    x[0] = 0;
    x[1] = -0;
    x[2] = 1e-7;
    const y = tf.tidy(() => tf.tanh(tf.tensor1d(x)).dataSync());
    expect(maxAbsDiff(y, Array.from(x, Math.tanh))).toBeLessThan(3e-7);
    expect(y[0]).toBe(0);
  });

  it('keeps tanh’s gradient: d/dx Σ tanh(x) = 1 − tanh²(x)', () => {
    const x = values(512, 3);
    const g = tf.tidy(() =>
      tf
        .grad((t: tf.Tensor) => tf.sum(tf.tanh(t)))(tf.tensor1d(x))
        .dataSync(),
    );
    expect(
      maxAbsDiff(
        g,
        Array.from(x, (v) => 1 - Math.tanh(v) ** 2),
      ),
    ).toBeLessThan(1e-6);
  });

  it('a·bᵀ equals the product with b transposed, in 2-D and batched 3-D, and transposeA still works', () => {
    const [m, k, n] = [1600, 19, 16];
    const a = values(m * k, 2);
    const b = values(n * k, 1.5);
    const viaT = tf.tidy(() =>
      tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [n, k]), false, true).dataSync(),
    );
    expect(maxAbsDiff(viaT, matmulRef(a, b, m, k, n, true))).toBeLessThan(1e-5);
    const batched = tf.tidy(() =>
      tf
        .matMul(
          tf.tensor3d(a.subarray(0, 2 * 8 * k), [2, 8, k]),
          tf.tensor3d(b.subarray(0, 2 * 4 * k), [2, 4, k]),
          false,
          true,
        )
        .dataSync(),
    );
    for (let batch = 0; batch < 2; batch++) {
      const ref = matmulRef(a.subarray(batch * 8 * k), b.subarray(batch * 4 * k), 8, k, 4, true);
      expect(maxAbsDiff(batched.subarray(batch * 32, batch * 32 + 32), ref)).toBeLessThan(1e-5);
    }
    const aT = tf.tidy(() =>
      tf
        .matMul(
          tf.tensor2d(a.subarray(0, k * 8), [k, 8]),
          tf.tensor2d(a.subarray(0, k * 3), [k, 3]),
          true,
          false,
        )
        .dataSync(),
    );
    expect(aT).toHaveLength(24);
  });

  it('frees its temporaries: no tensors or backend buffers are left behind', () => {
    const x = tf.tensor2d(values(64, 4), [8, 8]);
    const before = { tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() };
    tf.tidy(() => {
      tf.tanh(x);
      tf.matMul(x, x, false, true);
    });
    expect({ tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() }).toEqual(before);
    x.dispose();
  });
});
