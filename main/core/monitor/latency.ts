// Latency, throughput and cache levels over sliding windows, in bounded memory.
//
// Time is cut into buckets (10 s by default) kept in a ring that covers the longest window; a window is the
// newest buckets that fit in it, so it is exact to within one bucket. Each bucket counts latencies in
// log-spaced bins (ratio 2^(1/32), so a quantile is off by at most 1.1 %) and in the UI's fixed histogram
// bins, plus exact count, sum, min and max. Memory depends on the windows, never on the traffic.
// TrafficTally counts the same way in one bucket since a point in time (the last stored snapshot).
import { LATENCY_HISTOGRAM_EDGES_MS, type TrafficWindow } from '../../../shared/monitoring.js';
import type { CacheLevel } from '../../../shared/explanation.js';

/** Bins are [LOWEST·R^k, LOWEST·R^(k+1)); anything faster than LOWEST counts in bin 0. */
const LOWEST_MS = 1e-3;
const BINS_PER_DOUBLING = 32;
const LOG_RATIO = Math.log(2) / BINS_PER_DOUBLING;

/** The fine bin of a latency. */
export function latencyBin(ms: number): number {
  return ms <= LOWEST_MS ? 0 : Math.floor(Math.log(ms / LOWEST_MS) / LOG_RATIO);
}

/** The geometric middle of a fine bin: within 2^(1/64) − 1 ≈ 1.09 % of every latency in it. */
export function latencyBinMiddle(bin: number): number {
  return LOWEST_MS * Math.exp((bin + 0.5) * LOG_RATIO);
}

interface Bucket {
  /** floor(time / bucketMs); -1 when the slot is empty. */
  index: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  fine: Map<number, number>;
  histogram: number[];
  levels: Record<CacheLevel, number>;
}

export interface LatencyRecorderOptions {
  /** Milliseconds since the Unix epoch. */
  now?: () => number;
  bucketMs?: number;
  /** Window lengths offered by summary(); the longest sets the memory kept. */
  windowsMs?: readonly number[];
  /** Upper edges (ms) of the UI histogram. */
  histogramEdgesMs?: readonly number[];
}

export const DEFAULT_WINDOWS_MS = [60_000, 5 * 60_000, 60 * 60_000] as const;

export class LatencyRecorder {
  readonly bucketMs: number;
  readonly windowsMs: readonly number[];
  readonly histogramEdgesMs: readonly number[];
  readonly #now: () => number;
  readonly #ring: Bucket[];
  readonly #startedAt: number;
  #latest = -Infinity;

  constructor(options: LatencyRecorderOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.bucketMs = options.bucketMs ?? 10_000;
    this.windowsMs = [...(options.windowsMs ?? DEFAULT_WINDOWS_MS)].sort((a, b) => a - b);
    this.histogramEdgesMs = options.histogramEdgesMs ?? LATENCY_HISTOGRAM_EDGES_MS;
    if (!(this.bucketMs > 0) || this.windowsMs.length === 0 || this.windowsMs.some((w) => !(w > 0))) {
      throw new RangeError('bucketMs and every window must be positive, and there must be a window');
    }
    const slots = Math.ceil(this.windowsMs.at(-1)! / this.bucketMs);
    this.#ring = Array.from({ length: slots }, () => this.#emptyBucket(-1));
    this.#startedAt = this.#now();
  }

