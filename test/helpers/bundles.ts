// Test bundles built from tfjs-layers models whose weights are set by hand, so that every attribution can be
// computed on paper. Each bundle is written with writeBundle: the converter's layout, schema.json, manifest.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { z } from 'zod';
import { bundleSchemaSchema, type BundleSchema, type Localized } from '../../shared/bundle.js';
import { writeBundle, type ManifestFields } from '../../main/core/bundle/write.js';
import { activeBackend, initBackend } from '../../main/core/tf/backend.js';

export type SchemaInput = z.input<typeof bundleSchemaSchema>;
export type FeatureInput = SchemaInput['features'][number];
export type OutputInput = SchemaInput['output'];
export type OutputKind = OutputInput['kind'];
export type Activation = 'linear' | 'sigmoid' | 'softmax' | 'tanh' | 'relu' | 'elu';

export const text = (s: string): Localized => ({ 'zh-CN': s, en: s });

const templates = { positive: text('{label} raised it'), negative: text('{label} lowered it') };

export function numericFeature(
  name: string,
  extra: Partial<Extract<FeatureInput, { type: 'numeric' }>> = {},
): FeatureInput {
  return {
    name,
    label: text(name),
    templates,
    type: 'numeric',
    scaler: { mean: 0, std: 1 },
    impute: 0,
    ...extra,
  };
}

export function categoricalFeature(
  name: string,
  categories: string[],
  extra: Partial<Extract<FeatureInput, { type: 'categorical' }>> = {},
): FeatureInput {
  return {
    name,
    label: text(name),
    templates,
    type: 'categorical',
    categories,
    impute: categories[0]!,
    ...extra,
  };
}

export function booleanFeature(
  name: string,
  extra: Partial<Extract<FeatureInput, { type: 'boolean' }>> = {},
): FeatureInput {
  return { name, label: text(name), templates, type: 'boolean', impute: false, ...extra };
}

/** Numeric features x0…x{width−1} with the identity scaler: the raw values are the model inputs. */
export function identityFeatures(width: number): FeatureInput[] {
  return Array.from({ length: width }, (_, i) => numericFeature(`x${i}`));
}

export const OUTPUTS = {
  sigmoid: { kind: 'sigmoid', classes: ['declined', 'approved'], explain_class: 'approved' },
  /** No explain_class: a target must be given, as Alibi requires for a multi-output model. */
  softmax: { kind: 'softmax', classes: ['low', 'medium', 'high'] },
  regression: { kind: 'regression' },
} as const satisfies Record<OutputKind, OutputInput>;

/** The output units each kind needs. */
export function outputUnits(output: OutputInput): number {
  return output.kind === 'softmax' ? output.classes.length : 1;
}

/** The output layer's activation for each kind. */
export function outputActivation(kind: OutputKind): Activation {
  return kind === 'regression' ? 'linear' : kind;
}

export function makeSchema(
  features: FeatureInput[],
  output: OutputInput,
  baseline: SchemaInput['baseline'] = {},
): BundleSchema {
  return bundleSchemaSchema.parse({ schema_version: 1, features, output, baseline });
}

export interface DenseSpec {
  name?: string;
  activation: Activation;
  /** [inputs][units], as tfjs-layers stores a Dense kernel. */
  kernel: number[][];
  bias: number[];
}

/** A Sequential stack of Dense layers with exactly the given weights. */
export function denseModel(inputWidth: number, specs: readonly DenseSpec[]): tfl.LayersModel {
  const model = tfl.sequential();
  let width = inputWidth;
  specs.forEach((spec, i) => {
    const units = spec.bias.length;
    if (spec.kernel.length !== width || spec.kernel.some((row) => row.length !== units)) {
      throw new Error(`layer ${i}: kernel must be ${width}×${units}`);
    }
    model.add(
      tfl.layers.dense({
        units,
        activation: spec.activation,
        ...(spec.name ? { name: spec.name } : {}),
        ...(i === 0 ? { inputShape: [inputWidth] } : {}),
      }),
    );
    width = units;
  });
  specs.forEach((spec, i) => {
    const kernel = tf.tensor2d(spec.kernel, [spec.kernel.length, spec.bias.length], 'float32');
    const bias = tf.tensor1d(spec.bias, 'float32');
    model.layers[i]!.setWeights([kernel, bias]);
    kernel.dispose();
    bias.dispose();
  });
  return model;
}

/** Deterministic, irregular weights in [−scale, scale] for networks too big to write out. */
export function fixedMatrix(rows: number, cols: number, seed: number, scale = 1): number[][] {
  return Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => {
      const h = Math.sin(seed * 12.9898 + i * 78.233 + j * 37.719) * 43758.5453;
      return scale * (2 * (h - Math.floor(h)) - 1);
    }),
  );
}

