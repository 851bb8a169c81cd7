// The monitoring snapshot and hourly series shaped for the dashboard: tiles, the histogram's buckets, the points
// of the time charts. Written against the contract's types but reading defensively, since a snapshot from
// another version may lack a part: whatever is present is shown. Pure.
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import {
  HOUR_MS,
  monitoringSnapshotSchema,
  type FeatureDrift,
  type MonitoringSnapshot,
  type Tile,
  type TrafficWindow,
} from '../../../../shared/monitoring.js';
import { pick } from '../../i18n/i18n.js';
import { formatMs, formatNumber, formatPercent } from '../../lib/format.js';
import { maskedFeatureLabels, PSEUDONYM_PREFIX } from '../../lib/labels.js';

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
  /** A break in the lines where hours are missing, not a measurement. */
  gap?: true;
}

/** The longest window of a snapshot (the hour before it, for stored points). */
export function longestWindow(s: Partial<MonitoringSnapshot> | undefined): TrafficWindow | undefined {
  const ws = Array.isArray(s?.windows) ? s.windows : [];
  return ws.reduce<TrafficWindow | undefined>(
    (best, w) => (!best || w.window_s > best.window_s ? w : best),
    undefined,
  );
}

/**
 * The points of the time charts, oldest first. `stepMs` is how far apart stored points are meant to be: an hour,
 * or the bucket of a thinned series (monitoringSeries' `bucket_ms`); points further apart have a gap between.
 */
export function seriesPoints(
  series: readonly Partial<MonitoringSnapshot>[],
  current?: Partial<MonitoringSnapshot>,
  stepMs: number | null = null,
): SeriesPoint[] {
  const maxGap = Math.max(MAX_GAP_MS, 1.5 * (stepMs ?? 0));
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
    if (prev && p.at - prev.at > maxGap) {
      out.push({
        at: prev.at + 1,
        p50: null,
        p90: null,
        p99: null,
        rps: null,
        hitRate: null,
        count: 0,
        gap: true,
      });
    }
    out.push(p);
  }
  return out;
}

/** A time chart of fewer points than this shows each point's symbol; a longer one shows its lines only. */
export const SYMBOLS_BELOW = 30;

/**
 * One line of a time chart, as an ECharts series: its points, and their symbols while there are few. Without
 * symbols, a point with no value beside it on the line (between two gaps, or beside one at an end: an hour the
 * workstation ran alone, or the live point the morning after a night off) is a line of no length, which ECharts
 * draws as nothing, the axis stretched to a value nowhere to be seen: such a point keeps its symbol.
 */
export function timeLine(
  points: readonly SeriesPoint[],
  key: 'p50' | 'p90' | 'p99' | 'rps' | 'hitRate',
): {
  type: 'line';
  connectNulls: false;
  showSymbol: true;
  data: ([number, number | null] | { value: [number, number | null]; symbol: 'none' })[];
} {
  const symbols = points.length < SYMBOLS_BELOW;
  const has = (i: number) => typeof points[i]?.[key] === 'number';
  return {
    type: 'line',
    connectNulls: false,
    showSymbol: true,
    data: points.map((p, i) => {
      const value: [number, number | null] = [p.at, p[key]];
      return symbols || (has(i) && !has(i - 1) && !has(i + 1)) ? value : { value, symbol: 'none' };
    }),
  };
}

/** What a tile or the stability card shows for a number that was NaN or infinite (JSON carries neither). */
export const NON_FINITE_TEXT = 'NaN / ∞';

/**
 * Whether a stability tile has no value because its run gave NaN or infinity (the tile is then red), rather
 * than because nothing was measured yet.
 */
export function tileNonFinite(tile: Pick<Tile, 'id'>, s: Partial<MonitoringSnapshot> | undefined): boolean {
  if (tile.id === 'repeat_determinism') return s?.stability?.repeat_non_finite === true;
  if (tile.id === 'sensitivity_max') return s?.stability?.sensitivity?.non_finite === true;
  return false;
}

/** A tile's value as the page shows it: "—" when nothing was measured, NON_FINITE_TEXT when not a number. */
export function tileValueText(tile: Pick<Tile, 'id' | 'value'>, locale: Locale, nonFinite = false): string {
  if (nonFinite) return NON_FINITE_TEXT;
  if (tile.value === null || tile.value === undefined) return '—';
  switch (tile.id) {
    case 'latency_p99':
      return formatMs(locale, tile.value);
    case 'cache_hit_rate':
      return formatPercent(locale, tile.value);
    case 'repeat_determinism':
      // Any difference is red, even in the last bit: shown in full magnitude, not rounded to 0.
      return tile.value === 0 ? '0' : tile.value.toExponential(2);
    default:
      return formatNumber(locale, tile.value, 3);
  }
}

/**
 * The rows of the charts' table: the points without the breaks, which measure nothing and stand 1 ms after the
 * point before (a row of dashes at that point's time); the jump in the time column shows the missing hours.
 */
