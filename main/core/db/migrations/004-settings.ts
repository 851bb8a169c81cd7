import type { Migration } from './index.js';

// The user's settings (locale, top-K, method, n_steps, theme): one JSON value per key.
export const migration004: Migration = {
  version: 4,
  name: 'settings',
  up(db) {
    db.exec(`
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL CHECK (json_valid(value))
      ) STRICT;
    `);
  },
};
