// The two-level explanation cache: an in-memory LRU in front of the SQLite table, keyed by cacheKey().
// What it keeps is stored on disk as JSON text through a codec: by default explanation documents, handed out
// deep-frozen (parsed on their first hit), so a memory hit and a disk hit return the same JSON and no caller
// can change a cached document in place; the service keeps its answers' signed text (explain-pipeline.ts).
import { timingSafeEqual } from 'node:crypto';
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
  /**
   * Milliseconds since the Unix epoch, for the disk level's stored times (expiry, recency), which must mean the
   * same to the next process; injected so tests can move time (default Date.now).
   */
  now?: () => number;
  /**
   * The clock the memory level's TTL counts on, in milliseconds (default performance.now: monotonic, so a wall
   * clock set back does not keep entries past their TTL; `now` when only that is given, as tests do).
   */
  steadyNow?: () => number;
  memoryTtlMs?: number;
  memoryMaxEntries?: number;
  /**
   * Bound on the remembered documents' total JSON length (characters). Entries alone would let a few thousand
   * large documents (detail, a wide model or a layer) take gigabytes; the disk level is bounded in bytes too.
   */
  memoryMaxBytes?: number;
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
  Omit<ExplanationCacheOptions, 'now' | 'steadyNow' | 'writeBehind' | 'diskWriter'>
> = {
  memoryTtlMs: 5 * 60_000,
  memoryMaxEntries: 10_000,
  memoryMaxBytes: 64 * 1024 * 1024,
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

export interface CacheHit<T = ExplanationDocument> {
  level: Exclude<CacheLevel, 'miss'>;
  /** What was stored (a document comes deep-frozen: use withCacheLevel() for a copy to hand out). */
  value: T;
}

/**
 * Thrown by a codec's fromJson for stored text it will not hand out (a document whose watermark does not match
 * its content): the cache counts the entry as a miss, warns, and the answer computed instead replaces it.
 */
export class RejectedCacheEntry extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RejectedCacheEntry';
  }
}

/** How cached values become the disk level's JSON text and back. */
export interface CacheCodec<T> {
  toJson(value: T): string;
  /** The value of stored text; throws RejectedCacheEntry for text it will not hand out. */
  fromJson(json: string): T;
  /**
   * A keyed MAC of a key and the text stored under it, kept with the disk entry and checked before fromJson.
   * Without it, a stored text moved under another key (the database can be written outside BranchLens) would be
   * handed out for that key: the text's own checks (a watermark) say it is intact, not whose it is.
   */
  mac?(key: string, json: string): string;
  /**
   * Values cannot change once stored (text, frozen objects): memory keeps the value itself. Otherwise memory
   * keeps the JSON and hands out a frozen copy parsed on the first hit.
   */
  immutable: boolean;
}

export interface CacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  /** Disk entries the codec refused, counted among the misses too. */
  rejected: number;
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

/** Whether a stored MAC is the expected one (hex text), in constant time. */
function sameMac(stored: string | null, expected: string): boolean {
  if (stored === null || stored.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(stored), Buffer.from(expected));
}

function fromJson(json: string): ExplanationDocument {
  return deepFreeze(JSON.parse(json) as ExplanationDocument);
}

/** Explanation documents as themselves: JSON.stringify, and parsed back deep-frozen. */
export const DOCUMENT_CODEC: CacheCodec<ExplanationDocument> = {
  toJson: (doc) => JSON.stringify(doc),
  fromJson,
  immutable: false,
};

/** A memory entry: the stored JSON, and the value once stored or asked for. */
interface Remembered<T> {
  json: string;
  value?: T;
}

