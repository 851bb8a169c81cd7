// The audit log: a hash-chained, append-only table of entries and a table of signed checkpoints over it.
// Layout, chain rule and what verification catches: docs/audit.md.
import type { Migration } from './index.js';

export const migration001: Migration = {
  version: 1,
  name: 'audit',
  up(db) {
    db.exec(`
      CREATE TABLE audit_entries (
        seq               INTEGER PRIMARY KEY,
        timestamp         TEXT NOT NULL,
        kind              TEXT NOT NULL CHECK (length(kind) > 0),
        model_id          TEXT,
        model_version     TEXT,
        model_sha256      TEXT,
        explainer_version TEXT,
        explainer_params  TEXT CHECK (explainer_params IS NULL OR json_valid(explainer_params)),
        input_hash        TEXT,
        prediction        REAL,
        top_attributions  TEXT CHECK (top_attributions IS NULL OR json_valid(top_attributions)),
        cache_level       TEXT CHECK (cache_level IS NULL OR cache_level IN ('miss', 'memory', 'disk')),
        latency_ms        REAL,
        watermark         TEXT,
        document_id       TEXT,
        details           TEXT CHECK (details IS NULL OR json_valid(details)),
        prev_hash         TEXT NOT NULL CHECK (length(prev_hash) = 64),
        entry_hash        TEXT NOT NULL CHECK (length(entry_hash) = 64)
      ) STRICT;

      -- Only the next seq, linked to the current head, may be inserted: this also stops INSERT OR REPLACE,
      -- whose implicit delete would not fire the delete trigger.
      CREATE TRIGGER audit_entries_append_only BEFORE INSERT ON audit_entries
      WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_entries)
        OR NEW.prev_hash IS NOT coalesce(
             (SELECT entry_hash FROM audit_entries ORDER BY seq DESC LIMIT 1), '${'0'.repeat(64)}')
      BEGIN
        SELECT RAISE(ABORT, 'audit_entries is append-only: an entry must follow the current head');
      END;

      CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
      BEGIN
        SELECT RAISE(ABORT, 'audit_entries is append-only: UPDATE is not allowed');
      END;

      CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
      BEGIN
        SELECT RAISE(ABORT, 'audit_entries is append-only: DELETE is not allowed');
      END;

      CREATE TABLE audit_checkpoints (
        seq        INTEGER PRIMARY KEY,
        entry_hash TEXT NOT NULL CHECK (length(entry_hash) = 64),
        count      INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        signature  BLOB NOT NULL,
        key_id     TEXT NOT NULL
      ) STRICT;

      CREATE TRIGGER audit_checkpoints_append_only BEFORE INSERT ON audit_checkpoints
      WHEN NEW.seq <= (SELECT coalesce(max(seq), 0) FROM audit_checkpoints)
        OR NEW.entry_hash IS NOT (SELECT entry_hash FROM audit_entries WHERE seq = NEW.seq)
      BEGIN
        SELECT RAISE(ABORT, 'audit_checkpoints is append-only: a checkpoint must cover a newer existing entry');
      END;

      CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
      BEGIN
        SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE is not allowed');
      END;

      CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
      BEGIN
        SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE is not allowed');
      END;
    `);
  },
};
