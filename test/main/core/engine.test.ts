import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/problems.js';
import {
  DEFAULT_EXPLAIN_OPTIONS,
  Engine,
  type EngineExplanation,
  type ExplainOptions,
  resolveTarget,
} from '../../../main/core/engine.js';
import {
  CREDIT_APPLICANTS,
  CREDIT_BASELINE,
  CREDIT_FEATURES,
  OUTPUTS,
  creditBundle,
  denseModel,
  identityFeatures,
  makeSchema,
  removeDir,
  tempDir,
  twoLayerModel,
  writeTestBundle,
  CREDIT_WIDTH,
  ensureBackend,
  type OutputInput,
} from '../../helpers/bundles.js';

const GL50: ExplainOptions = { ...DEFAULT_EXPLAIN_OPTIONS, method: 'gausslegendre', nSteps: 50 };

const dirs: string[] = [];
const engines: Engine[] = [];
async function engineFor(write: (dir: string) => Promise<string>): Promise<Engine> {
  const dir = await write(tempDir());
  dirs.push(dir);
  const engine = await Engine.load(dir, { backend: 'cpu' });
  engines.push(engine);
  return engine;
}

function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, but nothing was thrown');
}

function expectComplete(explanations: EngineExplanation[], tol: number): void {
  for (const e of explanations) {
    expect(Math.abs(e.completeness.delta)).toBeLessThan(tol);
    expect(e.completeness.expected).toBeCloseTo(e.score - e.baseline_score, 12);
  }
  // Trivially complete explanations (F(x) = F(baseline) everywhere) would prove nothing.
  expect(Math.max(...explanations.map((e) => Math.abs(e.completeness.expected)))).toBeGreaterThan(1e-2);
}

let sigmoid: Engine;
let softmax: Engine;
let regression: Engine;

beforeAll(async () => {
  sigmoid = await engineFor((dir) => creditBundle(dir, 'sigmoid'));
  softmax = await engineFor((dir) => creditBundle(dir, 'softmax'));
  regression = await engineFor((dir) => creditBundle(dir, 'regression'));
});
afterAll(() => {
  engines.forEach((e) => e.dispose());
  dirs.forEach(removeDir);
});

describe('a sigmoid model', () => {
  it('explains its explain_class by default, completely', () => {
    const out = sigmoid.explain(CREDIT_APPLICANTS, GL50);
    expectComplete(out, 1e-4);
    for (const e of out) {
      expect(e.target).toEqual({ index: 1, name: 'approved' });
      expect(e.score).toBe(e.predictions[0]);
      expect(e.score).toBeGreaterThan(0);
      expect(e.score).toBeLessThan(1);
    }
  });

  it('explains 1 − p for the negative class: the attributions are negated', () => {
    const positive = sigmoid.explain(CREDIT_APPLICANTS, GL50);
    for (const target of ['declined', 0, '0'] as const) {
      const negative = sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, target });
      expectComplete(negative, 1e-4);
      negative.forEach((e, j) => {
        const p = positive[j]!;
        expect(e.target).toEqual({ index: 0, name: 'declined' });
        expect(e.score).toBeCloseTo(1 - p.score, 6);
        expect(e.baseline_score).toBeCloseTo(1 - p.baseline_score, 6);
        e.detail.attributions_raw.forEach((v, k) => expect(v).toBeCloseTo(-p.detail.attributions_raw[k]!, 7));
      });
    }
  });

  it('refuses a class it does not have, naming target', () => {
    const error = inputErrorOf(() => sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, target: 'maybe' }));
    expect(error.problems).toEqual([expect.objectContaining({ field: 'target' })]);
    expect(error.problems[0]!.message).toMatch(/declined, approved/);
    expect(
      inputErrorOf(() => sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, target: 2 })).problems[0]!.field,
    ).toBe('target');
  });
});

