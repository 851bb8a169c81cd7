// Version 9: indexes for the audit page's filters, so that a question about a million entries (a month, model
// changes only, one model version) reads the entries it asks about instead of walking the log from its head.
// Each index holds its key and the seq, in seq order within a key, so "kind = ? ORDER BY seq DESC" reads the
// newest of that kind first and stops at a page. A log written before this version is indexed on its first
// writable opening (~2 s per million entries on the project's VM, once).
import type { Migration } from './index.js';

export const migration009: Migration = {
  version: 9,
  name: 'audit-filter-indexes',
  up(db) {
    db.exec(`
      CREATE INDEX audit_entries_timestamp ON audit_entries (timestamp);
      CREATE INDEX audit_entries_kind ON audit_entries (kind);
      CREATE INDEX audit_entries_model_version ON audit_entries (model_version) WHERE model_version IS NOT NULL;
    `);
  },
};
