import { describe, expect, it } from 'vitest';
import {
  LatencyRecorder,
  TrafficTally,
  latencyBin,
  latencyBinMiddle,
} from '../../../../main/core/monitor/latency.js';

/** A clock the test moves by hand, starting at a round time. */
function fakeClock(start = Date.UTC(2025, 0, 1, 9, 0, 0)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const MIN = 60_000;

describe('latency quantiles', () => {
  it('are the nearest-rank quantiles of known data, to within the 1.1 % bin width', () => {
    const clock = fakeClock();
    const rec = new LatencyRecorder({ now: clock.now });
    // 1 … 100 ms, shuffled so that order does not matter.
    for (const ms of Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1)) rec.record(ms, 'miss');
    const { latency, count } = rec.summary(5 * MIN);
    expect(count).toBe(100);
    expect(latency.p50_ms! / 50).toBeCloseTo(1, 1);
    expect(Math.abs(latency.p50_ms! / 50 - 1)).toBeLessThan(0.011);
    expect(Math.abs(latency.p90_ms! / 90 - 1)).toBeLessThan(0.011);
    expect(Math.abs(latency.p99_ms! / 99 - 1)).toBeLessThan(0.011);
    expect(latency.max_ms).toBe(100);
    expect(latency.mean_ms).toBeCloseTo(50.5, 10);
  });

  it('report a heavy tail: 98 fast answers and 2 slow ones put p99 on the slow ones', () => {
    const rec = new LatencyRecorder({ now: fakeClock().now });
    rec.record(2, 'miss', 98);
    rec.record(400, 'miss', 2);
    const { latency } = rec.summary(MIN);
    expect(latency.p50_ms!).toBeCloseTo(2, 1);
    expect(latency.p90_ms!).toBeCloseTo(2, 1);
    expect(Math.abs(latency.p99_ms! / 400 - 1)).toBeLessThan(0.011);
  });

  it('take the rank ⌈q·n⌉: of ten latencies, p50 is the 5th and p90 the 9th, p99 the largest', () => {
    const rec = new LatencyRecorder({ now: fakeClock().now });
    for (let ms = 10; ms <= 100; ms += 10) rec.record(ms, 'miss');
    const { latency } = rec.summary(MIN);
    expect(Math.abs(latency.p50_ms! / 50 - 1)).toBeLessThan(0.011);
    expect(Math.abs(latency.p90_ms! / 90 - 1)).toBeLessThan(0.011);
    expect(latency.p99_ms).toBe(100);
  });

  it('put p90 of 100 latencies on the 90th, not the 91st', () => {
    const rec = new LatencyRecorder({ now: fakeClock().now });
    rec.record(1, 'miss', 90);
    rec.record(100, 'miss', 10);
    expect(rec.summary(MIN).latency.p90_ms).toBe(1);
  });

  it('never leave the observed range: a single latency is every quantile exactly', () => {
    const rec = new LatencyRecorder({ now: fakeClock().now });
    rec.record(7.3, 'miss');
    const { latency } = rec.summary(MIN);
    expect([latency.p50_ms, latency.p90_ms, latency.p99_ms, latency.max_ms]).toEqual([7.3, 7.3, 7.3, 7.3]);
  });

  it('are null without traffic', () => {
    const { latency, count, throughput_rps, cache } = new LatencyRecorder({ now: fakeClock().now }).summary(
      MIN,
    );
    expect(count).toBe(0);
    expect(latency.p99_ms).toBeNull();
    expect(throughput_rps).toBe(0);
    expect(cache.hit_rate).toBeNull();
  });

  it('bins are log-spaced: each latency is within 1.1 % of its bin middle', () => {
    for (const ms of [0.01, 0.5, 1, 3.7, 49.9, 200, 12_345]) {
      expect(Math.abs(latencyBinMiddle(latencyBin(ms)) / ms - 1)).toBeLessThan(0.011);
    }
  });
});