export function tablePoints(points: readonly SeriesPoint[]): SeriesPoint[] {
  return points.filter((p) => !p.gap);
}

/** Points further apart than this (stored hourly) have missing hours between them. */
export const MAX_GAP_MS = 1.5 * HOUR_MS;

const DAY_MS = 24 * HOUR_MS;

/** The periods of stored history the charts can show: a year of hours is too many points to read (or to send). */
export const SERIES_PERIODS = ['24h', '7d', '30d', '365d'] as const;
export type SeriesPeriod = (typeof SERIES_PERIODS)[number];
export const DEFAULT_SERIES_PERIOD: SeriesPeriod = '7d';
export const PERIOD_MS: Record<SeriesPeriod, number> = {
  '24h': DAY_MS,
  '7d': 7 * DAY_MS,
  '30d': 30 * DAY_MS,
  '365d': 365 * DAY_MS,
};

export function isSeriesPeriod(value: string): value is SeriesPeriod {
  return (SERIES_PERIODS as readonly string[]).includes(value);
}

/**
 * The time the period is counted back from: the service's clock (the time of the snapshot it just answered),
 * which also stamped the stored points, rather than the browser's: a branch PC whose clock is off would ask for,
 * and keep, the wrong window (a clock a year ahead: none of the stored points). The browser's without a snapshot.
 */
export function serviceNow(current: Partial<MonitoringSnapshot> | undefined, browserNow: number): number {
  const at = Date.parse(current?.taken_at ?? '');
  return Number.isFinite(at) ? at : browserNow;
}

/**
 * What the page asks monitoringSeries for: the whole period the first time (the service thins a long one to a
 * few hundred points), then only the points stored after the last one known.
 */
export function seriesRequest(
  period: SeriesPeriod,
  known: readonly Partial<MonitoringSnapshot>[],
  now: number,
): { from: string } {
  const last = Date.parse(known.at(-1)?.taken_at ?? '');
  return { from: new Date(Number.isFinite(last) ? last + 1 : now - PERIOD_MS[period]).toISOString() };
}

/** The points still inside the period: the page stays open for hours, and the oldest points leave it. */
export function withinPeriod(
  series: readonly Partial<MonitoringSnapshot>[],
  period: SeriesPeriod,
  now: number,
): Partial<MonitoringSnapshot>[] {
  const from = now - PERIOD_MS[period];
  return series.filter((s) => !(Date.parse(s.taken_at ?? '') < from));
}

/**
 * The time axis' labels for points spanning `spanMs`: the time of day within a day (the 24-hour view), the date
 * and time within ten days, the date beyond (a week of "00:00" labels tells nothing). Beyond a day, times alone
 * would repeat: a 7-day view of a workstation installed yesterday spans 30 hours, and showed 10:00 twice.
 */
export function axisTimeOptions(spanMs: number): Intl.DateTimeFormatOptions {
  // hourCycle, not hour12: false, which older Chrome reads in English as 1–24 (formatDateTime).
  const time = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } as const;
  const date = { month: '2-digit', day: '2-digit' } as const;
  return spanMs <= DAY_MS ? time : spanMs <= 10 * DAY_MS ? { ...date, ...time } : date;
}

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

export interface DriftRow {
  key: string;
  label: string;
  recent: number | null;
  reference: number | null;
  js: number | null;
  psi: number | null;
  status: FeatureDrift['status'];
}

/**
 * The drift table's (and chart's) rows: each feature by its business label. A sensitive feature comes under its
 * pseudonym, as in the documents: shown as masked (`masked`, the page's wording), never by name, and told apart
 * from the other masked ones as every page tells them apart (maskedFeatureLabels). The masked ones come last,
 * sorted by pseudonym, as the documents list them: the snapshot lists every feature in schema order, and masked
 * rows told apart in that order would say which one is Income (the schema's seventh feature), which Assets.
 */
export function driftTableRows(
  features: readonly FeatureDrift[],
  schema: Pick<BundleSchema, 'features'> | null | undefined,
  locale: Locale,
  masked: string,
): DriftRow[] {
  const known = (name: string) => schema?.features.find((x) => x.name === name);
  const isMasked = (name: string) => !known(name) && name.startsWith(PSEUDONYM_PREFIX);
  const maskedNames = maskedFeatureLabels(features.map((f) => f.feature).filter(isMasked), masked);
  const ordered = [
    ...features.filter((f) => !isMasked(f.feature)),
    ...features
      .filter((f) => isMasked(f.feature))
      .sort((a, b) => (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : 0)),
  ];
  return ordered.map((f) => {
    const feature = known(f.feature);
    return {
      key: f.feature,
      label: feature ? pick(feature.label, locale) : (maskedNames.get(f.feature) ?? f.feature),
      recent: f.share_recent,
      reference: f.share_reference,
      js: f.js,
      psi: f.psi,
      status: f.status,
    };
  });
}
