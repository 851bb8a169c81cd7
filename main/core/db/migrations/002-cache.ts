import type { Migration } from './index.js';

// Placeholder: filled in by the cache work.
export const migration002: Migration = {
  version: 2,
  name: 'cache',
  up() {},
};
