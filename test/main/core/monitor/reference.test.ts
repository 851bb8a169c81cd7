import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { attributionReferenceSchema, type AttributionReference } from '../../../../shared/monitoring.js';
import { BundleError, readBundle } from '../../../../main/core/bundle/load.js';
import { sealBundle, type ManifestFields } from '../../../../main/core/bundle/write.js';
import {
  buildReference,
  comparableToReference,
  readReference,
} from '../../../../main/core/monitor/reference.js';
import { EXPLAINER_VERSION } from '../../../../main/core/engine.js';
import { computeReference } from '../../../../scripts/lib/reference.js';
import { readCreditData } from '../../../../scripts/lib/credit-data.js';
import { mulberry32, stratifiedSplit } from '../../../../scripts/lib/random.js';
import { DEFAULT_TRAIN_OPTIONS } from '../../../../scripts/train-demo.js';
import type { Problem } from '../../../../shared/problems.js';
import { linearBundle, removeDir, tempDir } from '../../../helpers/bundles.js';

const DEMO = fileURLToPath(new URL('../../../../assets/models/credit-demo', import.meta.url));

describe('the demo bundle’s reference.json', () => {
  const bundle = readBundle(DEMO);
  const reference = readReference(bundle)!;

  it('is listed in the manifest, valid, and in schema feature order', () => {
    expect(bundle.manifest.files['reference.json']).toMatch(/^[0-9a-f]{64}$/);
    expect(reference.features.map((f) => f.name)).toEqual(bundle.schema.features.map((f) => f.name));
    expect(reference.rows).toBe(bundle.manifest.training_data.rows);
    expect(reference.explainer).toMatchObject({
      method: 'gausslegendre',
      n_steps: 50,
      baseline: 'schema',
      target: 'good',
    });
  });

  it('has shares summing to 1 and, per feature, bin proportions summing to 1', () => {
    expect(reference.features.reduce((a, f) => a + f.share, 0)).toBeCloseTo(1, 5);
    for (const f of reference.features) {
      expect(
        f.proportions.reduce((a, p) => a + p, 0),
        f.name,
      ).toBeCloseTo(1, 5);
      expect(f.proportions.length, f.name).toBe(f.edges.length + 1);
    }
  });

  it('is what the engine gives for the training split (cpu backend), number for number', async () => {
    const data = readCreditData();
    const { seed, testFraction } = DEFAULT_TRAIN_OPTIONS;
    const split = stratifiedSplit(data.labels, testFraction, mulberry32(seed));
    const again = await computeReference(
      DEMO,
      split.train.map((i) => data.applicants[i]!),
      `training split (${split.train.length} rows)`,
      'cpu',
    );
    // Stamped with the explainer that computes it now; the attributions of 1.0.0, which computed the bundle's,
    // are those of today's explainer (1.1.0 changed only how documents rank ties and word zero).
    expect(again.explainer.explainer_version).toBe(EXPLAINER_VERSION);
    expect(again).toEqual({
      ...reference,
      explainer: { ...reference.explainer, explainer_version: EXPLAINER_VERSION },
    });
  });
});

