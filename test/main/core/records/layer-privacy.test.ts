// Layer attribution on a model with sensitive features (the demo model: Income and Assets) must not put the
// layer's activations anywhere: from the first layer's inputs (the scaled model inputs) or any layer's
// activations and the bundle's public weights, the sensitive values are recovered. The units' attributions stay;
// units that are the model's inputs themselves (the first layer's inputs) are refused, naming `layer`.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleSchema } from '../../../../shared/bundle.js';
import { isInputError } from '../../../../shared/problems.js';
import { explanationDocumentSchema, type ExplanationDocument } from '../../../../shared/explanation.js';
import { sealBundle, type ManifestFields } from '../../../../main/core/bundle/write.js';
import { dbPath } from '../../../../main/core/db/open.js';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../../../main/core/engine.js';
import { refuseInputUnits } from '../../../../main/core/records/answer.js';
import { fixPrecision } from '../../../../main/core/records/watermark.js';
import { BranchLensService } from '../../../../main/core/service.js';
import { ensureBackend, makeSchema, numericFeature } from '../../../helpers/bundles.js';
import {
  DEMO_BUNDLE,
  copyDemoBundle,
  expectInputError,
  expectSuccess,
  readSample,
  removeDir,
  runCli,
  tempDir,
} from '../../cli/helpers.js';

/** Distinctive values, as masking.test.ts uses: nothing else in the outputs is written this way. */
const SENSITIVE_VALUES = { Income: 18765, Assets: 45678 };
const applicant = { ...readSample<Record<string, unknown>>('sample-1.json'), ...SENSITIVE_VALUES };

/** A value written as a number of its own: not digits inside a longer number, a hex hash or a float. */
const asNumber = (value: number) => new RegExp(`(?<![0-9A-Za-z.])${value}(?![0-9A-Za-z])`);

/**
 * How a document writes `v` (12 significant digits), and its first 8 significant digits, as text; nothing for a
 * number too round to be told apart (a saturated tanh unit's 1).
 */
function writings(v: number): string[] {
  const text = String(fixPrecision(v));
  if (/e/i.test(text) || text.replace(/^[-0.]+/, '').replace('.', '').length < 8) return [];
  const first = text.search(/[1-9]/);
  return [text, text.slice(0, first + 8)];
}

let data: string;
let work: string;
let schema: BundleSchema;
/** Numbers that must appear nowhere, with what they are. */
const secrets: [string, string][] = [];
/** What left the service or the CLI, by where. */
const outputs = new Map<string, Buffer>();
const served: { name: string; doc: ExplanationDocument }[] = [];

/** The layer options explained (none of them the model's inputs). */
const LAYERS = [
  ['hidden_1 outputs', { layer: 'hidden_1' }],
  ['hidden_2 inputs (hidden_1 outputs)', { layer: 'hidden_2', attribute_to_layer_inputs: true }],
  ['hidden_2 outputs, by index', { layer: 1 }],
] as const;

beforeAll(async () => {
  data = tempDir('branchlens-layer-privacy-');
  work = tempDir('branchlens-layer-privacy-files-');
  const service = await BranchLensService.open({ dataDir: data, backend: 'cpu' });
  try {
    schema = service.schema;
    for (const [name, options] of LAYERS) {
      const [doc] = await service.explain([applicant], { ...options, top_k: 0, detail: true, locale: 'en' });
      served.push({ name: `service, ${name}`, doc: doc! });
      outputs.set(`service, ${name}`, Buffer.from(JSON.stringify(doc)));
    }
    // The same, answered from the cache: the stored document is what is served again.
    const [again] = await service.explain([applicant], {
      layer: 'hidden_1',
      top_k: 0,
      detail: true,
      locale: 'en',
    });
    expect(again!.meta.cache).toBe('memory');
    served.push({ name: 'service, cache hit', doc: again! });
  } finally {
    await service.close();
  }
  for (const args of [
    ['--layer', 'hidden_1'],
    ['--layer', 'hidden_2', '--layer-inputs'],
  ]) {
    const run = await runCli(
      ['explain', '--data', data, '--input', '-', '--detail', '--top-k', '0', '--backend', 'cpu', ...args],
      JSON.stringify(applicant),
    );
    expectSuccess(run);
    const name = `cli ${args.join(' ')}`;
    outputs.set(name, Buffer.from(run.stdout));
    served.push({ name, doc: explanationDocumentSchema.parse(JSON.parse(run.stdout)) });
  }
  // The numbers a leaking document held: the scaled Income and Assets (the first layer's inputs), and the
  // activations of both hidden layers for this applicant (as the engine computes them, on the same backend).
  for (const name of ['Income', 'Assets'] as const) {
    const feature = schema.features.find((f) => f.name === name)!;
    const scaler = (feature as { scaler: { mean: number; std: number } }).scaler;
    const z = (SENSITIVE_VALUES[name] - scaler.mean) / scaler.std;
    for (const text of writings(z)) secrets.push([text, `scaled ${name}`]);
  }
  const engine = await Engine.load(DEMO_BUNDLE, { backend: 'cpu' });
  try {
    for (const [layer, toInputs] of [
      ['hidden_1', true],
      ['hidden_1', false],
      ['hidden_2', false],
    ] as const) {
      const [ex] = engine.explain([applicant], { ...DEFAULT_EXPLAIN_OPTIONS, layer: { layer, toInputs } });
      ex!.detail.inputs.forEach((v, k) => {
        for (const text of writings(v)) secrets.push([text, `${layer}[${k}] activation`]);
      });
    }
  } finally {
    engine.dispose();
  }
});
afterAll(() => {
  removeDir(data);
  removeDir(work);
});