  #emptyBucket(index: number): Bucket {
    return emptyBucket(index, this.histogramEdgesMs);
  }

  /** The current time, never earlier than a time already seen (a clock set back does not rewrite buckets). */
  #time(): number {
    this.#latest = Math.max(this.#latest, this.#now());
    return this.#latest;
  }

  /** Records `count` answers that each took `latencyMs`, all at the same cache level. */
  record(latencyMs: number, level: CacheLevel, count = 1): void {
    if (!isRecordable(latencyMs, count)) return;
    const index = Math.floor(this.#time() / this.bucketMs);
    const slot = index % this.#ring.length;
    let bucket = this.#ring[slot]!;
    if (bucket.index !== index) {
      bucket = this.#emptyBucket(index);
      this.#ring[slot] = bucket;
    }
    addTo(bucket, this.histogramEdgesMs, latencyMs, level, count);
  }

  /** Traffic over the newest `windowMs` (which must be one of the windows, or shorter than the longest). */
  summary(windowMs: number): TrafficWindow {
    const now = this.#time();
    const current = Math.floor(now / this.bucketMs);
    const buckets = Math.min(this.#ring.length, Math.max(1, Math.ceil(windowMs / this.bucketMs)));
    const oldest = current - buckets + 1;
    const merged = this.#emptyBucket(current);
    for (const b of this.#ring) {
      if (b.index < oldest || b.index > current) continue;
      merged.count += b.count;
      merged.sum += b.sum;
      merged.min = Math.min(merged.min, b.min);
      merged.max = Math.max(merged.max, b.max);
      for (const [bin, n] of b.fine) merged.fine.set(bin, (merged.fine.get(bin) ?? 0) + n);
      b.histogram.forEach((n, i) => (merged.histogram[i]! += n));
      for (const level of Object.keys(b.levels) as CacheLevel[]) merged.levels[level] += b.levels[level];
    }
    const coveredMs = now - Math.max(oldest * this.bucketMs, this.#startedAt);
    return windowOf(merged, this.histogramEdgesMs, windowMs, coveredMs);
  }

  /** One summary per configured window, shortest first. */
  summaries(): TrafficWindow[] {
    return this.windowsMs.map((w) => this.summary(w));
  }
}

/**
 * Every answer since the last restart() (or since it was made), however long ago, in one bucket: what a stored
 * snapshot answered since the previous one, which sliding windows cannot say (they overlap or leave gaps
 * between snapshots not exactly one window apart). Memory is bounded by the fine bins, not by the traffic.
 */
export class TrafficTally {
  readonly histogramEdgesMs: readonly number[];
  readonly #now: () => number;
  #bucket: Bucket;
  #since: number;

  constructor(options: Pick<LatencyRecorderOptions, 'now' | 'histogramEdgesMs'> = {}) {
    this.#now = options.now ?? Date.now;
    this.histogramEdgesMs = options.histogramEdgesMs ?? LATENCY_HISTOGRAM_EDGES_MS;
    this.#bucket = emptyBucket(0, this.histogramEdgesMs);
    this.#since = this.#now();
  }

  /** Answers counted since the last restart(). */
  get count(): number {
    return this.#bucket.count;
  }

  /** Records `count` answers that each took `latencyMs`, all at the same cache level. */
  record(latencyMs: number, level: CacheLevel, count = 1): void {
    if (isRecordable(latencyMs, count)) addTo(this.#bucket, this.histogramEdgesMs, latencyMs, level, count);
  }

  /**
   * The answers since the last restart(), as a window whose `window_s` is how long that was (0 or more: a clock set
   * back counts as no time). Counting starts again only with restart(), once the caller has kept them.
   */
  window(): TrafficWindow {
    const elapsedMs = Math.max(0, this.#now() - this.#since);
    return windowOf(this.#bucket, this.histogramEdgesMs, elapsedMs, elapsedMs);
  }

  /** Forgets what was counted: counting starts again from now. */
  restart(): void {
    this.#bucket = emptyBucket(0, this.histogramEdgesMs);
    this.#since = this.#now();
  }
}

function emptyBucket(index: number, edges: readonly number[]): Bucket {
  return {
    index,
    count: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    fine: new Map(),
    histogram: new Array<number>(edges.length + 1).fill(0),
    levels: { miss: 0, memory: 0, disk: 0 },
  };
}

function isRecordable(latencyMs: number, count: number): boolean {
  return Number.isFinite(latencyMs) && latencyMs >= 0 && Number.isInteger(count) && count >= 1;
}

function addTo(
  bucket: Bucket,
  edges: readonly number[],
  latencyMs: number,
  level: CacheLevel,
  count: number,
) {
  bucket.count += count;
  bucket.sum += latencyMs * count;
  bucket.min = Math.min(bucket.min, latencyMs);
  bucket.max = Math.max(bucket.max, latencyMs);
  const bin = latencyBin(latencyMs);
  bucket.fine.set(bin, (bucket.fine.get(bin) ?? 0) + count);
  bucket.histogram[histogramBin(edges, latencyMs)]! += count;
  bucket.levels[level] += count;
}

/** A bucket's traffic as a window of `windowMs`, its throughput over the `coveredMs` of it the service ran. */
function windowOf(b: Bucket, edges: readonly number[], windowMs: number, coveredMs: number): TrafficWindow {
  const quantile = (q: number) => quantileOf(b, q);
  const hits = b.levels.memory + b.levels.disk;
  return {
    window_s: windowMs / 1000,
    count: b.count,
    throughput_rps: coveredMs > 0 ? b.count / (coveredMs / 1000) : 0,
    latency: {
      p50_ms: quantile(0.5),
      p90_ms: quantile(0.9),
      p99_ms: quantile(0.99),
      max_ms: b.count ? b.max : null,
      mean_ms: b.count ? b.sum / b.count : null,
      histogram: { edges_ms: [...edges], counts: [...b.histogram] },
    },
    cache: {
      by_level: { ...b.levels },
      hit_rate: b.count ? hits / b.count : null,
    },
  };
}

/** The UI bin: the first edge the latency does not exceed, or the overflow bin. */
function histogramBin(edges: readonly number[], ms: number): number {
  const i = edges.findIndex((e) => ms <= e);
  return i === -1 ? edges.length : i;
}

/**
 * The nearest-rank q-quantile (the smallest latency with at least ⌈q·n⌉ latencies at or below it), read from
 * the fine bins as the middle of the bin holding that rank, kept within the exact min and max (the top rank
 * is the exact max).
 */
function quantileOf(b: Bucket, q: number): number | null {
  if (b.count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * b.count));
  if (rank >= b.count) return b.max;
  let seen = 0;
  for (const bin of [...b.fine.keys()].sort((x, y) => x - y)) {
    seen += b.fine.get(bin)!;
    if (seen >= rank) return Math.min(b.max, Math.max(b.min, latencyBinMiddle(bin)));
  }
  return b.max;
}
