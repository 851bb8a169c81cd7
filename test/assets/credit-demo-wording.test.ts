// The "higher/lower" wording of the directional templates must be what the shipped model does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawApplicant } from '../../shared/bundle.js';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../main/core/engine.js';
import { TEMPLATE_DIRECTIONS } from '../../scripts/lib/credit-features.js';

const BUNDLE = fileURLToPath(new URL('../../assets/models/credit-demo', import.meta.url));
const HOLDOUT = fileURLToPath(new URL('../../assets/data/holdout.json', import.meta.url));

describe('directional templates of the demo model', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.load(BUNDLE, { backend: 'cpu' });
  });
  afterAll(() => engine?.dispose());

  it('a larger value than the baseline moves the approval probability the way the wording says', () => {
    const applicants = (JSON.parse(readFileSync(HOLDOUT, 'utf8')) as RawApplicant[]).map(
      ({ Status: _label, ...applicant }) => applicant,
    );
    const explanations = engine.explain(applicants, DEFAULT_EXPLAIN_OPTIONS);
    const baseline = engine.schema.baseline;
    for (const [feature, direction] of Object.entries(TEMPLATE_DIRECTIONS)) {
      let checked = 0;
      const contrary: string[] = [];
      for (const e of explanations) {
        const a = e.attributions.find((x) => x.feature === feature)!.attribution;
        const shift = Math.sign((e.values[feature] as number) - (baseline[feature] as number));
        // Attributions this small show as neutral wording.
        if (shift === 0 || Math.abs(a) < 1e-3) continue;
        checked++;
        if (Math.sign(a) !== shift * direction)
          contrary.push(`${String(e.values[feature])}: ${a.toFixed(4)}`);
      }
      expect(checked, feature).toBeGreaterThan(100);
      // A rare contrary row (2%) is tolerated: the model is a smooth fit, not a monotone one.
      expect(
        contrary.length,
        `${feature} against its wording: ${contrary.slice(0, 5).join(', ')}`,
      ).toBeLessThanOrEqual(checked / 50);
    }
  });
});
