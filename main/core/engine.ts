// The explain engine: a loaded bundle, its preprocessor and Integrated Gradients, answering for raw applicants.
import * as tf from '@tensorflow/tfjs-core';
import { defaultTargetName, type BundleSchema, type RawApplicant } from '../../shared/bundle.js';
import { InputError, type Problem } from '../../shared/problems.js';
import { initBackend, type BackendName } from './tf/backend.js';
import { loadBundle, type LoadedBundle } from './bundle/load.js';
import { Preprocessor, type CleanValue, type EncodeMode } from './preprocess.js';
import { IntegratedGradients, type TargetSpec } from './ig/integrated-gradients.js';
import { aggregateByFeature } from './ig/aggregate.js';
import { IG_METHODS, type IgMethod } from './ig/quadrature.js';
import { resolveLayerSplit } from './ig/layers.js';

/**
 * The version of the code that turns an applicant into a document, in every document's meta and part of the cache
 * key: raise it whenever the same request would give a different document, so that an upgrade does not serve
 * documents cached by the code before it. 1.1.0: ties ranked visible features first, masked ones by pseudonym; a
 * zero attribution worded as no effect when the bundle has no neutral template; Gauss-Legendre rules above 200
 * points from Bogaert's formulas (their last bits); a masked feature's description tagged with the first digits
 * of its pseudonym ("Sensitive feature masked (#3fa2)").
 */
export const EXPLAINER_VERSION = '1.1.0';

export type BaselineChoice =
  { kind: 'schema' } | { kind: 'zeros' } | { kind: 'applicant'; applicant: RawApplicant };

export interface ExplainOptions {
  method: IgMethod;
  nSteps: number;
  internalBatchSize: number;
  /** Class name or output index; the schema's class by default. */
  target?: string | number;
  baseline: BaselineChoice;
  layer?: { layer: string | number; toInputs?: boolean };
  /**
   * The stability check's perturbed applicants: whole-number and range limits are not applied (see
   * EncodeMode), so every numeric feature moves by the perturbation, as Captum's sensitivity_max moves the
   * model's input. Never set for a caller's applicants.
   */
  perturbed?: boolean;
}

export const DEFAULT_EXPLAIN_OPTIONS: ExplainOptions = {
  method: 'gausslegendre',
  nSteps: 50,
  internalBatchSize: 8192,
  baseline: { kind: 'schema' },
};

export interface FeatureAttribution {
  feature: string;
  value: CleanValue | number | null;
  attribution: number;
}

export interface EngineExplanation {
  values: Record<string, CleanValue>;
  imputed: string[];
  predictions: number[];
  target: { index: number | null; name: string | null };
  /** F(x): the explained output, e.g. the approval probability. */
  score: number;
  /** F(baseline). */
  baseline_score: number;
  /** Per raw feature (or per unit of the attributed layer), in schema order. */
  attributions: FeatureAttribution[];
  completeness: { sum: number; expected: number; delta: number };
  detail: {
    names: string[];
    inputs: number[];
    baseline: number[];
    attributions_raw: number[];
    predictions: number[];
  };
}

export interface ResolvedTarget {
  index: number | null;
  name: string | null;
  /** F = Σ mask·output + offset. */
  mask: number[];
  offset: number;
}

/** Resolves a class name or index against the output spec, as Alibi does (multi-output needs a target). */
export function resolveTarget(schema: BundleSchema, target: string | number | undefined): ResolvedTarget {
  const out = schema.output;
  const wanted = target ?? defaultTargetName(out) ?? undefined;
  const bad = (message: string) => new InputError([{ field: 'target', code: 'invalid', message }]);
  switch (out.kind) {
    case 'regression':
      if (wanted !== undefined && wanted !== 0 && wanted !== '0')
        throw bad('a regression model has a single output: leave target out');
      return { index: null, name: null, mask: [1], offset: 0 };
    case 'sigmoid':
    case 'softmax': {
      if (wanted === undefined) {
        throw bad(
          `target is required: this model has ${out.classes.length} outputs (one of ${out.classes.join(', ')})`,
        );
      }
      // Text that names a class is that class, digits or not: classes may be named "1" and "2" (German credit),
      // and explain_class is always a name. Only a number, or digits that name no class, is an index.
      const index =
        typeof wanted === 'number'
          ? wanted
          : out.classes.includes(wanted)
            ? out.classes.indexOf(wanted)
            : /^\d+$/.test(wanted)
              ? Number(wanted)
              : -1;
      if (!Number.isInteger(index) || index < 0 || index >= out.classes.length) {
        throw bad(
          `must be one of ${out.classes.join(', ')} (or an index 0–${out.classes.length - 1}), got ${JSON.stringify(wanted)}`,
        );
      }
      const name = out.classes[index]!;
      if (out.kind === 'sigmoid') {
        // The single unit is P(classes[1]); explaining classes[0] explains 1 − P.
        return index === 1 ? { index, name, mask: [1], offset: 0 } : { index, name, mask: [-1], offset: 1 };
      }
      return { index, name, mask: out.classes.map((_, c) => (c === index ? 1 : 0)), offset: 0 };
    }
  }
}

