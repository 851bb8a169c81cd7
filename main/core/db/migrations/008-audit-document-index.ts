// Version 8: an index on the audit log's document ids, so that a decision a customer brings back on a printout
// (its document id, or the first 8 hex digits the result shows) is found among a million entries without a scan
// (auditPage's document_id). Partial: model changes, which carry no document, take no room in it.
import type { Migration } from './index.js';

export const migration008: Migration = {
  version: 8,
  name: 'audit-document-index',
  up(db) {
    db.exec(`
      CREATE INDEX audit_entries_document ON audit_entries (document_id) WHERE document_id IS NOT NULL;
    `);
  },
};
