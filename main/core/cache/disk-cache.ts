// The disk level of the explanation cache: a SQLite table (migrations 002, 006) bounded in entries and bytes,
// keyed by the 32 bytes of the cacheKey() hash. A hit only reads: its recency is remembered and written with
// the next write, so a hit never waits on an fsync. Writes made inside a transaction already open on the
// connection (the writer thread's audit group) join it: one commit covers the audit entries and the cache.
import type { Statement, Transaction } from 'better-sqlite3';
import type { WritableDb } from '../db/open.js';

export interface DiskCacheOptions {
  /** Lifetime of an ordinary entry. */
  ttlMs: number;
  /** Bound on the stored documents' total UTF-8 size. */
  maxBytes: number;
  maxEntries: number;
  /**
   * Milliseconds since the Unix epoch: stored times (`expires_at`, `last_used_at`) must mean the same to the next
   * process, so they are wall-clock times, and follow its changes. A clock set back keeps entries that long past
   * their TTL (or an entry stored while it was ahead, until it catches up), and makes new hits look older than
   * earlier ones to eviction; a clock set forward expires entries early, and the next write deletes them. Either
   * costs recomputation, never a wrong answer: a cached document is tied to its model and inputs, not to a time.
   */
  now: () => number;
}

export interface DiskEntry {
  /** The document as stored (JSON text). */
  json: string;
  /** null: a long-term entry. */
  expiresAt: number | null;
  /** What binds the document to its key (CacheCodec.mac), as stored; null when the writer's codec binds nothing. */
  mac: string | null;
}

export interface DiskWrite {
  /** cacheKey(): 64 lowercase hex characters. */
  key: string;
  json: string;
  modelSha256: string;
  longTerm?: boolean;
  /** CacheCodec.mac of the key and json, when the codec has one. */
  mac?: string;
}

export interface DiskTotals {
  entries: number;
  bytes: number;
}

export interface PruneResult {
  expired: number;
  evicted: number;
}

interface UpsertParams {
  key: Buffer;
  model: string;
  json: string;
  now: number;
  expiresAt: number | null;
  bytes: number;
  mac: string | null;
}

export class DiskCache {
  readonly #db: WritableDb;
  readonly #opts: DiskCacheOptions;
  /** key → last hit time, not yet written. */
  readonly #touched = new Map<string, number>();
  readonly #select: Statement<[Buffer, number], DiskEntry>;
  readonly #upsert: Statement<[UpsertParams]>;
  readonly #touch: Statement<[number, Buffer]>;
  readonly #deleteExpired: Statement<[number]>;
  readonly #deleteKey: Statement<[Buffer]>;
  readonly #deleteOtherModels: Statement<[string]>;
  readonly #deleteAll: Statement<[]>;
  readonly #totals: Statement<[], DiskTotals>;
  readonly #evictionOrder: Statement<[], { key: Buffer; bytes: number }>;
  readonly #transaction: Transaction<(fn: () => unknown) => unknown>;
  readonly #read: <R>(fn: () => R) => R;