describe('classes named by numbers (German credit: "1" good, "2" bad)', () => {
  const output: OutputInput = { kind: 'sigmoid', classes: ['1', '2'], explain_class: '1' };

  it('explain_class "1" is the class named "1", not the class at index 1', () => {
    const schema = makeSchema(CREDIT_FEATURES, output, CREDIT_BASELINE);
    expect(resolveTarget(schema, undefined)).toEqual({ index: 0, name: '1', mask: [-1], offset: 1 });
    // A class name given as text is that class; a number, or digits that name no class, an index.
    expect(resolveTarget(schema, '2')).toMatchObject({ index: 1, name: '2' });
    expect(resolveTarget(schema, 1)).toMatchObject({ index: 1, name: '2' });
    expect(resolveTarget(schema, '0')).toMatchObject({ index: 0, name: '1' });
  });

  it('a bundle whose explain_class is "2" loads, and explains class "2" by default', async () => {
    const second = { ...output, explain_class: '2' };
    const engine = await engineFor(async (dir) => {
      await ensureBackend();
      return writeTestBundle(
        dir,
        twoLayerModel(CREDIT_WIDTH, second),
        makeSchema(CREDIT_FEATURES, second, CREDIT_BASELINE),
      );
    });
    const [e] = engine.explain([CREDIT_APPLICANTS[0]], GL50);
    expect(e!.target).toEqual({ index: 1, name: '2' });
    expect(e!.score).toBe(e!.predictions[0]);
  });
});

describe('a value that overflows inside the model', () => {
  // x0…x3 unscaled and without a range; two hidden units of 2·x1 each, the output sigmoid(h0 − h1). x1 = 3e38 is
  // below float32's ±3.4e38, but the hidden units are past it (∞), and the output ∞ − ∞ = NaN.
  const overflowing = { x0: 1, x1: 3e38, x2: 3, x3: 1 };
  const fine = { x0: 1, x1: 2, x2: 3, x3: 4 };
  let linear: Engine;
  beforeAll(async () => {
    linear = await engineFor(async (dir) => {
      await ensureBackend();
      return writeTestBundle(
        dir,
        denseModel(4, [
          {
            activation: 'linear',
            kernel: [
              [0, 0],
              [2, 2],
              [0, 0],
              [0, 0],
            ],
            bias: [0, 0],
          },
          { activation: 'sigmoid', kernel: [[1], [-1]], bias: [0.5] },
        ]),
        makeSchema(identityFeatures(4), OUTPUTS.sigmoid, { x0: 0, x1: 0, x2: 0, x3: 0 }),
      );
    });
  });

  it("is refused as the caller's input (not_finite, naming the applicant), never a NaN document", () => {
    const alone = inputErrorOf(() => linear.explain([overflowing], GL50));
    expect(alone.problems.map((p) => [p.field, p.code])).toEqual([['applicant', 'not_finite']]);
    expect(alone.problems[0]!.message).toMatch(
      /^the model computed its explanation as NaN for this applicant/,
    );
    const batch = inputErrorOf(() => linear.explain([fine, overflowing, fine], GL50));
    expect(batch.problems.map((p) => [p.field, p.code])).toEqual([['[1]', 'not_finite']]);
    const predicted = inputErrorOf(() => linear.predict([fine, overflowing]));
    expect(predicted.problems.map((p) => [p.field, p.code])).toEqual([['[1]', 'not_finite']]);
    // The others are explained as before.
    expect(Number.isFinite(linear.explain([fine], GL50)[0]!.score)).toBe(true);
  });
});

