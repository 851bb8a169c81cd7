import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RawApplicant } from '../../../../shared/bundle.js';
import {
  DEFAULT_THRESHOLDS,
  monitoringSnapshotSchema,
  tileStatus,
  worstStatus,
  type MonitoringSnapshot,
  type TileId,
} from '../../../../shared/monitoring.js';
import { openWritable, type WritableDb } from '../../../../main/core/db/open.js';
import { MIGRATIONS } from '../../../../main/core/db/migrations/index.js';
import { migration005 } from '../../../../main/core/db/migrations/005-monitor.js';
import { Monitor, steadyClock, type MonitorModel } from '../../../../main/core/monitor/monitor.js';
import { buildReference, type ExplanationSettings } from '../../../../main/core/monitor/reference.js';
import { insertSnapshot, sampledSeries, timeSeries } from '../../../../main/core/monitor/store.js';
import {
  identityFeatures,
  makeSchema,
  numericFeature,
  OUTPUTS,
  removeDir,
  tempDir,
} from '../../../helpers/bundles.js';

const HOUR = 3_600_000;
const schema = makeSchema(identityFeatures(3), OUTPUTS.sigmoid);
const NAMES = ['x0', 'x1', 'x2'];
const SETTINGS = { baseline: 'schema', target: 'approved' } as const;

/** Attribution rows whose mass is spread over the features by `weights`, with some row-to-row variety. */
const population = (n: number, weights: number[], seed = 1) =>
  Array.from({ length: n }, (_, i) =>
    weights.map((w, f) => w * (1 + 0.5 * Math.sin(seed + i * 1.7 + f * 2.3))),
  );

const reference = buildReference({
  attributions: population(2000, [3, 1, 0.5]),
  features: NAMES,
  data: 'synthetic',
  explainer: {
    explainer_version: '1.0.0',
    method: 'gausslegendre',
    n_steps: 50,
    baseline: 'schema',
    target: 'approved',
    backend: 'cpu',
  },
});

const MODEL: MonitorModel = { id: 'tiny', version: '1.0.0', sha256: 'a'.repeat(64), schema, reference };

/** A deterministic explainer on the raw values: a_f = w_f · x_f. */
const W = [3, 1, 0.5];
const linear = (applicants: RawApplicant[]) =>
  applicants.map((a) => NAMES.map((n, f) => W[f]! * Number(a[n] ?? 0)));

