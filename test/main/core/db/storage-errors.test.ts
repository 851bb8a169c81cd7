// A write the storage refused (a full or failing disk, a read-only or locked database, the writer thread stopped)
// is answered 503 "storage" saying what is wrong and that nothing was decided: never a 500 "internal error",
// which tells branch IT nothing. The same whether the write ran in the service's thread or the writer's.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { errorResult } from '../../../../main/core/api.js';
import { StorageError } from '../../../../main/core/db/open.js';
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
