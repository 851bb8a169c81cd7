import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type * as tfl from '@tensorflow/tfjs-layers';
import { bundleSchemaSchema } from '../../shared/bundle.js';
import { writeBundle } from '../../main/core/bundle/write.js';
import { Preprocessor } from '../../main/core/preprocess.js';
import { CREDIT_FEATURES } from '../../scripts/lib/credit-features.js';
import { headOf, parseCreditCsv, readCreditData } from '../../scripts/lib/credit-data.js';
import { CREDIT_OUTPUT, fitSchema, median, mode } from '../../scripts/lib/fit-schema.js';
import { accuracy, logLoss, rocAuc } from '../../scripts/lib/metrics.js';
import { mulberry32, stratifiedSplit } from '../../scripts/lib/random.js';
import { demoManifest, trainCreditModel, type TrainedCreditModel } from '../../scripts/train-demo.js';

const tmp = mkdtempSync(join(tmpdir(), 'branchlens-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function weightsDigest(model: tfl.LayersModel): string {
  const hash = createHash('sha256');
  for (const w of model.getWeights()) {
    const values = w.dataSync() as Float32Array;
    hash.update(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}

describe('held-out metrics', () => {
  it('AUC is the share of (positive, negative) pairs ranked right, ties counting half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
    expect(rocAuc([0.3, 0.5, 0.5, 0.7], [0, 1, 0, 1])).toBe(0.875);
  });

  it('AUC refuses labels of a single class', () => {
    expect(() => rocAuc([0.2, 0.4], [1, 1])).toThrow(/both classes/);
  });

  it('accuracy thresholds at 0.5 and log loss is the mean cross-entropy', () => {
    expect(accuracy([0.6, 0.4, 0.5, 0.1], [1, 1, 1, 0])).toBe(0.75);
    expect(logLoss([0.8, 0.25], [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.75)) / 2, 12);
  });
});

describe('seeded split', () => {
  const labels = Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? 0 : 1));

  it('holds out a fifth of each class, disjoint from the training rows', () => {
    const { train, test } = stratifiedSplit(labels, 0.2, mulberry32(1));
    expect(test).toHaveLength(200);
    expect(test.filter((i) => labels[i] === 0)).toHaveLength(50);
    expect(new Set([...train, ...test]).size).toBe(1000);
  });

  it('the same seed gives the same split, another seed another', () => {
    const a = stratifiedSplit(labels, 0.2, mulberry32(1));
    expect(stratifiedSplit(labels, 0.2, mulberry32(1))).toEqual(a);
    expect(stratifiedSplit(labels, 0.2, mulberry32(2)).test).not.toEqual(a.test);
  });
});

describe('fitted schema', () => {
  const csv = [
    'Status,Seniority,Home,Time,Records,Job,Expenses,Income,Assets,Debt,Amount,Price',
    'good,1,owner,12,no,fixed,40,100,0,0,500,600',
    'bad,3,rent,24,yes,fixed,50,,1000,0,700,800',
    'good,10,owner,36,no,partime,60,300,2000,100,900,1000',
    'good,20,,48,no,,70,200,,0,1100,1200',
  ].join('\n');
  const data = parseCreditCsv(csv);
  const schema = fitSchema(CREDIT_FEATURES, CREDIT_OUTPUT, data.applicants);

  it('imputes numbers with the training median and categories with the training mode', () => {
    const byName = new Map(schema.features.map((f) => [f.name, f]));
    expect(byName.get('Income')?.impute).toBe(200);
    expect(byName.get('Seniority')?.impute).toBe(7); // median of 1, 3, 10, 20 is 6.5, rounded: Seniority is whole years
    expect(byName.get('Home')?.impute).toBe('owner');
    expect(byName.get('Job')?.impute).toBe('fixed');
    expect(byName.get('Records')?.impute).toBe(false);
    expect(schema.baseline).toMatchObject({ Income: 200, Home: 'owner', Records: false });
  });

  it('standardises with the training mean and population standard deviation', () => {
    const time = schema.features.find((f) => f.name === 'Time');
    expect(time?.type === 'numeric' && time.scaler).toEqual({
      mean: 30,
      std: Number(Math.sqrt(180).toPrecision(6)),
    });
  });

  it('leaves out Age and Marital and passes the bundle schema validation', () => {
    expect(bundleSchemaSchema.safeParse(schema).success).toBe(true);
    expect(schema.features.map((f) => f.name)).not.toContain('Age');
    expect(schema.features.map((f) => f.name)).not.toContain('Marital');
  });

  it('requires exactly the features the credit data never lacks; the rest are imputed as in training', () => {
    const { applicants } = readCreditData();
    const neverMissing = CREDIT_FEATURES.map((f) => f.name).filter((name) =>
      applicants.every((a) => (a[name] ?? '').trim() !== ''),
    );
    expect(CREDIT_FEATURES.filter((f) => f.required).map((f) => f.name)).toEqual(neverMissing);
    expect(neverMissing).toEqual(expect.arrayContaining(['Amount', 'Price', 'Time']));
    expect(neverMissing).not.toContain('Income');
  });

  it('reports a CSV without a needed column by name', () => {
    expect(() => parseCreditCsv('Status,Seniority\ngood,1\n')).toThrow(/missing column\(s\) Home/);
  });

  it('median and mode', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mode(['b', 'a', 'b'], ['a', 'b'])).toBe('b');
    expect(mode(['b', 'a'], ['a', 'b'])).toBe('a');
  });
});

describe('training', () => {
  const subset = headOf(readCreditData(), 400);
  const quick = { epochs: 3, batchSize: 32 };
  const runs: TrainedCreditModel[] = [];
  afterAll(() => runs.forEach((r) => r.model.dispose()));
  const train = async (seed?: number) => {
    const run = await trainCreditModel(subset, seed === undefined ? quick : { ...quick, seed });
    runs.push(run);
    return run;
  };

  it('is seeded: two runs give bit-identical weights and byte-identical bundles', async () => {
    const [a, b] = [await train(), await train()];
    expect(weightsDigest(b.model)).toBe(weightsDigest(a.model));
    expect(b.schema).toEqual(a.schema);
    expect(b.metrics).toEqual(a.metrics);

    const dirs = [join(tmp, 'a'), join(tmp, 'b')];
    for (const [k, run] of [a, b].entries()) {
      await writeBundle(dirs[k]!, run.model, run.schema, demoManifest(run, 400, '2025-01-01T00:00:00Z'));
    }
    const files = readdirSync(dirs[0]!).sort();
    expect(files).toEqual(['group1-shard1of1.bin', 'manifest.json', 'model.json', 'schema.json']);
    expect(readdirSync(dirs[1]!).sort()).toEqual(files);
    for (const file of files) {
      expect(readFileSync(join(dirs[1]!, file)).equals(readFileSync(join(dirs[0]!, file))), file).toBe(true);
    }
  });

  it('another seed gives other weights', async () => {
    const [a, c] = [runs[0] ?? (await train()), await train(7)];
    expect(weightsDigest(c.model)).not.toBe(weightsDigest(a.model));
  });

  it('trains on the Preprocessor encoding of the schema it ships', async () => {
    const run = runs[0] ?? (await train());
    const preprocessor = new Preprocessor(run.schema);
    const i = run.split.test[0]!;
    expect(run.holdout[0]!.vector).toEqual(preprocessor.encode(subset.applicants[i]).vector);
    expect(run.model.inputs[0]?.shape).toEqual([null, preprocessor.width]);
  });
});