describe('layer attribution on a model with sensitive features', () => {
  it('shows no unit value and no layer activations in --detail; the units’ attributions stay', () => {
    expect(served).toHaveLength(LAYERS.length + 3);
    for (const { name, doc } of served) {
      expect(doc.meta.explanation.params.layer, name).toBeDefined();
      expect(doc.attributions.length, name).toBeGreaterThan(0);
      for (const a of doc.attributions) {
        expect(a.feature, name).toMatch(/^(hidden_[12]|1)\[\d+\]$/);
        expect(a.value, `${name}: ${a.feature}`).toBeNull();
        expect(a).not.toHaveProperty('masked');
      }
      expect(
        doc.attributions.some((a) => a.attribution !== 0),
        name,
      ).toBe(true);
      const d = doc.detail!;
      expect(d.names).toHaveLength(doc.attributions.length);
      expect(
        d.inputs.every((v) => v === null),
        name,
      ).toBe(true);
      expect(
        d.baseline.every((v) => v === null),
        name,
      ).toBe(true);
      expect(d.inputs).toHaveLength(d.names.length);
      expect(d.baseline).toHaveLength(d.names.length);
      // The attributions stay, and still complete.
      const sum = d.attributions_raw.reduce((s, v) => s + v, 0);
      expect(Math.abs(sum - doc.completeness.sum), name).toBeLessThan(1e-9);
    }
  });

  it('the search finds what a leaking document would hold', () => {
    // Both sensitive features' scaled values and every hidden unit's activation are searched for.
    expect(secrets.filter(([, what]) => what.startsWith('scaled'))).toHaveLength(4);
    expect(secrets.filter(([, what]) => what.startsWith('hidden_1[')).length).toBeGreaterThan(10);
    expect(secrets.filter(([, what]) => what.startsWith('hidden_2[')).length).toBeGreaterThan(3);
    // And it does find numbers that are there: an attribution of a served document.
    const shown = String(served[0]!.doc.attributions[0]!.attribution);
    expect(outputs.get(`service, ${LAYERS[0][0]}`)!.includes(shown)).toBe(true);
  });

  it('no document, --detail output or data-dir file (the cache table included) holds a sensitive value', () => {
    const raw = new Database(dbPath(data), { readonly: true });
    let cached: string[];
    try {
      cached = (raw.prepare('SELECT document FROM explanation_cache').all() as { document: string }[]).map(
        (r) => r.document,
      );
    } finally {
      raw.close();
    }
    // Every layer answer was cached on disk (the CLI's hit the service's entries or added its own).
    expect(cached.length).toBeGreaterThanOrEqual(LAYERS.length);
    for (const text of cached) {
      const doc = JSON.parse(text) as ExplanationDocument;
      expect(doc.attributions.every((a) => a.value === null)).toBe(true);
      expect(doc.detail!.inputs.every((v) => v === null)).toBe(true);
    }
    const sources = new Map(outputs);
    cached.forEach((text, i) => sources.set(`explanation_cache row ${i}`, Buffer.from(text)));
    const walk = (dir: string, label: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== 'models') walk(path, `${label}/${entry.name}`);
        } else sources.set(`${label}/${entry.name}`, readFileSync(path));
      }
    };
    walk(data, 'data');
    expect([...sources.keys()].some((k) => k.endsWith('branchlens.db'))).toBe(true);
    const leaks: string[] = [];
    for (const [source, bytes] of sources) {
      const text = bytes.toString('latin1');
      for (const [name, value] of Object.entries(SENSITIVE_VALUES)) {
        if (asNumber(value).test(text)) leaks.push(`${source}: ${name} (${value})`);
      }
      for (const [secret, what] of secrets) {
        if (text.includes(secret)) leaks.push(`${source}: ${what} (${secret})`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it.each([
    ['the first layer’s inputs, by name', { layer: 'hidden_1', attribute_to_layer_inputs: true }],
    ['the first layer’s inputs, by index', { layer: 0, attribute_to_layer_inputs: true }],
  ])('refuses %s (the features themselves), naming layer', async (_, options) => {
    const dir = tempDir('branchlens-layer-refused-');
    try {
      const service = await BranchLensService.open({ dataDir: dir, backend: 'cpu' });
      try {
        const error = await service.explain([applicant], { ...options, detail: true }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isInputError(error)).toBe(true);
        const problems = (error as { problems: { field: string; message: string }[] }).problems;
        expect(problems.map((p) => p.field)).toEqual(['layer']);
        expect(problems[0]!.message).toMatch(/inputs of layer "hidden_1" are the model's inputs/);
        expect(problems[0]!.message).toMatch(/sensitive/);
      } finally {
        await service.close();
      }
    } finally {
      removeDir(dir);
    }
  });

  it('the CLI refuses --layer hidden_1 --layer-inputs the same way (exit 2, naming --layer)', async () => {
    const dir = tempDir('branchlens-layer-refused-cli-');
    try {
      const run = await runCli(
        ['explain', '--data', dir, '--input', '-', '--detail', '--layer', 'hidden_1', '--layer-inputs'],
        JSON.stringify(applicant),
      );
      const stderr = expectInputError(run);
      expect(stderr).toMatch(/- --layer: the inputs of layer "hidden_1" are the model's inputs/);
      expect(stderr).not.toMatch(/18765|45678/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('layer attribution on a model without sensitive features', () => {
  it('keeps the units’ values and detail, and attributes to the first layer’s inputs', async () => {
    const bundle = copyDemoBundle(join(work, 'no-sensitive'));
    const raw = JSON.parse(readFileSync(join(bundle, 'schema.json'), 'utf8')) as {
      features: { sensitive?: boolean }[];
    };
    for (const f of raw.features) delete f.sensitive;
    writeFileSync(join(bundle, 'schema.json'), JSON.stringify(raw, null, 2) + '\n');
    const { files: _files, ...manifest } = JSON.parse(
      readFileSync(join(bundle, 'manifest.json'), 'utf8'),
    ) as {
      files: unknown;
    } & ManifestFields;
    sealBundle(bundle, manifest);
    const dir = tempDir('branchlens-layer-open-');
    try {
      const service = await BranchLensService.open({ dataDir: dir, modelDir: bundle, backend: 'cpu' });
      try {
        const [doc] = await service.explain([applicant], {
          layer: 'hidden_1',
          attribute_to_layer_inputs: true,
          top_k: 0,
          detail: true,
        });
        expect(doc!.attributions.every((a) => typeof a.value === 'number')).toBe(true);
        expect(doc!.detail!.inputs.every((v) => typeof v === 'number')).toBe(true);
      } finally {
        await service.close();
      }
    } finally {
      removeDir(dir);
    }
  });
});

describe('refuseInputUnits', () => {
  const sensitive: BundleSchema = makeSchema(
    [numericFeature('a'), numericFeature('b', { sensitive: true })],
    { kind: 'regression' },
  );
  const open: BundleSchema = makeSchema([numericFeature('a'), numericFeature('b')], { kind: 'regression' });

  it('refuses units no Dense layer comes before (a Dropout’s outputs, an Activation’s inputs)', async () => {
    await ensureBackend();
    const model = tfl.sequential({
      layers: [
        tfl.layers.dropout({ rate: 0.1, inputShape: [2], name: 'drop' }),
        tfl.layers.activation({ activation: 'tanh', name: 'act' }),
        tfl.layers.dense({ units: 3, activation: 'tanh', name: 'dense_a' }),
        tfl.layers.dense({ units: 1, name: 'dense_b' }),
      ],
    });
    try {
      const base = { ...DEFAULT_EXPLAIN_OPTIONS };
      const refused = (layer: string | number, toInputs: boolean) => () =>
        refuseInputUnits(model, sensitive, { ...base, layer: { layer, toInputs } });
      for (const [layer, toInputs] of [
        ['drop', true],
        ['drop', false],
        ['act', false],
        ['dense_a', true],
        [0, false],
      ] as const) {
        expect(refused(layer, toInputs), `${layer} ${toInputs}`).toThrow(/the model's inputs/);
      }
      for (const [layer, toInputs] of [
        ['dense_a', false],
        ['dense_b', true],
        ['dense_b', false],
      ] as const) {
        expect(refused(layer, toInputs), `${layer} ${toInputs}`).not.toThrow();
      }
      // Without a sensitive feature, or without a layer, nothing is refused; a layer the model lacks is the
      // engine's to report.
      expect(() =>
        refuseInputUnits(model, open, { ...base, layer: { layer: 'drop', toInputs: true } }),
      ).not.toThrow();
      expect(() => refuseInputUnits(model, sensitive, base)).not.toThrow();
      expect(refused('nope', true)).not.toThrow();
    } finally {
      model.dispose();
    }
  });
});
