// Bundles built to hurt the loader: special files, links, huge sizes, malformed model.json, topologies that
// would allocate gigabytes, scalers that overflow, and models whose output is no probability. Each must be
// refused with a BundleError naming the file (so the CLI exits 2 and HTTP answers 4xx), quickly and without
// reading more than the caps allow.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Problem } from '../../../../shared/problems.js';
import { translate } from '../../../../shared/i18n/index.js';
import { reasonText } from '../../../../shared/i18n/problems.js';
import {
  BundleError,
  MAX_BUNDLE_BYTES,
  MAX_BUNDLE_ENTRIES,
  MAX_FILE_BYTES,
  loadBundle,
  loadBundleFiles,
  readBundle,
  sha256,
} from '../../../../main/core/bundle/load.js';
import { Engine } from '../../../../main/core/engine.js';
import {
  OUTPUTS,
  denseModel,
  identityFeatures,
  linearModel,
  makeSchema,
  numericFeature,
  booleanFeature,
  writeTestBundle,
  type FeatureInput,
} from '../../../helpers/bundles.js';
import { bundleCopies } from './bundle-copies.js';

const SHARD = 'group1-shard1of1.bin';
const posix = process.platform !== 'win32';
const root = process.getuid?.() === 0;
const { valid: validDir, fresh, broken } = bundleCopies();

/** Adds `files` to manifest.json's list as they are (a hash for a file that need not be read). */
function listInManifest(dir: string, files: Record<string, string>): void {
  const path = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { files: Record<string, string> };
  Object.assign(manifest.files, files);
  writeFileSync(path, JSON.stringify(manifest));
}

function editJson(dir: string, file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(join(dir, file), JSON.stringify(json));
}

type ModelJsonEdit = {
  modelTopology: { config: { layers: { config: Record<string, unknown> }[] } };
  weightsManifest: unknown[];
};

function editModel(dir: string, edit: (m: ModelJsonEdit) => void): void {
  editJson(dir, 'model.json', (m) => edit(m as unknown as ModelJsonEdit));
}

