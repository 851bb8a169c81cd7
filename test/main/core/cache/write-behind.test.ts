import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExplanationCache } from '../../../../main/core/cache/explanation-cache.js';
import { openWritable, type WritableDb } from '../../../../main/core/db/open.js';
import { cacheKeyFor, sampleDocument } from './sample-document.js';

const MODEL = 'a'.repeat(64);
let dataDir: string;
let db: WritableDb;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'branchlens-wb-'));
  db = openWritable(dataDir);
});
afterEach(() => {
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const diskCount = () => (db.prepare('SELECT count(*) AS n FROM explanation_cache').get() as { n: number }).n;

describe('write-behind disk cache', () => {
  it('answers from memory at once and writes a burst to disk in one go at the end of the turn', async () => {
    const cache = new ExplanationCache(db, { writeBehind: true });
    for (let i = 0; i < 20; i++) cache.set(cacheKeyFor(`k${i}`), sampleDocument(i), { modelSha256: MODEL });
    expect(cache.get(cacheKeyFor('k7'))?.level).toBe('memory');
    expect(diskCount()).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(diskCount()).toBe(20);
    // Another instance on the same database (a restarted service) finds them on disk.
    expect(new ExplanationCache(db).get(cacheKeyFor('k7'))?.level).toBe('disk');
  });

  it('flush() writes pending entries now, and invalidation does not leave them behind', () => {
    const cache = new ExplanationCache(db, { writeBehind: true });
    cache.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL });
    cache.flush();
    expect(diskCount()).toBe(1);
    cache.set(cacheKeyFor('k2'), sampleDocument(2), { modelSha256: MODEL });
    cache.invalidate('b'.repeat(64));
    expect(diskCount()).toBe(0);
    expect(cache.get(cacheKeyFor('k2'))).toBeUndefined();
  });

  it('warns of a deferred write that fails, and never throws it: nothing would catch it', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      // A fractional TTL makes a fractional expiry, which SQLite refuses in the INTEGER column.
      const cache = new ExplanationCache(db, { writeBehind: true, diskTtlMs: 1000.5 });
      cache.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL });
      await new Promise((r) => setImmediate(r));
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^explanation cache write failed: .*REAL/));
      expect(diskCount()).toBe(0);
      // The answer is still in memory, and later writes are made.
      expect(cache.get(cacheKeyFor('k1'))?.level).toBe('memory');
      const ok = new ExplanationCache(db, { writeBehind: true });
      ok.set(cacheKeyFor('k2'), sampleDocument(2), { modelSha256: MODEL });
      await new Promise((r) => setImmediate(r));
      expect(diskCount()).toBe(1);
    } finally {
      warn.mockRestore();
    }
  });
});