export class ExplanationCache<T = ExplanationDocument> {
  readonly #now: () => number;
  readonly #memoryTtlMs: number;
  readonly #diskTtlMs: number;
  readonly #memory: LRUCache<string, Remembered<T>>;
  readonly #codec: CacheCodec<T>;
  readonly #disk: DiskCache;
  readonly #writeBehind: boolean;
  readonly #diskWriter: DiskCacheWriter | undefined;
  readonly #pending = new Map<string, DiskWrite>();
  #flushScheduled = false;
  readonly #diskReads: {
    keys: readonly string[];
    resolve(hits: (CacheHit<T> | undefined)[]): void;
    reject(e: Error): void;
  }[] = [];
  #memoryHits = 0;
  #diskHits = 0;
  #misses = 0;
  /** Disk entries the codec refused (counted among the misses too). */
  #rejected = 0;

  constructor(
    db: WritableDb,
    options: ExplanationCacheOptions = {},
    codec: CacheCodec<T> = DOCUMENT_CODEC as unknown as CacheCodec<T>,
  ) {
    const opts = { ...DEFAULT_CACHE_OPTIONS, ...options };
    this.#codec = codec;
    const now = options.now ?? Date.now;
    this.#now = now;
    const steadyNow = options.steadyNow ?? options.now ?? (() => performance.now());
    this.#memoryTtlMs = opts.memoryTtlMs;
    this.#diskTtlMs = opts.diskTtlMs;
    this.#writeBehind = options.writeBehind ?? false;
    this.#diskWriter = options.diskWriter;
    this.#memory = new LRUCache<string, Remembered<T>>({
      max: opts.memoryMaxEntries,
      // A document larger than the whole bound is not remembered (the disk level may still hold it).
      maxSize: opts.memoryMaxBytes,
      sizeCalculation: (entry) => Math.max(1, entry.json.length),
      ttl: opts.memoryTtlMs,
      // Read the clock on every check: the default 1 ms debounce runs on real timers, which a fake clock skips.
      ttlResolution: 0,
      // A TTL is a duration: on the wall clock, one set back an hour would keep every entry an hour longer.
      perf: { now: steadyNow },
    });
    this.#disk = new DiskCache(db, { ...diskCacheOptions(options), now });
  }

  get(key: string): CacheHit<T> | undefined {
    return this.getMemory(key) ?? this.getDisk([key])[0];
  }

  /** The memory level alone: a hit, or undefined (not counted as a miss: the disk may still hold it). */
  getMemory(key: string): CacheHit<T> | undefined {
    const inMemory = this.#memory.get(key);
    if (!inMemory) return undefined;
    this.#memoryHits++;
    return { level: 'memory', value: (inMemory.value ??= this.#codec.fromJson(inMemory.json)) };
  }

  /** The disk level for keys memory lacks, read in one transaction; a key found there is remembered in memory. */
  getDisk(keys: readonly string[]): (CacheHit<T> | undefined)[] {
    // The disk must hold what was set before. A disk writer has those writes in hand already, and waiting for
    // them would block this thread; memory has them anyway, unless it evicted them meanwhile.
    if (!this.#diskWriter) this.flush();
    const found = this.#disk.getMany(keys);
    return keys.map((key, i) => {
      const onDisk = found[i];
      if (!onDisk) {
        this.#misses++;
        return undefined;
      }
      let value: T;
      try {
        if (this.#codec.mac && !sameMac(onDisk.mac, this.#codec.mac(key, onDisk.json))) {
          throw new RejectedCacheEntry(
            onDisk.mac === null
              ? 'it has no MAC binding it to its key'
              : 'its MAC does not match its key: it was stored under another key, or changed after it was stored',
          );
        }
        value = this.#codec.fromJson(onDisk.json);
      } catch (e) {
        if (!(e instanceof RejectedCacheEntry)) throw e;
        this.#misses++;
        this.#rejected++;
        process.emitWarning(
          `explanation cache: a stored entry was refused and is computed again: ${e.message}`,
        );
        return undefined;
      }
      this.#diskHits++;
      this.#remember(key, { json: onDisk.json, value }, onDisk.expiresAt);
      return { level: 'disk', value };
    });
  }

  /**
   * getDisk() at the end of this turn of the event loop, together with the keys every other caller asks for
   * meanwhile: one read transaction for a burst of concurrent requests instead of one per key.
   */
  getDiskSoon(keys: readonly string[]): Promise<(CacheHit<T> | undefined)[]> {
    return new Promise((resolve, reject) => {
      // The first read of a turn schedules the one transaction for all of them.
      if (this.#diskReads.push({ keys, resolve, reject }) === 1) setImmediate(() => this.#readDisk());
    });
  }

  #readDisk(): void {
    const reads = this.#diskReads.splice(0);
    let found: (CacheHit<T> | undefined)[];
    try {
      found = this.getDisk(reads.flatMap((r) => r.keys));
    } catch (e) {
      for (const r of reads) r.reject(e as Error);
      return;
    }
    let at = 0;
    for (const r of reads) {
      r.resolve(found.slice(at, at + r.keys.length));
      at += r.keys.length;
    }
  }

  /**
   * Stores `value` in both levels. A mutable value is kept as its JSON: later changes to it do not reach the
   * cache. With writeBehind, the disk write joins the others of this turn of the event loop; flush() writes it
   * now.
   */
  set(key: string, value: T, { modelSha256, longTerm = false }: CacheSetOptions): void {
    const json = this.#codec.toJson(value);
    const mac = this.#codec.mac?.(key, json);
    this.#pending.set(key, { key, json, modelSha256, longTerm, ...(mac !== undefined ? { mac } : {}) });
    this.#remember(
      key,
      this.#codec.immutable ? { json, value } : { json },
      longTerm ? null : this.#now() + this.#diskTtlMs,
    );
    if (!this.#writeBehind) this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#writeBehindNow());
    }
  }

  /**
   * The deferred disk write, from setImmediate: nothing is there to catch what it throws, which would end the
   * process (the CLI's, after the answer was audited and before it was printed). Cache entries can be
   * recomputed, so a failed write costs later misses, not an answer: it is warned about, as the writer thread
   * warns about its own (db/writer-thread.ts).
   */
  #writeBehindNow(): void {
    if (!this.#flushScheduled) return;
    this.#flushScheduled = false;
    try {
      if (this.#diskWriter) {
        if (this.#pending.size > 0) this.#diskWriter.write(this.#takeBatch());
      } else this.flush();
    } catch (e) {
      process.emitWarning(`explanation cache write failed: ${(e as Error).message}`);
    }
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
      rejected: this.#rejected,
      memoryEntries: this.#memory.size,
      diskEntries: disk.entries,
      diskBytes: disk.bytes,
    };
  }

  /** Keeps the entry in memory, never past the disk entry's own expiry. */
  #remember(key: string, entry: Remembered<T>, expiresAt: number | null): void {
    const ttl =
      expiresAt === null
        ? this.#memoryTtlMs
        : Math.min(this.#memoryTtlMs, Math.floor(expiresAt - this.#now()));
    if (ttl > 0) this.#memory.set(key, entry, { ttl });
  }
}