async function problemsOf(dir: string): Promise<Problem[]> {
  let loaded;
  try {
    loaded = await loadBundle(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    return (e as BundleError).problems;
  }
  loaded.model.dispose();
  throw new Error(`expected ${dir} to be refused`);
}

const ANY_SHA = 'a'.repeat(64);

/**
 * Without the lstat check, reading a FIFO blocks the whole process until a writer comes. So that a loader that
 * does open it fails the test instead of hanging it, a writer comes after a few seconds (and is stopped after).
 */
async function withLateWriter<T>(fifo: string, run: () => Promise<T>): Promise<T> {
  const writer: ChildProcess = spawn('sh', ['-c', `sleep 3; echo written-late > "$1"`, 'sh', fifo], {
    stdio: 'ignore',
  });
  try {
    return await run();
  } finally {
    writer.kill();
  }
}

describe('a bundle holds regular files only', () => {
  it.runIf(posix)('a FIFO listed in manifest.json is refused at once, without being opened', async () => {
    const dir = broken((d) => {
      execFileSync('mkfifo', [join(d, 'notes.txt')]);
      listInManifest(d, { 'notes.txt': ANY_SHA });
    });
    const started = Date.now();
    const problems = await withLateWriter(join(dir, 'notes.txt'), () => problemsOf(dir));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'notes.txt',
        reason: 'not_regular_file',
        params: { file: 'notes.txt', kind: 'FIFO' },
      }),
    ]);
    expect(problems[0]!.message).toMatch(/is a FIFO, not a regular file/);
  });

  it.runIf(posix)('a FIFO in place of manifest.json is refused at once', async () => {
    const dir = broken((d) => {
      rmSync(join(d, 'manifest.json'));
      execFileSync('mkfifo', [join(d, 'manifest.json')]);
    });
    const started = Date.now();
    const problems = await withLateWriter(join(dir, 'manifest.json'), () => problemsOf(dir));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(problems).toEqual([
      expect.objectContaining({ field: 'manifest.json', reason: 'not_regular_file' }),
    ]);
  });

  it.runIf(posix)('a symbolic link listed in manifest.json is refused, even to a good file', async () => {
    const outside = join(fresh(), 'notes.txt');
    writeFileSync(outside, 'hello');
    const dir = broken((d) => {
      symlinkSync(outside, join(d, 'notes.txt'));
      listInManifest(d, { 'notes.txt': sha256('hello') });
    });
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'notes.txt',
        reason: 'not_regular_file',
        params: { file: 'notes.txt', kind: 'symbolic link' },
      }),
    ]);
  });

  it.runIf(posix)('a symbolic link to /dev/zero is refused without reading it', async () => {
    const dir = broken((d) => {
      symlinkSync('/dev/zero', join(d, 'notes.bin'));
      listInManifest(d, { 'notes.bin': ANY_SHA });
    });
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({ field: 'notes.bin', reason: 'not_regular_file' }),
    ]);
  });

  it.runIf(posix)('a symbolic link in place of schema.json is refused', async () => {
    const outside = join(fresh(), 'schema.json');
    cpSync(join(validDir(), 'schema.json'), outside);
    const dir = broken((d) => {
      rmSync(join(d, 'schema.json'));
      symlinkSync(outside, join(d, 'schema.json'));
    });
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({ field: 'schema.json', reason: 'not_regular_file' }),
    ]);
  });

  it.runIf(posix)('a symbolic link loop in the folder is an unlisted file, not a raw ELOOP', async () => {
    const dir = broken((d) => symlinkSync('.', join(d, 'loop')));
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({ field: 'loop', reason: 'file_not_listed' }),
    ]);
  });

  it.runIf(posix)('a listed link to itself is refused, not a raw ELOOP', async () => {
    const dir = broken((d) => {
      symlinkSync('self', join(d, 'self'));
      listInManifest(d, { self: ANY_SHA });
    });
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({ field: 'self', reason: 'not_regular_file' }),
    ]);
  });

  it('a directory listed as a file is refused, not a raw EISDIR', async () => {
    const dir = broken((d) => {
      mkdirSync(join(d, 'sub'));
      writeFileSync(join(d, 'sub', 'x.txt'), 'x');
      listInManifest(d, { sub: ANY_SHA, 'sub/x.txt': sha256('x') });
    });
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'sub',
        reason: 'not_regular_file',
        params: { file: 'sub', kind: 'directory' },
      }),
    ]);
  });

  it('paths out of the folder, or the folder itself, are listed files that are missing', async () => {
    const dir = broken((d) =>
      listInManifest(d, { '.': ANY_SHA, '../x.json': ANY_SHA, '/etc/hostname': ANY_SHA }),
    );
    const problems = await problemsOf(dir);
    expect(problems.map((p) => [p.field, p.reason])).toEqual([
      ['.', 'listed_file_missing'],
      ['../x.json', 'listed_file_missing'],
      ['/etc/hostname', 'listed_file_missing'],
    ]);
  });

  it.skipIf(!posix || root)('an unreadable file is refused naming it, not a raw EACCES', async () => {
    const dir = broken((d) => chmodSync(join(d, SHARD), 0o000));
    try {
      expect(await problemsOf(dir)).toEqual([
        expect.objectContaining({ field: SHARD, reason: 'file_unreadable' }),
      ]);
    } finally {
      chmodSync(join(dir, SHARD), 0o644);
    }
  });
});

describe('a bundle has a size cap, checked before anything is read', () => {
  // Sparse files: their size on disk is what counts, and they take no room.
  it('a file over the per-file cap is refused naming it', async () => {
    const size = MAX_FILE_BYTES + 1;
    const dir = broken((d) => {
      writeFileSync(join(d, 'big.bin'), '');
      truncateSync(join(d, 'big.bin'), size);
      listInManifest(d, { 'big.bin': ANY_SHA });
    });
    const started = Date.now();
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'big.bin',
        reason: 'file_too_large',
        params: { file: 'big.bin', size, limit: MAX_FILE_BYTES },
      }),
    ]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a 3 GiB file is refused naming it, not with "File size is greater than 2 GiB"', async () => {
    const dir = broken((d) => {
      writeFileSync(join(d, 'big.bin'), '');
      truncateSync(join(d, 'big.bin'), 3 * 1024 ** 3);
      listInManifest(d, { 'big.bin': ANY_SHA });
    });
    const problems = await problemsOf(dir);
    expect(problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'big.bin', reason: 'file_too_large' })]),
    );
  });

  it('files each under the cap but over the bundle cap together are refused', async () => {
    const each = Math.floor(MAX_BUNDLE_BYTES / 3) + 1024;
    const names = ['a.bin', 'b.bin', 'c.bin'];
    const dir = broken((d) => {
      for (const name of names) {
        writeFileSync(join(d, name), '');
        truncateSync(join(d, name), each);
      }
      listInManifest(d, Object.fromEntries(names.map((n) => [n, ANY_SHA])));
    });
    const started = Date.now();
    const problems = await problemsOf(dir);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'manifest.json: files',
        reason: 'bundle_too_large',
        params: { size: expect.any(Number) as number, limit: MAX_BUNDLE_BYTES },
      }),
    ]);
    expect(problems[0]!.params!.size).toBeGreaterThan(3 * each);
  });
});

