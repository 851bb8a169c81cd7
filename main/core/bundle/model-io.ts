// Reads and writes a layers model exactly as the TensorFlow.js converter lays it out on disk:
// model.json (format "layers-model", modelTopology, weightsManifest) plus binary weight shards.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';

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

/** The weight shard paths that model.json refers to, in order. */
export function shardPaths(modelJson: ModelJson): string[] {
  return modelJson.weightsManifest.flatMap((group) => group.paths);
}

/** An IOHandler that loads model.json and its shards from a folder, with no network and no tfjs-node. */
export function fileLoader(dir: string, modelJson: ModelJson): tf.io.IOHandler {
  return {
    load: async (): Promise<ModelArtifacts> => {
      const buffers = shardPaths(modelJson).map((p) => readFileSync(join(dir, p)));
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