describe('reading a reference with its bundle', () => {
  let dir: string;
  let manifest: ManifestFields;
  const sample: AttributionReference = buildReference({
    attributions: Array.from({ length: 50 }, (_, i) => [Math.sin(i), Math.cos(i), 0.1 * i, 1]),
    features: ['x0', 'x1', 'x2', 'x3'],
    data: 'synthetic',
    explainer: {
      explainer_version: '1.0.0',
      method: 'gausslegendre',
      n_steps: 50,
      baseline: 'schema',
      target: 'approved',
      backend: 'cpu',
    },
  });

  beforeAll(async () => {
    dir = await linearBundle(tempDir(), 'sigmoid');
    const { files: _files, ...fields } = JSON.parse(
      readFileSync(join(dir, 'manifest.json'), 'utf8'),
    ) as ManifestFields & {
      files: unknown;
    };
    manifest = fields;
  });
  afterAll(() => removeDir(dir));

  /** The bundle with `text` as its reference.json, sealed. */
  const withReferenceText = (text: string) => {
    writeFileSync(join(dir, 'reference.json'), text);
    sealBundle(dir, manifest);
    return readBundle(dir);
  };
  const withReference = (value: unknown) => withReferenceText(JSON.stringify(value, null, 2) + '\n');

  /** The problems readReference refuses `bundle` with. */
  function problemsOf(bundle: ReturnType<typeof readBundle>): Problem[] {
    try {
      readReference(bundle);
    } catch (e) {
      expect(e).toBeInstanceOf(BundleError);
      return (e as BundleError).problems;
    }
    throw new Error('expected the reference to be refused');
  }

  it('gives null for a bundle that ships none', () => {
    expect(readReference(readBundle(dir))).toBeNull();
  });

  it('gives the reference when it is listed and valid', () => {
    expect(attributionReferenceSchema.safeParse(sample).success).toBe(true);
    expect(readReference(withReference(sample))).toEqual(sample);
  });

  it('refuses the bundle, naming the field, when the reference is not valid', () => {
    const bad = {
      ...sample,
      features: sample.features.map((f, i) => (i === 2 ? { ...f, proportions: [1] } : f)),
    };
    const error = (() => {
      try {
        readReference(withReference(bad));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BundleError);
    expect((error as BundleError).problems[0]!.field).toBe('reference.json: features.2.proportions');
  });

  it('refuses proportions or shares that do not sum to 1, which would break drift or make JS and PSI disagree', () => {
    const proportions = (ps: (n: number) => number[]) => ({
      ...sample,
      features: sample.features.map((f, i) =>
        i === 1 ? { ...f, proportions: ps(f.proportions.length) } : f,
      ),
    });
    const zeros = proportions((n) => new Array<number>(n).fill(0));
    const ones = proportions((n) => new Array<number>(n).fill(1));
    const shares = { ...sample, features: sample.features.map((f) => ({ ...f, share: 0 })) };
    for (const [bad, field] of [
      [zeros, 'reference.json: features.1.proportions'],
      [ones, 'reference.json: features.1.proportions'],
      [shares, 'reference.json: features'],
    ] as const) {
      expect(problemsOf(withReference(bad)).map((p) => p.field)).toContain(field);
    }
    const rows = { ...sample, rows_with_mass: sample.rows + 1 };
    expect(problemsOf(withReference(rows)).map((p) => p.field)).toContain('reference.json: rows_with_mass');
  });

  it('refuses a reference made for other features', () => {
    const other = { ...sample, features: [...sample.features].reverse() };
    expect(() => readReference(withReference(other))).toThrow(/must list the schema's features in order/);
  });

  it('refuses a reference explained for a class the model does not have, which no explanation could be compared with', () => {
    // A retrained model whose classes were renamed, shipped with the old model's reference: drift would wait for
    // comparable rows forever, showing "insufficient data" instead of the reason.
    for (const target of ['good', 0, null]) {
      const other = { ...sample, explainer: { ...sample.explainer, target } };
      expect(problemsOf(withReference(other))).toEqual([
        expect.objectContaining({
          field: 'reference.json: explainer.target',
          reason: 'reference_target_mismatch',
          params: { target: JSON.stringify(target), classes: 'declined, approved' },
        }),
      ]);
    }
    const declined = { ...sample, explainer: { ...sample.explainer, target: 'declined' } };
    expect(readReference(withReference(declined))).toEqual(declined);
  });

  it('serves an installed model whose reference names a class it lacks without drift, rather than not at all', () => {
    // Imported before such a reference was refused: refusing it now would stop the branch's model at start.
    const other = { ...sample, explainer: { ...sample.explainer, target: 'good' } };
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(readReference(withReference(other), { installed: true })).toBeNull();
      expect(String(warn.mock.calls[0]?.[0])).toMatch(
        /reference\.json: explainer\.target: .*drift is not measured/,
      );
    } finally {
      warn.mockRestore();
    }
    expect(readReference(withReference(sample), { installed: true })).toEqual(sample);
  });

  // Each refusal carries a reason and its params, for a UI to word in the user's language.
  it('refuses a reference listed but missing, with its reason', () => {
    const bundle = withReference(sample);
    rmSync(join(dir, 'reference.json'));
    expect(problemsOf(bundle)).toEqual([
      expect.objectContaining({
        field: 'reference.json',
        code: 'missing',
        reason: 'file_missing',
        params: { file: 'reference.json', dir },
      }),
    ]);
  });

  it('refuses a reference that is not JSON, with the parser’s words as the detail', () => {
    const [problem] = problemsOf(withReferenceText('{"reference_version": 1,'));
    expect(problem).toMatchObject({ field: 'reference.json', reason: 'not_json' });
    expect(problem!.message).toBe(`is not valid JSON (${problem!.params!.detail})`);
  });

  it('gives the reasons of a field that is wrong or missing, and of features not the schema’s', () => {
    const { rows: _rows, ...withoutRows } = sample;
    expect(problemsOf(withReference({ ...withoutRows, reference_version: 'one' }))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'reference.json: reference_version',
          reason: 'field_invalid',
          params: { file: 'reference.json', path: 'reference_version', detail: expect.any(String) as string },
        }),
        expect.objectContaining({
          field: 'reference.json: rows',
          reason: 'field_missing',
          params: { file: 'reference.json', path: 'rows' },
        }),
      ]),
    );
    const names = sample.features.map((f) => f.name);
    const other = { ...sample, features: [...sample.features].reverse() };
    expect(problemsOf(withReference(other))).toEqual([
      expect.objectContaining({
        field: 'reference.json: features',
        reason: 'reference_features_mismatch',
        params: { expected: names.join(', '), got: [...names].reverse().join(', ') },
      }),
    ]);
  });
});

describe('comparing explanations with the reference', () => {
  const reference = { explainer: { baseline: 'schema', target: 'good' } } as AttributionReference;

  it('needs the schema baseline, the same class and raw-feature attributions', () => {
    expect(comparableToReference(reference, { baseline: 'schema', target: 'good' })).toBe(true);
    expect(comparableToReference(reference, { baseline: 'schema', target: 'good', layer: null })).toBe(true);
    expect(comparableToReference(reference, { baseline: 'zeros', target: 'good' })).toBe(false);
    expect(comparableToReference(reference, { baseline: 'schema', target: 'bad' })).toBe(false);
    expect(comparableToReference(reference, { baseline: 'schema', target: 'good', layer: 'hidden_1' })).toBe(
      false,
    );
  });
});
