import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../../main/core/engine.js';

const DEMO_BUNDLE = fileURLToPath(new URL('../../../assets/models/credit-demo/', import.meta.url));
const HOLDOUT = fileURLToPath(new URL('../../../assets/data/holdout.json', import.meta.url));
const ROWS = 200;

/** The first held-out applicants, without the label the model predicts. */
function heldOutApplicants(): Record<string, unknown>[] {
  const rows = JSON.parse(readFileSync(HOLDOUT, 'utf8')) as Record<string, unknown>[];
  return rows.slice(0, ROWS).map(({ Status: _status, ...applicant }) => applicant);
}

let engine: Engine;

beforeAll(async () => {
  // Fails here, naming the path, until the demo model has been trained (npm run train:demo).
  expect(existsSync(DEMO_BUNDLE), `${DEMO_BUNDLE} is missing`).toBe(true);
  expect(existsSync(HOLDOUT), `${HOLDOUT} is missing`).toBe(true);
  engine = await Engine.load(DEMO_BUNDLE, { backend: 'cpu' });
});
afterAll(() => engine?.dispose());

describe('the demo model', () => {
  it('is a Dense chain, so explanations skip tfjs-layers and the gradient tape (ig/dense-chain.ts)', () => {
    expect(engine.evaluator).toBe('dense-chain');
  });

  it(`is explained completely on ${ROWS} held-out rows: |delta| < 1e-3 at 50 Gauss-Legendre steps`, () => {
    const applicants = heldOutApplicants();
    expect(applicants).toHaveLength(ROWS);
    const explanations = engine.explain(applicants, {
      ...DEFAULT_EXPLAIN_OPTIONS,
      method: 'gausslegendre',
      nSteps: 50,
    });
    expect(explanations).toHaveLength(ROWS);
    const worst = explanations.reduce(
      (w, e, i) =>
        Math.abs(e.completeness.delta) > Math.abs(w.delta) ? { row: i, delta: e.completeness.delta } : w,
      { row: -1, delta: 0 },
    );
    expect(Math.abs(worst.delta), `row ${worst.row}`).toBeLessThan(1e-3);
    // The check means something only if the scores move away from the baseline's.
    const moved = explanations.filter((e) => Math.abs(e.completeness.expected) > 0.05).length;
    expect(moved).toBeGreaterThan(ROWS / 4);
  });
});
