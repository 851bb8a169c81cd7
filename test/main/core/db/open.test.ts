// Opening the database: a file that is not a BranchLens database, or one damaged past reading, is refused with
// an error naming the file and saying to restore it (it holds the audit log), never SQLite's bare words.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseError, dbPath, openReadable, openWritable } from '../../../../main/core/db/open.js';
import { removeDir, tempDir } from '../../../helpers/bundles.js';
import { runCli } from '../../cli/helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('branchlens-open-');
});
afterEach(() => removeDir(dir));

describe('a database file that cannot be read', () => {
  beforeEach(() =>
    writeFileSync(join(dir, 'branchlens.db'), 'this is not a database, but it is where one was'),
  );

  it.each([
    ['openWritable', () => openWritable(dir)],
    ['openReadable', () => openReadable(dir)],
  ])('%s names the file and says to restore it', (_name, open) => {
    let error: unknown;
    try {
      open().close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toBe(
      `${dbPath(dir)} is not a BranchLens database or is damaged (file is not a database): restore it from a ` +
        'backup. Do not delete it: it holds the audit log',
    );
  });

  it.each([
    ['explain', ['explain']],
    ['audit verify', ['audit', 'verify']],
    ['audit export', ['audit', 'export', '--format', 'jsonl']],
    ['models list', ['models', 'list']],
  ])('the CLI %s exits 1 with that message, not as a folder without a database', async (_name, argv) => {
    const run = await runCli([...argv, '--data', dir]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${dbPath(dir)} is not a BranchLens database or is damaged`);
    expect(run.stderr).not.toMatch(/holds no BranchLens database|\n\s+at /);
  });
});

describe('a database whose audit tables were dropped', () => {
  it.each(['audit_entries', 'audit_checkpoints'])(
    'without %s: openWritable refuses it naming the table, and the CLI exits 1 without a stack',
    async (table) => {
      openWritable(dir).close();
      const raw = new Database(dbPath(dir));
      for (const t of raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {
        name: string;
      }[])
        raw.exec(`DROP TRIGGER ${t.name}`);
      raw.exec(`DROP TABLE ${table}`);
      raw.close();
      expect(() => openWritable(dir)).toThrow(new RegExp(`has no ${table} table: its audit log was removed`));
      const run = await runCli(['explain', '--data', dir]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`has no ${table} table`);
      expect(run.stderr).not.toMatch(/no such table|\n\s+at /);
    },
  );
});
