// A tiny but complete model bundle (two numeric features, one sigmoid unit) for the registry tests.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { writeBundle, type ManifestFields } from '../../../../main/core/bundle/write.js';
import { BranchLensService } from '../../../../main/core/service.js';
import { bundleSchemaSchema } from '../../../../shared/bundle.js';

const text = (s: string) => ({ 'zh-CN': s, en: s });
const templates = { positive: text('{label} raised it'), negative: text('{label} lowered it') };
const feature = (name: string) => ({
  name,
  label: text(name),
  templates,
  type: 'numeric' as const,
  scaler: { mean: 0, std: 1 },
  impute: 0,
});

export const TINY_SCHEMA = bundleSchemaSchema.parse({
  schema_version: 1,
  features: [feature('income'), feature('debt')],
  output: { kind: 'sigmoid', classes: ['declined', 'approved'], explain_class: 'approved' },
  baseline: { income: 0, debt: 0 },
});

/** Writes a bundle for `tiny@<version>` to `dir`; `metrics` changes its sha256 without changing its version. */
export async function writeTinyBundle(
  dir: string,
  version: string,
  metrics: Record<string, number> = {},
): Promise<string> {
  await tf.setBackend('cpu');
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 1, inputShape: [2], activation: 'sigmoid', kernelInitializer: 'ones' }),
    ],
  });
  const manifest: ManifestFields = {
    id: 'tiny',
    version,
    created_at: '2025-01-01T00:00:00Z',
    training_data: { description: 'none: a test model' },
    metrics,
  };
  try {
    await writeBundle(dir, model, TINY_SCHEMA, manifest);
  } finally {
    model.dispose();
  }
  return dir;
}

/** An installation in `dataDir` whose active model is tiny@1.0.0 (a branch's own model, not the demo's). */
export async function installTinyModel(dataDir: string, bundleDir: string): Promise<void> {
  await writeTinyBundle(bundleDir, '1.0.0');
  const service = await BranchLensService.open({ dataDir, workers: 0 });
  try {
    await service.importModel(bundleDir);
    await service.activateModel('tiny@1.0.0');
  } finally {
    await service.close();
  }
}
