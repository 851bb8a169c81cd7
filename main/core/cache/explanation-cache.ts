// The two-level explanation cache: an in-memory LRU in front of the SQLite table, keyed by cacheKey().
// Documents are stored as JSON and handed out deep-frozen, so a memory hit and a disk hit return the same JSON
// and no caller can change a cached document in place.
import { LRUCache } from 'lru-cache';
import type { CacheLevel, ExplanationDocument } from '../../../shared/explanation.js';
import type { WritableDb } from '../db/open.js';
import { DiskCache, type DiskWrite, type PruneResult } from './disk-cache.js';

export interface ExplanationCacheOptions {
  /** Milliseconds since the Unix epoch; injected so tests can move time. */
  now?: () => number;
  memoryTtlMs?: number;
  memoryMaxEntries?: number;
  diskTtlMs?: number;
  diskMaxBytes?: number;
  diskMaxEntries?: number;
  /**
   * Defer disk writes to the end of the current turn of the event loop and write them in one transaction,
   * so a burst of answers costs one commit. Memory is still written at once. Default false.
   */
  writeBehind?: boolean;
}

export const DEFAULT_CACHE_OPTIONS: Required<Omit<ExplanationCacheOptions, 'now' | 'writeBehind'>> = {
  memoryTtlMs: 5 * 60_000,
  memoryMaxEntries: 10_000,
  diskTtlMs: 60 * 60_000,
  diskMaxBytes: 64 * 1024 * 1024,
  diskMaxEntries: 20_000,
};

export interface CacheSetOptions {
  modelSha256: string;
  /** Kept on disk without expiry, until the model changes (or the size bound evicts it). */
  longTerm?: boolean;
}

export interface CacheHit {
  level: Exclude<CacheLevel, 'miss'>;
  /** The stored document, deep-frozen: use withCacheLevel() for a copy to hand out. */
  document: ExplanationDocument;
}

export interface CacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  memoryEntries: number;
  diskEntries: number;
  diskBytes: number;
}

/**
 * A copy of `doc` whose meta.cache says where it came from. meta is covered by the watermark,
 * so sign the copy again (records/watermark.ts signDocument) before handing it out.
 */
export function withCacheLevel(doc: ExplanationDocument, level: CacheLevel): ExplanationDocument {
  return { ...doc, meta: { ...doc.meta, cache: level } };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function fromJson(json: string): ExplanationDocument {
  return deepFreeze(JSON.parse(json) as ExplanationDocument);
}

export class ExplanationCache {
  readonly #now: () => number;
  readonly #memoryTtlMs: number;
  readonly #diskTtlMs: number;
  readonly #memory: LRUCache<string, ExplanationDocument>;
  readonly #disk: DiskCache;
  readonly #writeBehind: boolean;
  readonly #pending = new Map<string, DiskWrite>();
  #flushScheduled = false;
  #memoryHits = 0;
  #diskHits = 0;
  #misses = 0;

  constructor(db: WritableDb, options: ExplanationCacheOptions = {}) {
    const opts = { ...DEFAULT_CACHE_OPTIONS, ...options };
    const now = options.now ?? Date.now;
    this.#now = now;
    this.#memoryTtlMs = opts.memoryTtlMs;
    this.#diskTtlMs = opts.diskTtlMs;
    this.#writeBehind = options.writeBehind ?? false;
    this.#memory = new LRUCache<string, ExplanationDocument>({
      max: opts.memoryMaxEntries,
      ttl: opts.memoryTtlMs,
      // Read the clock on every check: the default 1 ms debounce runs on real timers, which a fake clock skips.
      ttlResolution: 0,
      perf: { now },
    });
    this.#disk = new DiskCache(db, {
      ttlMs: opts.diskTtlMs,
      maxBytes: opts.diskMaxBytes,
      maxEntries: opts.diskMaxEntries,
      now,
    });
  }

  get(key: string): CacheHit | undefined {
    const inMemory = this.#memory.get(key);
    if (inMemory) {
      this.#memoryHits++;
      return { level: 'memory', document: inMemory };
    }
    this.flush();
    const onDisk = this.#disk.get(key);
    if (onDisk) {
      this.#diskHits++;
      const document = fromJson(onDisk.json);
      this.#remember(key, document, onDisk.expiresAt);
      return { level: 'disk', document };
    }
    this.#misses++;
    return undefined;
  }

  /**
   * Stores `doc` in both levels. The cache keeps its own copy; later changes to `doc` do not reach it.
   * With writeBehind, the disk write joins the others of this turn of the event loop; flush() writes it now.
   */
  set(key: string, doc: ExplanationDocument, { modelSha256, longTerm = false }: CacheSetOptions): void {
    const json = JSON.stringify(doc);
    this.#pending.set(key, { key, json, modelSha256, longTerm });
    this.#remember(key, fromJson(json), longTerm ? null : this.#now() + this.#diskTtlMs);
    if (!this.#writeBehind) this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes pending disk entries now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#pending.size === 0) return;
    const writes = [...this.#pending.values()];
    this.#pending.clear();
    this.#disk.setMany(writes);
  }

  /** The active model changed: empties memory and deletes the disk entries of every other model (all without one). */
  invalidate(modelSha256?: string): void {
    this.flush();
    this.#memory.clear();
    this.#disk.invalidate(modelSha256);
  }

  /** Drops expired entries from both levels and evicts the disk level down to its bounds. */
  prune(): PruneResult {
    this.flush();
    this.#memory.purgeStale();
    return this.#disk.prune();
  }

  stats(): CacheStats {
    this.flush();
    const disk = this.#disk.totals();
    return {
      memoryHits: this.#memoryHits,
      diskHits: this.#diskHits,
      misses: this.#misses,
      memoryEntries: this.#memory.size,
      diskEntries: disk.entries,
      diskBytes: disk.bytes,
    };
  }

  /** Keeps `doc` in memory, never past the disk entry's own expiry. */
  #remember(key: string, doc: ExplanationDocument, expiresAt: number | null): void {
    const ttl =
      expiresAt === null
        ? this.#memoryTtlMs
        : Math.min(this.#memoryTtlMs, Math.floor(expiresAt - this.#now()));
    if (ttl > 0) this.#memory.set(key, doc, { ttl });
  }
}
