// Reads and writes a layers model exactly as the TensorFlow.js converter lays it out on disk:
// model.json (format "layers-model", modelTopology, weightsManifest) plus binary weight shards.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';

type ModelArtifacts = tf.io.ModelArtifacts;
type WeightsManifestConfig = tf.io.WeightsManifestConfig;

/** The converter's default shard size (4 MiB). */
const SHARD_BYTES = 4 * 1024 * 1024;

export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: object;
  weightsManifest: WeightsManifestConfig;
  trainingConfig?: object;
  userDefinedMetadata?: object;
}

/** Bytes per stored value of each weight dtype the loader takes (a layers model's weights are float32). */
const DTYPE_BYTES = { float32: 4, int32: 4 } as const;
/** Bytes per stored value of a quantized weight (the converter's --quantize_uint8/uint16/float16). */
const QUANTIZED_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

/** A shard path: relative to the bundle, forward slashes, no `.` or `..` segment. */
const shardPath = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s && s !== '.' && s !== '..'),
    'must be a path inside the bundle (relative, with no . or .. segment)',
  );

const weightEntry = z.looseObject({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(Object.keys(DTYPE_BYTES) as [keyof typeof DTYPE_BYTES]),
  quantization: z
    .looseObject({
      dtype: z.enum(Object.keys(QUANTIZED_BYTES) as [keyof typeof QUANTIZED_BYTES]),
      scale: z.number().optional(),
      min: z.number().optional(),
    })
    .optional(),
});

/**
 * model.json as the loader reads it: the converter's fields; any others (the converter adds some now and then)
 * are kept and passed on to TensorFlow.js as they are.
 */
export const modelJsonSchema = z.looseObject({
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
  modelTopology: z.looseObject({}),
  weightsManifest: z.array(
    z.looseObject({ paths: z.array(shardPath).min(1), weights: z.array(weightEntry) }),
  ),
  trainingConfig: z.looseObject({}).optional(),
  userDefinedMetadata: z.looseObject({}).optional(),
});

/** The weight shard paths that model.json refers to, in order. */
export function shardPaths(modelJson: ModelJson): string[] {
  return modelJson.weightsManifest.flatMap((group) => group.paths);
}

/**
 * The weight values weightsManifest declares, and the bytes they take in the shards: the loader reads the
 * shards concatenated, in the order of the weights. Infinite when a shape is too large to count.
 */
export function declaredWeights(modelJson: ModelJson): { values: number; bytes: number } {
  let values = 0;
  let bytes = 0;
  for (const w of modelJson.weightsManifest.flatMap((g) => g.weights)) {
    const n = w.shape.reduce((a, d) => a * d, 1);
    const q = w.quantization?.dtype;
    values += n;
    bytes += n * (q ? QUANTIZED_BYTES[q] : DTYPE_BYTES[w.dtype as keyof typeof DTYPE_BYTES]);
  }
  return { values, bytes };
}

/**
 * An IOHandler that loads model.json and its shards from a folder, with no network and no tfjs-node. `read`
 * reads one shard by its path in the bundle (load.ts's, which refuses anything but a regular file).
 */
export function fileLoader(
  modelJson: ModelJson,
  read: (path: string) => Promise<Uint8Array>,
): tf.io.IOHandler {
  return {
    load: async (): Promise<ModelArtifacts> => {
      const buffers: Uint8Array[] = [];
      for (const path of shardPaths(modelJson)) buffers.push(await read(path));
      const total = Buffer.concat(buffers);
      const weightData = total.buffer.slice(total.byteOffset, total.byteOffset + total.byteLength);
      return {
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
        weightData,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy ?? undefined,
        trainingConfig: modelJson.trainingConfig as ModelArtifacts['trainingConfig'],
        userDefinedMetadata: modelJson.userDefinedMetadata as ModelArtifacts['userDefinedMetadata'],
      };
    },
  };
}

/** An IOHandler for `model.save()` that writes the converter's layout: model.json + groupN-shardKofM.bin. */
export function fileSaver(dir: string, generatedBy = 'BranchLens train:demo'): tf.io.IOHandler {
  return {
    save: async (artifacts: ModelArtifacts) => {
      mkdirSync(dir, { recursive: true });
      const data = artifacts.weightData;
      const bytes =
        data instanceof ArrayBuffer
          ? Buffer.from(data)
          : Buffer.concat((data ?? []).map((b) => Buffer.from(b)));
      const count = Math.max(1, Math.ceil(bytes.byteLength / SHARD_BYTES));
      const paths: string[] = [];
      for (let i = 0; i < count; i++) {
        const name = `group1-shard${i + 1}of${count}.bin`;
        writeFileSync(join(dir, name), bytes.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
        paths.push(name);
      }
      const modelJson: ModelJson = {
        format: 'layers-model',
        generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: bytes.byteLength,
        },
      };
    },
  };
}
