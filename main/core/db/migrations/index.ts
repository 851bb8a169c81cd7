// Migrations, one file each, applied in order. The schema version lives in PRAGMA user_version.
import type Database from 'better-sqlite3';
import { migration001 } from './001-audit.js';
import { migration002 } from './002-cache.js';
import { migration003 } from './003-models.js';
import { migration004 } from './004-settings.js';
import { migration005 } from './005-monitor.js';
import { migration006 } from './006-cache-blob-key.js';
import { migration007 } from './007-cache-entry-mac.js';
import { migration008 } from './008-audit-document-index.js';
import { migration009 } from './009-audit-filter-indexes.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
  migration006,
  migration007,
  migration008,
  migration009,
];
