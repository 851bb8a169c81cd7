// The hourly monitoring snapshots in SQLite (migration 005), and the time series the UI charts read.
import {
  monitoringSnapshotSchema,
  type MonitoringSeries,
  type MonitoringSnapshot,
} from '../../../shared/monitoring.js';
import type { ReadableDb, WritableDb } from '../db/open.js';

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

/** Deletes snapshots taken before `beforeMs`; returns how many. */
export function pruneSnapshots(db: WritableDb, beforeMs: number): number {
  return db.prepare('DELETE FROM monitoring_snapshots WHERE taken_at < ?').run(beforeMs).changes;
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
  const out: MonitoringSeries = [];
  for (const { snapshot } of rows) {
    const parsed = monitoringSnapshotSchema.safeParse(JSON.parse(snapshot));
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}
