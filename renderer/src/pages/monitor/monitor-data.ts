// The monitoring snapshot and hourly series shaped for the dashboard: tiles, the histogram's buckets, the points
// of the time charts. Written against the contract's types but reading defensively, since a snapshot from
// another version may lack a part: whatever is present is shown. Pure.
import {
  monitoringSnapshotSchema,
  type MonitoringSnapshot,
  type TrafficWindow,
} from '../../../../shared/monitoring.js';

export interface Checked<T> {
  value: T;
  /** False when the answer did not match the contract (it is still shown, as far as it goes). */
  valid: boolean;
}

export function checkSnapshot(raw: unknown): Checked<Partial<MonitoringSnapshot>> | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const parsed = monitoringSnapshotSchema.safeParse(raw);
  return parsed.success
    ? { value: parsed.data, valid: true }
    : { value: raw as Partial<MonitoringSnapshot>, valid: false };
}

/** Histogram bucket labels from the upper edges: "≤ 1", "≤ 2", …, "> 5000" (ms). */
export function histogramBuckets(
  h: TrafficWindow['latency']['histogram'] | undefined,
): { label: string; count: number }[] {
  if (!h || !Array.isArray(h.edges_ms) || !Array.isArray(h.counts)) return [];
  return h.counts.map((count, i) => ({
    label: i < h.edges_ms.length ? `≤ ${h.edges_ms[i]}` : `> ${h.edges_ms[h.edges_ms.length - 1] ?? ''}`,
    count: Number.isFinite(count) ? count : 0,
  }));
}

export interface SeriesPoint {
  at: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  rps: number | null;
  hitRate: number | null;
  count: number;
}

/** The longest window of a snapshot (the hour before it, for stored points). */
export function longestWindow(s: Partial<MonitoringSnapshot> | undefined): TrafficWindow | undefined {
  const ws = Array.isArray(s?.windows) ? s.windows : [];
  return ws.reduce<TrafficWindow | undefined>(
    (best, w) => (!best || w.window_s > best.window_s ? w : best),
    undefined,
  );
}

export function seriesPoints(
  series: readonly Partial<MonitoringSnapshot>[],
  current?: Partial<MonitoringSnapshot>,
): SeriesPoint[] {
  const all = current ? [...series, current] : [...series];
  const points: SeriesPoint[] = [];
  for (const s of all) {
    const at = Date.parse(s.taken_at ?? '');
    const w = longestWindow(s);
    if (!Number.isFinite(at) || !w) continue;
    points.push({
      at,
      p50: w.latency?.p50_ms ?? null,
      p90: w.latency?.p90_ms ?? null,
      p99: w.latency?.p99_ms ?? null,
      rps: w.throughput_rps ?? null,
      hitRate: w.cache?.hit_rate ?? null,
      count: w.count ?? 0,
    });
  }
  points.sort((a, b) => a.at - b.at);
  // Hours with no point (the workstation was off) break the lines rather than being drawn across: a point of
  // nulls between two points further apart than MAX_GAP_MS.
  const out: SeriesPoint[] = [];
  for (const p of points) {
    const prev = out.at(-1);
    if (prev && p.at - prev.at > MAX_GAP_MS) {
      out.push({ at: prev.at + 1, p50: null, p90: null, p99: null, rps: null, hitRate: null, count: 0 });
    }
    out.push(p);
  }
  return out;
}

/** Points further apart than this (stored hourly) have missing hours between them. */
export const MAX_GAP_MS = 1.5 * 3_600_000;

/**
 * The stored series with the points fetched since appended: only those taken after the last one known (the
 * page asks for the series since its last point, rather than the whole year every few seconds).
 */
export function mergeSeries(
  known: readonly Partial<MonitoringSnapshot>[],
  fresh: readonly Partial<MonitoringSnapshot>[],
): Partial<MonitoringSnapshot>[] {
  const last = Date.parse(known.at(-1)?.taken_at ?? '');
  const newer = fresh.filter((s) => !Number.isFinite(last) || Date.parse(s.taken_at ?? '') > last);
  return newer.length ? [...known, ...newer] : [...known];
}

/** The window the page shows: the one asked for, else the tiles' window, else the first. */
export function pickWindow(
  s: Partial<MonitoringSnapshot>,
  windowS: number | null,
): TrafficWindow | undefined {
  const ws = Array.isArray(s.windows) ? s.windows : [];
  return ws.find((w) => w.window_s === windowS) ?? ws.find((w) => w.window_s === s.tile_window_s) ?? ws[0];
}
