// Monitoring: the snapshot the service computes locally (latency, cache, stability, attribution drift), its
// hourly time series, the thresholds that colour the dashboard tiles, and the bundle's optional reference.json.
// One definition for the core, the HTTP API, IPC and the UI. What each number means: docs/monitoring.md.
import { z } from 'zod';

// ---- thresholds and tiles ----------------------------------------------------------------------------------

export const TILE_STATUSES = ['ok', 'amber', 'red', 'unknown'] as const;
/** `unknown`: nothing to judge yet (no traffic, no reference, too few rows, stability not yet run). */
export type TileStatus = (typeof TILE_STATUSES)[number];

export const TILE_IDS = [
  'latency_p99',
  'cache_hit_rate',
  'repeat_determinism',
  'sensitivity_max',
  'drift_js',
  'drift_psi_max',
] as const;
export type TileId = (typeof TILE_IDS)[number];

export const thresholdSchema = z
  .object({
    /** `above`: larger values are worse (latency, drift); `below`: smaller values are worse (hit rate). */
    direction: z.enum(['above', 'below']),
    /** Strictly beyond this the tile turns amber; null: never amber. */
    amber: z.number().nullable(),
    /** Strictly beyond this the tile turns red; null: never red. */
    red: z.number().nullable(),
  })
  .strict();
export type Threshold = z.infer<typeof thresholdSchema>;
export type Thresholds = Record<TileId, Threshold>;

export const DEFAULT_THRESHOLDS: Thresholds = {
  /** Milliseconds per answered applicant, over the tile window. */
  latency_p99: { direction: 'above', amber: 50, red: 200 },
  /** A low hit rate is a hint (a cache that is cleared or too small), never an alarm. */
  cache_hit_rate: { direction: 'below', amber: 0.1, red: null },
  /** Any difference at all between a served explanation and its recomputation is a defect. */
  repeat_determinism: { direction: 'above', amber: null, red: 0 },
  /**
   * Relative change ‖a(x′) − a(x)‖ / ‖a(x)‖ at radius 0.02 std; the demo model gives ≈ 0.03 on average and
   * ≈ 0.05–0.08 at worst over held-out applicants.
   */
  sensitivity_max: { direction: 'above', amber: 0.15, red: 0.3 },
  /** Jensen–Shannon divergence (base 2) of the attribution-mass shares, recent vs reference. */
  drift_js: { direction: 'above', amber: 0.05, red: 0.1 },
  /** The largest per-feature PSI; 0.1 and 0.25 are the customary PSI limits. */
  drift_psi_max: { direction: 'above', amber: 0.1, red: 0.25 },
};

/** The status of a value against its threshold; a missing value is `unknown`. */
export function tileStatus(value: number | null, threshold: Threshold): TileStatus {
  if (value === null || !Number.isFinite(value)) return 'unknown';
  const beyond = (limit: number | null) =>
    limit !== null && (threshold.direction === 'above' ? value > limit : value < limit);
  if (beyond(threshold.red)) return 'red';
  if (beyond(threshold.amber)) return 'amber';
  return 'ok';
}

/** Statuses from best to worst: `unknown` ranks lowest, since it judges nothing. */
export const STATUS_RANK: Record<TileStatus, number> = { unknown: 0, ok: 1, amber: 2, red: 3 };

/** The worst of several statuses (`unknown` only when all are unknown). */
export function worstStatus(statuses: readonly TileStatus[]): TileStatus {
  return statuses.reduce<TileStatus>((w, s) => (STATUS_RANK[s] > STATUS_RANK[w] ? s : w), 'unknown');
}

/**
 * An hour in ms: snapshots are stored hourly, and a thinned series' buckets are whole hours (monitoringSeries'
 * `bucket_ms`), which the Monitor page reads as "1 point per N h".
 */
export const HOUR_MS = 3_600_000;

// ---- the snapshot -------------------------------------------------------------------------------------------

/** The fixed upper bucket edges (ms) of the latency histogram; the last bucket is everything above. */
export const LATENCY_HISTOGRAM_EDGES_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

const nullableNumber = z.number().nullable();
const count = z.number().int().nonnegative();

