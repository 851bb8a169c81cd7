import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DOCUMENT_CODEC,
  ExplanationCache,
  RejectedCacheEntry,
  withCacheLevel,
  type ExplanationCacheOptions,
} from '../../../../main/core/cache/explanation-cache.js';
import { openWritable, type WritableDb } from '../../../../main/core/db/open.js';
import { cacheKeyFor, nameOf, sampleDocument } from './sample-document.js';

const MODEL_A = 'a'.repeat(64);
const MODEL_B = 'b'.repeat(64);
const MINUTE = 60_000;

let dataDir: string;
let db: WritableDb;
let time: number;
const now = () => time;

function cache(opts: ExplanationCacheOptions = {}): ExplanationCache {
  return new ExplanationCache(db, { now, ...opts });
}

function diskKeys(): string[] {
  return (db.prepare('SELECT key FROM explanation_cache').all() as { key: Buffer }[])
    .map((r) => nameOf(r.key))
    .sort();
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'branchlens-cache-'));
  db = openWritable(dataDir);
  time = Date.UTC(2025, 0, 1);
});

afterEach(() => {
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ExplanationCache', () => {
  it('returns the stored document on a hit, from memory and from disk', () => {
    const doc = sampleDocument(1);
    const c = cache();
    c.set(cacheKeyFor('k1'), doc, { modelSha256: MODEL_A });

    const memory = c.get(cacheKeyFor('k1'));
    expect(memory?.level).toBe('memory');
    expect(memory?.value).toEqual(doc);

    const disk = cache().get(cacheKeyFor('k1'));
    expect(disk?.level).toBe('disk');
    expect(disk?.value).toEqual(doc);
  });

  it('counts a disk entry its codec refuses as a miss, with a warning; other codec failures are errors', () => {
    cache().set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    cache().set(cacheKeyFor('k2'), sampleDocument(2), { modelSha256: MODEL_A });
    const refusing = new ExplanationCache(
      db,
      { now },
      {
        ...DOCUMENT_CODEC,
        fromJson: (json) => {
          const doc = DOCUMENT_CODEC.fromJson(json);
          if (doc.id === sampleDocument(1).id) throw new RejectedCacheEntry('not this one');
          return doc;
        },
      },
    );
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const [first, second] = refusing.getDisk([cacheKeyFor('k1'), cacheKeyFor('k2')]);
      expect(first).toBeUndefined();
      expect(second?.level).toBe('disk');
      expect(refusing.getMemory(cacheKeyFor('k1'))).toBeUndefined(); // not remembered either
      expect(refusing.stats()).toMatchObject({ rejected: 1, misses: 1, diskHits: 1 });
      expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/refused.*not this one/));
    } finally {
      warnings.mockRestore();
    }

    const broken = new ExplanationCache(
      db,
      { now },
      {
        ...DOCUMENT_CODEC,
        fromJson: () => {
          throw new TypeError('codec bug');
        },
      },
    );
    expect(() => broken.getDisk([cacheKeyFor('k1')])).toThrow('codec bug');
  });

  it('reads the disk once for the keys of every caller in a turn, each caller getting its own answers', async () => {
    cache().set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    cache().set(cacheKeyFor('k3'), sampleDocument(3), { modelSha256: MODEL_A });
    const c = cache();
    const [first, second] = await Promise.all([
      c.getDiskSoon([cacheKeyFor('k1'), cacheKeyFor('k2')]),
      c.getDiskSoon([cacheKeyFor('k3')]),
    ]);
    expect(first.map((h) => h?.value.id)).toEqual(['doc-1', undefined]);
    expect(second.map((h) => h?.value.id)).toEqual(['doc-3']);
    expect(first[0]!.level).toBe('disk');
    // Found on disk, now remembered in memory; the miss was counted once.
    expect(c.getMemory(cacheKeyFor('k1'))?.level).toBe('memory');
    expect(c.getMemory(cacheKeyFor('k2'))).toBeUndefined();
    expect(c.stats()).toMatchObject({ diskHits: 2, misses: 1, memoryHits: 1 });
  });

  it('keeps its own frozen copy: changing the stored or returned document does not reach the cache', () => {
    const doc = sampleDocument(1);
    const c = cache();
    c.set(cacheKeyFor('k1'), doc, { modelSha256: MODEL_A });
    doc.score = 0.99;
    const hit = c.get(cacheKeyFor('k1'))!;
    expect(hit.value.score).toBe(sampleDocument(1).score);
    expect(() => {
      hit.value.meta.cache = 'memory';
    }).toThrow(TypeError);
  });

  it('withCacheLevel marks a copy and leaves the cached document as stored', () => {
    const c = cache();
    c.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    const hit = c.get(cacheKeyFor('k1'))!;
    const marked = withCacheLevel(hit.value, hit.level);
    expect(marked.meta.cache).toBe('memory');
    expect({ ...marked, meta: { ...marked.meta, cache: 'miss' } }).toEqual(sampleDocument(1));
    expect(c.get(cacheKeyFor('k1'))!.value.meta.cache).toBe('miss');
  });

  it('falls through from memory to disk and puts the disk hit back in memory', () => {
    cache().set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    const fresh = cache();
    expect(fresh.get(cacheKeyFor('k1'))?.level).toBe('disk');
    expect(fresh.get(cacheKeyFor('k1'))?.level).toBe('memory');
    expect(fresh.get(cacheKeyFor('nope'))).toBeUndefined();
  });

  it('expires memory entries after the memory TTL and disk entries after the disk TTL', () => {
    const c = cache({ memoryTtlMs: 5 * MINUTE, diskTtlMs: 60 * MINUTE });
    c.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });

    time += 5 * MINUTE - 1;
    expect(c.get(cacheKeyFor('k1'))?.level).toBe('memory');
    time += 2;
    expect(c.get(cacheKeyFor('k1'))?.level).toBe('disk');

    time += 55 * MINUTE; // past the disk TTL, and past the memory TTL of the repopulated copy
    expect(c.get(cacheKeyFor('k1'))).toBeUndefined();
    expect(cache().get(cacheKeyFor('k1'))).toBeUndefined();
  });

  it('expires memory entries after the memory TTL though the wall clock was set back meanwhile', () => {
    let wall = Date.UTC(2025, 0, 1, 9, 0);
    let steady = 1000;
    const wallClock = vi.spyOn(Date, 'now').mockImplementation(() => wall);
    const steadyClock = vi.spyOn(performance, 'now').mockImplementation(() => steady);
    try {
      // The service's cache: on its default clocks.
      const c = new ExplanationCache(db, { memoryTtlMs: 5 * MINUTE, diskTtlMs: 60 * MINUTE });
      c.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
      steady += MINUTE;
      expect(c.get(cacheKeyFor('k1'))?.level).toBe('memory');
      // Six minutes later by the monotonic clock, while the wall clock was set back a day (NTP, a user).
      wall -= 24 * 60 * MINUTE;
      steady += 5 * MINUTE;
      expect(c.get(cacheKeyFor('k1'))?.level).toBe('disk');
      // The disk entry's expiry is a wall-clock time: it stays until that clock reaches it.
      expect(c.get(cacheKeyFor('k1'))?.level).toBe('memory');
    } finally {
      wallClock.mockRestore();
      steadyClock.mockRestore();
    }
  });

  it('counts the memory TTL on the steady clock it is given, the disk expiry on the wall clock', () => {
    // A wall clock set ahead no longer ends memory entries early; the disk's expiry is a wall-clock time.
    let steady = 1000;
    const c = cache({ memoryTtlMs: 5 * MINUTE, diskTtlMs: 60 * MINUTE, steadyNow: () => steady });
    c.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    time += 10 * MINUTE; // the wall clock set ahead: memory keeps its TTL…
    expect(c.get(cacheKeyFor('k1'))?.level).toBe('memory');
    steady += 5 * MINUTE + 1; // …counted on the steady clock
    expect(c.get(cacheKeyFor('k1'))?.level).toBe('disk');
    time += 51 * MINUTE; // past the disk expiry, by the wall clock
    expect(cache().get(cacheKeyFor('k1'))).toBeUndefined();
  });

  it('never keeps a document in memory past its disk expiry', () => {
    const c = cache({ memoryTtlMs: 5 * MINUTE, diskTtlMs: 1 * MINUTE });
    c.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    time += MINUTE - 1;
    expect(c.get(cacheKeyFor('k1'))?.level).toBe('memory');
    time += 2;
    expect(c.get(cacheKeyFor('k1'))).toBeUndefined();
  });

  it('keeps long-term entries past the TTL but not past a model change', () => {
    const c = cache({ memoryTtlMs: 5 * MINUTE, diskTtlMs: 60 * MINUTE });
    c.set(cacheKeyFor('long'), sampleDocument(1), { modelSha256: MODEL_A, longTerm: true });
    c.set(cacheKeyFor('short'), sampleDocument(2), { modelSha256: MODEL_A });

    time += 24 * 60 * MINUTE;
    expect(c.get(cacheKeyFor('short'))).toBeUndefined();
    expect(c.get(cacheKeyFor('long'))?.level).toBe('disk');
    expect(c.get(cacheKeyFor('long'))?.value).toEqual(sampleDocument(1));

    c.invalidate(MODEL_A);
    expect(c.get(cacheKeyFor('long'))?.level).toBe('disk');
    c.invalidate(MODEL_B);
    expect(c.get(cacheKeyFor('long'))).toBeUndefined();
  });

  it('on a model change, drops memory and the disk entries of every other model', () => {
    const c = cache();
    c.set(cacheKeyFor('a1'), sampleDocument(1, MODEL_A), { modelSha256: MODEL_A });
    c.set(cacheKeyFor('a2'), sampleDocument(2, MODEL_A), { modelSha256: MODEL_A });
    c.set(cacheKeyFor('b1'), sampleDocument(3, MODEL_B), { modelSha256: MODEL_B });

    c.invalidate(MODEL_B);
    expect(c.stats().memoryEntries).toBe(0);
    expect(diskKeys()).toEqual(['b1']);
    expect(c.get(cacheKeyFor('a1'))).toBeUndefined();
    expect(c.get(cacheKeyFor('b1'))?.level).toBe('disk');

    c.invalidate();
    expect(diskKeys()).toEqual([]);
    expect(c.get(cacheKeyFor('b1'))).toBeUndefined();
  });

  it('evicts the least recently used disk entries beyond the entry bound', () => {
    // A one-entry memory, so that gets below reach the disk and refresh its recency.
    const c = cache({ memoryMaxEntries: 1, diskMaxEntries: 3 });
    for (const k of ['k1', 'k2', 'k3']) {
      c.set(cacheKeyFor(k), sampleDocument(1), { modelSha256: MODEL_A });
      time += 1000;
    }
    expect(c.get(cacheKeyFor('k1'))?.level).toBe('disk');
    time += 1000;
    c.set(cacheKeyFor('k4'), sampleDocument(4), { modelSha256: MODEL_A });
    expect(diskKeys()).toEqual(['k1', 'k3', 'k4']);
    expect(c.stats().diskEntries).toBe(3);
  });

  it('evicts oldest entries beyond the byte bound, long-term entries last, and skips a document too big for it', () => {
    const size = Buffer.byteLength(JSON.stringify(sampleDocument(1)));
    const c = cache({ diskMaxBytes: Math.floor(size * 2.5) });
    c.set(cacheKeyFor('long'), sampleDocument(1), { modelSha256: MODEL_A, longTerm: true });
    time += 1000;
    c.set(cacheKeyFor('k2'), sampleDocument(2), { modelSha256: MODEL_A });
    time += 1000;
    c.set(cacheKeyFor('k3'), sampleDocument(3), { modelSha256: MODEL_A });
    expect(diskKeys()).toEqual(['k3', 'long']);
    expect(c.stats().diskBytes).toBeLessThanOrEqual(size * 2.5);

    const huge = { ...sampleDocument(9), id: 'x'.repeat(size * 3) };
    c.set(cacheKeyFor('huge'), huge, { modelSha256: MODEL_A });
    expect(diskKeys()).toEqual(['k3', 'long']);
  });

  it('bounds memory by the documents’ size as well as their number: large documents evict the oldest', () => {
    const size = JSON.stringify(sampleDocument(1)).length;
    const c = cache({ memoryMaxBytes: Math.floor(size * 2.5) });
    for (const k of ['k1', 'k2', 'k3']) c.set(cacheKeyFor(k), sampleDocument(1), { modelSha256: MODEL_A });
    expect(c.stats().memoryEntries).toBe(2);
    expect(c.get(cacheKeyFor('k1'))?.level).toBe('disk');
    expect(c.get(cacheKeyFor('k3'))?.level).toBe('memory');
    // A document larger than the whole bound is not remembered, and answered from disk.
    const huge = { ...sampleDocument(9), id: 'x'.repeat(size * 3) };
    c.set(cacheKeyFor('huge'), huge, { modelSha256: MODEL_A });
    expect(c.get(cacheKeyFor('huge'))).toMatchObject({ level: 'disk', value: huge });
  });

  it('counts memory hits, disk hits and misses, and reports the disk totals', () => {
    const c = cache();
    c.get(cacheKeyFor('k1'));
    c.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    c.set(cacheKeyFor('k2'), sampleDocument(2), { modelSha256: MODEL_A });
    c.set(cacheKeyFor('k2'), sampleDocument(2), { modelSha256: MODEL_A }); // replaces, not adds
    c.get(cacheKeyFor('k1'));
    c.get(cacheKeyFor('k1'));
    const fresh = cache();
    fresh.get(cacheKeyFor('k2'));

    const { bytes } = db.prepare('SELECT sum(bytes) AS bytes FROM explanation_cache').get() as {
      bytes: number;
    };
    expect(c.stats()).toEqual({
      memoryHits: 2,
      diskHits: 0,
      misses: 1,
      rejected: 0,
      memoryEntries: 2,
      diskEntries: 2,
      diskBytes: bytes,
    });
    expect(fresh.stats()).toMatchObject({ memoryHits: 0, diskHits: 1, misses: 0, memoryEntries: 1 });
  });

  it('leaves the connection as durable as it found it after a cache write', () => {
    const c = cache();
    const synchronous = () => db.pragma('synchronous', { simple: true });
    expect(synchronous()).toBe(2); // FULL, as openWritable sets it for the audit log
    c.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    c.invalidate(MODEL_B);
    c.prune();
    expect(synchronous()).toBe(2);
  });

  it('prune deletes expired disk entries', () => {
    const c = cache({ diskTtlMs: MINUTE });
    c.set(cacheKeyFor('k1'), sampleDocument(1), { modelSha256: MODEL_A });
    c.set(cacheKeyFor('long'), sampleDocument(2), { modelSha256: MODEL_A, longTerm: true });
    time += 2 * MINUTE;
    expect(c.prune()).toEqual({ expired: 1, evicted: 0 });
    expect(diskKeys()).toEqual(['long']);
  });
});
