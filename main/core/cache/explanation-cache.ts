// The two-level explanation cache: an in-memory LRU in front of the SQLite table, keyed by cacheKey().
// Documents are stored as JSON and handed out deep-frozen, so a memory hit and a disk hit return the same JSON
// and no caller can change a cached document in place. Memory keeps the JSON and parses it on the first hit, so
// an answer that is never asked for again costs no parse.
import { LRUCache } from 'lru-cache';
import type { CacheLevel, ExplanationDocument } from '../../../shared/explanation.js';
import type { WritableDb } from '../db/open.js';
import { DiskCache, type DiskCacheOptions, type DiskWrite, type PruneResult } from './disk-cache.js';

/** Disk writes waiting to be made: new entries, and the hits whose recency is not yet written. */
export interface DiskWriteBatch {
  writes: DiskWrite[];
  hits: [string, number][];
  /** The cache's clock when the batch was taken (expiry and recency are counted from it). */
  now: number;
}

/**
 * Makes the disk level's writes on another connection (the writer thread), so that this thread only reads.
 * Batches are applied in the order they are handed over.
 */
export interface DiskCacheWriter {
  /** Writes in the background. */
  write(batch: DiskWriteBatch): void;
  /** Writes now: the batch, and every batch before it, is committed when this returns. */
  writeNow(batch: DiskWriteBatch): void;
  /** Writes the batch, then deletes the entries of every model but `keepModelSha256` (all without one). */
  invalidate(batch: DiskWriteBatch, keepModelSha256: string | undefined): number;
  /** Writes the batch, then deletes expired entries and evicts down to the bounds. */
  prune(batch: DiskWriteBatch): PruneResult;
}

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
  /** Leave the disk writes to this writer instead of making them on `db` (which is then only read). */
  diskWriter?: DiskCacheWriter;
}

export const DEFAULT_CACHE_OPTIONS: Required<
  Omit<ExplanationCacheOptions, 'now' | 'writeBehind' | 'diskWriter'>
> = {
  memoryTtlMs: 5 * 60_000,
  memoryMaxEntries: 10_000,
  diskTtlMs: 60 * 60_000,
  diskMaxBytes: 64 * 1024 * 1024,
  diskMaxEntries: 20_000,
};

/** The disk level's bounds for these options. */
export function diskCacheOptions(options: ExplanationCacheOptions = {}): Omit<DiskCacheOptions, 'now'> {
  const opts = { ...DEFAULT_CACHE_OPTIONS, ...options };
  return { ttlMs: opts.diskTtlMs, maxBytes: opts.diskMaxBytes, maxEntries: opts.diskMaxEntries };
}

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

/** A memory entry: the stored JSON, and the frozen document once a hit has asked for it. */
interface Remembered {
  json: string;
  document?: ExplanationDocument;
}

export class ExplanationCache {
  readonly #now: () => number;
  readonly #memoryTtlMs: number;
  readonly #diskTtlMs: number;
  readonly #memory: LRUCache<string, Remembered>;
  readonly #disk: DiskCache;
  readonly #writeBehind: boolean;
  readonly #diskWriter: DiskCacheWriter | undefined;
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
    this.#diskWriter = options.diskWriter;
    this.#memory = new LRUCache<string, Remembered>({
      max: opts.memoryMaxEntries,
      ttl: opts.memoryTtlMs,
      // Read the clock on every check: the default 1 ms debounce runs on real timers, which a fake clock skips.
      ttlResolution: 0,
      perf: { now },
    });
    this.#disk = new DiskCache(db, { ...diskCacheOptions(options), now });
  }

  get(key: string): CacheHit | undefined {
    const inMemory = this.#memory.get(key);
    if (inMemory) {
      this.#memoryHits++;
      return { level: 'memory', document: (inMemory.document ??= fromJson(inMemory.json)) };
    }
    // The disk must hold what was set before. A disk writer has those writes in hand already, and waiting for
    // them would block this thread; memory has them anyway, unless it evicted them meanwhile.
    if (!this.#diskWriter) this.flush();
    const onDisk = this.#disk.get(key);
    if (onDisk) {
      this.#diskHits++;
      const document = fromJson(onDisk.json);
      this.#remember(key, { json: onDisk.json, document }, onDisk.expiresAt);
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
    this.#remember(key, { json }, longTerm ? null : this.#now() + this.#diskTtlMs);
    if (!this.#writeBehind) this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#writeBehindNow());
    }
  }

  #writeBehindNow(): void {
    if (!this.#flushScheduled) return;
    this.#flushScheduled = false;
    if (this.#diskWriter) {
      if (this.#pending.size > 0) this.#diskWriter.write(this.#takeBatch());
    } else this.flush();
  }

  /** Pending writes and unwritten hits, for the disk writer. */
  #takeBatch(): DiskWriteBatch {
    const writes = [...this.#pending.values()];
    this.#pending.clear();
    return { writes, hits: this.#disk.takeHits(), now: this.#now() };
  }

  /** Writes pending disk entries now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#diskWriter) {
      this.#diskWriter.writeNow(this.#takeBatch());
      return;
    }
    if (this.#pending.size === 0) return;
    const writes = [...this.#pending.values()];
    this.#pending.clear();
    this.#disk.setMany(writes);
  }

  /** The active model changed: empties memory and deletes the disk entries of every other model (all without one). */
  invalidate(modelSha256?: string): void {
    this.#memory.clear();
    if (this.#diskWriter) {
      this.#flushScheduled = false;
      this.#diskWriter.invalidate(this.#takeBatch(), modelSha256);
      return;
    }
    this.flush();
    this.#disk.invalidate(modelSha256);
  }

  /** Drops expired entries from both levels and evicts the disk level down to its bounds. */
  prune(): PruneResult {
    this.#memory.purgeStale();
    if (this.#diskWriter) {
      this.#flushScheduled = false;
      return this.#diskWriter.prune(this.#takeBatch());
    }
    this.flush();
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

  /** Keeps the entry in memory, never past the disk entry's own expiry. */
  #remember(key: string, entry: Remembered, expiresAt: number | null): void {
    const ttl =
      expiresAt === null
        ? this.#memoryTtlMs
        : Math.min(this.#memoryTtlMs, Math.floor(expiresAt - this.#now()));
    if (ttl > 0) this.#memory.set(key, entry, { ttl });
  }
}