describe('a folder with more entries than any bundle', () => {
  it('a bundle folder holding thousands of files (a home folder picked by mistake) is one problem, not a walk of it all', async () => {
    const dir = broken((d) => {
      // Spread over folders, as a real tree is: the walk must stop counting across them.
      for (let f = 0; f < 5; f++) {
        mkdirSync(join(d, `junk${f}`));
        for (let i = 0; i < MAX_BUNDLE_ENTRIES / 4; i++) writeFileSync(join(d, `junk${f}`, `${i}.txt`), '');
      }
    });
    const problems = await problemsOf(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ field: dir, reason: 'bundle_too_many_files' });
    expect(problems[0]!.params!.limit).toBe(MAX_BUNDLE_ENTRIES);
    expect(problems[0]!.params!.count).toBeGreaterThan(MAX_BUNDLE_ENTRIES);
    expect(problems[0]!.message).toMatch(/files and folders or more/);
  });

  it('a manifest listing more files than a bundle may hold is refused before the folder is walked', async () => {
    const many = Object.fromEntries(
      Array.from({ length: MAX_BUNDLE_ENTRIES + 1 }, (_, i) => [`shard${i}.bin`, ANY_SHA]),
    );
    const dir = broken((d) => listInManifest(d, many));
    const problems = await problemsOf(dir);
    // One problem, not thousands of "is listed in manifest.json but missing".
    expect(problems[0]?.params?.count).toBeGreaterThan(MAX_BUNDLE_ENTRIES);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'manifest.json: files',
        reason: 'bundle_too_many_files',
        params: { count: expect.any(Number) as number, limit: MAX_BUNDLE_ENTRIES },
      }),
    ]);
  });

  it('a bundle at the limit is still read', () => {
    const dir = broken((d) => {
      const existing = readdirSync(d, { recursive: true }).length;
      mkdirSync(join(d, 'extra'));
      // Every entry counts, folders too: `extra` and its files fill the bundle up to the limit exactly.
      for (let i = 0; i < MAX_BUNDLE_ENTRIES - existing - 1; i++)
        writeFileSync(join(d, 'extra', `${i}.txt`), '');
    });
    // Refused for its unlisted files, each named: the walk reached them all.
    expect(() => readBundle(dir)).toThrow(BundleError);
    let problems: Problem[] = [];
    try {
      readBundle(dir);
    } catch (e) {
      problems = (e as BundleError).problems;
    }
    expect(problems.every((p) => p.reason === 'file_not_listed')).toBe(true);
    expect(problems.length).toBeGreaterThan(MAX_BUNDLE_ENTRIES - 100);
  });
});

