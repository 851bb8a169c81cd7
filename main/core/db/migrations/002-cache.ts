import type { Migration } from './index.js';

// The disk level of the explanation cache. Times are milliseconds since the Unix epoch.
// `cache_totals` is kept exact by triggers, so the size bound is checked without scanning the documents.
export const migration002: Migration = {
  version: 2,
  name: 'cache',
  up(db) {
    db.exec(`
      CREATE TABLE explanation_cache (
        key TEXT PRIMARY KEY,
        model_sha256 TEXT NOT NULL,
        document TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        -- NULL: a long-term entry, kept until the model changes.
        expires_at INTEGER,
        last_used_at INTEGER NOT NULL,
        bytes INTEGER NOT NULL
      ) STRICT;

      CREATE INDEX explanation_cache_model ON explanation_cache (model_sha256);
      CREATE INDEX explanation_cache_expiry ON explanation_cache (expires_at) WHERE expires_at IS NOT NULL;
      -- Eviction order: entries with a TTL before long-term ones, least recently used first.
      CREATE INDEX explanation_cache_eviction
        ON explanation_cache ((expires_at IS NULL), last_used_at, bytes, key);

      CREATE TABLE cache_totals (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        entries INTEGER NOT NULL,
        bytes INTEGER NOT NULL
      ) STRICT;
      INSERT INTO cache_totals (id, entries, bytes) VALUES (1, 0, 0);

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