export function validateExplainOptions(o: ExplainOptions): void {
  const problems = [];
  if (!IG_METHODS.includes(o.method)) {
    problems.push({
      field: 'method',
      code: 'invalid' as const,
      message: `must be one of ${IG_METHODS.join(', ')}, got ${JSON.stringify(o.method)}`,
    });
  }
  const minSteps = o.method === 'gausslegendre' ? 1 : 2;
  if (!Number.isInteger(o.nSteps) || o.nSteps < minSteps || o.nSteps > 10_000) {
    problems.push({
      field: 'n_steps',
      code: 'out_of_range' as const,
      message: `must be a whole number from ${minSteps} to 10000, got ${o.nSteps}`,
    });
  }
  if (!Number.isInteger(o.internalBatchSize) || o.internalBatchSize < 1 || o.internalBatchSize > 1_000_000) {
    problems.push({
      field: 'internal_batch_size',
      code: 'out_of_range' as const,
      message: `must be a whole number from 1 to 1000000, got ${o.internalBatchSize}`,
    });
  }
  if (problems.length) throw new InputError(problems);
}

/**
 * Refuses a call in which the model computed a number that is not finite for an applicant (`numbers(j)`): values
 * in range of the float32 inputs can still overflow inside the model (a feature without a `range`, a value far
 * beyond the training data), and no document or prediction can hold the NaN or Infinity that comes out. The
 * caller's input, so a 400 naming the applicant, never an internal error. Counted as the call's applicants: the
 * service explains one request's applicants in a call of their own after a refused batch.
 */
function refuseNonFinite(count: number, numbers: (j: number) => ArrayLike<number>, what: string): void {
  const problems: Problem[] = [];
  for (let j = 0; j < count; j++) {
    const values = numbers(j);
    for (let k = 0; k < values.length; k++) {
      if (Number.isFinite(values[k])) continue;
      problems.push({
        field: count === 1 ? 'applicant' : `[${j}]`,
        code: 'not_finite',
        message: `the model computed ${what} as ${values[k]} for this applicant: a value lies far beyond what the model was trained on (a range for the feature in the bundle's schema would refuse it by name)`,
      });
      break;
    }
  }
  if (problems.length) throw new InputError(problems);
}

export class Engine {
  readonly preprocessor: Preprocessor;
  private readonly ig: IntegratedGradients;
  private readonly schemaBaseline: number[];

  private constructor(
    readonly bundle: LoadedBundle,
    readonly backend: BackendName,
  ) {
    this.preprocessor = new Preprocessor(bundle.schema);
    this.ig = new IntegratedGradients(bundle.model);
    this.schemaBaseline = this.preprocessor.encode(bundle.schema.baseline, 'baseline.').vector;
  }

  /** Loads a bundle on the chosen backend and warms it up with one explanation of the baseline. */
  static async load(bundleDir: string, opts: { backend?: BackendName } = {}): Promise<Engine> {
    const backend = await initBackend(opts.backend);
    const engine = new Engine(await loadBundle(bundleDir), backend);
    // Any class will do for the warm-up; a softmax schema need not name a default class.
    const target = engine.schema.output.kind === 'softmax' ? 0 : undefined;
    try {
      engine.explain([engine.bundle.schema.baseline], { ...DEFAULT_EXPLAIN_OPTIONS, target });
    } catch (e) {
      engine.dispose(); // a model that cannot be warmed up is not kept
      throw e;
    }
    return engine;
  }