describe('model.json is validated field by field', () => {
  it('weightsManifest: [null] names the entry, not a TypeError', async () => {
    const dir = broken((d) => editModel(d, (m) => (m.weightsManifest = [null])), true);
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'model.json: weightsManifest[0]',
        reason: 'field_invalid',
        params: expect.objectContaining({ file: 'model.json', path: 'weightsManifest[0]' }) as object,
      }),
    ]);
  });

  it('a weightsManifest group without paths names the missing field', async () => {
    const dir = broken(
      (d) => editModel(d, (m) => delete (m.weightsManifest[0] as { paths?: unknown }).paths),
      true,
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'model.json: weightsManifest[0].paths',
        reason: 'field_missing',
        params: { file: 'model.json', path: 'weightsManifest[0].paths' },
      }),
    ]);
  });

  it('paths as a string, a shard out of the folder, a bad shape or dtype: each named', async () => {
    const dir = broken(
      (d) =>
        editModel(d, (m) => {
          const group = m.weightsManifest[0] as { weights: Record<string, unknown>[] };
          m.weightsManifest.push({ paths: 'group2.bin', weights: [] }, { paths: ['../x.bin'], weights: [] });
          group.weights[0]!.shape = [4, -1];
          group.weights[1]!.dtype = 'string';
        }),
      true,
    );
    expect((await problemsOf(dir)).map((p) => p.field)).toEqual([
      'model.json: weightsManifest[0].weights[0].shape[1]',
      'model.json: weightsManifest[0].weights[1].dtype',
      'model.json: weightsManifest[1].paths',
      'model.json: weightsManifest[2].paths[0]',
    ]);
  });

  it('a modelTopology that is not an object is named', async () => {
    const dir = broken((d) => editJson(d, 'model.json', (m) => (m.modelTopology = 'x')), true);
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({ field: 'model.json: modelTopology', reason: 'field_invalid' }),
    ]);
  });
});

describe('the weights are counted before TensorFlow.js allocates them', () => {
  it('a weightsManifest whose shapes do not fill the shards is refused', async () => {
    const dir = broken(
      (d) =>
        editModel(d, (m) => {
          (m.weightsManifest[0] as { weights: { shape: number[] }[] }).weights[0]!.shape = [5, 1];
        }),
      true,
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'model.json: weightsManifest',
        reason: 'weights_size_mismatch',
        params: { expected: 24, actual: 20 },
      }),
    ]);
  });

  it('a weightsManifest declaring more values than a bundle can hold is refused', async () => {
    const dir = broken(
      (d) =>
        editModel(d, (m) => {
          (m.weightsManifest[0] as { weights: { shape: number[] }[] }).weights[0]!.shape = [1e9, 1e9];
        }),
      true,
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({ field: 'model.json: weightsManifest', reason: 'weights_too_large' }),
    ]);
  });

  it('a layer of 5,000,000 units is refused before its weights are allocated', async () => {
    const dir = broken(
      (d) => editModel(d, (m) => (m.modelTopology.config.layers[0]!.config.units = 5_000_000)),
      true,
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'model.json: modelTopology',
        reason: 'topology_too_large',
        params: { layer: 'linear', shape: '[4, 5000000]', limit: 5 },
      }),
    ]);
  });

  it('bundles loading at the same time each keep their own count', async () => {
    const other = await writeTestBundle(
      fresh(),
      denseModel(4, [
        {
          activation: 'tanh',
          kernel: [
            [1, 2],
            [3, 4],
            [5, 6],
            [7, 8],
          ],
          bias: [0, 0],
        },
        { activation: 'sigmoid', kernel: [[1], [1]], bias: [0] },
      ]),
      makeSchema(identityFeatures(4), OUTPUTS.sigmoid),
    );
    const loaded = await Promise.all([loadBundle(validDir()), loadBundle(other), loadBundle(validDir())]);
    expect(loaded.map((l) => l.model.countParams())).toEqual([5, 13, 5]);
    loaded.forEach((l) => l.model.dispose());
    // Outside a load nothing is counted: a model of any size can still be built.
    const big = linearModel('sigmoid');
    expect(big.countParams()).toBe(5);
    big.dispose();
  });
});

