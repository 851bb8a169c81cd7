// The hourly monitoring snapshots in SQLite (migration 005), and the time series the UI charts read.
import { DEFAULT_SERIES_POINTS } from '../../../shared/contract.js';
import { isPseudonym, maskedLast } from '../../../shared/masked-features.js';
import {
  HOUR_MS,
  monitoringSnapshotSchema,
  type MonitoringSeries,
  type MonitoringSnapshot,
} from '../../../shared/monitoring.js';
import type { ReadableDb, WritableDb } from '../db/open.js';
import { summariseSnapshots } from './summary.js';

export function insertSnapshot(db: WritableDb, snapshot: MonitoringSnapshot, takenAtMs: number): void {
  db.prepare('INSERT INTO monitoring_snapshots (taken_at, model_sha256, snapshot) VALUES (?, ?, ?)').run(
    takenAtMs,
    snapshot.model.sha256,
    JSON.stringify(snapshot),
  );
}

/** When the newest stored snapshot was taken (ms since the epoch), or null if there is none. */
export function latestSnapshotTime(db: ReadableDb | WritableDb): number | null {
  const row = db.prepare('SELECT max(taken_at) AS t FROM monitoring_snapshots').get() as { t: number | null };
  return row.t;
}

/**
 * Deletes the snapshots taken before `beforeMs`, but never the newest `keepNewest`: a clock set years ahead for a
 * moment (a snapshot stored then prunes from that "now") must not delete the stored history, only age it out one
 * snapshot per new one. Returns how many were deleted.
 */
export function pruneSnapshots(db: WritableDb, beforeMs: number, keepNewest = 0): number {
  return db
    .prepare(
      `DELETE FROM monitoring_snapshots WHERE taken_at < ? AND seq NOT IN (
         SELECT seq FROM monitoring_snapshots ORDER BY taken_at DESC, seq DESC LIMIT ?
       )`,
    )
    .run(beforeMs, keepNewest).changes;
}

export interface SeriesRange {
  /** Inclusive; no lower bound when absent. */
  from?: Date;
  /** Inclusive; no upper bound when absent. */
  to?: Date;
  /** At most this many snapshots, the newest ones (default 10 000, over a year of hours). */
  limit?: number;
}

/**
 * The stored snapshots taken in [from, to], oldest first. A row that no longer matches the snapshot schema
 * (written by another version of BranchLens) is left out rather than failing the whole series.
 */
export function timeSeries(db: ReadableDb | WritableDb, range: SeriesRange = {}): MonitoringSeries {
  const rows = db
    .prepare(
      `SELECT snapshot FROM (
         SELECT seq, taken_at, snapshot FROM monitoring_snapshots
         WHERE taken_at >= ? AND taken_at <= ?
         ORDER BY taken_at DESC, seq DESC LIMIT ?
       ) ORDER BY taken_at, seq`,
    )
    .all(
      range.from?.getTime() ?? Number.MIN_SAFE_INTEGER,
      range.to?.getTime() ?? Number.MAX_SAFE_INTEGER,
      range.limit ?? 10_000,
    ) as { snapshot: string }[];
  return parseRows(rows);
}

/** Stored rows as snapshots, leaving out a row that no longer matches the schema. */
function parseRows(rows: readonly { snapshot: string }[]): MonitoringSeries {
  const out: MonitoringSeries = [];
  for (const { snapshot } of rows) {
    const parsed = monitoringSnapshotSchema.safeParse(JSON.parse(snapshot));
    if (parsed.success) out.push(maskedFeaturesLast(parsed.data));
  }
  return out;
}

/**
 * The snapshot with its sensitive features (their pseudonyms) after the visible ones, sorted by pseudonym, as the
 * monitor lists them: one stored by an earlier version lists them in schema order, which says which pseudonym
 * is which feature.
 */
function maskedFeaturesLast(snapshot: MonitoringSnapshot): MonitoringSnapshot {
  const listed = snapshot.drift.features;
  const features = maskedLast(
    listed,
    (f) => f.feature,
    (f) => isPseudonym(f.feature),
  );
  return features.every((f, i) => f === listed[i])
    ? snapshot
    : { ...snapshot, drift: { ...snapshot.drift, features } };
}

export interface SampledRange {
  /** Inclusive; no lower bound when absent. */
  from?: Date;
  /** Inclusive; no upper bound when absent. */
  to?: Date;
  /** At most this many points (default DEFAULT_SERIES_POINTS; 2 at least). */
  maxPoints?: number;
}

