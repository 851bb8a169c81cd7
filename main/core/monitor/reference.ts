// The bundle's optional reference.json: the attribution-mass shares and per-feature share bins of the training
// data, against which drift is measured. Built by the training script, read with the bundle.
import type { BundleSchema } from '../../../shared/bundle.js';
import {
  REFERENCE_FILE,
  attributionReferenceSchema,
  type AttributionReference,
} from '../../../shared/monitoring.js';
import { because, type Problem } from '../../../shared/problems.js';
import { BundleError, fileSchemaProblems, readJson, type BundleFiles } from '../bundle/load.js';
import { binProportions, massShares, quantileEdges, rowShares } from './drift.js';

export const REFERENCE_QUANTILES = 10;

/** Six significant digits keep the file readable; bins are counted with the rounded edges, so it is exact. */
function round6(x: number): number {
  return Number(x.toPrecision(6));
}

export interface ReferenceInput {
  /** Per-feature attributions of each reference row, schema feature order. */
  attributions: readonly ArrayLike<number>[];
  features: readonly string[];
  data: string;
  explainer: AttributionReference['explainer'];
  quantiles?: number;
}

/** The reference from explained rows: pooled shares, then per feature the quantile bins of the row shares. */
export function buildReference(input: ReferenceInput): AttributionReference {
  const quantiles = input.quantiles ?? REFERENCE_QUANTILES;
  const shares = massShares(input.attributions);
  const perRow = input.attributions.map(rowShares).filter((s): s is number[] => s !== null);
  if (!shares || perRow.length === 0) throw new RangeError('the reference rows carry no attribution mass');
  const features = input.features.map((name, f) => {
    const values = perRow.map((s) => s[f]!);
    const edges = [...new Set(quantileEdges(values, quantiles).map(round6))];
    return {
      name,
      share: round6(shares[f]!),
      edges,
      proportions: binProportions(values, edges).map(round6),
    };
  });
  return {
    reference_version: 1,
    data: input.data,
    rows: input.attributions.length,
    rows_with_mass: perRow.length,
    explainer: input.explainer,
    binning: { statistic: 'row_share', quantiles },
    features,
  };
}

/** Problems of a reference that does not belong to this schema (features missing, extra or out of order). */
export function referenceProblems(reference: AttributionReference, schema: BundleSchema): Problem[] {
  const expected = schema.features.map((f) => f.name);
  const got = reference.features.map((f) => f.name);
  if (expected.length === got.length && expected.every((n, i) => n === got[i])) return [];
  return [
    {
      field: `${REFERENCE_FILE}: features`,
      code: 'invalid',
      message: `must list the schema's features in order (${expected.join(', ')}), got ${got.join(', ')}`,
      ...because('reference_features_mismatch', { expected: expected.join(', '), got: got.join(', ') }),
    },
  ];
}

/**
 * The problem of a reference explained for a class the model does not have, if it is one. Explanations name
 * their class (null for a regression's single output), and drift counts only those of the reference's class
 * (comparableToReference): with a class the model lacks (a retrained model's renamed classes beside the old
 * model's reference), drift would wait for comparable rows forever, saying only "insufficient data".
 */
export function referenceTargetProblem(
  reference: AttributionReference,
  schema: BundleSchema,
): Problem | undefined {
  const out = schema.output;
  const targets = out.kind === 'regression' ? [null] : out.classes;
  const { target } = reference.explainer;
  if (targets.some((t) => String(t) === String(target))) return undefined;
  const shown = JSON.stringify(target);
  const classes = targets.map(String).join(', ');
  return {
    field: `${REFERENCE_FILE}: explainer.target`,
    code: 'invalid',
    message: `must name one of the model's classes (${classes}), got ${shown}: no explanation of this model could be compared with the reference, so drift could never be measured`,
    ...because('reference_target_mismatch', { target: shown, classes }),
  };
}

/**
 * The bundle's reference, or null when it ships none. readBundle has already checked the file's sha256 (it
 * must be listed in manifest.json like any file); a reference that is not valid refuses the bundle.
 * `installed`: the bundle was imported before a reference of a class the model lacks was refused; its model goes
 * on serving without drift (a warning says why) rather than not at all.
 */
export function readReference(
  bundle: Pick<BundleFiles, 'dir' | 'manifest' | 'schema'>,
  { installed = false }: { installed?: boolean } = {},
): AttributionReference | null {
  if (!(REFERENCE_FILE in bundle.manifest.files)) return null;
  const raw = readJson(bundle.dir, REFERENCE_FILE);
  const parsed = attributionReferenceSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BundleError(
      fileSchemaProblems(REFERENCE_FILE, raw, parsed.error, (path) => path.map(String).join('.')),
    );
  }
  const problems = referenceProblems(parsed.data, bundle.schema);
  if (problems.length) throw new BundleError(problems);
  const target = referenceTargetProblem(parsed.data, bundle.schema);
  if (target && !installed) throw new BundleError([target]);
  if (target) {
    const model = `${bundle.manifest.id}@${bundle.manifest.version}`;
    process.emitWarning(`${model}: ${target.field}: ${target.message}; drift is not measured for it`);
    return null;
  }
  return parsed.data;
}

/** What drift needs to know about how an explanation was made. */
export interface ExplanationSettings {
  baseline: 'schema' | 'zeros' | 'custom';
  target: string | number | null;
  layer?: string | number | null;
}

/**
 * Whether explanations made with these settings can be compared with the reference: same baseline (the
 * schema's), same explained class, raw-feature (not layer) attributions. The integration rule and step count
 * may differ: they approximate the same integral.
 */
export function comparableToReference(reference: AttributionReference, s: ExplanationSettings): boolean {
  return (
    s.baseline === reference.explainer.baseline &&
    (s.layer === undefined || s.layer === null) &&
    String(s.target) === String(reference.explainer.target)
  );
}