describe('the sliding window', () => {
  it('forgets samples older than the window, per window', () => {
    const clock = fakeClock();
    const rec = new LatencyRecorder({ now: clock.now });
    rec.record(500, 'miss', 3);
    clock.advance(2 * MIN);
    rec.record(5, 'miss');
    expect(rec.summary(MIN).count).toBe(1);
    expect(rec.summary(MIN).latency.max_ms).toBe(5);
    expect(rec.summary(5 * MIN).count).toBe(4);
    expect(rec.summary(5 * MIN).latency.max_ms).toBe(500);
    clock.advance(4 * MIN);
    expect(rec.summary(5 * MIN).count).toBe(1);
    clock.advance(60 * MIN);
    expect(rec.summaries().map((w) => w.count)).toEqual([0, 0, 0]);
  });

  it('keeps an answer until the window’s length has passed, its p99 that answer, and then has no quantiles', () => {
    // Start on a bucket boundary: the window is then exactly its newest 30 buckets of 10 s.
    const clock = fakeClock();
    const rec = new LatencyRecorder({ now: clock.now });
    rec.record(42, 'disk');
    clock.advance(5 * MIN - 1);
    const last = rec.summary(5 * MIN);
    expect(last.count).toBe(1);
    expect([last.latency.p50_ms, last.latency.p99_ms, last.latency.max_ms]).toEqual([42, 42, 42]);
    expect(last.cache.hit_rate).toBe(1);
    expect(last.throughput_rps).toBeCloseTo(1 / ((5 * MIN - 1) / 1000), 12);
    clock.advance(1);
    const gone = rec.summary(5 * MIN);
    expect(gone.count).toBe(0);
    expect([gone.latency.p99_ms, gone.latency.max_ms, gone.latency.mean_ms, gone.cache.hit_rate]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(gone.throughput_rps).toBe(0);
  });

  it('reuses its ring slots: memory does not grow with time or traffic', () => {
    const clock = fakeClock();
    const rec = new LatencyRecorder({ now: clock.now, bucketMs: 10_000, windowsMs: [MIN] });
    for (let i = 0; i < 1000; i++) {
      rec.record(1 + (i % 50), 'miss', 10);
      clock.advance(1_000);
    }
    // The newest minute holds the last 60 seconds of records, 10 each (to within one bucket).
    const { count } = rec.summary(MIN);
    expect(count).toBeGreaterThanOrEqual(500);
    expect(count).toBeLessThanOrEqual(600);
  });

  it('gives throughput over the time the service has been up when that is shorter than the window', () => {
    const clock = fakeClock();
    const rec = new LatencyRecorder({ now: clock.now });
    for (let s = 0; s < 20; s++) {
      rec.record(3, 'miss', 5);
      clock.advance(1_000);
    }
    // 100 answers in 20 s, whatever the window.
    expect(rec.summary(5 * MIN).throughput_rps).toBeCloseTo(5, 6);
    expect(rec.summary(MIN).throughput_rps).toBeCloseTo(5, 6);
  });

  it('does not rewrite buckets when the clock is set back', () => {
    const clock = fakeClock();
    const rec = new LatencyRecorder({ now: clock.now });
    rec.record(10, 'miss');
    clock.advance(-30 * MIN);
    rec.record(20, 'miss');
    expect(rec.summary(MIN).count).toBe(2);
  });
});

describe('the histogram and the cache levels', () => {
  it('counts latencies in the fixed UI buckets, upper edges inclusive', () => {
    const rec = new LatencyRecorder({ now: fakeClock().now, histogramEdgesMs: [1, 10, 100] });
    for (const ms of [0.5, 1, 1.5, 10, 99, 100, 101, 5000]) rec.record(ms, 'miss');
    expect(rec.summary(MIN).latency.histogram).toEqual({ edges_ms: [1, 10, 100], counts: [2, 2, 2, 2] });
  });

  it('gives the hit rate as (memory + disk) / all answers', () => {
    const rec = new LatencyRecorder({ now: fakeClock().now });
    rec.record(20, 'miss', 6);
    rec.record(0.2, 'memory', 3);
    rec.record(1, 'disk', 1);
    const { cache } = rec.summary(MIN);
    expect(cache.by_level).toEqual({ miss: 6, memory: 3, disk: 1 });
    expect(cache.hit_rate).toBeCloseTo(0.4, 12);
  });
});

describe('the tally since the last stored snapshot', () => {
  it('counts every answer since it was restarted, however long ago, and says how long that was', () => {
    const clock = fakeClock();
    const tally = new TrafficTally({ now: clock.now });
    tally.record(5, 'miss', 3);
    clock.advance(3 * 60 * MIN); // longer than any sliding window
    tally.record(500, 'disk');
    const w = tally.window();
    expect(w).toMatchObject({ window_s: 3 * 3600, count: 4, throughput_rps: 4 / (3 * 3600) });
    expect(w.cache.by_level).toEqual({ miss: 3, memory: 0, disk: 1 });
    expect(w.latency.max_ms).toBe(500);
    expect(w.latency.histogram.counts.reduce((a, c) => a + c, 0)).toBe(4);
    // Taking a look does not start it again; restarting does.
    expect(tally.window().count).toBe(4);
    tally.restart();
    clock.advance(MIN);
    expect(tally.window()).toMatchObject({ window_s: 60, count: 0, throughput_rps: 0 });
    expect(tally.window().latency.p99_ms).toBeNull();
  });
});
