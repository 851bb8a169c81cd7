import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BranchLensService } from '../../../main/core/service.js';
import { numberAt, ServerMetrics } from '../../../main/server/metrics.js';
import type { MonitoringSnapshot } from '../../../shared/monitoring.js';
import { readSample } from '../cli/helpers.js';
import { parsePrometheus, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
const sample = readSample<Record<string, unknown>>('sample-1.json');

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

/** A snapshot with only some of its fields, as a monitoring module in progress might give. */
const partialSnapshot = (fields: object) => fields as unknown as MonitoringSnapshot;

/** The sum of http_requests_total samples, by `method route status`. */
function requestCounts(samples: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of samples) {
    const m = /^http_requests_total\{method="([^"]+)",route="([^"]+)",status="(\d+)"\}$/.exec(key);
    if (m) out.set(`${m[1]} ${m[2]} ${m[3]}`, value);
  }
  return out;
}

async function scrape(): Promise<Map<string, number>> {
  const r = await t.call('GET', '/metrics');
  expect(r.status).toBe(200);
  return parsePrometheus(r.text);
}

describe('GET /metrics', () => {
  it('parses as Prometheus text and counts exactly the requests made, by route and status', async () => {
    const before = requestCounts(await scrape());
    const made: [string, string, unknown?][] = [
      ['GET', '/health/ping'],
      ['GET', '/health/ping'],
      ['GET', '/health/status'],
      ['POST', '/api/app/explain', { applicants: [sample] }],
      ['POST', '/api/app/explain', { applicants: [sample] }],
      ['POST', '/api/app/explain', { applicants: [{ ...sample, Amount: 'abc' }] }],
      ['POST', '/api/app/getSettings', {}],
      ['POST', '/api/app/nope', {}],
      ['POST', '/api/v1.0/predictions', { jsonData: sample }],
      ['POST', '/api/v1.0/explain', { jsonData: sample }],
      ['GET', '/'],
      ['GET', '/no/such/page.txt'],
    ];
    for (const [method, path, body] of made) await t.call(method, path, body);
    const after = requestCounts(await scrape());
    const diff = new Map<string, number>();
    for (const [key, value] of after) {
      const d = value - (before.get(key) ?? 0);
      if (d !== 0) diff.set(key, d);
    }
    expect(Object.fromEntries(diff)).toEqual({
      'GET /health/ping 200': 2,
      'GET /health/status 200': 1,
      'POST /api/app/explain 200': 2,
      'POST /api/app/explain 400': 1,
      'POST /api/app/getSettings 200': 1,
      'POST /api/app/:method 404': 1,
      'POST /api/v1.0/predictions 200': 1,
      'POST /api/v1.0/explain 200': 1,
      'GET unmatched 200': 1,
      'GET unmatched 404': 1,
      // The first scrape, counted once it was answered.
      'GET /metrics 200': 1,
    });
  });

  it('records explain latency, cache levels and batch sizes from the service events', async () => {
    const before = await scrape();
    const fresh = { ...sample, Amount: 777 };
    await t.app('explain', { applicants: [fresh, { ...fresh, Amount: 778 }] });
    await t.app('explain', { applicants: [fresh] });
    const after = await scrape();
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('model_explain_latency_count')).toBe(2);
    expect(delta('model_explain_latency_seconds_count')).toBe(2);
    expect(delta('model_explanations_total')).toBe(3);
    expect(delta('model_explain_cache_misses_total')).toBe(2);
    expect(delta('model_explain_cache_hits_total{level="memory"}')).toBe(1);
    expect(delta('model_explain_batch_size_count')).toBe(1);
    expect(delta('model_explain_batch_size_sum')).toBe(2);
    for (const q of ['0.5', '0.9', '0.99']) {
      const v = after.get(`model_explain_latency{quantile="${q}"}`);
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(10);
    }
    expect(
      after.get(
        'branchlens_model_info{id="credit-demo",version="1.0.0",sha256="' +
          t.server.service.model.sha256 +
          '",backend="wasm"}',
      ),
    ).toBe(1);
  });

  it('exports stability and drift from the monitoring snapshot when they are there, and nothing when not', async () => {
    const spy = vi.spyOn(t.server.service, 'monitoringSnapshot');
    try {
      spy.mockReturnValue(
        partialSnapshot({
          stability: { repeat_max_abs_delta: 0, sensitivity: { max: 0.07, mean: 0.03 } },
          drift: {
            js: 0.012,
            psi_max: null,
            features: [
              { feature: 'Amount', psi: 0.04, js: 0.011, share_recent: 0.31 },
              { feature: 'Home', psi: null },
            ],
          },
        }),
      );
      const full = await scrape();
      const model = 'model="credit-demo@1.0.0"';
      expect(full.get(`model_attribution_repeat_max_abs_delta{${model}}`)).toBe(0);
      expect(full.get(`model_attribution_sensitivity_max{${model}}`)).toBe(0.07);
      expect(full.get(`model_attribution_sensitivity_mean{${model}}`)).toBe(0.03);
      expect(full.get(`model_attribution_drift_js{${model}}`)).toBe(0.012);
      expect(full.get(`model_attribution_drift_feature_psi{${model},feature="Amount"}`)).toBe(0.04);
      expect(full.get(`model_attribution_drift_feature_js{${model},feature="Amount"}`)).toBe(0.011);
      expect(full.get(`model_attribution_share{${model},feature="Amount"}`)).toBe(0.31);
      expect([...full.keys()].filter((k) => k.startsWith('model_attribution_drift_psi_max'))).toEqual([]);
      expect([...full.keys()].filter((k) => k.includes('feature="Home"'))).toEqual([]);

      // NaN in a stability run (which JSON carries as a flag) is +Inf, so an alert on "> 0" fires.
      spy.mockReturnValue(
        partialSnapshot({
          stability: {
            repeat_max_abs_delta: null,
            repeat_non_finite: true,
            sensitivity: { max: null, mean: null, non_finite: true },
          },
        }),
      );
      const broken = await t.call('GET', '/metrics');
      expect(broken.text).toContain(`model_attribution_repeat_max_abs_delta{${model}} +Inf`);
      const brokenSamples = parsePrometheus(broken.text);
      expect(brokenSamples.get(`model_attribution_sensitivity_max{${model}}`)).toBe(Infinity);
      expect(
        [...brokenSamples.keys()].filter((k) => k.startsWith('model_attribution_sensitivity_mean')),
      ).toEqual([]);

      spy.mockReturnValue(partialSnapshot({ queue_depth: 0 }));
      const empty = await scrape();
      expect([...empty.keys()].filter((k) => k.startsWith('model_attribution_'))).toEqual([]);

      spy.mockImplementation(() => {
        throw new Error('monitoring not ready');
      });
      const failing = await t.call('GET', '/metrics');
      expect(failing.status).toBe(200);
      expect(failing.text).toContain('http_requests_total');
    } finally {
      spy.mockRestore();
    }
  });

  it('lists the sensitive features after the visible ones, sorted by pseudonym, as the snapshot does', async () => {
    // The demo model's sensitive features (Income, Assets) are its 7th and 8th: listed there, under their
    // pseudonyms, anyone with the schema would read which pseudonym is Income.
    const d = await startTestServer({ monitor: { driftMinRows: 3 } });
    try {
      const applicants = [1, 2, 3, 4].map((i) => ({ ...sample, Amount: 1000 + 100 * i }));
      expect((await d.app('explain', { applicants })).status).toBe(200);
      const visible = d.server.service.schema.features.filter((f) => !f.sensitive).map((f) => f.name);
      const snapshot = ((await d.app('monitoring')).json as { snapshot: MonitoringSnapshot }).snapshot;
      expect(snapshot.drift.state).toBe('computed');
      const listed = snapshot.drift.features.map((f) => f.feature);
      const pseudonyms = listed.slice(visible.length);
      expect(listed.slice(0, visible.length)).toEqual(visible);
      expect(pseudonyms).toHaveLength(2);
      for (const p of pseudonyms) expect(p).toMatch(/^sensitive_[0-9a-f]{12}$/);
      expect(pseudonyms).toEqual([...pseudonyms].sort());

      const text = (await d.call('GET', '/metrics')).text;
      for (const metric of [
        'model_attribution_share',
        'model_attribution_drift_feature_psi',
        'model_attribution_drift_feature_js',
      ]) {
        const exposed = [...text.matchAll(new RegExp(`^${metric}\\{[^}]*feature="([^"]+)"`, 'gm'))].map(
          (m) => m[1],
        );
        expect(exposed, metric).toEqual(listed);
      }
    } finally {
      await d.close();
    }
  });

  it('reads numbers out of an unknown snapshot tolerantly', () => {
    expect(numberAt({ a: { b: 2 } }, 'a', 'b')).toBe(2);
    expect(numberAt({ a: { b: null } }, 'a', 'b')).toBeUndefined();
    expect(numberAt({ a: { b: 'x' } }, 'a', 'b')).toBeUndefined();
    expect(numberAt({ a: 1 }, 'a', 'b')).toBeUndefined();
    expect(numberAt(undefined, 'a')).toBeUndefined();
    expect(numberAt({ a: Number.NaN }, 'a')).toBeUndefined();
  });

  it('keeps each server’s metrics in its own registry', async () => {
    const other = await startTestServer({ service: t.server.service, dataDir: t.dataDir });
    try {
      await other.call('GET', '/health/ping');
      const mine = requestCounts(parsePrometheus((await other.call('GET', '/metrics')).text));
      expect(Object.fromEntries(mine)).toEqual({ 'GET /health/ping 200': 1 });
    } finally {
      await other.close();
    }
  });
});