function fakeClock(start = Date.UTC(2025, 0, 1, 9, 20, 0)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

const tile = (s: MonitoringSnapshot, id: TileId) => s.tiles.find((t) => t.id === id)!;

describe('thresholds', () => {
  it('colour a value ok, amber or red, strictly beyond each limit', () => {
    const p99 = DEFAULT_THRESHOLDS.latency_p99;
    expect([30, 50, 50.1, 200, 201].map((v) => tileStatus(v, p99))).toEqual([
      'ok',
      'ok',
      'amber',
      'amber',
      'red',
    ]);
    expect(tileStatus(null, p99)).toBe('unknown');
  });

  it('make any repeat-determinism difference red, with no amber step', () => {
    const t = DEFAULT_THRESHOLDS.repeat_determinism;
    expect([0, 1e-300, 1].map((v) => tileStatus(v, t))).toEqual(['ok', 'red', 'red']);
  });

  it('treat a low cache hit rate as amber, never red', () => {
    const t = DEFAULT_THRESHOLDS.cache_hit_rate;
    expect([0, 0.05, 0.1, 0.8].map((v) => tileStatus(v, t))).toEqual(['amber', 'amber', 'ok', 'ok']);
  });

  it('put the drift limits at JS 0.05 / 0.1 and PSI 0.1 / 0.25', () => {
    expect([0.04, 0.06, 0.11].map((v) => tileStatus(v, DEFAULT_THRESHOLDS.drift_js))).toEqual([
      'ok',
      'amber',
      'red',
    ]);
    expect([0.09, 0.2, 0.3].map((v) => tileStatus(v, DEFAULT_THRESHOLDS.drift_psi_max))).toEqual([
      'ok',
      'amber',
      'red',
    ]);
  });

  it('summarise to the worst status', () => {
    expect(worstStatus(['ok', 'unknown', 'amber'])).toBe('amber');
    expect(worstStatus(['unknown', 'unknown'])).toBe('unknown');
    expect(worstStatus(['ok', 'red', 'amber'])).toBe('red');
  });
});

describe('the monitor’s snapshot', () => {
  it('of an idle service has no numbers to judge: every tile unknown', () => {
    const s = new Monitor(MODEL, { now: fakeClock().now }).snapshot();
    expect(s.status).toBe('unknown');
    expect(s.tiles.map((t) => t.status)).toEqual(new Array(6).fill('unknown'));
    expect(s.drift.state).toBe('insufficient_data');
    expect(s.windows.map((w) => w.window_s)).toEqual([60, 300, 3600]);
    expect(s.model).toEqual({ id: 'tiny', version: '1.0.0', sha256: 'a'.repeat(64) });
  });

  it('turns the latency tile amber above 50 ms and red above 200 ms at p99', () => {
    const clock = fakeClock();
    const m = new Monitor(MODEL, { now: clock.now });
    m.recordExplain({ latencyMs: 10, cacheLevel: 'miss', count: 100 });
    expect(tile(m.snapshot(), 'latency_p99').status).toBe('ok');
    m.recordExplain({ latencyMs: 120, cacheLevel: 'miss', count: 5 });
    expect(tile(m.snapshot(), 'latency_p99').status).toBe('amber');
    m.recordExplain({ latencyMs: 900, cacheLevel: 'miss', count: 5 });
    const s = m.snapshot();
    expect(tile(s, 'latency_p99').status).toBe('red');
    expect(s.status).toBe('red');
    // Five minutes later the slow answers have left the tile window.
    clock.advance(6 * 60_000);
    m.recordExplain({ latencyMs: 10, cacheLevel: 'memory', count: 10 });
    expect(tile(m.snapshot(), 'latency_p99').status).toBe('ok');
    expect(tile(m.snapshot(), 'cache_hit_rate').value).toBe(1);
  });

  it('reports drift once enough comparable explanations came in, and turns red for a shifted population', () => {
    const m = new Monitor(MODEL, { now: fakeClock().now, driftMinRows: 200 });
    const record = (rows: number[][], settings: ExplanationSettings = SETTINGS) =>
      m.recordExplain({
        latencyMs: 5,
        cacheLevel: 'miss',
        count: rows.length,
        computed: { attributions: rows, settings },
      });

    record(population(150, [3, 1, 0.5], 5));
    expect(m.snapshot().drift.state).toBe('insufficient_data');
    record(population(150, [3, 1, 0.5], 9));
    let s = m.snapshot();
    expect(s.drift.state).toBe('computed');
    expect(s.drift.rows).toBe(300);
    expect(tile(s, 'drift_js').status).toBe('ok');
    expect(tile(s, 'drift_psi_max').status).toBe('ok');

    // Explanations against another baseline, or of a layer, are not comparable: they do not count.
    record(population(500, [0.1, 0.1, 5], 3), { baseline: 'zeros', target: 'approved' });
    record(population(500, [0.1, 0.1, 5], 3), { baseline: 'schema', target: 'approved', layer: 'dense' });
    expect(m.snapshot().drift.rows).toBe(300);

    record(population(1000, [0.5, 1, 3], 3));
    s = m.snapshot();
    expect(s.drift.rows).toBe(1000);
    expect(tile(s, 'drift_js').status).toBe('red');
    expect(tile(s, 'drift_psi_max').status).toBe('red');
    expect(s.drift.features.find((f) => f.feature === 'x2')!.status).toBe('red');
  });

  it('says so when the bundle has no reference, and still shows the recent shares', () => {
    const m = new Monitor({ ...MODEL, reference: null }, { now: fakeClock().now, driftMinRows: 10 });
    m.recordExplain({
      latencyMs: 5,
      cacheLevel: 'miss',
      count: 50,
      computed: { attributions: population(50, [1, 1, 2]), settings: SETTINGS },
    });
    const s = m.snapshot();
    expect(s.drift.state).toBe('no_reference');
    expect(tile(s, 'drift_js').status).toBe('unknown');
    expect(s.drift.features[2]!.share_recent!).toBeCloseTo(0.5, 1);
  });

  it('drops drift rows and stability results when the model changes', async () => {
    const m = new Monitor(MODEL, { now: fakeClock().now, driftMinRows: 10 });
    m.recordExplain({
      latencyMs: 5,
      cacheLevel: 'miss',
      computed: {
        attributions: linear([{ x0: 1, x1: 2, x2: 3 }]),
        settings: SETTINGS,
        applicants: [{ x0: 1, x1: 2, x2: 3 }],
      },
    });
    await m.runStability(linear);
    expect(m.snapshot().stability.computed_at).not.toBeNull();
    m.setModel({ ...MODEL, sha256: 'b'.repeat(64) });
    const s = m.snapshot();
    expect(s.drift.rows).toBe(0);
    expect(s.stability.computed_at).toBeNull();
    expect(s.model.sha256).toBe('b'.repeat(64));
    expect(s.windows[0]!.count).toBe(1);
  });

  it('lists sensitive features after the visible ones, sorted by pseudonym, each with its own numbers', () => {
    // Sensitive features first in the schema, their pseudonyms in the other order: in schema order, the list
    // would say which pseudonym is the schema's first feature (Income, say), which its third.
    const masked = makeSchema(
      [
        numericFeature('income', { sensitive: true }),
        numericFeature('x1'),
        numericFeature('assets', { sensitive: true }),
        numericFeature('x3'),
      ],
      OUTPUTS.sigmoid,
    );
    const names = ['sensitive_ffff00000000', 'x1', 'sensitive_000011111111', 'x3'];
    const weights = [4, 1, 2, 0.5];
    const ref = buildReference({
      attributions: population(500, weights),
      features: masked.features.map((f) => f.name),
      data: 'synthetic',
      explainer: reference.explainer,
    });
    const m = new Monitor(
      { ...MODEL, schema: masked, reference: ref, featureNames: names },
      { now: fakeClock().now, driftMinRows: 10 },
    );
    m.recordExplain({
      latencyMs: 5,
      cacheLevel: 'miss',
      count: 50,
      computed: { attributions: population(50, weights, 3), settings: SETTINGS },
    });
    const drift = m.snapshot().drift;
    expect(drift.state).toBe('computed');
    expect(drift.features.map((f) => f.feature)).toEqual([
      'x1',
      'x3',
      'sensitive_000011111111',
      'sensitive_ffff00000000',
    ]);
    // Each still paired with its own reference: income (weight 4) carries half the mass, assets a quarter.
    const byName = new Map(drift.features.map((f) => [f.feature, f]));
    expect(byName.get('sensitive_ffff00000000')!.share_reference).toBe(ref.features[0]!.share);
    expect(byName.get('sensitive_000011111111')!.share_reference).toBe(ref.features[2]!.share);
    expect(byName.get('sensitive_ffff00000000')!.share_recent!).toBeCloseTo(4 / 7.5, 1);
    expect(byName.get('sensitive_000011111111')!.share_recent!).toBeCloseTo(2 / 7.5, 1);
    expect(drift.features.every((f) => f.status === 'ok')).toBe(true);
  });
});

describe('stability runs', () => {
  const applicants = [
    { x0: 1, x1: 2, x2: 3 },
    { x0: 0.5, x1: -1, x2: 4 },
    { x0: -2, x1: 0.3, x2: 1 },
  ];
  const served = (m: Monitor<string>, options?: string) =>
    m.recordExplain({
      latencyMs: 5,
      cacheLevel: 'miss',
      count: applicants.length,
      computed: {
        attributions: linear(applicants),
        settings: SETTINGS,
        applicants,
        ...(options ? { options } : {}),
      },
    });

  it('keep no explanation of another model than the one monitored (answers the replaced engines finished)', () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now });
    const record = (modelSha256: string) =>
      m.recordExplain({
        latencyMs: 5,
        cacheLevel: 'miss',
        count: applicants.length,
        computed: { modelSha256, attributions: linear(applicants), settings: SETTINGS, applicants },
      });
    record('c'.repeat(64));
    expect(m.pendingStabilitySamples).toBe(0);
    expect(m.snapshot().drift.rows).toBe(0);
    // Its traffic still counts: those applicants were answered.
    expect(m.snapshot().windows[0]!.count).toBe(applicants.length);
    record(MODEL.sha256);
    expect(m.pendingStabilitySamples).toBe(3);
    expect(m.snapshot().drift.rows).toBe(3);
  });

  it('find a deterministic explainer exactly repeatable, measure its sensitivity, then forget the applicants', async () => {
    const clock = fakeClock();
    const m = new Monitor<string>(MODEL, { now: clock.now });
    served(m);
    expect(m.pendingStabilitySamples).toBe(3);
    const result = await m.runStability(linear);
    expect(result).not.toBeNull();
    expect(result!.samples).toBe(3);
    expect(result!.repeat_max_abs_delta).toBe(0);
    expect(result!.sensitivity.max!).toBeGreaterThan(0);
    expect(result!.sensitivity.max!).toBeLessThan(0.15);
    expect(m.pendingStabilitySamples).toBe(0);
    const s = m.snapshot();
    expect(tile(s, 'repeat_determinism').status).toBe('ok');
    expect(tile(s, 'sensitivity_max').status).toBe('ok');
    expect(s.stability.computed_at).toBe(new Date(clock.now()).toISOString());
    // Nothing left to check: the last result stands.
    expect(await m.runStability(linear)).toBeNull();
    expect(m.snapshot().stability).toEqual(s.stability);
  });

  it('turn repeat-determinism red when a recomputation differs in the last bit', async () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now });
    served(m);
    const drifting = (a: RawApplicant[]) => linear(a).map((row) => row.map((v) => v * (1 + Number.EPSILON)));
    await m.runStability(drifting);
    const s = m.snapshot();
    expect(tile(s, 'repeat_determinism').value!).toBeGreaterThan(0);
    expect(tile(s, 'repeat_determinism').status).toBe('red');
    expect(s.status).toBe('red');
  });

  it('turn both stability tiles red, not unknown, when a recomputation gives NaN, and keep the snapshot JSON', async () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now });
    served(m);
    // The first applicant of every call comes back NaN: its repeat and its perturbations' base alike.
    const broken = (a: RawApplicant[]) => linear(a).map((row, i) => (i === 0 ? row.map(() => NaN) : row));
    await m.runStability(broken);
    const s = m.snapshot();
    expect(s.stability.repeat_non_finite).toBe(true);
    expect(s.stability.repeat_max_abs_delta).toBeNull();
    expect(s.stability.sensitivity.non_finite).toBe(true);
    expect(s.stability.sensitivity.max).toBeNull();
    expect(tile(s, 'repeat_determinism').status).toBe('red');
    expect(tile(s, 'sensitivity_max').status).toBe('red');
    expect(s.status).toBe('red');
    // What the API and SQLite store reads back the same: the alarm survives JSON.
    expect(monitoringSnapshotSchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('leave the non-finite flags out of a clean run', async () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now });
    served(m);
    await m.runStability(linear);
    const { stability } = m.snapshot();
    expect(stability).not.toHaveProperty('repeat_non_finite');
    expect(stability.sensitivity).not.toHaveProperty('non_finite');
  });

  it('re-explain each applicant with the options it was served with', async () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now });
    served(m, 'steps=50');
    served(m, 'steps=100');
    const seen = new Set<string | undefined>();
    await m.runStability((a, options) => {
      seen.add(options);
      return linear(a);
    });
    expect([...seen].sort()).toEqual(['steps=100', 'steps=50']);
  });

  it('take a few answers served from the cache per run, and find one that recomputes differently', async () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now, stabilitySamples: 8 });
    // linear gives [3, 2, 1.5] for the first applicant: x0 and x1 shown, x2 the rest.
    const fromCache = (x0: number) => ({
      applicant: applicants[0]!,
      document: {
        shown: [
          { index: 0, attribution: x0 },
          { index: 1, attribution: 2 },
        ],
        rest_sum: 1.5,
        top_k: 2,
      },
      options: 'steps=50',
    });
    expect(m.wantsCachedSample).toBe(true);
    m.recordCachedSample(fromCache(3));
    m.recordCachedSample(fromCache(3));
    expect(m.wantsCachedSample).toBe(false); // a quarter of the 8
    m.recordCachedSample(fromCache(3)); // not kept
    expect(m.pendingStabilitySamples).toBe(2);
    const clean = await m.runStability(linear);
    expect([clean!.samples, clean!.repeat_max_abs_delta]).toEqual([2, 0]);

    expect(m.wantsCachedSample).toBe(true); // taken by the run: the next run gets its own
    m.recordCachedSample(fromCache(3 + 1e-12));
    served(m); // computed answers push older samples out, a cached one included
    served(m);
    served(m);
    expect(m.pendingStabilitySamples).toBe(8);
    expect(m.wantsCachedSample).toBe(true);
    m.recordCachedSample(fromCache(3 + 1e-12));
    const changed = await m.runStability(linear);
    expect(changed!.repeat_max_abs_delta).toBeCloseTo(1e-12, 15);
    expect(tile(m.snapshot(), 'repeat_determinism').status).toBe('red');
  });

  it('take answers served from the cache again after a model change, which drops those waiting', () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now, stabilitySamples: 4 });
    const cached = {
      applicant: applicants[0]!,
      document: { shown: [{ index: 0, attribution: 3 }], rest_sum: 3.5, top_k: 1 },
      options: undefined,
    };
    m.recordCachedSample(cached);
    expect(m.wantsCachedSample).toBe(false); // a quarter of 4
    m.setModel({ ...MODEL, sha256: 'd'.repeat(64) });
    expect(m.pendingStabilitySamples).toBe(0);
    expect(m.wantsCachedSample).toBe(true);
    m.recordCachedSample(cached);
    expect(m.pendingStabilitySamples).toBe(1);
  });

  it('keep only the newest applicants, never more than the capacity', () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now, stabilitySamples: 4 });
    served(m);
    served(m);
    expect(m.pendingStabilitySamples).toBe(4);
  });

  it('are discarded when the model changes during the run', async () => {
    const m = new Monitor<string>(MODEL, { now: fakeClock().now });
    served(m);
    const result = await m.runStability((a) => {
      m.setModel({ ...MODEL, sha256: 'c'.repeat(64) });
      return linear(a);
    });
    expect(result).toBeNull();
    expect(m.snapshot().stability.computed_at).toBeNull();
  });

  it('run when due: at most once per interval', async () => {
    const clock = fakeClock();
    const m = new Monitor<string>(MODEL, { now: clock.now, stabilityEveryMs: 15 * 60_000 });
    served(m);
    expect(await m.runStabilityIfDue(linear)).not.toBeNull();
    served(m);
    clock.advance(5 * 60_000);
    expect(await m.runStabilityIfDue(linear)).toBeNull();
    clock.advance(11 * 60_000);
    expect(await m.runStabilityIfDue(linear)).not.toBeNull();
  });
});