describe('a softmax model with three classes', () => {
  it('needs a target when the schema names no explain_class, as Alibi does', () => {
    const error = inputErrorOf(() => softmax.explain(CREDIT_APPLICANTS, GL50));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.field).toBe('target');
    expect(error.message).toMatch(/target is required: this model has 3 outputs/);
  });

  it('explains a class chosen by name or by index, completely', () => {
    const byName = softmax.explain(CREDIT_APPLICANTS, { ...GL50, target: 'medium' });
    const byIndex = softmax.explain(CREDIT_APPLICANTS, { ...GL50, target: 1 });
    expectComplete(byName, 1e-4);
    byName.forEach((e, j) => {
      expect(e.target).toEqual({ index: 1, name: 'medium' });
      expect(e.predictions).toHaveLength(3);
      expect(e.score).toBe(e.predictions[1]);
      expect(e.detail.attributions_raw).toEqual(byIndex[j]!.detail.attributions_raw);
    });
  });

  it('gives each class its own attributions, complete for each', () => {
    const perClass = ['low', 'medium', 'high'].map((target) =>
      softmax.explain(CREDIT_APPLICANTS, { ...GL50, target }),
    );
    perClass.forEach((out) => expectComplete(out, 1e-4));
    // Probabilities sum to 1, so the class attributions of each input sum to 0.
    for (let j = 0; j < CREDIT_APPLICANTS.length; j++) {
      for (let k = 0; k < CREDIT_WIDTH; k++) {
        const total = perClass.reduce((a, out) => a + out[j]!.detail.attributions_raw[k]!, 0);
        expect(Math.abs(total)).toBeLessThan(1e-5);
      }
    }
    expect(perClass[0]![0]!.detail.attributions_raw).not.toEqual(perClass[2]![0]!.detail.attributions_raw);
  });

  it("explains the schema's explain_class by default when it has one", async () => {
    const output = { ...OUTPUTS.softmax, explain_class: 'high' };
    const engine = await engineFor(async (dir) => {
      await ensureBackend();
      return writeTestBundle(
        dir,
        twoLayerModel(CREDIT_WIDTH, output),
        makeSchema(CREDIT_FEATURES, output, CREDIT_BASELINE),
      );
    });
    const [e] = engine.explain([CREDIT_APPLICANTS[0]], GL50);
    expect(e!.target).toEqual({ index: 2, name: 'high' });
  });
});

describe('a bundle whose baseline is all defaults', () => {
  it('loads and explains (a baseline may leave every feature to its impute value)', async () => {
    const features = CREDIT_FEATURES.map((f) => ({ ...f, required: false }));
    const baseline = Object.fromEntries(features.map((f) => [f.name, null]));
    const engine = await engineFor(async (dir) => {
      await ensureBackend();
      return writeTestBundle(
        dir,
        twoLayerModel(CREDIT_WIDTH, OUTPUTS.sigmoid),
        makeSchema(features, OUTPUTS.sigmoid, baseline),
      );
    });
    const [e] = engine.explain([CREDIT_APPLICANTS[0]], GL50);
    expect(Number.isFinite(e!.score)).toBe(true);
  });
});

describe('a regression model', () => {
  it('explains its single output, completely', () => {
    const out = regression.explain(CREDIT_APPLICANTS, GL50);
    expectComplete(out, 1e-4);
    out.forEach((e) => {
      expect(e.target).toEqual({ index: null, name: null });
      expect(e.score).toBe(e.predictions[0]);
    });
  });

  it('refuses a class target, naming target', () => {
    expect(
      inputErrorOf(() => regression.explain(CREDIT_APPLICANTS, { ...GL50, target: 'approved' })).problems[0]!
        .field,
    ).toBe('target');
  });
});

describe('baselines', () => {
  it('explaining the baseline applicant attributes nothing', () => {
    const [e] = sigmoid.explain([CREDIT_BASELINE], GL50);
    expect(e!.score).toBe(e!.baseline_score);
    e!.detail.attributions_raw.forEach((v) => expect(Math.abs(v)).toBe(0));
  });

  it('can be zeros or another applicant', () => {
    const zeros = sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, baseline: { kind: 'zeros' } });
    zeros.forEach((e) => expect(e.detail.baseline).toEqual(new Array(CREDIT_WIDTH).fill(0)));
    expectComplete(zeros, 1e-4);
    const other = CREDIT_APPLICANTS[1]!;
    const [e] = sigmoid.explain([CREDIT_APPLICANTS[0]], {
      ...GL50,
      baseline: { kind: 'applicant', applicant: other },
    });
    const [b] = sigmoid.explain([other], GL50);
    expect(e!.baseline_score).toBeCloseTo(b!.score, 6);
  });
});

