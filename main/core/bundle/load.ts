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
import { because, formatProblems, InputError, type Problem } from '../../../shared/problems.js';
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

type ZodPath = readonly PropertyKey[];

/** A path as bundle problems name it: `features[0].scaler.std`. */
function bracketPath(path: ZodPath): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** Whether `path` names a key its parent object in `raw` does not have. */
function isAbsent(raw: unknown, path: ZodPath): boolean {
  if (path.length === 0) return false;
  let parent: unknown = raw;
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return false;
    parent = (parent as Record<PropertyKey, unknown>)[key];
  }
  return parent !== null && typeof parent === 'object' && !(path.at(-1)! in parent);
}

/**
 * The problems of a bundle file (`raw`, as read) that its schema refused, each naming the file and the field
 * (by `pathText`) and saying why: a field missing, unknown, or invalid in the schema's words.
 */
export function fileSchemaProblems(
  file: string,
  raw: unknown,
  error: z.ZodError,
  pathText: (path: ZodPath) => string = bracketPath,
): Problem[] {
  return error.issues.map((i): Problem => {
    const path = pathText(i.path);
    const problem = { field: `${file}: ${path || '(root)'}`, code: 'invalid' as const, message: i.message };
    if (i.code === 'unrecognized_keys') {
      const fields = i.keys.map((k) => pathText([...i.path, k])).join(', ');
      return { ...problem, ...because('field_unknown', { file, fields }) };
    }
    if (!path) return { ...problem, ...because('file_invalid', { file, detail: i.message }) };
    if (i.code === 'invalid_type' && isAbsent(raw, i.path)) {
      return { ...problem, ...because('field_missing', { file, path }) };
    }
    return { ...problem, ...because('field_invalid', { file, path, detail: i.message }) };
  });
}

/** A bundle file's JSON, or a BundleError saying it is missing or not JSON. */
export function readJson(dir: string, file: string): unknown {
  const path = join(dir, file);
  if (!existsSync(path)) {
    throw new BundleError([
      {
        field: file,
        code: 'missing',
        message: `is missing from ${dir}`,
        ...because('file_missing', { file, dir }),
      },
    ]);
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const detail = (e as Error).message;
    throw new BundleError([
      {
        field: file,
        code: 'invalid',
        message: `is not valid JSON (${detail})`,
        ...because('not_json', { file, detail }),
      },
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
    throw new BundleError([
      { field: dir, code: 'missing', message: 'is not a folder', ...because('not_a_folder', { dir }) },
    ]);
  }
  const manifestRaw = readJson(dir, 'manifest.json');
  const manifestParsed = manifestSchema.safeParse(manifestRaw);
  if (!manifestParsed.success)
    throw new BundleError(fileSchemaProblems('manifest.json', manifestRaw, manifestParsed.error));
  const manifest = manifestParsed.data;

  const problems: Problem[] = [];
  for (const [file, expected] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    if (file.includes('..') || !existsSync(path)) {
      problems.push({
        field: file,
        code: 'missing',
        message: 'is listed in manifest.json but missing',
        ...because('listed_file_missing', { file }),
      });
      continue;
    }
    const actual = sha256(readFileSync(path));
    if (actual !== expected) {
      problems.push({
        field: file,
        code: 'invalid',
        message: `sha256 ${actual} does not match manifest.json (${expected}); the file was changed`,
        ...because('sha256_mismatch', { file, expected, actual }),
      });
    }
  }
  for (const file of listFiles(dir)) {
    if (file !== 'manifest.json' && !(file in manifest.files)) {
      problems.push({
        field: file,
        code: 'invalid',
        message: 'is not listed in manifest.json files',
        ...because('file_not_listed', { file }),
      });
    }
  }
  for (const required of ['model.json', 'schema.json']) {
    if (!(required in manifest.files)) {
      problems.push({
        field: `manifest.json: files.${required}`,
        code: 'missing',
        message: 'is required',
        ...because('required_file_not_listed', { file: required }),
      });
    }
  }
  if (problems.length) throw new BundleError(problems);

  const schemaRaw = readJson(dir, 'schema.json');
  const schemaParsed = bundleSchemaSchema.safeParse(schemaRaw);
  if (!schemaParsed.success)
    throw new BundleError(fileSchemaProblems('schema.json', schemaRaw, schemaParsed.error));

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
        ...because('not_layers_model', {}),
      },
    ]);
  }
  if (modelJson.format !== undefined && modelJson.format !== 'layers-model') {
    throw new BundleError([
      {
        field: 'model.json: format',
        code: 'invalid',
        message: `must be "layers-model", got "${modelJson.format}"`,
        ...because('model_format', { format: String(modelJson.format) }),
      },
    ]);
  }
  for (const shard of shardPaths(modelJson)) {
    if (!(shard in manifest.files)) {
      problems.push({
        field: `model.json: weightsManifest`,
        code: 'invalid',
        message: `shard ${shard} is not listed in manifest.json files`,
        ...because('shard_not_listed', { shard }),
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
    const detail = (e as Error).message;
    throw new BundleError([
      {
        field: 'model.json',
        code: 'invalid',
        message: `TensorFlow.js could not load the model: ${detail}`,
        ...because('model_unloadable', { detail }),
      },
    ]);
  }
  const inputShape = model.inputs[0]?.shape ?? [];
  const width = inputColumns(files.schema).length;
  const outUnits = model.outputs[0]?.shape.at(-1);
  const problems: Problem[] = [];
  if (model.inputs.length !== 1 || inputShape.length !== 2 || inputShape[1] !== width) {
    const shape = `[${inputShape.map(String).join(', ')}]`;
    problems.push({
      field: 'schema.json: features',
      code: 'invalid',
      message: `encode to ${width} model inputs, but model.json expects input shape ${shape}`,
      ...because('input_width_mismatch', { width, shape }),
    });
  }
  const out = files.schema.output;
  const expectedUnits = out.kind === 'softmax' ? out.classes.length : 1;
  if (model.outputs.length !== 1 || outUnits !== expectedUnits) {
    problems.push({
      field: 'schema.json: output',
      code: 'invalid',
      message: `${out.kind} needs ${expectedUnits} output unit(s), but the model has ${String(outUnits)}`,
      ...because('output_units_mismatch', {
        kind: out.kind,
        expected: expectedUnits,
        actual: String(outUnits),
      }),
    });
  }
  // A NaN or infinite weight makes every answer NaN, which no document can hold: refuse the bundle here (at
  // import and activation) rather than fail each explanation later without naming the model.
  for (const w of model.weights) {
    const values = w.read().dataSync();
    const at = values.findIndex((v) => !Number.isFinite(v));
    if (at >= 0) {
      const weight = w.originalName ?? w.name;
      problems.push({
        field: `weights: ${weight}`,
        code: 'not_finite',
        message: `value ${at} is ${values[at]}: a model with a non-finite weight cannot give a probability`,
        ...because('weight_not_finite', { weight, index: at, value: String(values[at]) }),
      });
    }
  }
  if (problems.length) {
    model.dispose();
    throw new BundleError(problems);
  }
  return { ...files, model };
}