export const trafficWindowSchema = z
  .object({
    /** The window's nominal length; it covers this to within one 10 s bucket. */
    window_s: z.number().positive(),
    /** Answered applicants in the window (cache hits included). */
    count,
    /** Answered applicants per second over the part of the window the service has been running. */
    throughput_rps: z.number().nonnegative(),
    latency: z
      .object({
        p50_ms: nullableNumber,
        p90_ms: nullableNumber,
        p99_ms: nullableNumber,
        max_ms: nullableNumber,
        mean_ms: nullableNumber,
        histogram: z
          .object({
            /** Upper edges, inclusive: counts[i] holds edges_ms[i-1] < latency ≤ edges_ms[i]. */
            edges_ms: z.array(z.number()),
            /** One more than edges_ms: the last is latency > the last edge. */
            counts: z.array(count),
          })
          .strict(),
      })
      .strict(),
    cache: z
      .object({
        by_level: z.object({ miss: count, memory: count, disk: count }).strict(),
        /** (memory + disk) / all; null without traffic. */
        hit_rate: nullableNumber,
      })
      .strict(),
  })
  .strict();
export type TrafficWindow = z.infer<typeof trafficWindowSchema>;

/**
 * A stored snapshot's traffic since the previous snapshot its service stored (or since the service started):
 * each answer is in exactly one stored snapshot's interval, where sliding windows overlap (a snapshot stored on
 * closing) or leave gaps. `window_s` is how long that was, 0 or more.
 */
export const trafficIntervalSchema = trafficWindowSchema.extend({ window_s: z.number().nonnegative() });

export const stabilitySchema = z
  .object({
    /** When the last stability run finished; null if none has run since the service started. */
    computed_at: z.string().nullable(),
    /** Applicants re-explained in that run. */
    samples: count,
    /** max |served attribution − recomputed attribution| over the sample; must be exactly 0. */
    repeat_max_abs_delta: nullableNumber,
    /**
     * Present (true) when a served or recomputed attribution was NaN or infinite, which JSON cannot carry:
     * repeat_max_abs_delta is then null and its tile red, and /metrics shows +Inf.
     */
    repeat_non_finite: z.literal(true).optional(),
    sensitivity: z
      .object({
        /** Perturbation radius in standard deviations of each numeric feature. */
        radius: z.number().nonnegative(),
        perturbations: count,
        seed: z.number().int(),
        /** max over the sample of max over perturbations of ‖a(x′) − a(x)‖₂ / ‖a(x)‖₂. */
        max: nullableNumber,
        mean: nullableNumber,
        /** Present (true) when a perturbed explanation was NaN or infinite: max and mean are null, the tile red. */
        non_finite: z.literal(true).optional(),
      })
      .strict(),
    duration_ms: nullableNumber,
  })
  .strict();
export type StabilitySnapshot = z.infer<typeof stabilitySchema>;

export const DRIFT_STATES = ['computed', 'no_reference', 'insufficient_data'] as const;
export type DriftState = (typeof DRIFT_STATES)[number];

export const featureDriftSchema = z
  .object({
    feature: z.string(),
    /** Σ|a_f| / Σ|a| over the recent window; null without rows. */
    share_recent: nullableNumber,
    /** The same over the reference rows (reference.json); null without a reference. */
    share_reference: nullableNumber,
    /** JS divergence (base 2) of the binned per-row share distributions, recent vs reference. */
    js: nullableNumber,
    /** PSI (natural log, ε = 1e-4) of the same binned distributions. */
    psi: nullableNumber,
    /** From the PSI thresholds. */
    status: z.enum(TILE_STATUSES),
  })
  .strict();
export type FeatureDrift = z.infer<typeof featureDriftSchema>;

export const driftSchema = z
  .object({
    state: z.enum(DRIFT_STATES),
    /**
     * Rows in the recent window with some attribution mass (those that count: an applicant at the baseline has
     * no shares), and the fewest such rows for which drift is reported.
     */
    rows: count,
    min_rows: count,
    reference_rows: count.nullable(),
    /** JS divergence (base 2) between the recent and reference share vectors over the features. */
    js: nullableNumber,
    psi_max: nullableNumber,
    features: z.array(featureDriftSchema),
  })
  .strict();
export type DriftSnapshot = z.infer<typeof driftSchema>;

export const tileSchema = z
  .object({
    id: z.enum(TILE_IDS),
    value: nullableNumber,
    status: z.enum(TILE_STATUSES),
    threshold: thresholdSchema,
  })
  .strict();
export type Tile = z.infer<typeof tileSchema>;

