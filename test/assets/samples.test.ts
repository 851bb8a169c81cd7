import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawApplicant } from '../../shared/bundle.js';
import { loadBundle, readBundle, type LoadedBundle } from '../../main/core/bundle/load.js';
import { Preprocessor } from '../../main/core/preprocess.js';
import { initBackend } from '../../main/core/tf/backend.js';
import { predict } from '../../scripts/train-demo.js';

const SAMPLES = fileURLToPath(new URL('../../assets/samples', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../assets/models/credit-demo', import.meta.url));

const read = (name: string): unknown => JSON.parse(readFileSync(`${SAMPLES}/${name}`, 'utf8'));
const applicants = read('applicants.json') as RawApplicant[];
const preprocessor = new Preprocessor(readBundle(BUNDLE).schema);

describe('demo samples', () => {
  it('are three to five applicants without a label, all valid model input', () => {
    expect(applicants.length).toBeGreaterThanOrEqual(3);
    expect(applicants.length).toBeLessThanOrEqual(5);
    for (const [i, applicant] of applicants.entries()) {
      expect(applicant, `sample ${i + 1}`).not.toHaveProperty('Status');
      expect(() => preprocessor.encode(applicant, `sample-${i + 1}.`)).not.toThrow();
    }
  });

  it('ship one file per applicant, sample-1.json first', () => {
    const files = readdirSync(SAMPLES).filter((f) => /^sample-\d+\.json$/.test(f));
    expect(files).toHaveLength(applicants.length);
    applicants.forEach((a, i) => expect(read(`sample-${i + 1}.json`)).toEqual(a));
  });

  it('applicants.csv holds the same applicants, a missing value as an empty cell', () => {
    const rows = parse(readFileSync(`${SAMPLES}/applicants.csv`, 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    expect(Object.keys(rows[0]!)).toEqual(preprocessor.schema.features.map((f) => f.name));
    // What the model reads of each: the applicant as given keeps the file's text ("1500", an empty cell).
    const read = (r: unknown) => {
      const { applicant: _given, ...model } = preprocessor.encode(r);
      return model;
    };
    expect(rows.map(read)).toEqual(applicants.map(read));
  });

  it('include an applicant whose Income is missing and imputed', () => {
    const missing = applicants.filter((a) => !('Income' in a));
    expect(missing).toHaveLength(1);
    expect(preprocessor.encode(missing[0]).imputed).toEqual(['Income']);
  });

  describe('scored by the shipped model', () => {
    let bundle: LoadedBundle;
    let scores: number[];
    beforeAll(async () => {
      await initBackend('cpu');
      bundle = await loadBundle(BUNDLE);
      scores = predict(
        bundle.model,
        applicants.map((a) => preprocessor.encode(a).vector),
      );
    });
    afterAll(() => bundle?.model.dispose());

    it('include a clearly strong and a clearly weak applicant', () => {
      expect(Math.max(...scores)).toBeGreaterThan(0.9);
      expect(Math.min(...scores)).toBeLessThan(0.2);
    });

    it('start with a borderline applicant, the one `branchlens explain` shows by default', () => {
      expect(scores[0]).toBeGreaterThan(0.4);
      expect(scores[0]).toBeLessThan(0.8);
    });
  });
});
