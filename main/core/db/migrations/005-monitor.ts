import type { Migration } from './index.js';

// Hourly monitoring snapshots (docs/monitoring.md): aggregates only, never an applicant's data.
// `taken_at` is milliseconds since the Unix epoch; `snapshot` is the MonitoringSnapshot JSON.
export const migration005: Migration = {
  version: 5,
  name: 'monitor',
  up(db) {
    db.exec(`
      CREATE TABLE monitoring_snapshots (
        seq INTEGER PRIMARY KEY,
        taken_at INTEGER NOT NULL,
        model_sha256 TEXT NOT NULL,
        snapshot TEXT NOT NULL CHECK (json_valid(snapshot))
      ) STRICT;

      CREATE INDEX monitoring_snapshots_time ON monitoring_snapshots (taken_at);
    `);
  },
};
