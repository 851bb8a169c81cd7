import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { windowsFolderNameProblem } from '../../../../shared/bundle.js';
import type { Problem } from '../../../../shared/problems.js';
import { BundleError, loadBundle, readBundle, sha256 } from '../../../../main/core/bundle/load.js';
import { sealBundle } from '../../../../main/core/bundle/write.js';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../../../main/core/engine.js';
import {
  LINEAR,
  OUTPUTS,
  TEST_MANIFEST,
  identityFeatures,
  linearModel,
  makeSchema,
  writeTestBundle,
} from '../../../helpers/bundles.js';
import { bundleCopies, manifestFields } from './bundle-copies.js';
import {
  KERAS_BIAS,
  KERAS_FIXTURE_DIR,
  KERAS_KERNEL,
  KERAS_SHARD,
  kerasShardBytes,
} from '../../../helpers/keras-fixture.js';

const SHARD = 'group1-shard1of1.bin';
const { valid: validDir, fresh, broken } = bundleCopies();

interface ManifestFile {
  files: Record<string, string>;
}

function editJson(dir: string, file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(join(dir, file), JSON.stringify(json));
}

async function problemsOf(dir: string): Promise<{ problems: Problem[]; message: string }> {
  try {
    const loaded = await loadBundle(dir);
    loaded.model.dispose();
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    return { problems: (e as BundleError).problems, message: (e as Error).message };
  }
  throw new Error(`expected ${dir} to be refused`);
}

describe('a valid bundle', () => {
  it('loads, with its manifest, schema and model', async () => {
    const loaded = await loadBundle(validDir());
    try {
      expect(loaded.manifest.id).toBe(TEST_MANIFEST.id);
      expect(Object.keys(loaded.manifest.files).sort()).toEqual([
        'group1-shard1of1.bin',
        'model.json',
        'schema.json',
      ]);
      expect(loaded.schema.output.kind).toBe('sigmoid');
      expect(loaded.sha256).toBe(sha256(readFileSync(join(validDir(), 'manifest.json'))));
      const y = tf.tidy(
        () => (loaded.model.predict(tf.tensor2d([[1, 0, 0, 0]])) as tf.Tensor).dataSync()[0]!,
      );
      expect(y).toBeCloseTo(1 / (1 + Math.exp(-(LINEAR.w[0] + LINEAR.b))), 6);
    } finally {
      loaded.model.dispose();
    }
  });
});

