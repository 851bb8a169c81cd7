// The Keras-converter fixture: test/fixtures/keras-converted holds model.json as `tensorflowjs_converter
// --input_format keras` writes a Keras 2 Sequential model (Dense 3 → 1, linear), its schema.json, and one
// weight shard with the weights below. Run this file to rewrite the shard:
//   node --import tsx test/helpers/keras-fixture.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KERAS_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/keras-converted/', import.meta.url));
export const KERAS_SHARD = 'group1-shard1of1.bin';

/** dense/kernel, shape [3, 1]: one weight per input (income, age, debt_ratio); exact in float32. */
export const KERAS_KERNEL = [0.5, -1.5, 2.25] as const;
/** dense/bias, shape [1]. */
export const KERAS_BIAS = 0.125;

/** The shard: the weights in weightsManifest order (kernel, then bias), float32 little-endian. */
export function kerasShardBytes(): Buffer {
  const values = new Float32Array([...KERAS_KERNEL, KERAS_BIAS]);
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(KERAS_FIXTURE_DIR + KERAS_SHARD, kerasShardBytes());
}
