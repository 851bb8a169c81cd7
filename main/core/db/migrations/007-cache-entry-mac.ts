// Version 7: each explanation cache row carries a MAC binding its document to its key (cache/explanation-cache.ts
// CacheCodec.mac), so a row's document moved under another row's key (the file can be written outside
// BranchLens) is refused rather than served for another applicant. Entries stored without one could not be
// told from moved ones: cached entries can be recomputed, so they are dropped.
import type { Migration } from './index.js';

export const migration007: Migration = {
  version: 7,
  name: 'cache-entry-mac',
  up(db) {
    db.exec(`
      DELETE FROM explanation_cache;
      -- NULL for a cache whose codec binds nothing (hex of the MAC otherwise).
      ALTER TABLE explanation_cache ADD COLUMN mac TEXT;
    `);
  },
};
