import type { Migration } from './index.js';

// Placeholder: filled in by the models work.
export const migration003: Migration = {
  version: 3,
  name: 'models',
  up() {},
};