describe('layer attribution through the engine', () => {
  it("to a layer's inputs of the first layer equals the input attributions, one per unit", () => {
    const input = sigmoid.explain(CREDIT_APPLICANTS, GL50);
    const layer = sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, layer: { layer: 'hidden', toInputs: true } });
    layer.forEach((e, j) => {
      expect(e.attributions.map((a) => a.feature)).toEqual(
        Array.from({ length: CREDIT_WIDTH }, (_, k) => `hidden[${k}]`),
      );
      e.detail.attributions_raw.forEach((v, k) =>
        expect(Math.abs(v - input[j]!.detail.attributions_raw[k]!)).toBeLessThan(1e-6),
      );
    });
  });

  it('names the units after the layer, whether the layer is given by name or by index', () => {
    const byName = sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, layer: { layer: 'out', toInputs: true } });
    const byIndex = sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, layer: { layer: 1, toInputs: true } });
    const names = Array.from({ length: 5 }, (_, k) => `out[${k}]`);
    byIndex.forEach((e, j) => {
      expect(e.attributions.map((a) => a.feature)).toEqual(names);
      expect(e.detail.names).toEqual(names);
      expect(e.detail.attributions_raw).toEqual(byName[j]!.detail.attributions_raw);
    });
  });

  it('refuses an unknown layer, naming layer and the layers there are', () => {
    const error = inputErrorOf(() =>
      sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, layer: { layer: 'nope' } }),
    );
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.field).toBe('layer');
    expect(error.problems[0]!.message).toMatch(/"nope" is not a layer of this model \(layers: hidden, out\)/);
  });
});

describe('bad explain options', () => {
  const bad = (o: Partial<ExplainOptions>) =>
    inputErrorOf(() => sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, ...o })).problems.map((p) => p.field);

  it('an unknown method names method', () => {
    expect(bad({ method: 'simpson' as never })).toEqual(['method']);
  });

  it.each([0, -1, 2.5, NaN, 10_001])('n_steps = %s names n_steps', (nSteps) => {
    expect(bad({ nSteps })).toEqual(['n_steps']);
  });

  it('one step names n_steps for a riemann rule but is fine for gausslegendre', () => {
    expect(bad({ method: 'riemann_left', nSteps: 1 })).toEqual(['n_steps']);
    expect(sigmoid.explain(CREDIT_APPLICANTS, { ...GL50, nSteps: 1 })).toHaveLength(CREDIT_APPLICANTS.length);
  });

  it.each([0, -5, 1.5, 1_000_001])(
    'internal_batch_size = %s names internal_batch_size',
    (internalBatchSize) => {
      expect(bad({ internalBatchSize })).toEqual(['internal_batch_size']);
    },
  );

  it('are reported together', () => {
    expect(bad({ method: 'nope' as never, nSteps: 0, internalBatchSize: 0 })).toEqual([
      'method',
      'n_steps',
      'internal_batch_size',
    ]);
  });
});

describe('bad applicants', () => {
  it('are reported together, each prefixed by its row', () => {
    const error = inputErrorOf(() =>
      sigmoid.explain([CREDIT_APPLICANTS[0], { age: 10 }, { age: 30, purpose: 'boat' }], GL50),
    );
    expect(error.problems.map((p) => p.field)).toEqual(['[1].age', '[2].purpose']);
  });
});

describe('predict', () => {
  it('gives the same outputs as explain', () => {
    const predictions = softmax.predict(CREDIT_APPLICANTS);
    const explained = softmax.explain(CREDIT_APPLICANTS, { ...GL50, nSteps: 2, target: 0 });
    expect(predictions).toEqual(explained.map((e) => e.predictions));
    predictions.forEach((p) => expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5));
  });
});
