import { afterEach, describe, expect, it } from 'vitest';
import { BranchLensService } from '../../../main/core/service.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

const HOUR = 3_600_000;
let dirs: string[] = [];
afterEach(() => {
  dirs.forEach(removeDir);
  dirs = [];
});

async function openAt(data: string, clock: { t: number }) {
  return BranchLensService.open({ dataDir: data, cache: { now: () => clock.t } });
}

describe('service cache lifetimes', () => {
  it('keeps long-term answers past the disk TTL, and ordinary ones only for the TTL', async () => {
    const data = tempDir('branchlens-lt-');
    dirs.push(data);
    const clock = { t: Date.UTC(2026, 0, 1) };
    const [stable, ordinary] = holdoutApplicants(2);
    let service = await openAt(data, clock);
    await service.explain([stable], { cache_long_term: true });
    await service.explain([ordinary]);
    await service.close();

    clock.t += 2 * HOUR; // past the default 1-hour disk TTL (and the 5-minute memory TTL)
    service = await openAt(data, clock);
    try {
      const [again] = await service.explain([stable], { cache_long_term: true });
      const [recomputed] = await service.explain([ordinary]);
      expect(again!.meta.cache).toBe('disk');
      expect(recomputed!.meta.cache).toBe('miss');
    } finally {
      await service.close();
    }
  });

  it('takes the disk TTL from BRANCHLENS_CACHE_TTL_SECONDS and refuses a bad value naming it', async () => {
    const data = tempDir('branchlens-ttl-');
    dirs.push(data);
    const clock = { t: Date.UTC(2026, 0, 1) };
    const [applicant] = holdoutApplicants(1);
    process.env.BRANCHLENS_CACHE_TTL_SECONDS = String(24 * 3600);
    try {
      let service = await openAt(data, clock);
      await service.explain([applicant]);
      await service.close();
      clock.t += 2 * HOUR;
      service = await openAt(data, clock);
      const [doc] = await service.explain([applicant]);
      await service.close();
      expect(doc!.meta.cache).toBe('disk');

      process.env.BRANCHLENS_CACHE_TTL_SECONDS = 'soon';
      await expect(openAt(data, clock)).rejects.toThrow(/BRANCHLENS_CACHE_TTL_SECONDS/);
    } finally {
      delete process.env.BRANCHLENS_CACHE_TTL_SECONDS;
    }
  });

  it('keeps answers of different backends apart: another backend computes its own', async () => {
    const data = tempDir('branchlens-backend-');
    dirs.push(data);
    const [applicant] = holdoutApplicants(1);
    const explainOn = async (backend: 'wasm' | 'cpu') => {
      const service = await BranchLensService.open({ dataDir: data, backend });
      try {
        const [doc] = await service.explain([applicant]);
        return doc!;
      } finally {
        await service.close();
      }
    };
    const first = await explainOn('wasm');
    const onCpu = await explainOn('cpu');
    const again = await explainOn('wasm');
    expect([first.meta.cache, first.meta.backend]).toEqual(['miss', 'wasm']);
    // Served from the wasm answer on disk, this would say wasm while the service runs on cpu.
    expect([onCpu.meta.cache, onCpu.meta.backend]).toEqual(['miss', 'cpu']);
    expect([again.meta.cache, again.meta.backend]).toEqual(['disk', 'wasm']);
  });
});
