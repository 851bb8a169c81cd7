// Attribution drift, as pure numbers: which share of the attribution mass each feature carries now, compared
// with the reference the bundle ships. Definitions, and why these ones: docs/monitoring.md.
import {
  DEFAULT_THRESHOLDS,
  tileStatus,
  type AttributionReference,
  type DriftSnapshot,
  type FeatureDrift,
  type Threshold,
} from '../../../shared/monitoring.js';

/** Stands in for an empty bin in PSI, whose log ratio would otherwise be infinite. */
export const PSI_EPSILON = 1e-4;

/** |a_f| / Σ_g |a_g| for one row; null when the row has no attribution mass (the applicant is the baseline). */
export function rowShares(attributions: ArrayLike<number>): number[] | null {
  let total = 0;
  for (let f = 0; f < attributions.length; f++) total += Math.abs(attributions[f]!);
  if (!(total > 0)) return null;
  return Array.from(attributions, (a) => Math.abs(a) / total);
}

/** share_f = Σ_rows |a_f| / Σ_rows Σ_g |a_g|: each feature's share of all the attribution mass; sums to 1. */
export function massShares(rows: readonly ArrayLike<number>[]): number[] | null {
  const width = rows[0]?.length ?? 0;
  const mass = new Array<number>(width).fill(0);
  for (const row of rows) for (let f = 0; f < width; f++) mass[f]! += Math.abs(row[f]!);
  const total = mass.reduce((a, m) => a + m, 0);
  return total > 0 ? mass.map((m) => m / total) : null;
}

function normalised(p: readonly number[], name: string): number[] {
  const total = p.reduce((a, x) => a + x, 0);
  if (!(total > 0) || p.some((x) => !(x >= 0))) {
    throw new RangeError(`${name} must be non-negative with a positive sum`);
  }
  return p.map((x) => x / total);
}

/**
 * Jensen–Shannon divergence in bits: ½ KL(p ‖ m) + ½ KL(q ‖ m) with m = (p + q) / 2. 0 for identical
 * distributions, 1 for disjoint ones; symmetric, and finite with empty bins (0 · log 0 = 0). Inputs are
 * normalised to sum to 1.
 */
export function jsDivergence(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new RangeError(`distributions of ${p.length} and ${q.length} bins`);
  const [pn, qn] = [normalised(p, 'p'), normalised(q, 'q')];
  let js = 0;
  for (let i = 0; i < pn.length; i++) {
    const [a, b] = [pn[i]!, qn[i]!];
    const m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * Math.log2(a / m);
    if (b > 0) js += 0.5 * b * Math.log2(b / m);
  }
  // Rounding can leave a hair below 0 or above 1.
  return Math.min(1, Math.max(0, js));
}

/**
 * Population Stability Index: Σ (recent − reference) · ln(recent / reference) over bins, each proportion
 * raised to at least `eps` so that an empty bin costs a large but finite amount.
 */
export function psi(reference: readonly number[], recent: readonly number[], eps = PSI_EPSILON): number {
  if (reference.length !== recent.length) {
    throw new RangeError(`distributions of ${reference.length} and ${recent.length} bins`);
  }
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const e = Math.max(reference[i]!, eps);
    const a = Math.max(recent[i]!, eps);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** numpy's default (linear) quantile of sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('no values');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * The interior edges of `bins` quantile bins (the k/bins quantiles, k = 1 … bins − 1), with ties merged: a
 * value shared by many rows (a share of exactly 0, say) becomes one edge, and its rows one bin.
 */
export function quantileEdges(values: readonly number[], bins: number): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = quantileSorted(sorted, k / bins);
    if (edges.length === 0 || e > edges.at(-1)!) edges.push(e);
  }
  return edges;
}

/** Bin k holds edges[k−1] < v ≤ edges[k] (right-closed, so a point mass at an edge stays in one bin). */
export function binIndex(value: number, edges: readonly number[]): number {
  let k = 0;
  while (k < edges.length && value > edges[k]!) k++;
  return k;
}

/** The share of `values` in each bin: edges.length + 1 proportions (all 0 without values). */
export function binProportions(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[binIndex(v, edges)]! += 1;
  return values.length ? counts.map((c) => c / values.length) : counts;
}

/** The last `capacity` explanations' per-feature attributions (schema feature order), oldest dropped first. */
export class RecentWindow {
  readonly #rows: Float64Array[] = [];
  #next = 0;

  constructor(
    readonly width: number,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
  }

  push(attributions: ArrayLike<number>): void {
    if (attributions.length !== this.width) {
      throw new RangeError(`${attributions.length} attributions for ${this.width} features`);
    }
    const row = Float64Array.from(attributions);
    if (this.#rows.length < this.capacity) this.#rows.push(row);
    else this.#rows[this.#next] = row;
    this.#next = (this.#next + 1) % this.capacity;
  }

  get size(): number {
    return this.#rows.length;
  }

  /** Oldest first. */
  rows(): Float64Array[] {
    if (this.#rows.length < this.capacity) return [...this.#rows];
    return [...this.#rows.slice(this.#next), ...this.#rows.slice(0, this.#next)];
  }

  clear(): void {
    this.#rows.length = 0;
    this.#next = 0;
  }
}

export interface DriftOptions {
  /** Fewer recent rows than this report `insufficient_data`: PSI's noise alone is ≈ (bins − 1) / rows. */
  minRows: number;
  psiThreshold?: Threshold;
}

/** Recent rows (schema feature order) against the reference; feature names in schema order. */
export function computeDrift(
  rows: readonly ArrayLike<number>[],
  reference: AttributionReference | null,
  features: readonly string[],
  options: DriftOptions,
): DriftSnapshot {
  const psiThreshold = options.psiThreshold ?? DEFAULT_THRESHOLDS.drift_psi_max;
  const recent = massShares(rows);
  // Per-feature PSI bins each applicant's own shares, which a row without attribution mass does not have:
  // only rows with mass count toward the minimum.
  const perRow = rows.map(rowShares).filter((s): s is number[] => s !== null);
  const base = {
    // The rows compared with min_rows, as the page shows them side by side ("310 recent explanations, drift
    // needs 300" must not come with "not enough data").
    rows: perRow.length,
    min_rows: options.minRows,
    reference_rows: reference?.rows ?? null,
  };
  const enough = perRow.length >= options.minRows && recent !== null;
  if (!reference || !enough) {
    return {
      ...base,
      state: reference ? 'insufficient_data' : 'no_reference',
      js: null,
      psi_max: null,
      features: features.map((feature, f) => ({
        feature,
        // A handful of rows would be a few applicants' own attributions (sensitive features among them, which
        // their documents mask): nothing is shown below the minimum.
        share_recent: perRow.length >= options.minRows ? (recent?.[f] ?? null) : null,
        share_reference: reference?.features[f]?.share ?? null,
        js: null,
        psi: null,
        status: 'unknown',
      })),
    };
  }
  const featureDrift: FeatureDrift[] = features.map((feature, f) => {
    const ref = reference.features[f]!;
    const proportions = binProportions(
      perRow.map((s) => s[f]!),
      ref.edges,
    );
    const value = psi(ref.proportions, proportions);
    return {
      feature,
      share_recent: recent[f]!,
      share_reference: ref.share,
      js: jsDivergence(ref.proportions, proportions),
      psi: value,
      status: tileStatus(value, psiThreshold),
    };
  });
  return {
    ...base,
    state: 'computed',
    js: jsDivergence(
      reference.features.map((f) => f.share),
      recent,
    ),
    psi_max: Math.max(...featureDrift.map((f) => f.psi!)),
    features: featureDrift,
  };
}