describe('every encoded input and the predictions for them must be finite', () => {
  it('a scaler std below 1e-12 (5e-324 is positive) is refused', async () => {
    const dir = broken(
      (d) =>
        editJson(d, 'schema.json', (s) => {
          (s.features as { scaler: { std: number } }[])[0]!.scaler.std = 5e-324;
        }),
      true,
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'schema.json: features[0].scaler.std',
        reason: 'field_invalid',
      }),
    ]);
  });

  it("a feature's impute, range limits or baseline that encode past float32 are refused naming it", async () => {
    const features: FeatureInput[] = [
      numericFeature('income', { scaler: { mean: 0, std: 1e-12 }, impute: 0, range: { max: 1e30 } }),
      ...identityFeatures(3),
    ];
    const dir = await writeTestBundle(fresh(), linearModel('sigmoid'), makeSchema(features, OUTPUTS.sigmoid));
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'schema.json: features[0].scaler',
        code: 'not_finite',
        reason: 'encoding_not_finite',
        params: { feature: 'income', source: 'range.max', value: 1e30, encoded: '1e+42' },
      }),
    ]);
  });

  it('words a scaler that encodes past float32 in Chinese with no English fragment in it', async () => {
    const features: FeatureInput[] = [
      numericFeature('income', { scaler: { mean: 0, std: 1e-12 }, impute: 0, range: { max: 1e30 } }),
      ...identityFeatures(3),
    ];
    const dir = await writeTestBundle(fresh(), linearModel('sigmoid'), makeSchema(features, OUTPUTS.sigmoid));
    const [problem] = await problemsOf(dir);
    const zh = reasonText(problem!, (key, params) => translate('zh-CN', key, params))!;
    expect(zh).toContain('1e+42');
    expect(zh).toContain('超出');
    // Only the names a user finds in schema.json stay in Latin letters (not "(beyond float32)").
    expect(zh.replace(/income|range\.max|schema\.json|scaler/g, '')).not.toMatch(/[A-Za-z]{2,}/);
    const en = reasonText(problem!, (key, params) => translate('en', key, params))!;
    expect(en).toContain('encodes to 1e+42, past the float32 range');
  });

  /** A regression model that answers 1e38 · x0: Infinity in float32 for the baseline x0 = 10. */
  const overflowing = () =>
    writeTestBundle(
      fresh(),
      denseModel(4, [{ activation: 'linear', kernel: [[1e38], [0], [0], [0]], bias: [0] }]),
      makeSchema(identityFeatures(4), OUTPUTS.regression, { x0: 10 }),
    );
  const infiniteBaseline = [
    expect.objectContaining({
      field: 'model.json',
      code: 'not_finite',
      reason: 'prediction_not_finite',
      params: { input: 'baseline', value: 'Infinity' },
    }),
  ];

  it('a model that answers Infinity for the baseline is refused', async () => {
    expect(await problemsOf(await overflowing())).toEqual(infiniteBaseline);
  });

  it('the engine refuses it too, after its warm-up, and frees the model', async () => {
    const dir = await overflowing();
    const before = tf.memory().numTensors;
    const err = await Engine.load(dir, { backend: 'cpu' }).then(
      (e) => {
        e.dispose();
        return null;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BundleError);
    expect((err as BundleError).problems).toEqual(infiniteBaseline);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a model that overflows at a feature's range limit is refused naming that input", async () => {
    const features = [numericFeature('x0', { range: { max: 100 } }), ...identityFeatures(4).slice(1)];
    const dir = await writeTestBundle(
      fresh(),
      denseModel(4, [{ activation: 'linear', kernel: [[1e37], [0], [0], [0]], bias: [0] }]),
      makeSchema(features, OUTPUTS.regression),
    );
    // The baseline (x0 = 0) gives 0; x0 = 100 gives 1e39, past float32: Infinity.
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'model.json',
        reason: 'prediction_not_finite',
        params: { input: 'x0 = 100 (range.max)', value: 'Infinity' },
      }),
    ]);
  });
});

describe('the baseline must be an applicant the model takes', () => {
  it.each([
    [
      'a list where a number goes',
      (b: Record<string, unknown>) => (b.x1 = [1]),
      /^schema\.json: baseline\.x1$/,
    ],
    [
      'a number given as text',
      (b: Record<string, unknown>) => (b.x2 = 'two'),
      /^schema\.json: baseline\.x2$/,
    ],
  ])('%s is refused naming schema.json and the feature, before any engine starts', async (_, edit, field) => {
    const dir = broken(
      (d) => editJson(d, 'schema.json', (s) => edit(s.baseline as Record<string, unknown>)),
      true,
    );
    expect(() => readBundle(dir)).toThrow(BundleError);
    const problems = await problemsOf(dir);
    expect(problems.map((p) => p.field)).toEqual([expect.stringMatching(field)]);
  });
});

