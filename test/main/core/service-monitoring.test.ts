import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openService } from '../../../main/cli/service.js';
import { BranchLensService } from '../../../main/core/service.js';
import type { WritableDb } from '../../../main/core/db/open.js';
import { insertSnapshot, sampledSeries } from '../../../main/core/monitor/store.js';
import { readThreadsRunning } from '../../../main/core/read-thread.js';
import { monitoringSnapshotSchema } from '../../../shared/monitoring.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

const HOUR = 3_600_000;
let data: string;
let service: BranchLensService;
const clock = { t: Date.UTC(2026, 0, 1, 9, 30) };

beforeAll(async () => {
  data = tempDir('branchlens-monitoring-');
  service = await BranchLensService.open({
    dataDir: data,
    monitor: { now: () => clock.t, stabilityEveryMs: 1000 },
  });
});
afterAll(async () => {
  await service?.close();
  removeDir(data);
});

describe('service monitoring', () => {
  it('counts answers by cache level, measures latency, and checks stability on a sample of real requests', async () => {
    const applicants = holdoutApplicants(5);
    await service.explain(applicants);
    await service.explain(applicants.slice(0, 2)); // two memory hits

    const snap = monitoringSnapshotSchema.parse(service.monitoringSnapshot());
    const window = snap.windows[0]!;
    expect(window.count).toBe(7);
    expect(window.cache.by_level).toEqual({ miss: 5, memory: 2, disk: 0 });
    expect(window.cache.hit_rate).toBeCloseTo(2 / 7, 12);
    expect(window.latency.p50_ms).toBeGreaterThan(0);
    expect(snap.model.sha256).toBe(service.model.sha256);

    clock.t += 2000;
    // The check recomputes: neither cache level is consulted (an answer from the cache would compare equal).
    const cache = (service as unknown as { cache: object }).cache;
    const lookups = (['get', 'getMemory', 'getDisk', 'getDiskSoon'] as const).map((name) =>
      vi.spyOn(cache as Record<typeof name, () => unknown>, name),
    );
    try {
      await service.monitorTick();
      for (const spy of lookups) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of lookups) spy.mockRestore();
    }
    const after = monitoringSnapshotSchema.parse(service.monitoringSnapshot());
    // Re-explaining the same requests without the cache must give exactly the same attributions…
    expect(after.stability.repeat_max_abs_delta).toBe(0);
    // The five computed answers, and the two served from memory (recomputed against what their documents show).
    expect(after.stability.samples).toBe(7);
    // …while small perturbations of the numeric features do move them, a little.
    expect(after.stability.sensitivity.max).toBeGreaterThan(0);
    expect(after.stability.sensitivity.max).toBeLessThan(1);
  });

  it('persists an hourly snapshot that comes back as a time series', async () => {
    expect((await service.monitoringSeries({})).series).toHaveLength(0);
    clock.t += HOUR;
    await service.explain(holdoutApplicants(1));
    await service.monitorTick();
    const series = (await service.monitoringSeries({})).series;
    expect(series).toHaveLength(1);
    expect(series[0]!.windows[0]!.count).toBe(1);
    expect(series[0]!.model.sha256).toBe(service.model.sha256);
  });

  it('records a miss among hits with the latency its document stamps: the request time over all answered', async () => {
    const applicants = holdoutApplicants(41);
    await service.explain(applicants.slice(0, 40));
    clock.t += 5 * 60_000; // past the shortest window: it now holds only the next request
    const started = performance.now();
    const docs = await service.explain(applicants);
    const perApplicant = (performance.now() - started) / applicants.length;
    expect(docs.map((d) => d.meta.cache).filter((c) => c === 'miss')).toHaveLength(1);
    const window = monitoringSnapshotSchema.parse(service.monitoringSnapshot()).windows[0]!;
    expect(window.count).toBe(41);
    // Charging the whole request to its one miss made this the request's full time, ~41 times too much.
    expect(window.latency.max_ms!).toBeLessThanOrEqual(perApplicant * 1.02);
  });

  it('stores the hour’s snapshot, with the queue depth, even when the stability check fails', async () => {
    const stored = (await service.monitoringSeries({})).series.length;
    await service.explain(holdoutApplicants(3).slice(2)); // a new applicant: a stability sample is waiting
    clock.t += HOUR;
    const runner = (service as unknown as { runner: { explain: () => Promise<unknown> } }).runner;
    const failing = vi.spyOn(runner, 'explain').mockRejectedValue(new Error('engine gone'));
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      await service.monitorTick();
      expect(failing).toHaveBeenCalled();
      expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/stability check failed: engine gone/));
    } finally {
      failing.mockRestore();
      warnings.mockRestore();
    }
    const series = (await service.monitoringSeries({})).series;
    expect(series).toHaveLength(stored + 1);
    expect(series.at(-1)!.queue_depth).toBe(0);
  });

  it('thins a long range off its own thread, to the same series read here', async () => {
    const db = (service as unknown as { db: WritableDb }).db;
    const [newest] = (await service.monitoringSeries({})).series.slice(-1);
    for (let h = 1; h <= 30; h++) insertSnapshot(db, newest!, clock.t - h * HOUR);
    const range = { maxPoints: 4 };
    const running = readThreadsRunning();
    const pending = service.monitoringSeries(range);
    // The summaries are computed in a read thread (a year of them takes ~0.4 s, which would stall requests here).
    expect(readThreadsRunning()).toBe(running + 1);
    const thinned = await pending;
    expect(thinned.bucket_ms).not.toBeNull();
    expect(thinned.series.length).toBeLessThanOrEqual(4);
    expect(thinned).toEqual(sampledSeries(db, range));
    // A range that is not thinned is read here: no thread for the page's 7 days or its refresh.
    const few = service.monitoringSeries({ maxPoints: 500 });
    expect(readThreadsRunning()).toBe(running);
    expect((await few).bucket_ms).toBeNull();
  });
});

describe('closing the service', () => {
  it('stores a snapshot of a session shorter than the hour; a CLI command stores none', async () => {
    const dir = tempDir('branchlens-monitoring-close-');
    try {
      const session = await BranchLensService.open({ dataDir: dir, workers: 0 });
      await session.explain(holdoutApplicants(2));
      await session.close();
      const command = await openService({ dataDir: dir });
      await command.explain(holdoutApplicants(3));
      await command.close();
      const reader = await BranchLensService.open({ dataDir: dir, workers: 0 });
      try {
        const series = (await reader.monitoringSeries({})).series;
        expect(series).toHaveLength(1);
        expect(series[0]!.windows[0]!.count).toBe(2);
      } finally {
        await reader.close();
      }
    } finally {
      removeDir(dir);
    }
  });
});
