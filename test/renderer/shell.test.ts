// The shell's logic: the two transports of the Api, the edge check of explanation documents, settings kept in
// localStorage, routes, number formats, the audit filters and the monitoring data.
import { describe, expect, it } from 'vitest';
import type { BranchLensBridge } from '../../shared/bridge.js';
import { ApiError, DEFAULT_SETTINGS } from '../../shared/contract.js';
import { checked } from '../../renderer/src/api/checked.js';
import { httpCall } from '../../renderer/src/api/http.js';
import { ipcCall } from '../../renderer/src/api/ipc.js';
import { API_METHOD_NAMES, apiOver } from '../../renderer/src/api/methods.js';
import { routeOf } from '../../renderer/src/app/routes.js';
import { parseStoredSettings } from '../../renderer/src/app/stored-settings.js';
import {
  formatDateTime,
  formatPercent,
  formatRate,
  formatSigned,
  formatTiny,
  shortHash,
} from '../../renderer/src/lib/format.js';
import {
  auditQuery,
  datesReversed,
  localDayBound,
  NO_FILTERS,
} from '../../renderer/src/pages/audit/audit-query.js';
import { maskedFeatureLabels } from '../../renderer/src/lib/labels.js';
import { entryDecision, entryScoreText } from '../../renderer/src/pages/audit/entry-decision.js';
import { auditFeatureName } from '../../renderer/src/pages/audit/entry-features.js';
import { auditExportName } from '../../renderer/src/pages/audit/export-name.js';
import {
  axisTimeOptions,
  checkSnapshot,
  DEFAULT_SERIES_PERIOD,
  driftTableRows,
  histogramBuckets,
  pickWindow,
  seriesPoints,
  seriesRequest,
  serviceNow,
  mergeSeries,
  NON_FINITE_TEXT,
  SYMBOLS_BELOW,
  tablePoints,
  tileNonFinite,
  tileValueText,
  timeLine,
  withinPeriod,
} from '../../renderer/src/pages/monitor/monitor-data.js';
import { API_METHODS } from '../../shared/contract.js';
import { demoSchema } from './helpers.js';