describe('the clocks', () => {
  it('keep the windows and the stability schedule on a clock that setting the system time does not move', async () => {
    const clock = steadyClock();
    const before = clock();
    const wallJump = vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 86_400_000);
    try {
      expect(clock() - before).toBeGreaterThanOrEqual(0);
      expect(clock() - before).toBeLessThan(60_000);
      // A monitor on its default clocks: a day's jump of the wall clock does not age the last minute's traffic.
      const m = new Monitor(MODEL);
      wallJump.mockReturnValue(Date.now() - 86_400_000 + 3_600_000);
      m.recordExplain({ latencyMs: 5, cacheLevel: 'miss' });
      wallJump.mockReturnValue(Date.now() + 2 * 86_400_000);
      expect(m.snapshot().windows[0]!.count).toBe(1);
    } finally {
      wallJump.mockRestore();
    }
  });

  /** The three clocks steadyClock reads: sleeping moves the wall clock and the uptime, not the monotonic one. */
  function machineClocks() {
    const t = { mono: 1_000, wall: Date.UTC(2026, 10, 27, 18, 0), up: 5_000_000 };
    return {
      sources: { monotonic: () => t.mono, wall: () => t.wall, uptime: () => t.up / 1000 },
      run(ms: number) {
        t.mono += ms;
        t.wall += ms;
        t.up += ms;
      },
      sleep(ms: number) {
        t.wall += ms;
        t.up += ms;
      },
      setWall(byMs: number) {
        t.wall += byMs;
      },
    };
  }

  it('count the time the machine slept: the windows are empty the morning after a suspend', () => {
    const machine = machineClocks();
    const clock = steadyClock(machine.sources);
    const m = new Monitor(MODEL, { now: clock });
    m.recordExplain({ latencyMs: 5, cacheLevel: 'miss' });
    machine.run(30_000);
    expect(m.snapshot().windows.map((w) => w.count)).toEqual([1, 1, 1]);

    const before = clock();
    machine.sleep(14 * 3_600_000); // suspended overnight
    expect(clock() - before).toBe(14 * 3_600_000);
    expect(m.snapshot().windows.map((w) => w.count)).toEqual([0, 0, 0]);
    machine.run(1_000);
    expect(clock() - before).toBe(14 * 3_600_000 + 1_000);
  });

  it('do not count a clock set forward or back, nor a sleep shorter than a second', () => {
    const machine = machineClocks();
    const clock = steadyClock(machine.sources);
    const start = clock();
    machine.setWall(86_400_000);
    machine.run(100);
    expect(clock() - start).toBe(100);
    machine.setWall(-2 * 86_400_000);
    machine.run(100);
    expect(clock() - start).toBe(200);
    machine.sleep(900);
    machine.run(100);
    expect(clock() - start).toBe(300);
    // The next sleep that is noticed counts all the uptime has seen since it was last asked, that one included.
    machine.sleep(60_000);
    machine.run(100);
    expect(clock() - start).toBe(400 + 900 + 60_000);
  });

  it('stamp snapshots and stability runs with the wall clock', async () => {
    const wall = fakeClock(Date.UTC(2025, 0, 1, 9, 30));
    const m = new Monitor<string>(MODEL, { now: fakeClock(5).now, wallNow: wall.now });
    expect(m.snapshot().taken_at).toBe('2025-01-01T09:30:00.000Z');
  });
});

