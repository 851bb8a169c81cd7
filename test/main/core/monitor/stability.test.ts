import { describe, expect, it } from 'vitest';
import type { RawApplicant } from '../../../../shared/bundle.js';
import {
  maxSensitivity,
  perturbApplicant,
  repeatDeterminism,
  seededRandom,
} from '../../../../main/core/monitor/stability.js';
import { booleanFeature, makeSchema, numericFeature, OUTPUTS } from '../../../helpers/bundles.js';

const schema = makeSchema(
  [
    numericFeature('income', {
      scaler: { mean: 100, std: 50 },
      impute: 100,
      integer: true,
      range: { min: 0 },
    }),
    numericFeature('ratio', { scaler: { mean: 0, std: 1 }, impute: 0, range: { min: -1, max: 1 } }),
    booleanFeature('records'),
  ],
  OUTPUTS.sigmoid,
);

/** A linear "explainer": a_f = w_f · (x_f − b_f), with the boolean as 0/1. */
const W = [0.01, 2, -1];
const linearExplain = (applicants: RawApplicant[]) =>
  applicants.map((a) => [
    W[0]! * (Number(a.income ?? 100) - 100),
    W[1]! * Number(a.ratio ?? 0),
    W[2]! * (a.records === true ? 1 : 0),
  ]);

describe('repeat-determinism', () => {
  const served = [
    { applicant: { income: 150, ratio: 0.2, records: true }, attributions: [0.5, 0.4, -1] },
    { applicant: { income: 80, ratio: -0.5, records: false }, attributions: [-0.2, -1, 0] },
  ];

  it('is exactly 0 when recomputation gives the served attributions', async () => {
    expect(await repeatDeterminism(linearExplain, served)).toBe(0);
  });

  it('is the largest absolute difference otherwise, however small', async () => {
    const noisy = (a: RawApplicant[]) =>
      linearExplain(a).map((row, i) => row.map((v, f) => (i === 1 && f === 2 ? v + 1e-15 : v)));
    expect(await repeatDeterminism(noisy, served)).toBe(1e-15);
  });

  it('treats NaN as a difference', async () => {
    expect(
      await repeatDeterminism(
        () => [
          [NaN, 0.4, -1],
          [-0.2, -1, 0],
        ],
        served,
      ),
    ).toBe(Infinity);
  });

  describe('of an answer served from the cache, by what its document showed', () => {
    const applicant = { income: 150, ratio: 0.2, records: true };
    // linearExplain gives [0.5, 0.4, -1]: by magnitude records, income, ratio.
    const view = (shown: [number, number][], rest_sum: number, top_k: number) => ({
      applicant,
      document: { shown: shown.map(([index, attribution]) => ({ index, attribution })), rest_sum, top_k },
    });

    it('is exactly 0 when the shown attributions and the rest agree', async () => {
      expect(
        await repeatDeterminism(linearExplain, [
          view(
            [
              [2, -1],
              [0, 0.5],
            ],
            0.4,
            2,
          ),
        ]),
      ).toBe(0);
      expect(
        await repeatDeterminism(linearExplain, [
          view(
            [
              [2, -1],
              [0, 0.5],
              [1, 0.4],
            ],
            0,
            0,
          ),
        ]),
      ).toBe(0);
    });

    it('compares with the recomputation rounded as a document rounds it, to 12 significant digits', async () => {
      const third = (a: RawApplicant[]) => linearExplain(a).map((row) => row.map((v) => v / 3));
      expect(await repeatDeterminism(third, [view([[2, -0.333333333333]], 0.3, 1)])).toBe(0);
      expect(await repeatDeterminism(third, [view([[2, -1 / 3]], 0.3, 1)])).toBeGreaterThan(0);
    });

    it('finds a changed shown attribution, and a changed rest', async () => {
      expect(await repeatDeterminism(linearExplain, [view([[2, -0.9]], 0.9, 1)])).toBeCloseTo(0.1, 12);
      expect(await repeatDeterminism(linearExplain, [view([[2, -1]], 0.9 + 1e-9, 1)])).toBeCloseTo(1e-9, 15);
    });

    it('cannot match a feature the model does not have, nor a NaN', async () => {
      expect(await repeatDeterminism(linearExplain, [view([[-1, 0.5]], 0, 1)])).toBe(Infinity);
      expect(await repeatDeterminism(() => [[NaN, 0.4, -1]], [view([[2, -1]], 0.9, 1)])).toBe(Infinity);
    });
  });
});