export interface SampledSeries {
  /** Oldest first. */
  series: MonitoringSeries;
  /** How many snapshots are stored in [from, to]. */
  stored: number;
  /**
   * When the range holds more than maxPoints snapshots: the width of the time buckets (whole hours, counted
   * from the epoch) each of which the series has one point for, the summary of the bucket's snapshots
   * (summariseSnapshots). Null when every stored snapshot is in the series as it was stored.
   */
  bucket_ms: number | null;
}

/** The range's bounds in ms, its point limit, and how many snapshots it holds between which times. */
function spanOf(db: ReadableDb | WritableDb, range: SampledRange) {
  const from = range.from?.getTime() ?? Number.MIN_SAFE_INTEGER;
  const to = range.to?.getTime() ?? Number.MAX_SAFE_INTEGER;
  const maxPoints = Math.max(2, Math.floor(range.maxPoints ?? DEFAULT_SERIES_POINTS));
  const span = db
    .prepare(
      `SELECT count(*) AS n, min(taken_at) AS lo, max(taken_at) AS hi FROM monitoring_snapshots
       WHERE taken_at >= ? AND taken_at <= ?`,
    )
    .get(from, to) as { n: number; lo: number | null; hi: number | null };
  return { from, to, maxPoints, span };
}

/**
 * Whether sampledSeries thins the range: it then reads and summarises every snapshot in it (a year is 8,760 of
 * them, ~0.4 s), which the service does off its own thread (sampledSeriesInThread).
 */
export function isThinned(db: ReadableDb | WritableDb, range: SampledRange = {}): boolean {
  const { maxPoints, span } = spanOf(db, range);
  return span.n > maxPoints;
}

/**
 * The snapshots taken in [from, to], oldest first, thinned evenly over time to at most `maxPoints`: a year of
 * hourly snapshots is 8,760 (36 MB of JSON), more points than a chart can show. A thinned point summarises its
 * bucket of whole hours (the worst latency, drift and stability of any of its snapshots, the sum of its counts:
 * summariseSnapshots), so an hour of trouble between two points still shows; it stands at the bucket's newest
 * snapshot, so the newest stored snapshot's time is always there for the page's "only what is newer" refresh.
 */
export function sampledSeries(db: ReadableDb | WritableDb, range: SampledRange = {}): SampledSeries {
  const { from, to, maxPoints, span } = spanOf(db, range);
  if (span.n <= maxPoints || span.lo === null || span.hi === null) {
    return { series: timeSeries(db, { ...range, limit: maxPoints }), stored: span.n, bucket_ms: null };
  }
  // Buckets of b ms counted from the epoch: [lo, hi] meets fewer than (hi - lo) / b + 2 of them, so
  // b >= (hi - lo) / (maxPoints - 1) keeps that to maxPoints. Whole hours, so the page can say "1 point per N h".
  const bucket = Math.max(1, Math.ceil((span.hi - span.lo) / (maxPoints - 1) / HOUR_MS)) * HOUR_MS;
  const rows = db
    .prepare(
      `SELECT taken_at, snapshot FROM monitoring_snapshots
       WHERE taken_at >= ? AND taken_at <= ?
       ORDER BY taken_at, seq`,
    )
    .raw()
    .iterate(from, to) as IterableIterator<[number, string]>;
  const series: MonitoringSeries = [];
  let inBucket: string[] = [];
  let current: number | null = null;
  const flush = () => {
    const point = inBucket.length ? summariseBucket(inBucket) : null;
    if (point) series.push(point);
    inBucket = [];
  };
  for (const [takenAt, snapshot] of rows) {
    const key = Math.floor(takenAt / bucket);
    if (key !== current) flush();
    current = key;
    inBucket.push(snapshot);
  }
  flush();
  return { series, stored: span.n, bucket_ms: bucket };
}

/**
 * One bucket's stored rows as one summarised snapshot, or null when none matches the schema. The rows are this
 * version's snapshots but for the rare one written by another version, so the summary is checked rather than
 * each row (checking 8,760 rows would double the time of a year); a row that breaks the summary sends the
 * bucket through the row-by-row check, which leaves it out.
 */
function summariseBucket(rows: readonly string[]): MonitoringSnapshot | null {
  try {
    const snapshots = rows.map((r) => JSON.parse(r) as MonitoringSnapshot);
    if (snapshots.every((s) => s.snapshot_version === 1)) {
      const checked = monitoringSnapshotSchema.safeParse(summariseSnapshots(snapshots));
      if (checked.success) return maskedFeaturesLast(checked.data);
    }
  } catch {
    // A row of another shape: checked one by one below.
  }
  const valid = parseRows(rows.map((snapshot) => ({ snapshot })));
  return valid.length ? summariseSnapshots(valid) : null;
}
