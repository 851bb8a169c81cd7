import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BranchLensService } from '../../../main/core/service.js';
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
    await service.monitorTick();
    const after = monitoringSnapshotSchema.parse(service.monitoringSnapshot());
    // Re-explaining the same requests without the cache must give exactly the same attributions.
    expect(after.stability.repeat_max_abs_delta).toBe(0);
  });

  it('persists an hourly snapshot that comes back as a time series', async () => {
    expect(service.monitoringSeries({})).toHaveLength(0);
    clock.t += HOUR;
    await service.explain(holdoutApplicants(1));
    await service.monitorTick();
    const series = service.monitoringSeries({});
    expect(series).toHaveLength(1);
    expect(series[0]!.windows[0]!.count).toBe(1);
    expect(series[0]!.model.sha256).toBe(service.model.sha256);
  });
});