describe('a broken bundle is refused naming the file and the field', () => {
  it('when the folder does not exist', async () => {
    const dir = join(validDir(), 'nope');
    const { problems } = await problemsOf(dir);
    expect(problems[0]!.message).toMatch(/is not a folder/);
    expect(problems[0]).toMatchObject({ reason: 'not_a_folder', params: { dir } });
  });

  it('when manifest.json is missing', async () => {
    const dir = broken((d) => rmSync(join(d, 'manifest.json')));
    const { problems, message } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'manifest.json',
        code: 'missing',
        reason: 'file_missing',
        params: { file: 'manifest.json', dir },
      }),
    ]);
    expect(message).toContain('manifest.json');
  });

  it('when manifest.json is not JSON', async () => {
    const dir = broken((d) => writeFileSync(join(d, 'manifest.json'), '{"id": "test-model",'));
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({ field: 'manifest.json', code: 'invalid', reason: 'not_json' }),
    ]);
    expect(problems[0]!.message).toMatch(/is not valid JSON/);
    // JSON.parse's own words are passed on as they are, for whoever can read them.
    const detail = problems[0]!.params!.detail;
    expect(detail).toEqual(expect.any(String));
    expect(problems[0]!.message).toBe(`is not valid JSON (${detail})`);
    expect(problems[0]!.params).toEqual({ file: 'manifest.json', detail });
  });

  it('when schema.json is not JSON', async () => {
    const dir = broken((d) => writeFileSync(join(d, 'schema.json'), 'schema_version: 1\n'), true);
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([expect.objectContaining({ field: 'schema.json', code: 'invalid' })]);
    expect(problems[0]!.message).toMatch(/is not valid JSON/);
  });

  it('when a field of manifest.json is wrong', async () => {
    const dir = broken((d) => editJson(d, 'manifest.json', (m) => (m.version = 'one')));
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([expect.objectContaining({ field: 'manifest.json: version' })]);
    expect(problems[0]!.message).toMatch(/semantic version/);
    expect(problems[0]).toMatchObject({
      reason: 'field_invalid',
      params: { file: 'manifest.json', path: 'version', detail: 'must be a semantic version' },
    });
  });

  it('when the id is a device name of Windows, in any letter case: no folder can be named so there', async () => {
    // The model is installed in models/<id>/<version>/, and a branch workstation may run Windows. Refused on
    // every system, so that a data folder can be moved to any workstation.
    for (const id of ['con', 'prn', 'aux', 'nul', 'com1', 'com9', 'lpt1', 'lpt9']) {
      const dir = broken((d) => editJson(d, 'manifest.json', (m) => (m.id = id)));
      const { problems } = await problemsOf(dir);
      expect(problems, id).toEqual([
        expect.objectContaining({ field: 'manifest.json: id', code: 'invalid', reason: 'field_invalid' }),
      ]);
      expect(problems[0]!.message).toMatch(/device name of Windows .*give the bundle another model id$/);
    }
    // Names that only begin like one are folders like any other.
    const dir = broken((d) => editJson(d, 'manifest.json', (m) => (m.id = 'con-credit')));
    expect(readBundle(dir).manifest.id).toBe('con-credit');
  });

  it('when the version ends in a dot, which Windows drops from a folder name', async () => {
    for (const version of ['1.0.0-rc.', '1.0.0+build..']) {
      const dir = broken((d) => editJson(d, 'manifest.json', (m) => (m.version = version)));
      const { problems } = await problemsOf(dir);
      expect(problems, version).toEqual([
        expect.objectContaining({
          field: 'manifest.json: version',
          code: 'invalid',
          reason: 'field_invalid',
        }),
      ]);
      expect(problems[0]!.message).toMatch(
        /must not end in a space or a dot: .*give the bundle another version$/,
      );
    }
  });

  it('names a folder Windows cannot make in any spelling of it', () => {
    for (const name of ['NUL', 'Com3', 'nul.txt', 'LPT1.tar.gz', 'aux .json', 'lpt²', 'name ', 'v1.']) {
      expect(windowsFolderNameProblem(name, 'version'), name).toMatch(/^must not/);
    }
    for (const name of ['null', 'console', 'com10', 'com', '1.0.0', 'nul-model', 'a.nul']) {
      expect(windowsFolderNameProblem(name, 'version'), name).toBeUndefined();
    }
  });

  it('when a required field of manifest.json is missing, or one it does not know is there', async () => {
    const dir = broken((d) =>
      editJson(d, 'manifest.json', (m) => {
        delete m.created_at;
        delete (m.training_data as Record<string, unknown>).description;
        m.owner = 'branch 12';
      }),
    );
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'manifest.json: created_at',
          reason: 'field_missing',
          params: { file: 'manifest.json', path: 'created_at' },
        }),
        expect.objectContaining({
          field: 'manifest.json: training_data.description',
          reason: 'field_missing',
          params: { file: 'manifest.json', path: 'training_data.description' },
        }),
        expect.objectContaining({
          reason: 'field_unknown',
          params: { file: 'manifest.json', fields: 'owner' },
        }),
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('when manifest.json is not an object at all', async () => {
    const dir = broken((d) => writeFileSync(join(d, 'manifest.json'), '[]'));
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'manifest.json: (root)',
        reason: 'file_invalid',
        params: { file: 'manifest.json', detail: problems[0]!.message },
      }),
    ]);
  });

  it('when a weight byte changed: the sha256 mismatch names the shard', async () => {
    const dir = broken((d) => {
      const bytes = readFileSync(join(d, SHARD));
      bytes[5] = bytes[5]! ^ 0x01;
      writeFileSync(join(d, SHARD), bytes);
    });
    const { problems, message } = await problemsOf(dir);
    expect(problems).toEqual([expect.objectContaining({ field: SHARD, code: 'invalid' })]);
    expect(problems[0]!.message).toMatch(/sha256 [0-9a-f]{64} does not match manifest.json/);
    expect(message).toContain(SHARD);
    const listed = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ManifestFile).files[
      SHARD
    ];
    expect(problems[0]).toMatchObject({
      reason: 'sha256_mismatch',
      params: { file: SHARD, expected: listed, actual: sha256(readFileSync(join(dir, SHARD))) },
    });
  });

  it('when a weight is NaN, even with the bundle resealed: every answer would be NaN', async () => {
    const dir = broken((d) => {
      const bytes = readFileSync(join(d, SHARD));
      bytes.writeFloatLE(NaN, 4); // the second float32 of the first weight
      writeFileSync(join(d, SHARD), bytes);
    }, true);
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({ field: expect.stringMatching(/^weights: /), code: 'not_finite' }),
    ]);
    expect(problems[0]!.message).toMatch(/value 1 is NaN/);
    expect(problems[0]).toMatchObject({
      reason: 'weight_not_finite',
      params: { weight: problems[0]!.field.replace(/^weights: /, ''), index: 1, value: 'NaN' },
    });
  });

  it('when a listed file is missing', async () => {
    const dir = broken((d) => rmSync(join(d, SHARD)));
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({
        field: SHARD,
        code: 'missing',
        reason: 'listed_file_missing',
        params: { file: SHARD },
      }),
    ]);
  });

  it('when a file is not listed in the manifest', async () => {
    const dir = broken((d) => {
      writeFileSync(join(d, 'notes.txt'), 'hello');
      mkdirSync(join(d, 'extra'));
      writeFileSync(join(d, 'extra', 'weights.bin'), 'x');
    });
    const { problems } = await problemsOf(dir);
    expect(problems.map((p) => p.field)).toEqual(['extra/weights.bin', 'notes.txt']);
    problems.forEach((p) => expect(p.message).toMatch(/not listed in manifest.json/));
    expect(problems.map((p) => [p.reason, p.params])).toEqual([
      ['file_not_listed', { file: 'extra/weights.bin' }],
      ['file_not_listed', { file: 'notes.txt' }],
    ]);
  });

  it('when the manifest does not list model.json', async () => {
    const dir = broken((d) => {
      rmSync(join(d, 'model.json'));
      editJson(d, 'manifest.json', (m) => delete (m.files as Record<string, string>)['model.json']);
    });
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'manifest.json: files.model.json',
        code: 'missing',
        reason: 'required_file_not_listed',
        params: { file: 'model.json' },
      }),
    ]);
  });

  it('when schema.json has a bad field: std = 0 names schema.json: features[0].scaler.std', async () => {
    const dir = broken(
      (d) =>
        editJson(d, 'schema.json', (s) => ((s.features as { scaler: { std: number } }[])[0]!.scaler.std = 0)),
      true,
    );
    const { problems, message } = await problemsOf(dir);
    expect(problems).toEqual([expect.objectContaining({ field: 'schema.json: features[0].scaler.std' })]);
    expect(message).toContain('schema.json: features[0].scaler.std');
    expect(problems[0]).toMatchObject({
      reason: 'field_invalid',
      params: { file: 'schema.json', path: 'features[0].scaler.std', detail: problems[0]!.message },
    });
  });

  it('when a numeric range has its min above its max: no value could pass', async () => {
    const dir = broken(
      (d) =>
        editJson(d, 'schema.json', (s) => {
          (s.features as { range?: { min: number; max: number } }[])[0]!.range = { min: 10, max: 1 };
        }),
      true,
    );
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'schema.json: features[0].range',
        message: expect.stringContaining('min must not be above max') as string,
      }),
    ]);
  });

  it('when schema.json has several bad fields, all of them', async () => {
    const dir = broken(
      (d) =>
        editJson(d, 'schema.json', (s) => {
          const features = s.features as Record<string, unknown>[];
          features[0]!.scaler = { mean: 0, std: -1 };
          features[1]!.type = 'text';
          features[2]!.impute = 'x';
        }),
      true,
    );
    const fields = (await problemsOf(dir)).problems.map((p) => p.field);
    expect(fields).toEqual([
      'schema.json: features[0].scaler.std',
      'schema.json: features[1].type',
      'schema.json: features[2].impute',
    ]);
  });

  it('when the schema encodes to a width the model does not take', async () => {
    const dir = broken(
      (d) =>
        editJson(d, 'schema.json', (s) => {
          (s.features as unknown[]).push(makeSchema(identityFeatures(5), OUTPUTS.sigmoid).features[4]);
        }),
      true,
    );
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([expect.objectContaining({ field: 'schema.json: features', code: 'invalid' })]);
    expect(problems[0]!.message).toMatch(
      /encode to 5 model inputs, but model.json expects input shape \[null, 4\]/,
    );
    expect(problems[0]).toMatchObject({
      reason: 'input_width_mismatch',
      params: { width: 5, shape: '[null, 4]' },
    });
  });

  it("when the schema's output does not fit the model's", async () => {
    const dir = broken(
      (d) => editJson(d, 'schema.json', (s) => (s.output = { kind: 'softmax', classes: ['a', 'b', 'c'] })),
      true,
    );
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([expect.objectContaining({ field: 'schema.json: output' })]);
    expect(problems[0]!.message).toMatch(/softmax needs 3 output unit\(s\), but the model has 1/);
    expect(problems[0]).toMatchObject({
      reason: 'output_units_mismatch',
      params: { kind: 'softmax', expected: 3, actual: '1' },
    });
  });

  it('when model.json is not a layers model', async () => {
    const dir = broken((d) => editJson(d, 'model.json', (m) => (m.format = 'graph-model')), true);
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'model.json: format',
        reason: 'model_format',
        params: { format: 'graph-model' },
      }),
    ]);
  });

  it('when model.json has no layers-model topology', async () => {
    const dir = broken((d) => editJson(d, 'model.json', (m) => delete m.modelTopology), true);
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({ field: 'model.json', reason: 'not_layers_model', params: {} }),
    ]);
  });

  it('when model.json names a weight shard the manifest does not list', async () => {
    const dir = broken((d) => {
      editJson(d, 'model.json', (m) => {
        (m.weightsManifest as { paths: string[] }[])[0]!.paths.push('group1-shard2of2.bin');
      });
      sealBundle(d, manifestFields(d));
    });
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'model.json: weightsManifest',
        reason: 'shard_not_listed',
        params: { shard: 'group1-shard2of2.bin' },
      }),
    ]);
  });

  it('when TensorFlow.js cannot build the model', async () => {
    const dir = broken(
      (d) =>
        editJson(d, 'model.json', (m) => {
          // As many values as the kernel [4, 1] (so the shards still fill the manifest), in a shape it cannot take.
          const spec = (m.weightsManifest as { weights: { shape: number[] }[] }[])[0]!.weights[0]!;
          spec.shape = [1, 4];
        }),
      true,
    );
    const { problems } = await problemsOf(dir);
    expect(problems).toEqual([expect.objectContaining({ field: 'model.json' })]);
    expect(problems[0]!.message).toMatch(/TensorFlow.js could not load the model/);
    expect(problems[0]!.reason).toBe('model_unloadable');
    expect(problems[0]!.message).toBe(
      `TensorFlow.js could not load the model: ${problems[0]!.params!.detail}`,
    );
  });
});