export const monitoringSnapshotSchema = z
  .object({
    snapshot_version: z.literal(1),
    taken_at: z.string(),
    model: z.object({ id: z.string(), version: z.string(), sha256: z.string() }).strict(),
    /** Traffic over sliding windows (by default 1 min, 5 min, 1 h), shortest first. */
    windows: z.array(trafficWindowSchema),
    /** The window the tiles judge. */
    tile_window_s: z.number().positive(),
    queue_depth: count.optional(),
    stability: stabilitySchema,
    drift: driftSchema,
    tiles: z.array(tileSchema),
    /** The worst tile status. */
    status: z.enum(TILE_STATUSES),
    /**
     * Only on a stored snapshot (or a thinned point, the sum of its snapshots' when each has one): what was answered
     * since the previous one, counted once (docs/monitoring.md). Snapshots stored before it existed lack it.
     */
    since_previous: trafficIntervalSchema.optional(),
    /**
     * Only on a point of a thinned series (monitoringSeries): the point summarises this many stored snapshots,
     * taken from `first_taken_at` to `taken_at`, each measure at its worst (docs/monitoring.md).
     */
    summary: z
      .object({ snapshots: z.number().int().positive(), first_taken_at: z.string() })
      .strict()
      .optional(),
  })
  .strict();
export type MonitoringSnapshot = z.infer<typeof monitoringSnapshotSchema>;

/** Stored hourly snapshots, oldest first. */
export const monitoringSeriesSchema = z.array(monitoringSnapshotSchema);
export type MonitoringSeries = z.infer<typeof monitoringSeriesSchema>;

// ---- the bundle's reference.json ----------------------------------------------------------------------------

export const REFERENCE_FILE = 'reference.json';

const referenceFeatureSchema = z
  .object({
    name: z.string().min(1),
    /** Σ|a_f| / Σ|a| over the reference rows. */
    share: z.number().min(0).max(1),
    /** Interior bin edges of the per-row share, ascending and distinct; bin k is edges[k−1] < s ≤ edges[k]. */
    edges: z.array(z.number()),
    /** Share of the reference rows in each bin: edges.length + 1 numbers. */
    proportions: z.array(z.number().min(0).max(1)),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.proportions.length !== f.edges.length + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['proportions'],
        message: 'must hold one more number than edges',
      });
    }
    for (let k = 1; k < f.edges.length; k++) {
      if (!(f.edges[k]! > f.edges[k - 1]!)) {
        ctx.addIssue({ code: 'custom', path: ['edges', k], message: 'edges must be strictly ascending' });
      }
    }
    // JS divergence and PSI compare distributions: proportions that do not sum to 1 would make them disagree, or
    // (summing to 0) fail every drift computation.
    const sum = f.proportions.reduce((a, p) => a + p, 0);
    if (!(Math.abs(sum - 1) <= REFERENCE_SUM_TOLERANCE)) {
      ctx.addIssue({ code: 'custom', path: ['proportions'], message: `must sum to 1 (they sum to ${sum})` });
    }
  });

/** How far a reference's proportions (or shares) may sum from 1: they are written to six significant digits. */
export const REFERENCE_SUM_TOLERANCE = 1e-4;

export const attributionReferenceSchema = z
  .object({
    reference_version: z.literal(1),
    /** What the rows were, e.g. "training split (3563 rows)". */
    data: z.string().min(1),
    /** Rows explained. */
    rows: z.number().int().positive(),
    /** Rows with some attribution mass (an applicant equal to the baseline has none): the binned rows. */
    rows_with_mass: z.number().int().positive(),
    explainer: z
      .object({
        explainer_version: z.string(),
        method: z.string(),
        n_steps: z.number().int().positive(),
        baseline: z.literal('schema'),
        target: z.union([z.string(), z.number(), z.null()]),
        backend: z.string(),
      })
      .strict(),
    binning: z
      .object({
        /** The binned quantity: each row's share |a_f| / Σ_g |a_g| of its own attribution mass. */
        statistic: z.literal('row_share'),
        /** Quantile bins asked for; tied quantiles merge, so a feature may have fewer. */
        quantiles: z.number().int().min(2),
      })
      .strict(),
    /** In schema feature order. */
    features: z.array(referenceFeatureSchema).min(1),
  })
  .strict()
  .superRefine((r, ctx) => {
    const sum = r.features.reduce((a, f) => a + f.share, 0);
    if (!(Math.abs(sum - 1) <= REFERENCE_SUM_TOLERANCE)) {
      ctx.addIssue({
        code: 'custom',
        path: ['features'],
        message: `shares must sum to 1 (they sum to ${sum})`,
      });
    }
    if (r.rows_with_mass > r.rows) {
      ctx.addIssue({ code: 'custom', path: ['rows_with_mass'], message: 'cannot exceed rows' });
    }
  });
export type AttributionReference = z.infer<typeof attributionReferenceSchema>;
