// Back-pressure covers every applicant being answered, cache hits included: a flood of requests for cached
// applicants is told "busy" beyond the bound instead of holding their documents and audit entries in memory.
import { describe, expect, it } from 'vitest';
import { BusyError } from '../../../main/core/microbatch.js';
import { BranchLensService } from '../../../main/core/service.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

describe('the bound on applicants in progress', () => {
  it('refuses beyond it, hits included, and frees it as answers complete', async () => {
    const dir = tempDir('branchlens-backpressure-');
    const service = await BranchLensService.open({ dataDir: dir, workers: 0, maxInProgress: 8 });
    try {
      const [applicant] = holdoutApplicants(1);
      await service.explain([applicant]); // cached from now on
      const before = (await service.auditVerify()).entries;
      // 20 concurrent requests of 2 cached applicants each: 8 fit, the rest are busy.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => service.explain([applicant, applicant])),
      );
      const busy = outcomes.filter((o) => o.status === 'rejected');
      for (const o of busy) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(BusyError);
      expect(busy.length).toBeGreaterThanOrEqual(16);
      const answered = outcomes.filter((o) => o.status === 'fulfilled') as PromiseFulfilledResult<
        { meta: { cache: string } }[]
      >[];
      expect(answered.length).toBeGreaterThan(0);
      for (const o of answered) expect(o.value.map((d) => d.meta.cache)).toEqual(['memory', 'memory']);
      // A request larger than the bound is busy whole; afterwards the bound is free again.
      await expect(service.explain(holdoutApplicants(9))).rejects.toBeInstanceOf(BusyError);
      expect(await service.explain(holdoutApplicants(8))).toHaveLength(8);
      // Nothing half-done: only the answered requests were audited.
      const verified = await service.auditVerify();
      expect(verified.ok).toBe(true);
      expect(verified.entries).toBe(before + 2 * answered.length + 8);
    } finally {
      await service.close();
      removeDir(dir);
    }
  });
});
