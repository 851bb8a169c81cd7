// The Audit page's verification bar: the time left at the pace so far, and none until there is a pace.
import { describe, expect, it } from 'vitest';
import { secondsLeft } from '../../renderer/src/pages/audit/verify-progress.js';

const running = (done: number, total: number, elapsed_ms: number) =>
  ({ running: true, done, total, elapsed_ms }) as const;

describe('secondsLeft', () => {
  it('is the entries left at the pace so far', () => {
    // 250,000 entries in 2 s: 750,000 more take 6 s.
    expect(secondsLeft(running(250_000, 1_000_000, 2_000))).toBeCloseTo(6, 10);
    expect(secondsLeft(running(4096, 8192, 500))).toBeCloseTo(0.5, 10);
  });

  it('is unknown before the first report, and nothing once every entry is walked', () => {
    expect(secondsLeft(running(0, 1_000_000, 300))).toBeNull();
    expect(secondsLeft(running(10, 1_000, 0))).toBeNull();
    expect(secondsLeft(running(1_000, 1_000, 900))).toBeNull();
  });
});