describe('a model written by the Keras converter', () => {
  let dir: string;

  beforeAll(() => {
    // The fixture is the converter's output plus schema.json; sealing adds manifest.json and changes nothing else.
    dir = fresh();
    cpSync(KERAS_FIXTURE_DIR, dir, { recursive: true });
    sealBundle(dir, { ...TEST_MANIFEST, id: 'keras-converted' });
  });

  it('is the converter layout of a Keras 2 Sequential model with the known weights', () => {
    expect(readdirSync(KERAS_FIXTURE_DIR).sort()).toEqual([KERAS_SHARD, 'model.json', 'schema.json']);
    const modelJson = JSON.parse(readFileSync(join(KERAS_FIXTURE_DIR, 'model.json'), 'utf8'));
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.generatedBy).toMatch(/^keras v2\./);
    expect(modelJson.convertedBy).toMatch(/^TensorFlow\.js Converter v4\./);
    expect(modelJson.modelTopology.model_config.class_name).toBe('Sequential');
    expect(modelJson.weightsManifest).toEqual([
      {
        paths: [KERAS_SHARD],
        weights: [
          { name: 'dense/kernel', shape: [3, 1], dtype: 'float32' },
          { name: 'dense/bias', shape: [1], dtype: 'float32' },
        ],
      },
    ]);
    expect(readFileSync(join(KERAS_FIXTURE_DIR, KERAS_SHARD))).toEqual(kerasShardBytes());
  });

  it('loads unchanged, with its weights', async () => {
    const files = readBundle(dir);
    expect(files.modelJson).toEqual(JSON.parse(readFileSync(join(KERAS_FIXTURE_DIR, 'model.json'), 'utf8')));
    const loaded = await loadBundle(dir);
    try {
      const [kernel, bias] = loaded.model.getWeights();
      expect(Array.from(kernel!.dataSync())).toEqual([...KERAS_KERNEL]);
      expect(Array.from(bias!.dataSync())).toEqual([KERAS_BIAS]);
    } finally {
      loaded.model.dispose();
    }
  });

  it('explains with the hand-computed linear attributions', async () => {
    const engine = await Engine.load(dir, { backend: 'cpu' });
    try {
      const applicant = { income: 9000, age: 25, debt_ratio: 0.5 };
      const baseline = { income: 5000, age: 40, debt_ratio: 0.25 };
      const std = { income: 2000, age: 10, debt_ratio: 0.125 };
      for (const method of ['gausslegendre', 'riemann_middle'] as const) {
        const [e] = engine.explain([applicant], { ...DEFAULT_EXPLAIN_OPTIONS, method, nSteps: 8 });
        const expected = (['income', 'age', 'debt_ratio'] as const).map(
          (f, i) => ((applicant[f] - baseline[f]) / std[f]) * KERAS_KERNEL[i]!,
        );
        expect(expected).toEqual([1, 2.25, 4.5]);
        e!.attributions.forEach((a, i) => {
          expect(a.feature).toBe(['income', 'age', 'debt_ratio'][i]);
          expect(Math.abs(a.attribution - expected[i]!)).toBeLessThan(1e-6);
        });
        expect(e!.score).toBeCloseTo(2 * 0.5 - 1.5 * -1.5 + 2.25 * 2 + KERAS_BIAS, 6);
        expect(Math.abs(e!.completeness.delta)).toBeLessThan(1e-5);
      }
    } finally {
      engine.dispose();
    }
  });
});

describe('a bundle written by writeBundle', () => {
  it('round-trips the weights', async () => {
    const dir = fresh();
    await writeTestBundle(
      dir,
      linearModel('regression'),
      makeSchema(identityFeatures(4), OUTPUTS.regression),
    );
    const loaded = await loadBundle(dir);
    try {
      expect(Array.from(loaded.model.getWeights()[0]!.dataSync())).toEqual([...LINEAR.w]);
    } finally {
      loaded.model.dispose();
    }
  });
});
