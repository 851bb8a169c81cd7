// Version 6: the explanation cache keyed by the 32 raw bytes of its SHA-256 rather than 64 hex characters,
// without the model index. A random key lands on a random index page, so a smaller key means fewer pages
// written per insert; invalidating a model (rare) scans the table instead. Cached entries can be recomputed,
// so the old table's entries are dropped rather than converted.
import type { Migration } from './index.js';

export const migration006: Migration = {
  version: 6,
  name: 'cache-blob-key',
  up(db) {
    db.exec(`
      DROP TABLE explanation_cache;
      CREATE TABLE explanation_cache (
        key BLOB PRIMARY KEY CHECK (length(key) = 32),
        model_sha256 TEXT NOT NULL,
        document TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        -- NULL: a long-term entry, kept until the model changes.
        expires_at INTEGER,
        last_used_at INTEGER NOT NULL,
        bytes INTEGER NOT NULL
      ) STRICT;

      CREATE INDEX explanation_cache_expiry ON explanation_cache (expires_at) WHERE expires_at IS NOT NULL;
      -- Eviction order: entries with a TTL before long-term ones, least recently used first.
      CREATE INDEX explanation_cache_eviction
        ON explanation_cache ((expires_at IS NULL), last_used_at, bytes, key);

      UPDATE cache_totals SET entries = 0, bytes = 0 WHERE id = 1;
      CREATE TRIGGER explanation_cache_insert AFTER INSERT ON explanation_cache BEGIN
        UPDATE cache_totals SET entries = entries + 1, bytes = bytes + NEW.bytes WHERE id = 1;
      END;
      CREATE TRIGGER explanation_cache_delete AFTER DELETE ON explanation_cache BEGIN
        UPDATE cache_totals SET entries = entries - 1, bytes = bytes - OLD.bytes WHERE id = 1;
      END;
      CREATE TRIGGER explanation_cache_resize AFTER UPDATE OF bytes ON explanation_cache BEGIN
        UPDATE cache_totals SET bytes = bytes - OLD.bytes + NEW.bytes WHERE id = 1;
      END;
    `);
  },
};
