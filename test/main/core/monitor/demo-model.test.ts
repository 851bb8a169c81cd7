// Monitoring on the shipped demo model and its held-out applicants, with the real engine on wasm.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawApplicant } from '../../../../shared/bundle.js';
import { readBundle } from '../../../../main/core/bundle/load.js';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../../../main/core/engine.js';
import { computeDrift } from '../../../../main/core/monitor/drift.js';
import { readReference } from '../../../../main/core/monitor/reference.js';
import {
  maxSensitivity,
  perturbApplicant,
  repeatDeterminism,
  seededRandom,
} from '../../../../main/core/monitor/stability.js';

const DEMO = fileURLToPath(new URL('../../../../assets/models/credit-demo', import.meta.url));
const HOLDOUT = fileURLToPath(new URL('../../../../assets/data/holdout.json', import.meta.url));

const holdout = (JSON.parse(readFileSync(HOLDOUT, 'utf8')) as RawApplicant[]).map(
  ({ Status: _label, ...applicant }) => applicant,
);
const reference = readReference(readBundle(DEMO))!;

let engine: Engine;
const explain = (applicants: RawApplicant[]) =>
  engine.explain(applicants, DEFAULT_EXPLAIN_OPTIONS).map((ex) => ex.attributions.map((a) => a.attribution));
/** As the service's stability check explains: perturbed copies may sit between whole numbers. */
const explainPerturbed = (applicants: RawApplicant[]) =>
  engine
    .explain(applicants, { ...DEFAULT_EXPLAIN_OPTIONS, perturbed: true })
    .map((ex) => ex.attributions.map((a) => a.attribution));
const features = () => engine.schema.features.map((f) => f.name);

beforeAll(async () => {
  engine = await Engine.load(DEMO, { backend: 'wasm' });
});
afterAll(() => engine?.dispose());

describe('attribution drift on the demo model', () => {
  it('is small for the held-out applicants, who come from the training population', () => {
    const d = computeDrift(explain(holdout), reference, features(), { minRows: 300 });
    expect(d.state).toBe('computed');
    expect(d.js!).toBeLessThan(0.05);
    expect(d.psi_max!).toBeLessThan(0.1);
  });

  it('is clearly larger for a shifted population: arrears on record and a tiny income', () => {
    const usual = computeDrift(explain(holdout), reference, features(), { minRows: 300 });
    const shifted = holdout.map((a) => ({ ...a, Records: true, Income: 20 }));
    const d = computeDrift(explain(shifted), reference, features(), { minRows: 300 });
    expect(d.js!).toBeGreaterThan(0.05);
    expect(d.js!).toBeGreaterThan(20 * usual.js!);
    expect(d.psi_max!).toBeGreaterThan(0.25);
    const share = (name: string) => d.features.find((f) => f.feature === name)!;
    for (const name of ['Records', 'Income']) {
      expect(share(name).share_recent!, name).toBeGreaterThan(1.5 * share(name).share_reference!);
      expect(share(name).status, name).toBe('red');
    }
  });
});

describe('stability of the demo model’s explanations', () => {
  it('repeat-determinism is exactly 0: a batch of 40 recomputed one by one and in another order', async () => {
    const sample = holdout.slice(0, 40);
    const served = explain(sample).map((attributions, i) => ({ applicant: sample[i]!, attributions }));
    expect(await repeatDeterminism(explain, served)).toBe(0);
    const oneByOne = (applicants: RawApplicant[]) => applicants.flatMap((a) => explain([a]));
    expect(await repeatDeterminism(oneByOne, served)).toBe(0);
    const reversed = (applicants: RawApplicant[]) => explain([...applicants].reverse()).reverse();
    expect(await repeatDeterminism(reversed, [...served].reverse())).toBe(0);
  });

  it('max-sensitivity at the default radius is small but not 0', async () => {
    const r = await maxSensitivity(explainPerturbed, holdout.slice(0, 16), engine.schema);
    expect(r.max).toBeGreaterThan(0);
    expect(r.max).toBeLessThan(0.15);
    expect(r.mean).toBeGreaterThan(0);
    expect(r.mean).toBeLessThanOrEqual(r.max);
  });

  it('moves every numeric feature on the model’s standardised scale, whole-number ones included, as Captum does', () => {
    const x = holdout[0]!;
    const p = perturbApplicant(x, engine.schema, 0.02, seededRandom(9));
    const numeric = engine.schema.features.filter((f) => f.type === 'numeric' && x[f.name] !== undefined);
    expect(numeric.filter((f) => f.type === 'numeric' && f.integer).length).toBeGreaterThan(0);
    const [served, moved] = engine.explain([x, p], { ...DEFAULT_EXPLAIN_OPTIONS, perturbed: true });
    const names = served!.detail.names;
    for (const f of numeric) {
      if (f.type !== 'numeric') continue;
      const col = names.indexOf(f.name);
      const shift = moved!.detail.inputs[col]! - served!.detail.inputs[col]!;
      expect(shift, f.name).not.toBe(0);
      expect(Math.abs(shift), f.name).toBeLessThanOrEqual(0.02 + 1e-12);
    }
    // A caller's applicant is still held to whole numbers: only the stability check passes `perturbed`.
    expect(() => engine.explain([p], DEFAULT_EXPLAIN_OPTIONS)).toThrow(/whole number/);
  });

  it('max-sensitivity grows with the radius and is reproducible', async () => {
    const sample = holdout.slice(16, 32);
    const at = (radius: number) => maxSensitivity(explainPerturbed, sample, engine.schema, { radius });
    const [small, medium, large] = [await at(0.02), await at(0.05), await at(0.2)];
    expect(medium.max).toBeGreaterThan(small.max);
    expect(large.max).toBeGreaterThan(medium.max);
    expect(large.mean).toBeGreaterThan(medium.mean);
    expect(medium.mean).toBeGreaterThan(small.mean);
    expect(await at(0.02)).toEqual(small);
  });
});