describe('hourly snapshots in SQLite', () => {
  let dataDir: string;
  let db: WritableDb;
  const migrations = [...MIGRATIONS.filter((m) => m.version !== migration005.version), migration005];

  beforeEach(() => {
    dataDir = tempDir('branchlens-monitor-');
    db = openWritable(dataDir, migrations);
  });
  afterEach(() => {
    db.close();
    removeDir(dataDir);
  });

  it('are stored on the hour and come back from timeSeries, oldest first', () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1, 9, 20));
    const m = new Monitor(MODEL, { now: clock.now });
    m.recordExplain({ latencyMs: 12, cacheLevel: 'miss', count: 3 });
    expect(m.persistIfDue(db)).toBeNull();
    clock.set(Date.UTC(2025, 0, 1, 9, 59));
    expect(m.persistIfDue(db)).toBeNull();
    clock.set(Date.UTC(2025, 0, 1, 10, 0, 30));
    const first = m.persistIfDue(db);
    expect(first).not.toBeNull();
    expect(first!.windows.at(-1)!.count).toBe(3);
    clock.set(Date.UTC(2025, 0, 1, 10, 45));
    expect(m.persistIfDue(db)).toBeNull();
    for (const hour of [11, 12, 13]) {
      clock.set(Date.UTC(2025, 0, 1, hour, 1));
      m.recordExplain({ latencyMs: hour, cacheLevel: 'disk' });
      expect(m.persistIfDue(db)).not.toBeNull();
    }
    const series = timeSeries(db);
    expect(series.map((s) => s.taken_at)).toEqual([
      '2025-01-01T10:00:30.000Z',
      '2025-01-01T11:01:00.000Z',
      '2025-01-01T12:01:00.000Z',
      '2025-01-01T13:01:00.000Z',
    ]);
    expect(series[0]).toEqual(first);
    const range = timeSeries(db, {
      from: new Date(Date.UTC(2025, 0, 1, 11)),
      to: new Date(Date.UTC(2025, 0, 1, 12, 30)),
    });
    expect(range.map((s) => s.taken_at)).toEqual(['2025-01-01T11:01:00.000Z', '2025-01-01T12:01:00.000Z']);
    expect(timeSeries(db, { limit: 2 }).map((s) => s.taken_at)).toEqual([
      '2025-01-01T12:01:00.000Z',
      '2025-01-01T13:01:00.000Z',
    ]);
  });

  it('come back thinned evenly over a long range: bounded, oldest first, one point per bucket summarising it', () => {
    // A year of hourly snapshots, as a workstation in daily use keeps them.
    const snapshot = new Monitor(MODEL, { now: fakeClock().now }).snapshot();
    const start = Date.UTC(2025, 0, 1, 0, 0, 30);
    const hours = 8760;
    db.transaction(() => {
      for (let h = 0; h < hours; h++) {
        const at = start + h * HOUR;
        insertSnapshot(db, { ...snapshot, taken_at: new Date(at).toISOString() }, at);
      }
    })();
    const times = (r: { series: MonitoringSnapshot[] }) => r.series.map((s) => Date.parse(s.taken_at));

    const year = sampledSeries(db, { maxPoints: 500 });
    expect(year.stored).toBe(hours);
    // Every stored snapshot is in exactly one point.
    expect(year.series.reduce((n, s) => n + s.summary!.snapshots, 0)).toBe(hours);
    expect(year.bucket_ms).toBe(18 * HOUR); // 8,759 hours over 499 steps, rounded up to whole hours
    expect(year.series.length).toBeLessThanOrEqual(500);
    expect(year.series.length).toBeGreaterThan(480);
    const at = times(year);
    // Evenly spread: one bucket apart, from the first bucket to the newest snapshot (whose bucket may be partial).
    const steps = at.slice(1).map((t, i) => t - at[i]!);
    expect(new Set(steps.slice(0, -1))).toEqual(new Set([18 * HOUR]));
    expect(steps.at(-1)).toBeGreaterThan(0);
    expect(steps.at(-1)).toBeLessThanOrEqual(18 * HOUR);
    expect(at[0]! - start).toBeLessThan(18 * HOUR);
    expect(at.at(-1)).toBe(start + (hours - 1) * HOUR);

    // A month in the middle: 720 snapshots, one per 2 hours.
    const from = new Date(start + 100 * 24 * HOUR);
    const to = new Date(start + 130 * 24 * HOUR - 1);
    const month = sampledSeries(db, { from, to, maxPoints: 500 });
    expect(month).toMatchObject({ stored: 720, bucket_ms: 2 * HOUR });
    expect(month.series).toHaveLength(360);
    expect(times(month).every((t) => t >= from.getTime() && t <= to.getTime())).toBe(true);
    expect(
      new Set(
        times(month)
          .slice(1)
          .map((t, i) => t - times(month)[i]!),
      ),
    ).toEqual(new Set([2 * HOUR]));

    // A range holding no more than maxPoints comes whole, not thinned.
    const week = sampledSeries(db, { from: new Date(start + (hours - 7 * 24) * HOUR), maxPoints: 500 });
    expect(week).toMatchObject({ stored: 168, bucket_ms: null });
    expect(times(week)).toEqual(Array.from({ length: 168 }, (_, h) => start + (hours - 168 + h) * HOUR));

    // The bound holds whatever it is.
    for (const maxPoints of [2, 3, 7, 1000]) {
      const r = sampledSeries(db, { maxPoints });
      expect(r.series.length, `maxPoints ${maxPoints}`).toBeLessThanOrEqual(maxPoints);
      expect(r.series.length, `maxPoints ${maxPoints}`).toBeGreaterThanOrEqual(Math.min(maxPoints, 2));
      expect(times(r)).toEqual([...times(r)].sort((a, b) => a - b));
      expect(times(r).at(-1)).toBe(start + (hours - 1) * HOUR);
    }
  });

  it('keep an hour of trouble between two points of a thinned series: each point is its bucket at its worst', () => {
    // 30 days of quiet hours, but for one in the middle of a bucket: slow answers, a recomputation that differs,
    // a high sensitivity, a drifted population, a queue.
    const clock = fakeClock();
    const m = new Monitor(MODEL, { now: clock.now });
    m.recordExplain({ latencyMs: 10, cacheLevel: 'miss', count: 90 });
    m.recordExplain({ latencyMs: 1, cacheLevel: 'memory', count: 10 });
    const quiet = m.snapshot();
    const start = Date.UTC(2025, 0, 1, 0, 0, 30);
    const hours = 30 * 24;
    const spikeHour = 301;
    const spiked = (s: MonitoringSnapshot): MonitoringSnapshot => ({
      ...s,
      windows: s.windows.map((w) => ({
        ...w,
        count: w.count + 5,
        latency: { ...w.latency, p50_ms: 40, p90_ms: 300, p99_ms: 900, max_ms: 1200 },
        cache: { ...w.cache, by_level: { ...w.cache.by_level, miss: w.cache.by_level.miss + 5 } },
      })),
      queue_depth: 40,
      stability: {
        ...s.stability,
        computed_at: new Date(start + spikeHour * HOUR - 60_000).toISOString(),
        samples: 16,
        repeat_max_abs_delta: 2 ** -30,
        sensitivity: { ...s.stability.sensitivity, max: 0.5, mean: 0.2 },
      },
      drift: { ...s.drift, state: 'computed', rows: 400, js: 0.3, psi_max: 0.6 },
      tiles: s.tiles.map((t) =>
        t.id === 'repeat_determinism' ? { ...t, value: 2 ** -30, status: 'red' } : t,
      ),
      status: 'red',
    });
    db.transaction(() => {
      for (let h = 0; h < hours; h++) {
        const at = start + h * HOUR;
        const s = { ...quiet, taken_at: new Date(at).toISOString(), queue_depth: 0 };
        insertSnapshot(db, h === spikeHour ? spiked(s) : s, at);
      }
    })();

    const r = sampledSeries(db, { maxPoints: 100 });
    expect(r).toMatchObject({ stored: hours, bucket_ms: 8 * HOUR });
    const at = (s: MonitoringSnapshot) => Date.parse(s.taken_at);
    const spikeAt = start + spikeHour * HOUR;
    // The point of the spike's bucket: the first at or after it. The spike is not the newest snapshot of its
    // bucket (the one the series used to keep alone).
    const point = r.series.find((s) => at(s) >= spikeAt)!;
    expect(at(point)).toBeGreaterThan(spikeAt);
    const longest = point.windows.at(-1)!;
    expect(longest.latency).toMatchObject({ p50_ms: 40, p90_ms: 300, p99_ms: 900, max_ms: 1200 });
    expect(point.summary).toEqual({
      snapshots: 8,
      first_taken_at: new Date(Math.floor(spikeAt / (8 * HOUR)) * 8 * HOUR + 30_000).toISOString(),
    });
    // Counts add up over the bucket, and the hit rate is that of the bucket's answers.
    expect(longest.count).toBe(8 * 100 + 5);
    expect(longest.cache.by_level).toEqual({ miss: 8 * 90 + 5, memory: 8 * 10, disk: 0 });
    expect(longest.cache.hit_rate).toBeCloseTo(80 / 805, 12);
    expect(longest.latency.histogram.counts.reduce((a, c) => a + c, 0)).toBe(8 * 100);
    expect(point.queue_depth).toBe(40);
    expect(point.stability.repeat_max_abs_delta).toBe(2 ** -30);
    expect(point.stability.sensitivity.max).toBe(0.5);
    expect(point.drift).toMatchObject({ state: 'computed', js: 0.3, psi_max: 0.6 });
    expect(tile(point, 'repeat_determinism')).toMatchObject({ value: 2 ** -30, status: 'red' });
    expect(point.status).toBe('red');
    expect(monitoringSnapshotSchema.parse(point)).toEqual(point);
    // The quiet points stay quiet.
    const others = r.series.filter((s) => s !== point);
    expect(others.every((s) => s.status === 'ok' && s.windows.at(-1)!.latency.p99_ms! < 50)).toBe(true);
    expect(others.every((s) => s.stability.repeat_max_abs_delta === null)).toBe(true);
  });

  it('are not stored twice in one hour across a restart', () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1, 9, 50));
    new Monitor(MODEL, { now: clock.now }).persist(db);
    clock.set(Date.UTC(2025, 0, 1, 9, 55));
    const restarted = new Monitor(MODEL, { now: clock.now });
    expect(restarted.persistIfDue(db)).toBeNull();
    clock.set(Date.UTC(2025, 0, 1, 10, 0, 5));
    expect(restarted.persistIfDue(db)).not.toBeNull();
    expect(timeSeries(db)).toHaveLength(2);
  });

  it('are stored once per hour by two processes on the same data folder', () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1, 9, 31));
    const other = openWritable(dataDir, migrations);
    try {
      const app = new Monitor(MODEL, { now: clock.now });
      const cli = new Monitor(MODEL, { now: clock.now });
      // Both read the table while it is empty, then both find the next hour due.
      expect(app.persistIfDue(db)).toBeNull();
      expect(cli.persistIfDue(other)).toBeNull();
      clock.set(Date.UTC(2025, 0, 1, 10, 0, 30));
      expect(app.persistIfDue(db)).not.toBeNull();
      expect(cli.persistIfDue(other)).toBeNull();
      expect(timeSeries(db)).toHaveLength(1);
      // …and the one that stood back takes the next hour as usual.
      clock.set(Date.UTC(2025, 0, 1, 11, 0, 30));
      expect(cli.persistIfDue(other)).not.toBeNull();
      expect(app.persistIfDue(db)).toBeNull();
      expect(timeSeries(db)).toHaveLength(2);
    } finally {
      other.close();
    }
  });

  it('store what a session shorter than the hour answered when it closes, and nothing for an idle one', () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1, 9, 10));
    const idle = new Monitor(MODEL, { now: clock.now });
    expect(idle.persistOnClose(db)).toBeNull();
    const session = new Monitor(MODEL, { now: clock.now });
    session.recordExplain({ latencyMs: 12, cacheLevel: 'miss', count: 2 });
    clock.set(Date.UTC(2025, 0, 1, 9, 55));
    const last = session.persistOnClose(db);
    expect(last?.taken_at).toBe('2025-01-01T09:55:00.000Z');
    expect(last!.windows.at(-1)!.count).toBe(2);
    // Nothing answered since that snapshot: nothing more to store.
    expect(session.persistOnClose(db)).toBeNull();
    // A one-off CLI command stores none.
    const command = new Monitor(MODEL, { now: clock.now, snapshotOnClose: false });
    command.recordExplain({ latencyMs: 5, cacheLevel: 'miss' });
    expect(command.persistOnClose(db)).toBeNull();
    expect(timeSeries(db)).toHaveLength(1);
  });

  it('count each answer once in a thinned point, though the snapshot stored on closing overlaps the hourly one', () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1, 9, 20));
    const m = new Monitor(MODEL, { now: clock.now });
    clock.set(Date.UTC(2025, 0, 1, 9, 50));
    m.recordExplain({ latencyMs: 10, cacheLevel: 'miss', count: 100 });
    clock.set(Date.UTC(2025, 0, 1, 10, 0, 30));
    expect(m.persistIfDue(db)!.since_previous).toMatchObject({ window_s: 40 * 60 + 30, count: 100 });
    clock.set(Date.UTC(2025, 0, 1, 10, 20));
    m.recordExplain({ latencyMs: 3, cacheLevel: 'memory', count: 10 });
    // Closed at 10:40: its hour (09:40 to 10:40) holds the 100 answers of 09:50 again.
    clock.set(Date.UTC(2025, 0, 1, 10, 40));
    const closing = m.persistOnClose(db)!;
    expect(closing.windows.at(-1)!.count).toBe(110);
    expect(closing.since_previous).toMatchObject({ window_s: 39 * 60 + 30, count: 10 });
    // The next day's session: its hourly snapshot is taken late (the machine was busy), so its hour leaves
    // out the answers of just after the previous one.
    clock.set(Date.UTC(2025, 0, 2, 9, 0));
    const next = new Monitor(MODEL, { now: clock.now });
    clock.set(Date.UTC(2025, 0, 2, 9, 5));
    next.recordExplain({ latencyMs: 10, cacheLevel: 'miss', count: 7 });
    clock.set(Date.UTC(2025, 0, 2, 10, 0, 30));
    next.persistIfDue(db);
    clock.set(Date.UTC(2025, 0, 2, 10, 1));
    next.recordExplain({ latencyMs: 10, cacheLevel: 'disk', count: 5 });
    clock.set(Date.UTC(2025, 0, 2, 11, 3));
    expect(next.persistIfDue(db)!.windows.at(-1)!.count).toBe(0);

    // Thinned to 2 points: whichever snapshots share a point, the points hold every answer once.
    const r = sampledSeries(db, { maxPoints: 2 });
    expect(r.series).toHaveLength(2);
    const longest = r.series.map((s) => s.windows.at(-1)!);
    const total = (f: (w: MonitoringSnapshot['windows'][number]) => number) =>
      longest.reduce((n, w) => n + f(w), 0);
    expect(total((w) => w.count)).toBe(122);
    expect(total((w) => w.cache.by_level.miss)).toBe(107);
    expect(total((w) => w.cache.by_level.memory)).toBe(10);
    expect(total((w) => w.cache.by_level.disk)).toBe(5);
    expect(total((w) => w.latency.histogram.counts.reduce((a, c) => a + c, 0))).toBe(122);
    expect(total((w) => w.latency.mean_ms! * w.count)).toBeCloseTo(100 * 10 + 10 * 3 + 12 * 10, 9);
    // Each point says what was answered since the point before.
    expect(r.series.map((s) => s.since_previous!.count)).toEqual(longest.map((w) => w.count));
    expect(r.series.every((s) => monitoringSnapshotSchema.safeParse(s).success)).toBe(true);
  });

  it('still sum the windows of snapshots stored before they said what they answered since the previous one', () => {
    // Before an upgrade: a snapshot without since_previous.
    const clock = fakeClock(Date.UTC(2025, 0, 1, 9, 50));
    const before = new Monitor(MODEL, { now: clock.now });
    before.recordExplain({ latencyMs: 10, cacheLevel: 'miss', count: 4 });
    clock.set(Date.UTC(2025, 0, 1, 10, 0, 30));
    const { since_previous: _, ...old } = before.persist(db);
    db.prepare('UPDATE monitoring_snapshots SET snapshot = ?').run(JSON.stringify(old));
    // After it.
    clock.set(Date.UTC(2025, 0, 1, 10, 10));
    const after = new Monitor(MODEL, { now: clock.now });
    after.recordExplain({ latencyMs: 10, cacheLevel: 'miss', count: 2 });
    for (const hour of [11, 12, 13]) {
      clock.set(Date.UTC(2025, 0, 1, hour, 0, 30));
      after.persist(db);
    }
    expect(timeSeries(db).map((s) => s.since_previous?.count)).toEqual([undefined, 2, 0, 0]);
    const r = sampledSeries(db, { maxPoints: 2 });
    expect(r.series.reduce((n, s) => n + s.windows.at(-1)!.count, 0)).toBe(6);
    // A point with an old snapshot cannot say what it answered since the point before.
    expect(r.series[0]!.since_previous).toBeUndefined();
  });

  it('keep coming after the clock was set ahead and back, in this process and after a restart', () => {
    const wall = fakeClock(Date.UTC(2025, 0, 1, 9, 30));
    const steady = fakeClock(0);
    const m = new Monitor(MODEL, { now: steady.now, wallNow: wall.now });
    wall.set(Date.UTC(2025, 0, 2, 9, 30)); // a day ahead: one snapshot dated tomorrow
    expect(m.persistIfDue(db)).not.toBeNull();
    wall.set(Date.UTC(2025, 0, 1, 9, 31)); // set right again
    expect(m.persistIfDue(db)).toBeNull();
    wall.set(Date.UTC(2025, 0, 1, 10, 1));
    expect(m.persistIfDue(db)?.taken_at).toBe('2025-01-01T10:01:00.000Z');
    // A restart finds tomorrow's snapshot in the table, and still stores the next hour's.
    wall.set(Date.UTC(2025, 0, 1, 10, 20));
    const restarted = new Monitor(MODEL, { now: steady.now, wallNow: wall.now });
    expect(restarted.persistIfDue(db)).toBeNull();
    wall.set(Date.UTC(2025, 0, 1, 11, 0, 5));
    expect(restarted.persistIfDue(db)?.taken_at).toBe('2025-01-01T11:00:05.000Z');
  });

  it('are pruned after the retention period', () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1, 0, 0));
    const m = new Monitor(MODEL, { now: clock.now, retentionMs: 48 * HOUR });
    for (let h = 0; h < 100; h++) {
      clock.advance(HOUR);
      m.persistIfDue(db);
    }
    const series = timeSeries(db);
    expect(series.length).toBeLessThanOrEqual(49);
    expect(series.length).toBeGreaterThanOrEqual(48);
    expect(Date.parse(series[0]!.taken_at)).toBeGreaterThanOrEqual(clock.now() - 48 * HOUR);
  });

  it('are not all deleted by one snapshot stored while the clock was set years ahead', () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1, 0, 0));
    const m = new Monitor(MODEL, { now: clock.now, retentionMs: 48 * HOUR });
    for (let h = 0; h < 30; h++) {
      clock.advance(HOUR);
      m.persistIfDue(db);
    }
    expect(timeSeries(db)).toHaveLength(30);
    clock.set(Date.UTC(2027, 0, 1, 0, 0)); // set two years ahead by mistake
    m.persist(db);
    const series = timeSeries(db);
    // The history stays (at most a retention's worth of periods, 48, is kept), beside the misdated one.
    expect(series).toHaveLength(31);
    expect(series[0]!.taken_at).toBe('2025-01-01T01:00:00.000Z');
  });

  it('leave out stored rows that no longer match the snapshot schema', () => {
    const clock = fakeClock();
    new Monitor(MODEL, { now: clock.now }).persist(db);
    db.prepare('INSERT INTO monitoring_snapshots (taken_at, model_sha256, snapshot) VALUES (?, ?, ?)').run(
      clock.now() + 1,
      'a'.repeat(64),
      JSON.stringify({ snapshot_version: 0 }),
    );
    expect(timeSeries(db)).toHaveLength(1);
  });

  it('leave out of a thinned point the stored rows that no longer match the snapshot schema', () => {
    const snapshot = new Monitor(MODEL, { now: fakeClock().now }).snapshot();
    const start = Date.UTC(2025, 0, 1, 0, 0, 30);
    for (let h = 0; h < 10; h++) {
      const at = start + h * HOUR;
      insertSnapshot(db, { ...snapshot, taken_at: new Date(at).toISOString() }, at);
    }
    const insert = db.prepare(
      'INSERT INTO monitoring_snapshots (taken_at, model_sha256, snapshot) VALUES (?, ?, ?)',
    );
    // Another version's rows: one the summary would read as 1, one that would break it.
    insert.run(start + 30 * 60_000, 'a'.repeat(64), JSON.stringify({ snapshot_version: 0 }));
    insert.run(start + 90 * 60_000, 'a'.repeat(64), JSON.stringify({ snapshot_version: 1, windows: 'none' }));
    const r = sampledSeries(db, { maxPoints: 5 });
    expect(r.stored).toBe(12);
    expect(r.series.map((s) => s.summary!.snapshots)).toEqual([3, 3, 3, 1]);
  });

  it('list sensitive features after the visible ones, sorted by pseudonym, though stored in schema order', () => {
    // As a version before this order stored them: the masked features where the schema has them.
    const snapshot = new Monitor(MODEL, { now: fakeClock().now }).snapshot();
    const feature = (name: string, psi: number) => ({
      feature: name,
      share_recent: 0.25,
      share_reference: 0.25,
      js: psi / 10,
      psi,
      status: 'ok' as const,
    });
    const drift = {
      ...snapshot.drift,
      state: 'computed' as const,
      js: 0.01,
      psi_max: 0.04,
      features: [
        feature('sensitive_ffff00000000', 0.01),
        feature('Seniority', 0.02),
        feature('sensitive_000011111111', 0.03),
        feature('Amount', 0.04),
      ],
    };
    const start = Date.UTC(2025, 0, 1, 0, 0, 30);
    for (let h = 0; h < 6; h++) {
      const at = start + h * HOUR;
      insertSnapshot(db, { ...snapshot, taken_at: new Date(at).toISOString(), drift }, at);
    }
    const order = ['Seniority', 'Amount', 'sensitive_000011111111', 'sensitive_ffff00000000'];
    const listed = (s: MonitoringSnapshot) => s.drift.features.map((f) => f.feature);
    expect(timeSeries(db).map(listed)).toEqual(Array(6).fill(order));
    expect(sampledSeries(db).series.map(listed)).toEqual(Array(6).fill(order));
    const thinned = sampledSeries(db, { maxPoints: 3 });
    expect(thinned.bucket_ms).not.toBeNull();
    expect(thinned.series.map(listed)).toEqual(Array(thinned.series.length).fill(order));
    // Reordered, not renumbered: each keeps its own numbers.
    const psi = new Map(thinned.series[0]!.drift.features.map((f) => [f.feature, f.psi]));
    expect(psi.get('sensitive_ffff00000000')).toBe(0.01);
    expect(psi.get('sensitive_000011111111')).toBe(0.03);
  });

  it('refuse a snapshot that is not JSON at the database level', () => {
    expect(() =>
      db
        .prepare('INSERT INTO monitoring_snapshots (taken_at, model_sha256, snapshot) VALUES (1, ?, ?)')
        .run('x', '{'),
    ).toThrow(/CHECK constraint/);
  });
});
