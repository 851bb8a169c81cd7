import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputColumns } from '../../../../shared/bundle.js';
import { aggregateByFeature } from '../../../../main/core/ig/aggregate.js';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../../../main/core/engine.js';
import {
  CREDIT_APPLICANTS,
  CREDIT_FEATURES,
  creditBundle,
  makeSchema,
  OUTPUTS,
  removeDir,
  tempDir,
} from '../../../helpers/bundles.js';

const columns = inputColumns(makeSchema(CREDIT_FEATURES, OUTPUTS.sigmoid));

describe('aggregateByFeature', () => {
  it("sums a categorical feature's one-hot group back into the feature", () => {
    // income, age, purpose=car, purpose=home, purpose=education, owns_home
    const byFeature = aggregateByFeature(columns, [0.5, -0.25, 0.125, -1, 2, 0.75]);
    expect([...byFeature]).toEqual([
      ['income', 0.5],
      ['age', -0.25],
      ['purpose', 0.125 - 1 + 2],
      ['owns_home', 0.75],
    ]);
  });

  it('keeps the schema order of the features', () => {
    expect([...aggregateByFeature(columns, new Float64Array(6)).keys()]).toEqual([
      'income',
      'age',
      'purpose',
      'owns_home',
    ]);
  });

  it('refuses attributions that do not match the columns', () => {
    expect(() => aggregateByFeature(columns, [1, 2, 3])).toThrow(/expected 6 attributions, got 3/);
  });
});

describe('through the engine', () => {
  let dir: string;
  let engine: Engine;

  beforeAll(async () => {
    dir = await creditBundle(tempDir());
    engine = await Engine.load(dir, { backend: 'cpu' });
  });
  afterAll(() => {
    engine.dispose();
    removeDir(dir);
  });

  it("the raw attributions of a categorical's columns sum to its feature attribution", () => {
    const explanations = engine.explain(CREDIT_APPLICANTS, { ...DEFAULT_EXPLAIN_OPTIONS, nSteps: 20 });
    expect(explanations).toHaveLength(CREDIT_APPLICANTS.length);
    for (const e of explanations) {
      expect(e.detail.names).toEqual(columns.map((c) => c.name));
      const raw = (name: string) => e.detail.attributions_raw[e.detail.names.indexOf(name)]!;
      const feature = (name: string) => e.attributions.find((a) => a.feature === name)!;
      expect(e.attributions.map((a) => a.feature)).toEqual(['income', 'age', 'purpose', 'owns_home']);

      const purpose = raw('purpose=car') + raw('purpose=home') + raw('purpose=education');
      expect(feature('purpose').attribution).toBeCloseTo(purpose, 12);
      expect(feature('income').attribution).toBeCloseTo(raw('income'), 14);
      expect(feature('owns_home').attribution).toBeCloseTo(raw('owns_home'), 14);
      // The applicant's purpose differs from the baseline's, so its group carries a nonzero attribution.
      if (e.values.purpose !== 'car') expect(Math.abs(purpose)).toBeGreaterThan(1e-6);
      expect(e.completeness.sum).toBeCloseTo(
        e.detail.attributions_raw.reduce((a, b) => a + b, 0),
        12,
      );
    }
  });
});