describe('the Api transports', () => {
  it('name every method of the contract', () => {
    expect([...API_METHOD_NAMES].sort()).toEqual([...API_METHODS].sort());
    const api = apiOver(async () => ({}) as never);
    for (const m of API_METHODS) expect(typeof api[m]).toBe('function');
  });

  it('HTTP: posts JSON to api/app/<method> and throws the error body as an ApiError', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const call = httpCall({
      base: 'http://127.0.0.1:9/',
      token: () => 'tok',
      fetch: async (url, init) => {
        seen.push({ url: String(url), init: init! });
        return String(url).endsWith('/health')
          ? new Response(JSON.stringify({ status: 'ok' }), { status: 200 })
          : new Response(
              JSON.stringify({
                error: 'invalid_request',
                message: 'Time: bad',
                problems: [{ field: 'Time', code: 'invalid', message: 'bad' }],
              }),
              { status: 400 },
            );
      },
    });
    expect(await call('health', {})).toEqual({ status: 'ok' });
    expect(seen[0]!.url).toBe('http://127.0.0.1:9/api/app/health');
    expect(seen[0]!.init.method).toBe('POST');
    expect((seen[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer tok');
    const e = await call('explain', { applicants: [{}] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).body.error).toBe('invalid_request');
  });

  it('HTTP: a server that cannot be reached is a network error, not a crash', async () => {
    const call = httpCall({
      base: 'http://127.0.0.1:9/',
      fetch: async () => Promise.reject(new TypeError('fetch failed')),
    });
    const e = (await call('health', {}).catch((x: unknown) => x)) as ApiError;
    expect(e.body.message).toMatch(/^network:/);
  });

  it('IPC: unwraps the bridge result, and throws its error body', async () => {
    const bridge: BranchLensBridge = {
      invoke: (async (method: string) =>
        method === 'health'
          ? { ok: true, value: { status: 'ok' } }
          : { ok: false, error: { error: 'not_found', message: 'no' } }) as BranchLensBridge['invoke'],
      printToPdf: async () => ({ ok: true, value: null }),
      saveFile: async () => ({ ok: true, value: null }),
      exportAudit: async () => ({ ok: true, value: null }),
    };
    const call = ipcCall(bridge);
    expect(await call('health', {})).toEqual({ status: 'ok' });
    const e = (await call('auditEntry', { seq: 1 }).catch((x: unknown) => x)) as ApiError;
    expect(e.body).toEqual({ error: 'not_found', message: 'no' });
  });

  it('refuses an explanation that does not match the contract', async () => {
    const call = checked(async () => ({ documents: [{ id: 'x' }] }) as never);
    const e = (await call('explain', { applicants: [{}] }).catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.body.message).toContain('does not match the contract');
  });
});

describe('settings kept in localStorage', () => {
  it('take each valid field and fall back to the default for the rest', () => {
    expect(parseStoredSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseStoredSettings('not json')).toEqual(DEFAULT_SETTINGS);
    expect(
      parseStoredSettings(JSON.stringify({ locale: 'en', top_k: 500, theme: 'dark', extra: 1 })),
    ).toEqual({
      ...DEFAULT_SETTINGS,
      locale: 'en',
      theme: 'dark',
    });
  });
});

describe('routes and formats', () => {
  it('read the page from the hash, defaulting to Explain', () => {
    expect(routeOf('#/batch')).toBe('batch');
    expect(routeOf('#/audit?seq=3')).toBe('audit');
    expect(routeOf('')).toBe('explain');
    expect(routeOf('#/nowhere')).toBe('explain');
  });

  it('format attributions with their sign and tiny deltas readably', () => {
    expect(formatSigned(0.19268)).toBe('+0.193');
    expect(formatSigned(-0.16)).toBe('\u22120.160');
    expect(formatSigned(-0.0001)).toBe('0.000');
    expect(formatTiny(-8.06472755244e-9)).toBe('\u22128.06e\u22129');
    expect(formatTiny(0.0123)).toBe('0.0123');
    expect(formatPercent('zh-CN', 0.578778862953)).toBe('57.9%');
    expect(shortHash('97f10a04f46b4b5eb1e5b36d2b2dc476')).toBe('97f10a04…c476');
  });

  it('name masked features apart by their pseudonyms, the same whichever others are shown with them', () => {
    const income = 'sensitive_3fa2c1d0e9ab';
    const assets = 'sensitive_b71e08aa4c2f';
    const both = maskedFeatureLabels([assets, income, income], 'Sensitive feature (masked)');
    expect([...both.values()]).toEqual([
      'Sensitive feature (masked) #b71e',
      'Sensitive feature (masked) #3fa2',
    ]);
    // One answer's top-K kept only one of them: it reads as it does beside the other, not "1".
    expect(maskedFeatureLabels([assets], '敏感特征（已脱敏）').get(assets)).toBe('敏感特征（已脱敏） #b71e');
    // Two that share their first digits show as many more as tell them apart.
    const near = maskedFeatureLabels(['sensitive_3fa2c1d0e9ab', 'sensitive_3fa29900aaaa', assets], 'M');
    expect([...near.values()]).toEqual(['M #3fa2c', 'M #3fa29', 'M #b71e']);
  });

  it('show the half hour after midnight as 00:30, not as 24:30 of the day it begins (English too)', () => {
    // Intl's hour12: false is the 24-hour cycle 1–24 in English on V8 before 12.4 (Chrome 124, so the Chrome
    // 109 of a Windows 7 branch PC): 00:30 on 28 November read "11/28/2026, 24:30:05", the end of that day.
    const half = new Date(2026, 10, 28, 0, 30, 5); // local time
    expect(formatDateTime('en', half)).toMatch(/^11\/28\/2026, 00:30:05$/);
    expect(formatDateTime('zh-CN', half)).toBe('2026/11/28 00:30:05');
    for (const span of [6 * 3_600_000, 7 * 24 * 3_600_000]) {
      expect(new Intl.DateTimeFormat('en', axisTimeOptions(span)).format(half)).toMatch(/00:30$/);
    }
  });

  it('show a small throughput with its significant digits, not as 0', () => {
    expect(formatRate('zh-CN', 8 / 300)).toBe('0.027');
    expect(formatRate('en', 0.0031)).toBe('0.0031');
    expect(formatRate('en', 0)).toBe('0');
    expect(formatRate('en', 12.345)).toBe('12.3');
    expect(formatRate('en', null)).toBe('—');
  });
});

describe('the audit filters', () => {
  it('turn local days into whole-day instants with the local offset', () => {
    const from = localDayBound('2026-11-26', false)!;
    const to = localDayBound('2026-11-26', true)!;
    expect(from).toMatch(/^2026-11-26T00:00:00\.000[+-]\d\d:\d\d$/);
    expect(to).toMatch(/^2026-11-26T23:59:59\.999[+-]\d\d:\d\d$/);
    expect(new Date(to).getTime() - new Date(from).getTime()).toBe(86_400_000 - 1);
    expect(localDayBound('26/11/2026', false)).toBeNull();
  });

  it('tell a start day after the end day, which no entry can match', () => {
    expect(datesReversed({ from: '2026-11-27', to: '2026-11-26' })).toBe(true);
    expect(datesReversed({ from: '2026-11-26', to: '2026-11-26' })).toBe(false);
    expect(datesReversed({ from: '2026-11-27', to: '' })).toBe(false);
    expect(datesReversed({ from: '', to: '2026-01-01' })).toBe(false);
  });

  it("name an export by the local date and time the page shows, with its format's extension", () => {
    const at = new Date(2026, 10, 26, 22, 22, 41, 972); // local time
    expect(auditExportName('jsonl', false, at)).toBe('branchlens-audit-2026-11-26_22-22-41.jsonl');
    expect(auditExportName('es-bulk', true, at)).toBe('branchlens-audit-2026-11-26_22-22-41.ndjson.gz');
  });

  it("name an entry's features by the active schema's labels, and keep a masked feature's pseudonym", () => {
    const schema = demoSchema();
    expect(auditFeatureName('Records', schema, 'zh-CN')).toEqual({
      label: '逾期记录',
      recorded: 'Records',
      masked: false,
    });
    expect(auditFeatureName('sensitive_3f9a0c1d', schema, 'zh-CN')).toEqual({
      label: 'sensitive_3f9a0c1d',
      recorded: 'sensitive_3f9a0c1d',
      masked: true,
    });
    expect(auditFeatureName('Records', null, 'en').label).toBe('Records');
  });

  it("show an entry's approval probability beside its decision: a decline at 0.4997 reads 49.9 %", () => {
    const decline = {
      prediction: 0.4997,
      details: { decision: { approved: false, label: 'bad', threshold: 0.5 } },
    };
    expect(entryDecision(decline)).toEqual({ approved: false, threshold: 0.5 });
    expect(entryScoreText('zh-CN', decline)).toBe('49.9%');
    expect(entryScoreText('en', { ...decline, prediction: 0.578778862953 })).toBe('57.9%');
    // No decision recorded (a model without a threshold, or not an explanation): the probability as it is.
    expect(entryDecision({ details: null })).toBeNull();
    expect(entryScoreText('zh-CN', { prediction: 0.4997, details: null })).toBe('50.0%');
    expect(entryScoreText('zh-CN', { prediction: null, details: null })).toBe('—');
  });

  it('send only the filters that are set', () => {
    expect(auditQuery(NO_FILTERS, 50)).toEqual({ limit: 50 });
    expect(auditQuery({ ...NO_FILTERS, modelVersion: ' 1.0.0 ', decision: 'declined' }, 50, 120)).toEqual({
      limit: 50,
      model_version: '1.0.0',
      decision: 'declined',
      before_seq: 120,
    });
  });
});

describe('the monitoring data', () => {
  const window = (s: number, p99: number) => ({
    window_s: s,
    count: 3,
    throughput_rps: 0.5,
    latency: {
      p50_ms: 1,
      p90_ms: 2,
      p99_ms: p99,
      max_ms: p99,
      mean_ms: 1.5,
      histogram: { edges_ms: [1, 2, 5], counts: [1, 1, 0, 1] },
    },
    cache: { by_level: { miss: 2, memory: 1, disk: 0 }, hit_rate: 1 / 3 },
  });

  it('labels the histogram buckets by their upper edges, the last one open', () => {
    expect(histogramBuckets(window(60, 3).latency.histogram)).toEqual([
      { label: '≤ 1', count: 1 },
      { label: '≤ 2', count: 1 },
      { label: '≤ 5', count: 0 },
      { label: '> 5', count: 1 },
    ]);
    expect(histogramBuckets(undefined)).toEqual([]);
  });

  it('takes each point of the series from its longest window, oldest first, and skips broken points', () => {
    const a = { taken_at: '2026-11-26T02:00:00Z', windows: [window(60, 9), window(3600, 7)] };
    const b = { taken_at: '2026-11-26T01:00:00Z', windows: [window(3600, 5)] };
    const points = seriesPoints([a, b, { taken_at: 'never' }]);
    expect(points.map((p) => p.p99)).toEqual([5, 7]);
    expect(pickWindow({ windows: [window(60, 1), window(300, 2)], tile_window_s: 300 }, null)?.window_s).toBe(
      300,
    );
  });

  it('breaks the lines where hours are missing (the workstation was off)', () => {
    const at = (h: number) => ({
      taken_at: `2026-11-26T${String(h).padStart(2, '0')}:00:00Z`,
      windows: [window(3600, h)],
    });
    const points = seriesPoints([at(1), at(2), at(7), at(8)]);
    expect(points.map((p) => p.p99)).toEqual([1, 2, null, 7, 8]);
    expect(points[2]!.at).toBeGreaterThan(points[1]!.at);
    expect(points[2]!.at).toBeLessThan(points[3]!.at);
  });

  it('leaves the break out of the table: it is no measurement, and would repeat the time of the row above', () => {
    const at = (h: number) => ({
      taken_at: `2026-11-26T${String(h).padStart(2, '0')}:00:00Z`,
      windows: [window(3600, h)],
    });
    const points = seriesPoints([at(1), at(2), at(7)]);
    expect(points).toHaveLength(4);
    expect(tablePoints(points).map((p) => p.p99)).toEqual([1, 2, 7]);
    // An hour that was measured but answered nothing is a row, with its time.
    const idle = {
      ...at(8),
      windows: [
        {
          ...window(3600, 0),
          count: 0,
          latency: { ...window(3600, 0).latency, p50_ms: null, p90_ms: null, p99_ms: null },
        },
      ],
    };
    expect(tablePoints(seriesPoints([at(7), idle])).map((p) => p.at)).toEqual([
      Date.parse(at(7).taken_at),
      Date.parse(idle.taken_at),
    ]);
  });

  it('appends only the points stored after the last one known', () => {
    const at = (h: number) => ({ taken_at: `2026-11-26T0${h}:00:00Z` });
    expect(mergeSeries([at(1), at(2)], [at(2), at(3)]).map((s) => s.taken_at)).toEqual([
      at(1).taken_at,
      at(2).taken_at,
      at(3).taken_at,
    ]);
    expect(mergeSeries([], [at(1)])).toEqual([at(1)]);
    expect(mergeSeries([at(1)], [])).toEqual([at(1)]);
  });

  it('asks for the last 7 days first, a longer period when chosen, then only what is newer', () => {
    const now = Date.UTC(2026, 10, 26, 9, 30);
    const day = 24 * 3_600_000;
    expect(DEFAULT_SERIES_PERIOD).toBe('7d');
    expect(seriesRequest(DEFAULT_SERIES_PERIOD, [], now)).toEqual({
      from: new Date(now - 7 * day).toISOString(),
    });
    expect(seriesRequest('365d', [], now)).toEqual({ from: new Date(now - 365 * day).toISOString() });
    expect(seriesRequest('24h', [], now)).toEqual({ from: new Date(now - day).toISOString() });
    const known = [{ taken_at: '2026-11-26T08:00:30.000Z' }, { taken_at: '2026-11-26T09:00:30.000Z' }];
    expect(seriesRequest('365d', known, now)).toEqual({ from: '2026-11-26T09:00:30.001Z' });
    // Points that left the period while the page stayed open are dropped.
    expect(withinPeriod(known, '24h', Date.UTC(2026, 10, 27, 8, 30)).map((s) => s.taken_at)).toEqual([
      '2026-11-26T09:00:30.000Z',
    ]);
  });

  it('counts the period back from the service’s clock, not from a browser clock that is off', () => {
    const day = 24 * 3_600_000;
    const service = Date.UTC(2026, 10, 26, 9, 30);
    const stored = [{ taken_at: '2026-11-25T09:00:30.000Z' }, { taken_at: '2026-11-26T09:00:30.000Z' }];
    // The branch PC's clock is a year ahead: its "last 7 days" would hold none of the stored points.
    const browser = service + 365 * day;
    const clock = serviceNow({ taken_at: new Date(service).toISOString() }, browser);
    expect(clock).toBe(service);
    expect(seriesRequest('7d', [], clock)).toEqual({ from: new Date(service - 7 * day).toISOString() });
    expect(withinPeriod(stored, '7d', clock)).toEqual(stored);
    // Without the service's time (no snapshot, or a broken one), the browser's.
    expect(serviceNow(undefined, browser)).toBe(browser);
    expect(serviceNow({ taken_at: 'never' }, browser)).toBe(browser);
  });

  it('draws a thinned series as one line, and still breaks it where a whole bucket is missing', () => {
    const step = 18 * 3_600_000;
    const at = (i: number) => ({
      taken_at: new Date(Date.UTC(2026, 0, 1) + i * step).toISOString(),
      windows: [window(3600, i)],
    });
    const points = seriesPoints([at(0), at(1), at(2), at(4)], undefined, step);
    expect(points.map((p) => p.p99)).toEqual([0, 1, 2, null, 4]);
    // Without the step every point would stand alone, as missing hours.
    expect(seriesPoints([at(0), at(1)]).map((p) => p.p99)).toEqual([0, null, 1]);
  });

  it('draws a point with no neighbour on its line (the live point after a night off), which ECharts leaves out', async () => {
    const { echarts } = await import('../../renderer/src/charts/echarts.js');
    const hour = 3_600_000;
    const start = Date.UTC(2026, 10, 25, 1);
    // Yesterday's stored hours, more than SYMBOLS_BELOW of them, then this morning's live snapshot 16 hours later.
    const stored = Array.from({ length: SYMBOLS_BELOW + 10 }, (_, h) => ({
      taken_at: new Date(start + h * hour).toISOString(),
      windows: [window(3600, 5)],
    }));
    const live = { taken_at: new Date(start + 56 * hour).toISOString(), windows: [window(3600, 900)] };
    const points = seriesPoints(stored, live);
    expect(points.at(-2)!.p99).toBeNull();
    const lone = points.length - 1;

    const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 600, height: 300 });
    chart.setOption({
      animation: false,
      xAxis: { type: 'time' },
      yAxis: { type: 'value' },
      series: [timeLine(points, 'p99')],
    });
    const svg = chart.renderToSVGString();
    chart.dispose();
    // The only symbol drawn is the lone point's: the others are on the line.
    const symbols = [...svg.matchAll(/ecmeta_data_index="(\d+)"/g)].map((m) => Number(m[1]));
    expect(symbols).toEqual([lone]);

    // A short series shows every point's symbol, as before.
    const few = seriesPoints(stored.slice(0, 3), live);
    expect(timeLine(few, 'p99').data).toEqual(few.map((p) => [p.at, p.p99]));
  });

  it('shows a tile red from a NaN in the stability run as NaN / ∞, not as the "—" of nothing measured', () => {
    const threshold = { direction: 'above' as const, amber: null, red: 0 };
    const repeat = { id: 'repeat_determinism' as const, value: null, status: 'red' as const, threshold };
    const sensitivity = {
      id: 'sensitivity_max' as const,
      value: null,
      status: 'red' as const,
      threshold: { direction: 'above' as const, amber: 0.15, red: 0.3 },
    };
    const run = (repeatNonFinite: boolean, sensitivityNonFinite: boolean) => ({
      stability: {
        computed_at: '2026-11-26T02:00:00Z',
        samples: 16,
        repeat_max_abs_delta: null,
        ...(repeatNonFinite && { repeat_non_finite: true as const }),
        sensitivity: {
          radius: 0.02,
          perturbations: 10,
          seed: 1,
          max: null,
          mean: null,
          ...(sensitivityNonFinite && { non_finite: true as const }),
        },
        duration_ms: 12,
      },
    });
    expect(NON_FINITE_TEXT).toBe('NaN / ∞');
    expect(tileValueText(repeat, 'zh-CN', tileNonFinite(repeat, run(true, false)))).toBe('NaN / ∞');
    expect(tileValueText(sensitivity, 'en', tileNonFinite(sensitivity, run(false, true)))).toBe('NaN / ∞');
    // Each flag is its own tile's; no run yet is nothing measured.
    expect(tileNonFinite(repeat, run(false, true))).toBe(false);
    expect(tileNonFinite(sensitivity, run(true, false))).toBe(false);
    const notRun = { ...repeat, status: 'unknown' as const };
    expect(tileValueText(notRun, 'en', tileNonFinite(notRun, {}))).toBe('—');
    // A finite difference, in the tile and the stability card alike.
    expect(tileValueText({ ...repeat, value: 2.220446049250313e-16 }, 'en')).toBe('2.22e-16');
    const same = { ...repeat, value: 0, status: 'ok' as const };
    expect(tileValueText(same, 'en')).toBe('0');
  });

  it('labels the time axis with dates once the points span more than a day, so that no hour shows twice', () => {
    expect(axisTimeOptions(6 * 3_600_000)).not.toHaveProperty('day');
    expect(axisTimeOptions(24 * 3_600_000)).not.toHaveProperty('day'); // the 24-hour view
    // A 7-day view with 30 hours of points: 10:00 yesterday and 10:00 today are told apart.
    const span = axisTimeOptions(30 * 3_600_000);
    expect(span).toMatchObject({ day: '2-digit', hour: '2-digit' });
    const label = (t: number) => new Intl.DateTimeFormat('en', { ...span, timeZone: 'UTC' }).format(t);
    const start = Date.UTC(2026, 10, 26, 10);
    expect(label(start)).not.toBe(label(start + 24 * 3_600_000));
    expect(axisTimeOptions(7 * 24 * 3_600_000)).toMatchObject({ day: '2-digit', hour: '2-digit' });
    expect(axisTimeOptions(365 * 24 * 3_600_000)).not.toHaveProperty('hour');
  });

  it('shows a snapshot that does not match the contract as far as it goes', () => {
    const r = checkSnapshot({ taken_at: '2026-11-26T02:00:00Z', windows: [] });
    expect(r?.valid).toBe(false);
    expect(r?.value.taken_at).toBe('2026-11-26T02:00:00Z');
    expect(checkSnapshot(null)).toBeNull();
  });
  it('names each masked feature of the drift table apart, never by name nor by place, as the other pages do', () => {
    const drift = (feature: string) => ({
      feature,
      share_recent: 0.1,
      share_reference: 0.1,
      js: 0,
      psi: 0,
      status: 'ok' as const,
    });
    // The snapshot lists the features in schema order: Income (here b71e…) before Assets (3fa2…).
    const rows = driftTableRows(
      [drift('Records'), drift('sensitive_b71e08aa4c2f'), drift('sensitive_3fa2c1d0e9ab'), drift('Debt')],
      demoSchema(),
      'zh-CN',
      '敏感特征（已脱敏）',
    );
    // The masked ones last, by pseudonym: in schema order, they would say which is Income and which Assets.
    expect(rows.map((r) => r.label)).toEqual([
      '逾期记录',
      '负债',
      '敏感特征（已脱敏） #3fa2',
      '敏感特征（已脱敏） #b71e',
    ]);
    expect(rows.map((r) => r.key)).toEqual([
      'Records',
      'Debt',
      'sensitive_3fa2c1d0e9ab',
      'sensitive_b71e08aa4c2f',
    ]);
  });
});