export const TEST_MANIFEST: ManifestFields = {
  id: 'test-model',
  version: '1.0.0',
  created_at: '2024-01-01T00:00:00Z',
  training_data: { description: 'none: weights set by hand in the test helpers' },
  metrics: {},
};

export function tempDir(prefix = 'branchlens-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a bundle for `model` and `schema` to `dir` and disposes the model. */
export async function writeTestBundle(
  dir: string,
  model: tfl.LayersModel,
  schema: BundleSchema,
  manifest: ManifestFields = TEST_MANIFEST,
): Promise<string> {
  try {
    await writeBundle(dir, model, schema, manifest);
  } finally {
    model.dispose();
  }
  return dir;
}

/** The linear model's weights: F's pre-activation is w·x + b on the identity-scaled inputs x0…x3. */
export const LINEAR = { w: [0.5, -1.25, 2, 0.75], b: 0.25 } as const;

/**
 * A single Dense layer on x0…x3 with the output activation of `kind`. Sigmoid and regression use LINEAR;
 * softmax has one row of weights per class (LINEAR, its negation, and a third set).
 */
export function linearModel(kind: OutputKind): tfl.LayersModel {
  const columns =
    kind === 'softmax'
      ? [LINEAR.w.map((v) => v), LINEAR.w.map((v) => -v), [1, 0.5, -0.25, -1]]
      : [LINEAR.w.map((v) => v)];
  const bias = kind === 'softmax' ? [LINEAR.b, -LINEAR.b, 0.1] : [LINEAR.b];
  const kernel = LINEAR.w.map((_, i) => columns.map((col) => col[i]!));
  return denseModel(LINEAR.w.length, [{ name: 'linear', activation: outputActivation(kind), kernel, bias }]);
}

/** Building a model needs a backend: keeps the one a test chose, else takes the cpu backend. */
export async function ensureBackend(): Promise<void> {
  if (!activeBackend()) await initBackend('cpu');
}

export async function linearBundle(dir: string, kind: OutputKind): Promise<string> {
  await ensureBackend();
  return writeTestBundle(
    dir,
    linearModel(kind),
    makeSchema(identityFeatures(LINEAR.w.length), OUTPUTS[kind]),
  );
}

/** A nonlinear two-layer net: `width` inputs → Dense(hidden, tanh) → Dense(output units, output activation). */
export function twoLayerModel(width: number, output: OutputInput, hidden = 5): tfl.LayersModel {
  const units = outputUnits(output);
  return denseModel(width, [
    {
      name: 'hidden',
      activation: 'tanh',
      kernel: fixedMatrix(width, hidden, 1, 1.5),
      bias: fixedMatrix(1, hidden, 2, 0.3)[0]!,
    },
    {
      name: 'out',
      activation: outputActivation(output.kind),
      kernel: fixedMatrix(hidden, units, 3, 2.5),
      bias: fixedMatrix(1, units, 4, 0.2)[0]!,
    },
  ]);
}

/** Credit-like features of every type: encodes to 6 model inputs (income, age, purpose×3, owns_home). */
export const CREDIT_FEATURES: FeatureInput[] = [
  numericFeature('income', { scaler: { mean: 5000, std: 2000 }, impute: 5000, range: { min: 0 } }),
  numericFeature('age', {
    scaler: { mean: 40, std: 12 },
    impute: 40,
    range: { min: 18, max: 100 },
    integer: true,
    required: true,
  }),
  categoricalFeature('purpose', ['car', 'home', 'education'], { impute: 'car' }),
  booleanFeature('owns_home', { impute: false }),
];
export const CREDIT_WIDTH = 6;
export const CREDIT_BASELINE = { income: 5000, age: 40, purpose: 'car', owns_home: false };

/** Applicants for the credit-like bundle, differing from the baseline in every feature. */
export const CREDIT_APPLICANTS = [
  { income: 8200, age: 31, purpose: 'home', owns_home: true },
  { income: 2100, age: 67, purpose: 'education', owns_home: false },
  { income: '4500', age: '52', purpose: ' car ', owns_home: 'yes' },
];

/** The credit-like features on the nonlinear two-layer net, with the given output kind. */
export async function creditBundle(dir: string, kind: OutputKind = 'sigmoid'): Promise<string> {
  await ensureBackend();
  const output = OUTPUTS[kind];
  return writeTestBundle(
    dir,
    twoLayerModel(CREDIT_WIDTH, output),
    makeSchema(CREDIT_FEATURES, output, CREDIT_BASELINE),
  );
}