/** A service whose events the metrics count: nothing else of it is read. */
function fakeService(): BranchLensService {
  return {
    events: new EventEmitter(),
    model: { id: 'm', version: '1', sha256: 'x' },
    backend: 'wasm',
    health: () => ({ queue_depth: 0, database: 'ok' }),
    monitoringSnapshot: () => undefined,
  } as unknown as BranchLensService;
}

describe('cache hits by level', () => {
  it('export 0 for each level before the first hit, so that a rate or a hit ratio starts at 0, not at no data', async () => {
    const service = fakeService();
    const metrics = new ServerMetrics(service);
    try {
      let samples = parsePrometheus(await metrics.text());
      expect(samples.get('model_explain_cache_hits_total{level="memory"}')).toBe(0);
      expect(samples.get('model_explain_cache_hits_total{level="disk"}')).toBe(0);
      expect(samples.get('model_explain_cache_misses_total')).toBe(0);
      service.events.emit('explained', { latencyMs: 5, count: 2, levels: ['disk', 'miss'], backend: 'wasm' });
      samples = parsePrometheus(await metrics.text());
      expect(samples.get('model_explain_cache_hits_total{level="memory"}')).toBe(0);
      expect(samples.get('model_explain_cache_hits_total{level="disk"}')).toBe(1);
    } finally {
      metrics.close();
    }
  });
});

