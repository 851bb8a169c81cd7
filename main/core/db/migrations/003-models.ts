import type { Migration } from './index.js';

// The model registry: installed bundles and the history of which one was active, so rollback can step back.
export const migration003: Migration = {
  version: 3,
  name: 'models',
  up(db) {
    db.exec(`
      CREATE TABLE models (
        id TEXT NOT NULL,
        version TEXT NOT NULL,
        -- sha256 of the bundle's manifest.json, which pins every other file.
        sha256 TEXT NOT NULL,
        -- The installed copy, relative to the data dir, '/'-separated.
        path TEXT NOT NULL,
        installed_at TEXT NOT NULL,
        manifest TEXT NOT NULL,
        PRIMARY KEY (id, version)
      ) STRICT;

      CREATE TABLE model_activations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        version TEXT NOT NULL,
        activated_at TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('import', 'activate', 'rollback', 'preinstall')),
        FOREIGN KEY (id, version) REFERENCES models (id, version)
      ) STRICT;
    `);
  },
};
