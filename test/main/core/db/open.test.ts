// Opening the database: a file that is not a BranchLens database, or one damaged past reading, is refused with
// an error naming the file and saying to restore it (it holds the audit log), never SQLite's bare words.
import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  databaseError,
  DatabaseError,
  dbPath,
  openAnotherWritable,
  openReadable,
  openWritable,
} from '../../../../main/core/db/open.js';
import { MIGRATIONS } from '../../../../main/core/db/migrations/index.js';
import { removeDir, tempDir } from '../../../helpers/bundles.js';
import { runCli } from '../../cli/helpers.js';
import { damageUnreadPage, miscountFreePages } from './damage.js';

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

describe('a copy of branchlens.db alone, taken while BranchLens has it open (a backup without its -wal)', () => {
  it('holds the migrated schema: a new database reaches the file itself, not only its WAL', () => {
    const db = openWritable(dir);
    const copy = tempDir('branchlens-open-copy-');
    try {
      copyFileSync(dbPath(dir), dbPath(copy));
      const restored = new Database(dbPath(copy), { readonly: true });
      try {
        expect(restored.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
        expect(
          restored.prepare("SELECT name FROM sqlite_master WHERE name = 'audit_entries'").get(),
        ).toBeDefined();
      } finally {
        restored.close();
      }
    } finally {
      db.close();
      removeDir(copy);
    }
  });
});

describe('a disk that is full or failing', () => {
  it('says the disk is full, naming the file, for SQLite’s "database or disk is full"', () => {
    const db = new Database(':memory:');
    let full: unknown;
    try {
      db.exec('CREATE TABLE t (x TEXT)');
      db.pragma('max_page_count = 2');
      db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(100_000));
    } catch (e) {
      full = e;
    } finally {
      db.close();
    }
    expect((full as { code?: string }).code).toBe('SQLITE_FULL');
    const error = databaseError(full, dbPath(dir));
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^cannot use ${dbPath(dir)}: its disk is full \\(\\d+ bytes free\\)\\. Free some space on it`,
      ),
    );
  });

  it('names the file and the disk for "disk I/O error" (a full disk says so too, when its shared memory cannot grow)', () => {
    const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_SHMSIZE' });
    const error = databaseError(io, dbPath(dir));
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toBe(
      `cannot use ${dbPath(dir)}: the disk reported an error (disk I/O error, SQLITE_IOERR_SHMSIZE). Check the ` +
        'disk; do not delete the file: it holds the audit log',
    );
  });
});

describe('a database that cannot be written or is held by another program', () => {
  const sqlite = (message: string, code: string) => new Database.SqliteError(message, code);

  it('says the disk is full, naming the file, for "disk I/O error" with under 1 MiB free', () => {
    const error = databaseError(sqlite('disk I/O error', 'SQLITE_IOERR_SHMSIZE'), dbPath(dir), () => 4096);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toBe(
      `cannot use ${dbPath(dir)}: its disk is full (4096 bytes free). Free some space on it and try again`,
    );
  });

  it('names the file and what to check for a read-only database, not SQLite’s bare words', () => {
    const error = databaseError(
      sqlite('attempt to write a readonly database', 'SQLITE_READONLY_DIRECTORY'),
      dbPath(dir),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toBe(
      `cannot write ${dbPath(dir)} (attempt to write a readonly database, SQLITE_READONLY_DIRECTORY): check that ` +
        'the user running BranchLens may write it and its folder, and that its disk is not read-only; then try again',
    );
  });

  it('names the file and says to close the other program for a locked database', () => {
    const error = databaseError(sqlite('database is locked', 'SQLITE_BUSY'), dbPath(dir));
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toBe(
      `cannot use ${dbPath(dir)}: another program holds it locked (database is locked, SQLITE_BUSY). Close that ` +
        'program (a backup or a database viewer, say) and try again',
    );
  });

  it('leaves errors that are not the storage’s as they are', () => {
    const other = sqlite('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE');
    expect(databaseError(other, dbPath(dir))).toBe(other);
  });
});

// Root may write any file: only another user sees SQLite open a file it may not write read-only, without a word.
describe.skipIf(process.getuid?.() === 0 || process.platform === 'win32')(
  'a database file BranchLens may not write',
  () => {
    it('is refused at its opening, naming the file, not at the first answer’s audit entry', () => {
      openWritable(dir).close();
      chmodSync(dbPath(dir), 0o444);
      expect(() => openWritable(dir)).toThrow(
        new DatabaseError(
          `cannot write ${dbPath(dir)} (permission denied): check that the user running BranchLens may write it ` +
            'and its folder, and that its disk is not read-only; then try again',
        ),
      );
    });
  },
);

describe('opening the database', () => {
  it('does not read all of it: no integrity check, whose time grows with the audit log', () => {
    const pragma = vi.spyOn(Database.prototype, 'pragma');
    try {
      openWritable(dir).close(); // a new database
      openWritable(dir).close(); // an existing one
      openAnotherWritable(dir).close();
      openReadable(dir).close();
      const said = pragma.mock.calls.map(([source]) => source);
      expect(said).toContain('user_version');
      expect(said.filter((source) => /quick_check|integrity_check/.test(source))).toEqual([]);
    } finally {
      pragma.mockRestore();
    }
  });
});

describe('a database damaged where opening does not read', () => {
  it('opens for writing: the damage is found by the integrity check or by the request that reads it', () => {
    damageUnreadPage(dir);
    openWritable(dir).close();
  });

  it('is refused by openReadable with integrityCheck, naming the file and saying to restore it', () => {
    miscountFreePages(dir);
    let error: unknown;
    try {
      openReadable(dir, { integrityCheck: true }).close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatabaseError);
    // The free pages a new database really has follow from its migrations (a dropped table frees some, a new
    // index takes them): what matters is the header's 3 against them.
    expect((error as Error).message.replace(/size is \d+ but/, 'size is N but')).toBe(
      `${dbPath(dir)} failed its integrity check (*** in database main *** Freelist: size is N but should be 3): ` +
        'restore it from a backup. Do not delete it: it holds the audit log',
    );
  });

  it.each([
    ['a page it cannot walk', damageUnreadPage, 'is not a BranchLens database or is damaged'],
    ['free pages miscounted', miscountFreePages, 'failed its integrity check'],
  ])(
    'with %s: the CLI audit verify (a full check, asked for) exits 1 saying so, without a stack',
    async (_name, damage, said) => {
      damage(dir);
      const run = await runCli(['audit', 'verify', '--data', dir]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`${dbPath(dir)} ${said}`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    },
  );
});