  get schema(): BundleSchema {
    return this.bundle.schema;
  }

  /** Validates and encodes every applicant; problems of all rows are reported together, prefixed by row. */
  encodeAll(applicants: readonly unknown[], mode?: EncodeMode): ReturnType<Preprocessor['encode']>[] {
    return this.preprocessor.encodeAll(applicants, mode);
  }

  baselineVector(choice: BaselineChoice): number[] {
    switch (choice.kind) {
      case 'schema':
        return this.schemaBaseline;
      case 'zeros':
        return new Array<number>(this.preprocessor.width).fill(0);
      case 'applicant':
        return this.preprocessor.encode(choice.applicant, 'baseline.').vector;
    }
  }

  explain(applicants: readonly unknown[], options: ExplainOptions): EngineExplanation[] {
    validateExplainOptions(options);
    const target = resolveTarget(this.schema, options.target);
    let layerName: string | undefined;
    if (options.layer) {
      // A layer the model does not have is the caller's mistake: report it like the other options.
      try {
        layerName = resolveLayerSplit(this.bundle.model, options.layer).layerName;
      } catch (e) {
        throw new InputError([{ field: 'layer', code: 'invalid', message: (e as Error).message }]);
      }
    }
    const encoded = this.encodeAll(applicants, options.perturbed ? 'perturbed' : 'engine');
    const baseline = this.baselineVector(options.baseline);
    const x = encoded.map((e) => e.vector);
    const spec: TargetSpec = { mask: x.map(() => target.mask), offset: x.map(() => target.offset) };
    const ig = this.ig.explain(
      x,
      x.map(() => baseline),
      spec,
      {
        method: options.method,
        nSteps: options.nSteps,
        internalBatchSize: options.internalBatchSize,
        ...(options.layer ? { layer: options.layer } : {}),
      },
    );
    refuseNonFinite(
      applicants.length,
      (j) => [ig.fx[j]!, ig.fb[j]!, ...ig.predictions[j]!, ...ig.attributions[j]!],
      'its explanation',
    );
    const columns = this.preprocessor.columns;
    // Units are named after the layer (hidden_1[3]), also when it was given by index: "0[3]" would not say which.
    const layerNames =
      layerName !== undefined ? Array.from({ length: ig.width }, (_, k) => `${layerName}[${k}]`) : undefined;
    return encoded.map((enc, j) => {
      const raw = ig.attributions[j]!;
      const attributions: FeatureAttribution[] = layerNames
        ? layerNames.map((feature, k) => ({ feature, value: ig.inputs[j]![k]!, attribution: raw[k]! }))
        : [...aggregateByFeature(columns, raw)].map(([feature, attribution]) => ({
            feature,
            value: enc.values[feature] ?? null,
            attribution,
          }));
      const sum = attributions.reduce((a, f) => a + f.attribution, 0);
      const expected = ig.fx[j]! - ig.fb[j]!;
      return {
        values: enc.values,
        imputed: enc.imputed,
        predictions: ig.predictions[j]!,
        target: { index: target.index, name: target.name },
        score: ig.fx[j]!,
        baseline_score: ig.fb[j]!,
        attributions,
        completeness: { sum, expected, delta: sum - expected },
        detail: {
          names: layerNames ?? columns.map((c) => c.name),
          inputs: Array.from(ig.inputs[j]!),
          baseline: Array.from(ig.baselines[j]!),
          attributions_raw: Array.from(raw),
          predictions: ig.predictions[j]!,
        },
      };
    });
  }

  /** Model outputs only, no explanation. */
  predict(applicants: readonly unknown[]): number[][] {
    const x = this.encodeAll(applicants).map((e) => e.vector);
    const outputs = tf.tidy(() => {
      const out = this.bundle.model.apply(tf.tensor2d(x, [x.length, this.preprocessor.width], 'float32'), {
        training: false,
      });
      return (out as tf.Tensor).arraySync() as number[][];
    });
    refuseNonFinite(applicants.length, (j) => outputs[j]!, 'its output');
    return outputs;
  }

  /** How input attributions are computed for this model: a Dense chain by hand, or the gradient tape. */
  get evaluator(): 'dense-chain' | 'tape' {
    return this.ig.evaluator;
  }

  dispose(): void {
    this.ig.dispose();
    this.bundle.model.dispose();
  }
}