describe('perturbations of raw applicants', () => {
  it('move numeric values uniformly within ±radius·std, whole-number ones and at the range’s edge too, and leave the rest', () => {
    const random = seededRandom(3);
    const incomes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const p = perturbApplicant({ income: 2, ratio: '0.99', records: 'yes' }, schema, 0.1, random);
      incomes.push(p.income as number);
      expect(Math.abs((p.income as number) - 2)).toBeLessThanOrEqual(0.1 * 50);
      expect(Math.abs((p.ratio as number) - 0.99)).toBeLessThanOrEqual(0.1);
      expect(p.records).toBe('yes');
    }
    // Captum moves the model's input by any amount within the ball: no rounding, no clamping.
    expect(incomes.some((v) => !Number.isInteger(v))).toBe(true);
    expect(incomes.some((v) => v < 0)).toBe(true);
    expect(incomes.some((v) => v > 2)).toBe(true);
  });

  it('leave missing values missing', () => {
    const p = perturbApplicant({ ratio: 0.5 }, schema, 0.5, seededRandom(1));
    expect('income' in p).toBe(false);
    expect(p.ratio).not.toBe(0.5);
  });

  it('are reproducible from the seed', () => {
    const draw = (seed: number) =>
      perturbApplicant({ income: 100, ratio: 0 }, schema, 0.3, seededRandom(seed));
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });
});

describe('max-sensitivity', () => {
  it('is 0 for an explainer that ignores its input', async () => {
    const constant = (a: RawApplicant[]) => a.map(() => [1, 2, 3]);
    const r = await maxSensitivity(constant, [{ income: 120, ratio: 0.1 }], schema);
    expect(r.max).toBe(0);
  });

  it('of a linear explainer is bounded by ‖w ⊙ δ‖ / ‖a(x)‖, and reached within a few draws', async () => {
    const x = { ratio: 0.5, records: true };
    const r = await maxSensitivity(linearExplain, [x], schema, { radius: 0.02, perturbations: 50, seed: 2 });
    // Only ratio moves (income is missing): |Δa| ≤ 2 · 0.02 · 1, ‖a(x)‖ = √(1² + 1²).
    const bound = (2 * 0.02) / Math.SQRT2;
    expect(r.max).toBeGreaterThan(0.8 * bound);
    expect(r.max).toBeLessThanOrEqual(bound);
  });

  it('divides by 1 when the explanation is all zeros, as Captum does', async () => {
    const r = await maxSensitivity(linearExplain, [{ income: 100, ratio: 0 }], schema, {
      radius: 0.1,
      perturbations: 20,
    });
    expect(r.max).toBeGreaterThan(0);
    expect(r.max).toBeLessThanOrEqual(Math.hypot(0.01 * 5, 2 * 0.1));
  });

  it('gives the max and mean over applicants, reproducibly', async () => {
    const applicants = [
      { income: 150, ratio: 0.2 },
      { income: 60, ratio: -0.7, records: true },
    ];
    const a = await maxSensitivity(linearExplain, applicants, schema);
    expect(a.perApplicant).toHaveLength(2);
    expect(a.max).toBe(Math.max(...a.perApplicant));
    expect(a.mean).toBeCloseTo((a.perApplicant[0]! + a.perApplicant[1]!) / 2, 15);
    expect(await maxSensitivity(linearExplain, applicants, schema)).toEqual(a);
  });
});
