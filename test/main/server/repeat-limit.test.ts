// With the disk full every request fails alike: the server log gets the first failure of a kind in full and then
// one count per interval, not a line (and a stack) per request on a disk that has no room left.
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withFreeSpace } from '../../../main/core/db/open.js';
import { limitWarnings, logFailure, RepeatLimiter, repeatsLine } from '../../../main/server/repeat-limit.js';
import { readSample } from '../cli/helpers.js';
import { startTestServer } from './helpers.js';

/** SQLite's error for a write that found the disk full, with `free` bytes left as statfs said it. */
function diskFull(free = 0): Error {
  return withFreeSpace(
    new Database.SqliteError('database or disk is full', 'SQLITE_FULL'),
    '/',
    () => free,
  ) as Error;
}

/** A logger that keeps what it is given. */
function fakeLog() {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  return { lines, error: (fields: object, msg: string) => lines.push({ fields: { ...fields }, msg }) };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('repeated storage failures in the server log', () => {
  it('logs the first in full without a stack, then one line per interval saying how many more', () => {
    vi.useFakeTimers();
    const log = fakeLog();
    const limiter = new RepeatLimiter();
    for (let i = 0; i < 3261; i++) {
      logFailure(log, limiter, diskFull(i % 3), 'API method explain failed', { method: 'explain' });
    }
    expect(log.lines).toEqual([
      {
        fields: { method: 'explain', code: 'SQLITE_FULL' },
        msg: 'API method explain failed: the disk holding the database is full (0 bytes free): free some space on it',
      },
    ]);
    vi.advanceTimersByTime(60_000);
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]!.msg).toMatch(
      /^API method explain failed: the disk holding the database is full \(2 bytes free\): free some space on it … 3,260 more like this in the last 60 s$/,
    );
    expect(log.lines[1]!.fields).toEqual({ method: 'explain' });
    // Still failing in the next minute: another count, not another line in full.
    for (let i = 0; i < 5; i++) logFailure(log, limiter, diskFull(), 'API method explain failed');
    vi.advanceTimersByTime(60_000);
    expect(log.lines).toHaveLength(3);
    expect(log.lines[2]!.msg).toMatch(/ … 5 more like this in the last 60 s$/);
    // A quiet minute ends it: the next failure is written in full again.
    vi.advanceTimersByTime(60_000);
    logFailure(log, limiter, diskFull(), 'API method explain failed');
    expect(log.lines).toHaveLength(4);
    expect(log.lines[3]!.msg).not.toContain('more like this');
    // At close, the count not yet said is written.
    logFailure(log, limiter, diskFull(), 'API method explain failed');
    limiter.close();
    expect(log.lines[4]!.msg).toMatch(/… 1 more like this in the last 1 s$/);
    expect(log.lines.every((l) => !('err' in l.fields))).toBe(true);
  });

  it('logs each internal error in full, with the error and its stack', () => {
    const log = fakeLog();
    const limiter = new RepeatLimiter();
    for (let i = 0; i < 3; i++) logFailure(log, limiter, new Error('a bug'), 'internal error');
    expect(log.lines).toHaveLength(3);
    expect(log.lines[0]!.fields.err).toBeInstanceOf(Error);
    limiter.close();
  });

  it('prints a repeated process warning once, then its count, through the printers it had', () => {
    vi.useFakeTimers();
    const target = new EventEmitter();
    const printed: string[] = [];
    target.on('warning', (w: Error) => printed.push(`${w.name}: ${w.message}`));
    const limiter = new RepeatLimiter();
    const restore = limitWarnings(limiter, target);
    for (let i = 0; i < 3261; i++) {
      const w = new Error(`explanation cache write failed: the disk is full (${i} bytes free)`);
      w.name = 'Warning';
      target.emit('warning', w);
    }
    target.emit('warning', Object.assign(new Error('something else'), { name: 'Warning' }));
    vi.advanceTimersByTime(60_000);
    expect(printed).toEqual([
      'Warning: explanation cache write failed: the disk is full (0 bytes free)',
      'Warning: something else',
      // Worded as the latest of them.
      `Warning: explanation cache write failed: the disk is full (3260 bytes free) ${repeatsLine(3260, 60)}`,
    ]);
    restore();
    target.emit('warning', Object.assign(new Error('something else'), { name: 'Warning' }));
    expect(printed).toHaveLength(4);
    limiter.close();
  });
});

describe('a server whose disk is full', () => {
  it('logs its refused requests once, without a stack, and their count when it closes', async () => {
    const t = await startTestServer();
    try {
      const sample = readSample<Record<string, unknown>>('sample-1.json');
      vi.spyOn(t.server.service, 'explainJson').mockImplementation(() => Promise.reject(diskFull(4096)));
      for (let i = 0; i < 20; i++) {
        expect((await t.app('explain', { applicants: [sample] })).status).toBe(503);
        // Over Seldon's protocol too (its errors go through the app's error handler).
        expect((await t.call('POST', '/api/v1.0/explain', { jsonData: sample })).status).toBe(503);
      }
      await t.server.close();
      const lines = t.log
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; err?: unknown });
      expect(lines.map((l) => l.msg)).toEqual([
        'API method explain failed: the disk holding the database is full (4096 bytes free): free some space on it',
        'POST /api/v1.0/explain failed: the disk holding the database is full (4096 bytes free): free some space on it',
        expect.stringMatching(/^API method explain failed: .* … 19 more like this in the last \d+ s$/),
        expect.stringMatching(
          /^POST \/api\/v1\.0\/explain failed: .* … 19 more like this in the last \d+ s$/,
        ),
      ]);
      expect(lines.some((l) => 'err' in l)).toBe(false);
    } finally {
      await t.close();
    }
  });
});
