import { describe, expect, it } from 'vitest';
import { chooseMaxBatch } from '../../bench/engine.js';
import { ENGINE_TUNING } from '../../main/core/engine-tuning.js';

describe("the engine benchmark's choice of the largest engine call", () => {
  it('is the smallest batch within 5 % of the best throughput', () => {
    expect(chooseMaxBatch({ 1: 100, 8: 500, 32: 960, 64: 1000, 128: 990 })).toBe(32);
    expect(chooseMaxBatch({ 1: 100, 8: 500, 32: 940, 64: 1000, 128: 990 })).toBe(64);
    expect(chooseMaxBatch({ 8: 10, 16: 10 })).toBe(8);
  });

  it('is what the recorded run gives, so the service uses the benchmark’s own figure', () => {
    expect(chooseMaxBatch(ENGINE_TUNING.throughput)).toBe(ENGINE_TUNING.maxBatch);
  });
});