describe('explain latency quantiles', () => {
  it('read NaN, not 0, once the 10-minute window holds no explain call, while count and sum stay', async () => {
    // prom-client's sliding window reads the time with Date.now().
    let now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    const service = fakeService();
    const metrics = new ServerMetrics(service);
    const explained = (latencyMs: number) =>
      service.events.emit('explained', { latencyMs, count: 1, levels: ['miss'], backend: 'wasm' });
    const quantiles = (samples: Map<string, number>) =>
      ['0.5', '0.9', '0.99'].map((q) => samples.get(`model_explain_latency{quantile="${q}"}`));
    try {
      // Nothing observed yet.
      let samples = parsePrometheus(await metrics.text());
      expect(quantiles(samples)).toEqual([NaN, NaN, NaN]);
      expect(samples.get('model_explain_latency_count')).toBe(0);

      for (const ms of [10, 20, 30]) explained(ms);
      samples = parsePrometheus(await metrics.text());
      for (const v of quantiles(samples)) {
        expect(v).toBeGreaterThanOrEqual(0.01);
        expect(v).toBeLessThanOrEqual(0.03);
      }
      expect(samples.get('model_explain_latency_count')).toBe(3);
      expect(samples.get('model_explain_latency_sum')).toBeCloseTo(0.06, 9);

      // Eleven idle minutes: the window is empty (prom-client would say 0), the totals are not.
      now += 11 * 60_000;
      const text = await metrics.text();
      expect(text).toContain('model_explain_latency{quantile="0.99"} NaN\n');
      expect(text).not.toMatch(/ Nan$/m);
      samples = parsePrometheus(text);
      expect(quantiles(samples)).toEqual([NaN, NaN, NaN]);
      expect(samples.get('model_explain_latency_count')).toBe(3);
      expect(samples.get('model_explain_latency_sum')).toBeCloseTo(0.06, 9);

      // Traffic again: numbers again.
      explained(40);
      samples = parsePrometheus(await metrics.text());
      expect(quantiles(samples)).toEqual([0.04, 0.04, 0.04]);
      expect(samples.get('model_explain_latency_count')).toBe(4);
    } finally {
      metrics.close();
      clock.mockRestore();
    }
  });
});
