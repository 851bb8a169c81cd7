// A write the storage refused (a full or failing disk, a read-only or locked database, the writer thread stopped)
// is answered 503 "storage" saying what is wrong and that nothing was decided: never a 500 "internal error",
// which tells branch IT nothing. The same whether the write ran in the service's thread or the writer's.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { errorResult } from '../../../../main/core/api.js';
import { StorageError, withFreeSpace } from '../../../../main/core/db/open.js';
import { errorFrom } from '../../../../main/core/db/writer.js';
import { errorOf } from '../../../../main/core/db/writer-messages.js';

const sqlite = (code: string) => new Database.SqliteError('SQLite said so', code);

describe('a write the storage refused', () => {
  it.each([
    [
      'SQLITE_FULL',
      /^the disk holding the database is full: free some space on it; nothing was decided or recorded$/,
    ],
    [
      'SQLITE_IOERR_FSYNC',
      /^the disk holding the database reported an error \(SQLITE_IOERR_FSYNC\); nothing/,
    ],
    [
      'SQLITE_READONLY',
      /^the database cannot be written \(SQLITE_READONLY\): check its permissions; nothing/,
    ],
    [
      'SQLITE_READONLY_DBMOVED',
      /^the database file was deleted or replaced while BranchLens ran \(SQLITE_READONLY_DBMOVED\): put it back and restart BranchLens; nothing/,
    ],
    [
      'SQLITE_BUSY',
      /^the database is locked by another program \(SQLITE_BUSY\); send the request again; nothing/,
    ],
  ])('%s is a 503 saying so, in this thread and across the writer thread', (code, message) => {
    for (const error of [sqlite(code), errorFrom(errorOf(sqlite(code)))]) {
      expect(errorResult(error)).toEqual({
        ok: false,
        status: 503,
        body: { error: 'storage', message: expect.stringMatching(message) as string },
      });
    }
  });

  it('is a 503 when the writer thread stopped', () => {
    expect(errorResult(new StorageError('the database writer stopped'))).toMatchObject({
      status: 503,
      body: { error: 'storage' },
    });
  });

  it('leaves other SQLite errors and plain errors internal', () => {
    for (const error of [
      sqlite('SQLITE_CONSTRAINT_UNIQUE'),
      new Error('a bug'),
      errorFrom(errorOf(new Error('x'))),
    ]) {
      expect(errorResult(error)).toMatchObject({ status: 500, body: { error: 'internal' } });
    }
  });
});

describe('a full disk that SQLite reports as "disk I/O error"', () => {
  const io = (extra: object = {}) =>
    Object.assign(new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_SHMSIZE'), extra);

  it('is worded as a full disk when under 1 MiB was free, in this thread and across the writer thread', () => {
    for (const error of [
      io({ freeBytes: 65536 }),
      errorFrom({
        name: 'SqliteError',
        message: 'disk I/O error',
        code: 'SQLITE_IOERR_SHMSIZE',
        freeBytes: 65536,
      }),
    ]) {
      expect(errorResult(error)).toEqual({
        ok: false,
        status: 503,
        body: {
          error: 'storage',
          message:
            'the disk holding the database is full (65536 bytes free): free some space on it; nothing was decided or recorded',
        },
      });
    }
  });

  it('is a failing disk with room to spare, or when the free space is not known', () => {
    for (const error of [io({ freeBytes: 10 * 1024 ** 3 }), io()]) {
      expect(errorResult(error).body.message).toBe(
        'the disk holding the database reported an error (SQLITE_IOERR_SHMSIZE); nothing was decided or recorded',
      );
    }
  });

  it('takes the free space of the database’s folder where it fails, and carries it across the writer thread', () => {
    const asked: string[] = [];
    const free = (dir: string) => (asked.push(dir), 4096);
    expect(errorFrom(errorOf(withFreeSpace(io(), '/data', free)))).toMatchObject({
      code: 'SQLITE_IOERR_SHMSIZE',
      freeBytes: 4096,
    });
    // Only a full or failing disk asks: a locked database, or any other error, is as it was.
    const busy = sqlite('SQLITE_BUSY');
    const bug = new Error('a bug');
    expect(withFreeSpace(busy, '/data', free)).toBe(busy);
    expect(withFreeSpace(bug, '/data', free)).toBe(bug);
    expect(asked).toEqual(['/data']);
    expect(busy).not.toHaveProperty('freeBytes');
  });
});

describe('a damaged database found by a request', () => {
  it('is a 503 saying to restore it, not an internal error', () => {
    for (const code of ['SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_NOTADB']) {
      expect(errorResult(errorFrom(errorOf(sqlite(code))))).toEqual({
        ok: false,
        status: 503,
        body: {
          error: 'storage',
          message: `the database is damaged (${code}): restore it from a backup; nothing was decided or recorded`,
        },
      });
    }
  });
});
