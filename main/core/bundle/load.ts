// Loads a model bundle folder: verifies every file's sha256 against manifest.json, validates schema.json,
// and loads the TensorFlow.js layers model. A broken bundle is refused naming the file and the field.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import type { z } from 'zod';
import {
  bundleSchemaSchema,
  inputColumns,
  manifestSchema,
  type BundleSchema,
  type Manifest,
} from '../../../shared/bundle.js';
import { formatProblems, InputError, type Problem } from '../../../shared/problems.js';
import { fileLoader, shardPaths, type ModelJson } from './model-io.js';

export interface BundleFiles {
  dir: string;
  manifest: Manifest;
  schema: BundleSchema;
  modelJson: ModelJson;
  /** sha256 of manifest.json: it pins every other file, so it identifies the whole bundle. */
  sha256: string;
}

export interface LoadedBundle extends BundleFiles {
  model: tfl.LayersModel;
}

export class BundleError extends InputError {
  constructor(problems: Problem[]) {
    super(problems, `invalid model bundle:\n${formatProblems(problems)}`);
    this.name = 'BundleError';
  }
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function zodProblems(file: string, error: z.ZodError): Problem[] {
  return error.issues.map((i) => ({
    field: `${file}: ${
      i.path.length
        ? i.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '')
        : '(root)'
    }`,
    code: 'invalid' as const,
    message: i.message,
  }));
}

function readJson(dir: string, file: string): unknown {
  const path = join(dir, file);
  if (!existsSync(path))
    throw new BundleError([{ field: file, code: 'missing', message: `is missing from ${dir}` }]);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BundleError([
      { field: file, code: 'invalid', message: `is not valid JSON (${(e as Error).message})` },
    ]);
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** Reads and verifies the bundle's files without loading the model (cheap; used by the registry too). */
export function readBundle(dir: string): BundleFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new BundleError([{ field: dir, code: 'missing', message: 'is not a folder' }]);
  }
  const manifestRaw = readJson(dir, 'manifest.json');
  const manifestParsed = manifestSchema.safeParse(manifestRaw);
  if (!manifestParsed.success) throw new BundleError(zodProblems('manifest.json', manifestParsed.error));
  const manifest = manifestParsed.data;

  const problems: Problem[] = [];
  for (const [file, expected] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    if (file.includes('..') || !existsSync(path)) {
      problems.push({ field: file, code: 'missing', message: 'is listed in manifest.json but missing' });
      continue;
    }
    const actual = sha256(readFileSync(path));
    if (actual !== expected) {
      problems.push({
        field: file,
        code: 'invalid',
        message: `sha256 ${actual} does not match manifest.json (${expected}); the file was changed`,
      });
    }
  }
  for (const file of listFiles(dir)) {
    if (file !== 'manifest.json' && !(file in manifest.files)) {
      problems.push({ field: file, code: 'invalid', message: 'is not listed in manifest.json files' });
    }
  }
  for (const required of ['model.json', 'schema.json']) {
    if (!(required in manifest.files))
      problems.push({ field: `manifest.json: files.${required}`, code: 'missing', message: 'is required' });
  }
  if (problems.length) throw new BundleError(problems);

  const schemaParsed = bundleSchemaSchema.safeParse(readJson(dir, 'schema.json'));
  if (!schemaParsed.success) throw new BundleError(zodProblems('schema.json', schemaParsed.error));

  const modelJson = readJson(dir, 'model.json') as ModelJson;
  if (
    !modelJson ||
    typeof modelJson !== 'object' ||
    !modelJson.modelTopology ||
    !Array.isArray(modelJson.weightsManifest)
  ) {
    throw new BundleError([
      {
        field: 'model.json',
        code: 'invalid',
        message: 'must hold modelTopology and weightsManifest (TensorFlow.js layers-model format)',
      },
    ]);
  }
  if (modelJson.format !== undefined && modelJson.format !== 'layers-model') {
    throw new BundleError([
      {
        field: 'model.json: format',
        code: 'invalid',
        message: `must be "layers-model", got "${modelJson.format}"`,
      },
    ]);
  }
  for (const shard of shardPaths(modelJson)) {
    if (!(shard in manifest.files)) {
      problems.push({
        field: `model.json: weightsManifest`,
        code: 'invalid',
        message: `shard ${shard} is not listed in manifest.json files`,
      });
    }
  }
  if (problems.length) throw new BundleError(problems);
  return {
    dir,
    manifest,
    schema: schemaParsed.data,
    modelJson,
    sha256: sha256(readFileSync(join(dir, 'manifest.json'))),
  };
}

/** Verifies and loads a bundle, checking that the model's input and output fit the schema. */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  const files = readBundle(dir);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(fileLoader(dir, files.modelJson));
  } catch (e) {
    throw new BundleError([
      {
        field: 'model.json',
        code: 'invalid',
        message: `TensorFlow.js could not load the model: ${(e as Error).message}`,
      },
    ]);
  }
  const inputShape = model.inputs[0]?.shape ?? [];
  const width = inputColumns(files.schema).length;
  const outUnits = model.outputs[0]?.shape.at(-1);
  const problems: Problem[] = [];
  if (model.inputs.length !== 1 || inputShape.length !== 2 || inputShape[1] !== width) {
    problems.push({
      field: 'schema.json: features',
      code: 'invalid',
      message: `encode to ${width} model inputs, but model.json expects input shape [${inputShape.map(String).join(', ')}]`,
    });
  }
  const out = files.schema.output;
  const expectedUnits = out.kind === 'softmax' ? out.classes.length : 1;
  if (model.outputs.length !== 1 || outUnits !== expectedUnits) {
    problems.push({
      field: 'schema.json: output',
      code: 'invalid',
      message: `${out.kind} needs ${expectedUnits} output unit(s), but the model has ${String(outUnits)}`,
    });
  }
  // A NaN or infinite weight makes every answer NaN, which no document can hold: refuse the bundle here (at
  // import and activation) rather than fail each explanation later without naming the model.
  for (const w of model.weights) {
    const values = w.read().dataSync();
    const at = values.findIndex((v) => !Number.isFinite(v));
    if (at >= 0) {
      problems.push({
        field: `weights: ${w.originalName ?? w.name}`,
        code: 'not_finite',
        message: `value ${at} is ${values[at]}: a model with a non-finite weight cannot give a probability`,
      });
    }
  }
  if (problems.length) {
    model.dispose();
    throw new BundleError(problems);
  }
  return { ...files, model };
}