describe('a sigmoid or softmax output must come from that activation', () => {
  it('a sigmoid schema on a linear output is refused: -4.15 is no probability', async () => {
    const dir = await writeTestBundle(
      fresh(),
      denseModel(4, [{ name: 'out', activation: 'linear', kernel: [[1], [1], [1], [1]], bias: [0] }]),
      makeSchema(identityFeatures(4), OUTPUTS.sigmoid),
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'model.json: modelTopology',
        reason: 'output_activation_mismatch',
        params: { kind: 'sigmoid', activation: 'linear' },
      }),
    ]);
  });

  it('a softmax schema on sigmoid units is refused', async () => {
    const dir = await writeTestBundle(
      fresh(),
      denseModel(4, [
        {
          activation: 'sigmoid',
          kernel: [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
            [1, 1, 1],
          ],
          bias: [0, 0, 0],
        },
      ]),
      makeSchema(identityFeatures(4), OUTPUTS.softmax),
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        reason: 'output_activation_mismatch',
        params: { kind: 'softmax', activation: 'sigmoid' },
      }),
    ]);
  });

  it('an Activation layer, or a Dropout after the activation, counts', async () => {
    const sigmoid = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 1, inputShape: [4] }),
        tfl.layers.activation({ activation: 'sigmoid' }),
      ],
    });
    const softmax = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' }),
        tfl.layers.dropout({ rate: 0.5 }),
      ],
    });
    const dirs = [
      await writeTestBundle(fresh(), sigmoid, makeSchema(identityFeatures(4), OUTPUTS.sigmoid)),
      await writeTestBundle(fresh(), softmax, makeSchema(identityFeatures(4), OUTPUTS.softmax)),
    ];
    for (const dir of dirs) (await loadBundle(dir)).model.dispose();
  });

  it('model.json edited to make the last activation linear is refused, even resealed', async () => {
    const dir = broken(
      (d) =>
        editModel(d, (m) => {
          const layers = m.modelTopology.config.layers;
          layers.at(-1)!.config.activation = 'linear';
        }),
      true,
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({ reason: 'output_activation_mismatch' }),
    ]);
  });
});

describe('schema.json refuses values that could never be read as meant', () => {
  it('a string in both true_values and false_values (in any case) is refused', async () => {
    const features = [
      ...identityFeatures(3),
      booleanFeature('owns_home', { true_values: ['yes', 'true'], false_values: ['no', ' YES '] }),
    ];
    expect(() => makeSchema(features, OUTPUTS.sigmoid)).toThrow(
      /yes.* cannot be in both true_values and false_values/,
    );
    const dir = broken(
      (d) =>
        editJson(d, 'schema.json', (s) => {
          (s.features as unknown[])[3] = {
            ...booleanFeature('x3'),
            true_values: ['yes'],
            false_values: ['yes'],
          };
        }),
      true,
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'schema.json: features[3].false_values',
        reason: 'field_invalid',
        message: '"yes" cannot be in both true_values and false_values',
      }),
    ]);
  });

  it('an impute value outside the range is refused', async () => {
    const dir = broken(
      (d) =>
        editJson(d, 'schema.json', (s) => {
          const f = (s.features as Record<string, unknown>[])[0]!;
          f.range = { min: 0, max: 70 };
          f.impute = 1000;
        }),
      true,
    );
    expect(await problemsOf(dir)).toEqual([
      expect.objectContaining({
        field: 'schema.json: features[0].impute',
        reason: 'field_invalid',
        message: '1000 is outside range (0 to 70)',
      }),
    ]);
  });
});

describe('readBundle', () => {
  it('still reads the valid bundle, and its sha256 is that of manifest.json', () => {
    const files = readBundle(validDir());
    expect(files.sha256).toBe(sha256(readFileSync(join(validDir(), 'manifest.json'))));
  });
});

describe('weights read after the bundle was verified', () => {
  it('must still be the shards manifest.json lists: a shard changed in between is refused', async () => {
    const dir = broken(() => undefined);
    const files = readBundle(dir);
    // Same size, one byte different: what a bundle swapped in between the check and the load would give.
    const shard = readFileSync(join(dir, SHARD));
    shard[0] = shard[0]! ^ 0xff;
    writeFileSync(join(dir, SHARD), shard);
    let problems: Problem[] = [];
    try {
      (await loadBundleFiles(files)).model.dispose();
    } catch (e) {
      expect(e).toBeInstanceOf(BundleError);
      problems = (e as BundleError).problems;
    }
    expect(problems.map((p) => [p.field, p.reason])).toEqual([[SHARD, 'sha256_mismatch']]);
    // Read whole again, the folder is refused the same way at the check.
    expect((await problemsOf(dir)).map((p) => p.reason)).toEqual(['sha256_mismatch']);
  });
});
