// One point of a thinned time series: the hourly snapshots of a time bucket summarised into one snapshot, so that
// an hour of trouble between two points of a 30-day or 1-year chart still shows (docs/monitoring.md). Pure.
import {
  STATUS_RANK,
  worstStatus,
  type DriftSnapshot,
  type FeatureDrift,
  type MonitoringSnapshot,
  type StabilitySnapshot,
  type Tile,
  type TrafficWindow,
} from '../../../shared/monitoring.js';

/** The finite numbers among the values (a null is "nothing measured", not a zero). */
function finite(values: readonly (number | null | undefined)[]): number[] {
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

function maxOf(values: readonly (number | null | undefined)[]): number | null {
  const xs = finite(values);
  return xs.length ? Math.max(...xs) : null;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, v) => a + v, 0);
}

/**
 * The bucket's snapshots (oldest first, at least one) as one snapshot, each field summarised so that trouble is
 * never averaged away:
 * - `taken_at`, `model`, `tile_window_s`: the newest snapshot's (the point stands where its bucket ends, so the
 *   page's "only what is newer" refresh goes on from it); `summary` says how many snapshots it stands for.
 * - windows (matched by length): answer and cache counts and the histogram summed, the hit rate and mean latency
 *   over those sums, the throughput the mean of the rates, the latency quantiles and max the worst (largest).
 *   The longest window's counts are the bucket's answers, each once: each snapshot adds what it answered since the
 *   previous one (`since_previous`), not its window, which overlaps the previous snapshot's when it was stored on
 *   closing, or leaves a gap when stored late; a snapshot stored before `since_previous` existed adds its window.
 * - `since_previous`: the sum of the snapshots', when each has one (what was answered since the previous point).
 * - `queue_depth`: the largest.
 * - stability, over the distinct runs (snapshots repeat a run until the next): the largest repeat difference and
 *   sensitivity, either non-finite flag if any run had it, the samples summed, the mean sensitivity weighted by
 *   samples, the newest run's time and settings, the longest duration.
 * - drift, over the snapshots that computed it: the largest JS and PSI, per feature the largest JS and PSI with the
 *   shares of the snapshot that gave that PSI and the worst status; the newest snapshot's drift when none did.
 * - tiles and `status`: each tile as in the snapshot where it was worst (status first, then value).
 */
export function summariseSnapshots(snapshots: readonly MonitoringSnapshot[]): MonitoringSnapshot {
  const newest = snapshots.at(-1);
  if (!newest) throw new Error('summariseSnapshots: no snapshot to summarise');
  const longest = Math.max(...newest.windows.map((w) => w.window_s));
  const summarised: MonitoringSnapshot = {
    snapshot_version: 1,
    taken_at: newest.taken_at,
    model: newest.model,
    windows: newest.windows.map((w) => {
      const windows = snapshots.flatMap((s) => s.windows.filter((x) => x.window_s === w.window_s));
      if (w.window_s !== longest) return summariseWindow(windows, windows);
      const counted = snapshots.flatMap(
        (s) => s.since_previous ?? s.windows.filter((x) => x.window_s === w.window_s),
      );
      return summariseWindow(windows, counted);
    }),
    tile_window_s: newest.tile_window_s,
    stability: summariseStability(snapshots.map((s) => s.stability)),
    drift: summariseDrift(snapshots.map((s) => s.drift)),
    tiles: summariseTiles(snapshots),
    status: worstStatus(snapshots.map((s) => s.status)),
    summary: { snapshots: snapshots.length, first_taken_at: snapshots[0]!.taken_at },
  };
  const depth = maxOf(snapshots.map((s) => s.queue_depth));
  if (depth !== null) summarised.queue_depth = depth;
  const intervals = snapshots.map((s) => s.since_previous);
  if (intervals.every((i) => i !== undefined)) {
    const seconds = sum(intervals.map((i) => i.window_s));
    const interval = summariseWindow(intervals, intervals);
    summarised.since_previous = {
      ...interval,
      window_s: seconds,
      throughput_rps: seconds > 0 ? interval.count / seconds : 0,
    };
  }
  return summarised;
}

/**
 * The windows of one length as one: the throughput from `windows`, the counts (answers, cache levels, histogram,
 * and the mean latency over them) from `counted`, which hold each answer once, the quantiles and maximum the worst
 * of both (an answer in a gap between two windows is in `counted` alone).
 */
