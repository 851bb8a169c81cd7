import { describe, expect, it } from 'vitest';
import {
  monitoringSnapshotSchema,
  type FeatureDrift,
  type MonitoringSnapshot,
  type TileId,
} from '../../../../shared/monitoring.js';
import { Monitor } from '../../../../main/core/monitor/monitor.js';
import { summariseSnapshots } from '../../../../main/core/monitor/summary.js';
import { identityFeatures, makeSchema, OUTPUTS } from '../../../helpers/bundles.js';

const HOUR = 3_600_000;
const START = Date.UTC(2025, 0, 1, 0, 0, 30);
const schema = makeSchema(identityFeatures(3), OUTPUTS.sigmoid);
const base = (() => {
  const m = new Monitor(
    { id: 'tiny', version: '1.0.0', sha256: 'a'.repeat(64), schema, reference: null },
    { now: () => START },
  );
  m.recordExplain({ latencyMs: 10, cacheLevel: 'miss', count: 4 });
  return m.snapshot();
})();

/** The base snapshot taken `hour` hours after START, with some parts replaced. */
const at = (hour: number, patch: Partial<MonitoringSnapshot> = {}): MonitoringSnapshot => ({
  ...base,
  taken_at: new Date(START + hour * HOUR).toISOString(),
  ...patch,
});
const run = (
  minute: number,
  samples: number,
  delta: number | null,
  max: number | null,
  mean: number | null,
) => ({
  ...base.stability,
  computed_at: new Date(START + minute * 60_000).toISOString(),
  samples,
  repeat_max_abs_delta: delta,
  sensitivity: { ...base.stability.sensitivity, max, mean },
  duration_ms: 100,
});
const feature = (name: string, psi: number, share: number): FeatureDrift => ({
  feature: name,
  share_recent: share,
  share_reference: 0.5,
  js: psi / 10,
  psi,
  status: psi > 0.25 ? 'red' : psi > 0.1 ? 'amber' : 'ok',
});
const tile = (s: MonitoringSnapshot, id: TileId) => s.tiles.find((t) => t.id === id)!;

describe('a thinned point', () => {
  it('stands at its newest snapshot and says how many it summarises, and matches the snapshot schema', () => {
    const s = summariseSnapshots([at(0), at(1), at(2)]);
    expect(s.taken_at).toBe(at(2).taken_at);
    expect(s.summary).toEqual({ snapshots: 3, first_taken_at: at(0).taken_at });
    expect(monitoringSnapshotSchema.parse(s)).toEqual(s);
  });

  it('counts each stability run once, however many hourly snapshots repeat it', () => {
    const first = run(10, 16, 0, 0.04, 0.02);
    const second = run(70, 8, 0, 0.1, 0.05);
    const s = summariseSnapshots([
      at(0, { stability: first }),
      at(1, { stability: first }),
      at(2, { stability: second }),
    ]);
    expect(s.stability).toMatchObject({
      computed_at: second.computed_at,
      samples: 24,
      repeat_max_abs_delta: 0,
    });
    expect(s.stability.sensitivity.max).toBe(0.1);
    // Weighted by the applicants of each run, not by the snapshots that repeat it.
    expect(s.stability.sensitivity.mean).toBeCloseTo((16 * 0.02 + 8 * 0.05) / 24, 12);
  });

  it('keeps a non-finite stability result of any run, with its red tile rather than a finite value', () => {
    const bad = { ...run(10, 16, null, null, null), repeat_non_finite: true as const };
    bad.sensitivity = { ...bad.sensitivity, non_finite: true };
    const redNull = base.tiles.map((t) =>
      t.id === 'repeat_determinism' || t.id === 'sensitivity_max'
        ? { ...t, value: null, status: 'red' as const }
        : t,
    );
    const okZero = base.tiles.map((t) =>
      t.id === 'repeat_determinism' || t.id === 'sensitivity_max'
        ? { ...t, value: 0, status: 'ok' as const }
        : t,
    );
    const s = summariseSnapshots([
      at(0, { stability: bad, tiles: redNull, status: 'red' }),
      at(1, { stability: run(70, 16, 0, 0.05, 0.03), tiles: okZero, status: 'ok' }),
    ]);
    expect(s.stability).toMatchObject({ repeat_non_finite: true, repeat_max_abs_delta: null });
    expect(s.stability.sensitivity).toMatchObject({ non_finite: true, max: null, mean: null });
    expect(tile(s, 'repeat_determinism')).toMatchObject({ value: null, status: 'red' });
    expect(s.status).toBe('red');
    expect(monitoringSnapshotSchema.parse(s)).toEqual(s);
  });

  it('shows a non-finite run’s red tile, not a later run’s finite red value, whatever their order', () => {
    const nan = { ...run(10, 16, null, 0.05, 0.03), repeat_non_finite: true as const };
    const tiny = run(70, 16, 1e-10, 0.05, 0.03);
    const red = (value: number | null) =>
      base.tiles.map((t) => (t.id === 'repeat_determinism' ? { ...t, value, status: 'red' as const } : t));
    for (const [first, second] of [
      [
        at(0, { stability: nan, tiles: red(null), status: 'red' }),
        at(1, { stability: tiny, tiles: red(1e-10) }),
      ],
      [
        at(0, { stability: tiny, tiles: red(1e-10) }),
        at(1, { stability: nan, tiles: red(null), status: 'red' }),
      ],
    ]) {
      const s = summariseSnapshots([first!, second!]);
      expect(s.stability).toMatchObject({ repeat_non_finite: true, repeat_max_abs_delta: null });
      expect(tile(s, 'repeat_determinism')).toMatchObject({ value: null, status: 'red' });
    }
  });

  it('shows each feature’s largest drift with the shares that gave it, and keeps the newest drift when none was computed', () => {
    const drift = (features: FeatureDrift[]) => ({
      ...base.drift,
      state: 'computed' as const,
      rows: 400,
      js: Math.max(...features.map((f) => f.js!)),
      psi_max: Math.max(...features.map((f) => f.psi!)),
      features,
    });
    const s = summariseSnapshots([
      at(0, { drift: drift([feature('x0', 0.02, 0.4), feature('x1', 0.3, 0.9)]) }),
      at(1, { drift: drift([feature('x0', 0.12, 0.7), feature('x1', 0.01, 0.5)]) }),
      at(2),
    ]);
    expect(s.drift).toMatchObject({ state: 'computed', js: 0.03, psi_max: 0.3 });
    expect(s.drift.features).toEqual([
      { ...feature('x0', 0.12, 0.7), js: 0.012 },
      { ...feature('x1', 0.3, 0.9), js: 0.03 },
    ]);
    const none = summariseSnapshots([at(0), at(1)]);
    expect(none.drift).toEqual(at(1).drift);
  });

  it('takes the lowest cache hit rate for its tile, whose direction is below', () => {
    const hitRate = (value: number) =>
      base.tiles.map((t) => (t.id === 'cache_hit_rate' ? { ...t, value, status: 'ok' as const } : t));
    const s = summariseSnapshots([
      at(0, { tiles: hitRate(0.8) }),
      at(1, { tiles: hitRate(0.3) }),
      at(2, { tiles: hitRate(0.6) }),
    ]);
    expect(tile(s, 'cache_hit_rate').value).toBe(0.3);
  });
});
