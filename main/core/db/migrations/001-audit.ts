import type { Migration } from './index.js';

// Placeholder: filled in by the audit work.
export const migration001: Migration = {
  version: 1,
  name: 'audit',
  up() {},
};