function summariseWindow(
  windows: readonly TrafficWindow[],
  counted: readonly TrafficWindow[],
): TrafficWindow {
  const newest = windows.at(-1)!;
  const timedWindows = windows === counted ? windows : [...windows, ...counted];
  const count = sum(counted.map((w) => w.count));
  const byLevel = {
    miss: sum(counted.map((w) => w.cache.by_level.miss)),
    memory: sum(counted.map((w) => w.cache.by_level.memory)),
    disk: sum(counted.map((w) => w.cache.by_level.disk)),
  };
  const cached = byLevel.miss + byLevel.memory + byLevel.disk;
  // The mean over every answer of the bucket: each window's mean weighted by its answers.
  const timed = counted.filter((w) => typeof w.latency.mean_ms === 'number' && w.count > 0);
  const timedCount = sum(timed.map((w) => w.count));
  // Histograms add up bin by bin when their edges are the same (they are a constant of the version).
  const edges = newest.latency.histogram.edges_ms;
  const sameEdges = counted.filter(
    (w) =>
      w.latency.histogram.edges_ms.length === edges.length &&
      w.latency.histogram.edges_ms.every((e, i) => e === edges[i]),
  );
  return {
    window_s: newest.window_s,
    count,
    throughput_rps: sum(windows.map((w) => w.throughput_rps)) / windows.length,
    latency: {
      p50_ms: maxOf(timedWindows.map((w) => w.latency.p50_ms)),
      p90_ms: maxOf(timedWindows.map((w) => w.latency.p90_ms)),
      p99_ms: maxOf(timedWindows.map((w) => w.latency.p99_ms)),
      max_ms: maxOf(timedWindows.map((w) => w.latency.max_ms)),
      mean_ms: timedCount ? sum(timed.map((w) => w.latency.mean_ms! * w.count)) / timedCount : null,
      histogram: {
        edges_ms: [...edges],
        counts: newest.latency.histogram.counts.map((_, i) =>
          sum(sameEdges.map((w) => w.latency.histogram.counts[i] ?? 0)),
        ),
      },
    },
    cache: { by_level: byLevel, hit_rate: cached ? (byLevel.memory + byLevel.disk) / cached : null },
  };
}

function summariseStability(all: readonly StabilitySnapshot[]): StabilitySnapshot {
  // Hourly snapshots repeat the last run until the next one: each run counts once.
  const runs = new Map<string | null, StabilitySnapshot>();
  for (const s of all) runs.set(s.computed_at, s);
  const distinct = [...runs.values()];
  const newest = all.at(-1)!;
  const repeatNonFinite = distinct.some((s) => s.repeat_non_finite);
  const sensitivityNonFinite = distinct.some((s) => s.sensitivity.non_finite);
  const measured = distinct.filter((s) => typeof s.sensitivity.mean === 'number' && s.samples > 0);
  const measuredSamples = sum(measured.map((s) => s.samples));
  const computedAt = finite(distinct.map((s) => (s.computed_at ? Date.parse(s.computed_at) : null)));
  const stability: StabilitySnapshot = {
    computed_at: computedAt.length ? new Date(Math.max(...computedAt)).toISOString() : null,
    samples: sum(distinct.map((s) => s.samples)),
    repeat_max_abs_delta: repeatNonFinite ? null : maxOf(distinct.map((s) => s.repeat_max_abs_delta)),
    sensitivity: {
      radius: newest.sensitivity.radius,
      perturbations: newest.sensitivity.perturbations,
      seed: newest.sensitivity.seed,
      max: sensitivityNonFinite ? null : maxOf(distinct.map((s) => s.sensitivity.max)),
      mean:
        sensitivityNonFinite || !measuredSamples
          ? null
          : sum(measured.map((s) => s.sensitivity.mean! * s.samples)) / measuredSamples,
    },
    duration_ms: maxOf(distinct.map((s) => s.duration_ms)),
  };
  if (repeatNonFinite) stability.repeat_non_finite = true;
  if (sensitivityNonFinite) stability.sensitivity.non_finite = true;
  return stability;
}

function summariseDrift(all: readonly DriftSnapshot[]): DriftSnapshot {
  const computed = all.filter((d) => d.state === 'computed');
  const newest = computed.at(-1);
  if (!newest) return all.at(-1)!;
  const features = newest.features.map((f): FeatureDrift => {
    const same = computed.flatMap((d) => d.features.filter((x) => x.feature === f.feature));
    // The shares go with the PSI shown: those of the snapshot where this feature drifted most.
    const worst = same.reduce((w, x) => ((x.psi ?? -Infinity) > (w.psi ?? -Infinity) ? x : w), f);
    return {
      feature: f.feature,
      share_recent: worst.share_recent,
      share_reference: worst.share_reference,
      js: maxOf(same.map((x) => x.js)),
      psi: maxOf(same.map((x) => x.psi)),
      status: worstStatus(same.map((x) => x.status)),
    };
  });
  return {
    state: 'computed',
    rows: Math.max(...computed.map((d) => d.rows)),
    min_rows: newest.min_rows,
    reference_rows: newest.reference_rows,
    js: maxOf(computed.map((d) => d.js)),
    psi_max: maxOf(computed.map((d) => d.psi_max)),
    features,
  };
}

function summariseTiles(snapshots: readonly MonitoringSnapshot[]): Tile[] {
  const newest = snapshots.at(-1)!;
  return newest.tiles.map((tile) => {
    const same = snapshots.flatMap((s) => s.tiles.filter((t) => t.id === tile.id));
    return same.reduce((w, t) => (worseTile(t, w) ? t : w), tile);
  });
}

/** Whether tile a is worse than tile b: a worse status, or the same status and a value further beyond. */
function worseTile(a: Tile, b: Tile): boolean {
  if (STATUS_RANK[a.status] !== STATUS_RANK[b.status]) return STATUS_RANK[a.status] > STATUS_RANK[b.status];
  // A judged tile without a value is a non-finite result (a NaN attribution: red, value null), worse than any
  // number, whichever snapshot of the bucket had it: the point's stability says non-finite, its tile must too.
  if (a.value === null || b.value === null)
    return a.value === null && b.value !== null && a.status !== 'unknown';
  return a.threshold.direction === 'below' ? a.value < b.value : a.value > b.value;
}
