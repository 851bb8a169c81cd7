// Stability of the explanations: (a) repeat-determinism, a served explanation recomputed must come out
// identical; (b) local max-sensitivity (Yeh et al. 2019, Captum's `sensitivity_max`): how much the
// attributions move when the numeric inputs move a little. Definitions: docs/monitoring.md.
import type { BundleSchema, NumericFeature, RawApplicant } from '../../../shared/bundle.js';
import { compressTopK } from '../records/compress.js';
import type { ServedDocumentView } from '../records/served-view.js';
import { fixPrecision } from '../records/watermark.js';

export type { ServedDocumentView };

/** Explains raw applicants, bypassing every cache: per applicant, the per-feature attributions. */
export type ExplainAttributions = (applicants: RawApplicant[]) => Promise<number[][]> | number[][];

/** A 32-bit seeded generator (mulberry32) giving floats in [0, 1): the perturbations are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An explanation that was served: every attribution when it was computed for the request, or what its document
 * showed when it came from the cache (which keeps only the signed document).
 */
export type ServedExplanation =
  | {
      applicant: RawApplicant;
      /** The attributions that were served, schema feature order. */
      attributions: readonly number[];
    }
  | { applicant: RawApplicant; document: ServedDocumentView };

/**
 * max |served − recomputed| between a cached document and a recomputed row: the features it shows, and its
 * rest_sum against the recomputed row compressed the same way, each rounded as a document rounds it.
 */
function documentDelta(served: ServedDocumentView, row: readonly number[]): number {
  // A document cannot hold NaN or Infinity: a recomputation with one differs, wherever the document put it.
  if (!row.every(Number.isFinite)) return Infinity;
  const asServed = (n: number) => fixPrecision(n);
  let worst = 0;
  const note = (a: number, b: number) => {
    const delta = Math.abs(a - b);
    worst = Number.isNaN(delta) ? Infinity : Math.max(worst, delta);
  };
  for (const { index, attribution } of served.shown) {
    const again = row[index];
    // A feature the recomputation has no attribution for cannot match.
    note(attribution, again === undefined ? NaN : asServed(again));
  }
  const recomputed = compressTopK(
    row.map((attribution) => ({ attribution })),
    served.top_k,
  );
  note(served.rest_sum, asServed(recomputed.rest_sum));
  return worst;
}

/** max |served − recomputed| over every feature of every sample; 0 on a deterministic backend. */
export async function repeatDeterminism(
  explain: ExplainAttributions,
  served: readonly ServedExplanation[],
): Promise<number> {
  if (served.length === 0) return 0;
  const again = await explain(served.map((s) => s.applicant));
  let worst = 0;
  served.forEach((s, i) => {
    const row = again[i];
    if (!row) throw new Error(`the explainer returned no attributions for applicant ${i}`);
    if ('document' in s) {
      worst = Math.max(worst, documentDelta(s.document, row));
      return;
    }
    if (row.length !== s.attributions.length) {
      throw new Error(`the explainer returned ${row.length} attributions for ${s.attributions.length}`);
    }
    s.attributions.forEach((a, f) => {
      const delta = Math.abs(a - row[f]!);
      // NaN on either side is a difference too.
      worst = Number.isNaN(delta) ? Infinity : Math.max(worst, delta);
    });
  });
  return worst;
}

function numericValue(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/**
 * `u` in [0, 1) maps to an offset in [−radius, radius) standard deviations: on the standardised scale the model
 * sees, exactly Captum's default perturbation. Not rounded to whole numbers nor clamped to the range, since that
 * would leave a whole-number feature with a small std unmoved (the engine explains these with
 * `perturbed: true`).
 */
function perturbNumber(f: NumericFeature, value: number, radius: number, u: number): number {
  return value + (2 * u - 1) * radius * f.scaler.std;
}

/**
 * The applicant with each given numeric feature moved uniformly within ±radius · std (the schema scaler's).
 * Missing numeric values stay missing (the engine
 * imputes them alike); categorical and boolean features are not touched. A random number is drawn for every
 * numeric feature, given or not, so a feature's draws do not depend on which others are missing.
 */
export function perturbApplicant(
  applicant: RawApplicant,
  schema: Pick<BundleSchema, 'features'>,
  radius: number,
  random: () => number,
): RawApplicant {
  const out: RawApplicant = { ...applicant };
  for (const f of schema.features) {
    if (f.type !== 'numeric') continue;
    const u = random();
    const value = numericValue(applicant[f.name]);
    if (value !== undefined) out[f.name] = perturbNumber(f, value, radius, u);
  }
  return out;
}

export interface SensitivityOptions {
  /** In standard deviations of each numeric feature (Captum's perturb_radius). */
  radius: number;
  /** Perturbations per applicant (Captum's n_perturb_samples). */
  perturbations: number;
  seed: number;
}

export const DEFAULT_SENSITIVITY: SensitivityOptions = { radius: 0.02, perturbations: 10, seed: 1 };

export interface SensitivityResult {
  /** Per applicant: the max over its perturbations of ‖a(x′) − a(x)‖₂ / ‖a(x)‖₂. */
  perApplicant: number[];
  max: number;
  mean: number;
}

function l2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/**
 * Max-sensitivity as Captum computes it: a(x) and a(x′) for `perturbations` draws x′ per applicant, each
 * ‖a(x′) − a(x)‖ divided by ‖a(x)‖ (or by 1 when a(x) is all zeros), the max per applicant; then the max and
 * mean over the applicants. All explanations go to the explainer in one batch. The draws depend only on the
 * seed and the applicants' order, so the same sample gives the same number.
 */
export async function maxSensitivity(
  explain: ExplainAttributions,
  applicants: readonly RawApplicant[],
  schema: Pick<BundleSchema, 'features'>,
  options: Partial<SensitivityOptions> = {},
): Promise<SensitivityResult> {
  const { radius, perturbations, seed } = { ...DEFAULT_SENSITIVITY, ...options };
  if (applicants.length === 0) return { perApplicant: [], max: 0, mean: 0 };
  const random = seededRandom(seed);
  const batch: RawApplicant[] = [];
  for (const x of applicants) {
    batch.push(x);
    for (let m = 0; m < perturbations; m++) batch.push(perturbApplicant(x, schema, radius, random));
  }
  const attributions = await explain(batch);
  const stride = perturbations + 1;
  const perApplicant = applicants.map((_, i) => {
    const ax = attributions[i * stride]!;
    const norm = l2(ax) || 1;
    let worst = 0;
    for (let m = 1; m <= perturbations; m++) {
      const axp = attributions[i * stride + m]!;
      const change = l2(ax.map((a, f) => axp[f]! - a)) / norm;
      // NaN on either side is no measure of closeness: the worst there is, as in repeatDeterminism.
      worst = Number.isNaN(change) ? Infinity : Math.max(worst, change);
    }
    return worst;
  });
  return {
    perApplicant,
    max: Math.max(...perApplicant),
    mean: perApplicant.reduce((a, s) => a + s, 0) / perApplicant.length,
  };
}