  constructor(db: WritableDb, opts: DiskCacheOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#transaction = db.transaction((fn: () => unknown) => this.#inTransaction(fn));
    const read = db.transaction((fn: () => unknown) => fn());
    this.#read = <R>(fn: () => R) => read.deferred(fn) as R;
    this.#select = db.prepare<[Buffer, number], DiskEntry>(
      `SELECT document AS json, expires_at AS expiresAt, mac FROM explanation_cache
       WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`,
    );
    this.#upsert = db.prepare<[UpsertParams]>(
      `INSERT INTO explanation_cache (key, model_sha256, document, created_at, expires_at, last_used_at, bytes, mac)
       VALUES (@key, @model, @json, @now, @expiresAt, @now, @bytes, @mac)
       ON CONFLICT (key) DO UPDATE SET
         model_sha256 = excluded.model_sha256, document = excluded.document, created_at = excluded.created_at,
         expires_at = excluded.expires_at, last_used_at = excluded.last_used_at, bytes = excluded.bytes,
         mac = excluded.mac`,
    );
    this.#touch = db.prepare<[number, Buffer]>(
      'UPDATE explanation_cache SET last_used_at = max(last_used_at, ?) WHERE key = ?',
    );
    this.#deleteExpired = db.prepare<[number]>(
      'DELETE FROM explanation_cache WHERE expires_at IS NOT NULL AND expires_at <= ?',
    );
    this.#deleteKey = db.prepare<[Buffer]>('DELETE FROM explanation_cache WHERE key = ?');
    this.#deleteOtherModels = db.prepare<[string]>('DELETE FROM explanation_cache WHERE model_sha256 <> ?');
    this.#deleteAll = db.prepare<[]>('DELETE FROM explanation_cache');
    this.#totals = db.prepare<[], DiskTotals>('SELECT entries, bytes FROM cache_totals WHERE id = 1');
    // Matches the explanation_cache_eviction index: entries with a TTL first, then least recently used.
    this.#evictionOrder = db.prepare<[], { key: Buffer; bytes: number }>(
      'SELECT key, bytes FROM explanation_cache ORDER BY (expires_at IS NULL), last_used_at',
    );
  }

  get(key: string): DiskEntry | undefined {
    const now = this.#opts.now();
    const row = this.#select.get(keyBytes(key), now);
    if (row) this.#touched.set(key, now);
    return row;
  }

  /** get() for several keys in one read transaction (one lock and one look at the WAL for all of them). */
  getMany(keys: readonly string[]): (DiskEntry | undefined)[] {
    if (keys.length <= 1 || this.#db.inTransaction) return keys.map((k) => this.get(k));
    return this.#read(() => keys.map((k) => this.get(k)));
  }

  /** The hits not yet written, handed over to whoever writes them (the writer thread): [key, time] pairs. */
  takeHits(): [string, number][] {
    const hits = [...this.#touched];
    this.#touched.clear();
    return hits;
  }

  /** Hits seen elsewhere (by takeHits), written with the next write. */
  addHits(hits: readonly (readonly [string, number])[]): void {
    for (const [key, at] of hits) this.#touched.set(key, Math.max(at, this.#touched.get(key) ?? at));
  }

  /** Stores `json` for `key`; a long-term entry has no expiry. Returns false when the document alone exceeds maxBytes. */
  set(key: string, json: string, modelSha256: string, longTerm = false): boolean {
    return this.setMany([{ key, json, modelSha256, longTerm }])[0]!;
  }

  /**
   * Runs several writes (addHits, setMany, …) as one of this cache's write transactions: one commit, without
   * the fsync (see #write). The writer thread writes each burst of cache batches this way.
   */
  writeTogether<T>(fn: () => T): T {
    return this.#write(fn);
  }

  /** Stores several entries in one transaction (one commit for a whole burst of answers). */
  setMany(entries: readonly DiskWrite[], now = this.#opts.now()): boolean[] {
    const stored = entries.map((e) => Buffer.byteLength(e.json, 'utf8') <= this.#opts.maxBytes);
    if (!stored.some(Boolean)) return stored;
    this.#write(() => {
      this.#deleteExpired.run(now);
      entries.forEach((e, i) => {
        if (!stored[i]) return;
        this.#upsert.run({
          key: keyBytes(e.key),
          model: e.modelSha256,
          json: e.json,
          now,
          expiresAt: e.longTerm ? null : now + this.#opts.ttlMs,
          bytes: Buffer.byteLength(e.json, 'utf8'),
          mac: e.mac ?? null,
        });
        this.#touched.delete(e.key);
      });
      this.#evict();
    });
    return stored;
  }

  delete(key: string): void {
    this.#touched.delete(key);
    this.#write(() => this.#deleteKey.run(keyBytes(key)));
  }

  /** Deletes the entries of every model but `keepModelSha256` (all entries when it is absent). */
  invalidate(keepModelSha256?: string): number {
    this.#touched.clear();
    return this.#write(() =>
      keepModelSha256 === undefined
        ? this.#deleteAll.run().changes
        : this.#deleteOtherModels.run(keepModelSha256).changes,
    );
  }

  /** Deletes expired entries and evicts down to the bounds. */
  prune(now = this.#opts.now()): PruneResult {
    return this.#write(() => ({ expired: this.#deleteExpired.run(now).changes, evicted: this.#evict() }));
  }

  totals(): DiskTotals {
    return this.#totals.get() ?? { entries: 0, bytes: 0 };
  }

  /**
   * Runs `fn` in a write transaction, first writing the recency of hits since the last write. Inside a
   * transaction the connection already has open, `fn` joins it (a nested one would cost a savepoint).
   */
  #write<T>(fn: () => T): T {
    if (this.#db.inTransaction) return this.#inTransaction(fn);
    // Cache entries can be recomputed, so their own commits skip the fsync the audit log's commits need
    // (WAL with synchronous=NORMAL: still atomic; the next fsync of the WAL makes them durable too).
    // better-sqlite3 is synchronous, so no other write on this connection can run while it is relaxed.
    const synchronous = this.#db.pragma('synchronous', { simple: true }) as number;
    this.#db.pragma('synchronous = NORMAL');
    try {
      return this.#transaction.immediate(fn) as T;
    } finally {
      this.#db.pragma(`synchronous = ${synchronous}`);
    }
  }

  #inTransaction<T>(fn: () => T): T {
    for (const [key, at] of this.#touched) this.#touch.run(at, keyBytes(key));
    this.#touched.clear();
    return fn();
  }

  #evict(): number {
    const { entries, bytes } = this.totals();
    let excessEntries = entries - this.#opts.maxEntries;
    let excessBytes = bytes - this.#opts.maxBytes;
    if (excessEntries <= 0 && excessBytes <= 0) return 0;
    const victims: Buffer[] = [];
    for (const row of this.#evictionOrder.iterate()) {
      if (excessEntries <= 0 && excessBytes <= 0) break;
      victims.push(row.key);
      excessEntries -= 1;
      excessBytes -= row.bytes;
    }
    for (const key of victims) this.#deleteKey.run(key);
    return victims.length;
  }
}

const HEX_KEY = /^[0-9a-f]{64}$/;

/** The stored form of a cacheKey(): its 32 bytes. */
function keyBytes(key: string): Buffer {
  if (!HEX_KEY.test(key)) throw new TypeError('an explanation cache key is a SHA-256 in lowercase hex');
  return Buffer.from(key, 'hex');
}
