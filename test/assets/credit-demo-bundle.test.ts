import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleSchemaSchema, type RawApplicant } from '../../shared/bundle.js';
import { loadBundle, readBundle, type LoadedBundle } from '../../main/core/bundle/load.js';
import { Preprocessor } from '../../main/core/preprocess.js';
import { initBackend } from '../../main/core/tf/backend.js';
import { accuracy, rocAuc } from '../../scripts/lib/metrics.js';
import { predict } from '../../scripts/train-demo.js';

const BUNDLE = fileURLToPath(new URL('../../assets/models/credit-demo', import.meta.url));
const HOLDOUT = fileURLToPath(new URL('../../assets/data/holdout.json', import.meta.url));
const INPUTS = [
  'Seniority',
  'Home',
  'Time',
  'Records',
  'Job',
  'Expenses',
  'Income',
  'Assets',
  'Debt',
  'Amount',
  'Price',
];

const files = readBundle(BUNDLE);
const { schema, manifest } = files;
const holdout = JSON.parse(readFileSync(HOLDOUT, 'utf8')) as RawApplicant[];

describe('the shipped demo bundle', () => {
  it('passes the loader: every file pinned by its sha256, schema.json valid', () => {
    expect(Object.keys(manifest.files).sort()).toEqual([
      'group1-shard1of1.bin',
      'model.json',
      'reference.json',
      'schema.json',
    ]);
    const raw: unknown = JSON.parse(readFileSync(`${BUNDLE}/schema.json`, 'utf8'));
    const parsed = bundleSchemaSchema.safeParse(raw);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(files.modelJson.format).toBe('layers-model');
  });

  it('takes the eleven non-protected inputs in order, without Age or Marital', () => {
    expect(schema.features.map((f) => f.name)).toEqual(INPUTS);
    expect(schema.features.filter((f) => f.sensitive).map((f) => f.name)).toEqual(['Income', 'Assets']);
    expect(schema.features.filter((f) => f.required).map((f) => f.name)).toEqual([
      'Seniority',
      'Time',
      'Records',
      'Expenses',
      'Amount',
      'Price',
    ]);
  });

  it('explains P(good), the approval probability', () => {
    expect(schema.output).toEqual({
      kind: 'sigmoid',
      classes: ['bad', 'good'],
      explain_class: 'good',
      threshold: 0.5,
      label: { 'zh-CN': '通过率', en: 'Approval probability' },
    });
  });

  it('labels and words every feature in zh-CN and en', () => {
    for (const f of schema.features) {
      for (const text of [f.label, f.templates.positive, f.templates.negative, f.templates.neutral]) {
        expect(text?.['zh-CN'], f.name).toBeTruthy();
        expect(text?.en, f.name).toBeTruthy();
      }
      expect(f.templates.neutral?.['zh-CN'], f.name).toContain('{label}');
      if (f.type === 'categorical')
        expect(Object.keys(f.category_labels ?? {}).sort()).toEqual([...f.categories].sort());
      if (f.type === 'numeric') {
        expect(f.range?.min, f.name).toBeGreaterThanOrEqual(0);
        expect(f.range?.max, f.name).toBeGreaterThan(f.impute);
        expect(f.integer, f.name).toBe(true);
        expect(f.unit?.['zh-CN'], f.name).toBeTruthy();
      }
    }
  });

  it('has the typical applicant (training medians and modes) as its baseline', () => {
    expect(Object.keys(schema.baseline)).toEqual(INPUTS);
    for (const f of schema.features) expect(schema.baseline[f.name], f.name).toBe(f.impute);
    expect(new Preprocessor(schema).encode(schema.baseline).imputed).toEqual([]);
  });

  it('ships at least 200 labelled held-out applicants, all valid model input', () => {
    expect(holdout.length).toBe(manifest.metrics.holdout_rows);
    expect(holdout.length).toBeGreaterThanOrEqual(200);
    const preprocessor = new Preprocessor(schema);
    for (const [i, { Status, ...applicant }] of holdout.entries()) {
      expect(['good', 'bad'], `row ${i}`).toContain(Status);
      expect(() => preprocessor.encode(applicant, `[${i}].`)).not.toThrow();
    }
  });
});

describe('the shipped demo model', () => {
  let bundle: LoadedBundle;
  beforeAll(async () => {
    await initBackend('cpu');
    bundle = await loadBundle(BUNDLE);
  });
  afterAll(() => bundle?.model.dispose());

  it('reaches an AUC of at least 0.75, and the manifest metrics reproduce from holdout.json', () => {
    const preprocessor = new Preprocessor(schema);
    const labels = holdout.map((r) => (r.Status === 'good' ? 1 : 0));
    const scores = predict(
      bundle.model,
      holdout.map(({ Status: _label, ...applicant }) => preprocessor.encode(applicant).vector),
    );
    expect(manifest.metrics.auc).toBeGreaterThanOrEqual(0.75);
    expect(rocAuc(scores, labels)).toBeCloseTo(manifest.metrics.auc!, 4);
    expect(accuracy(scores, labels)).toBeCloseTo(manifest.metrics.accuracy!, 4);
  });
});
