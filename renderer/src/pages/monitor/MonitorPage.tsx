// 监控 Monitor: latency p50/p90/p99 over time with a histogram, throughput, cache hit rate, stability and
// attribution drift per feature; tiles turn amber or red past their thresholds. Every chart has a table.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Locale } from '../../../../shared/bundle.js';
import type { MessageKey } from '../../../../shared/i18n/index.js';
import {
  HOUR_MS,
  type MonitoringSnapshot,
  type Tile,
  type TileStatus,
} from '../../../../shared/monitoring.js';
import { useApp } from '../../app/context.js';
import { EChart } from '../../charts/EChart.js';
import type { ChartOption } from '../../charts/echarts.js';
import { chartPalette, type ChartPalette } from '../../charts/palette.js';
import { CHART_FONT } from '../../charts/text.js';
import type { T } from '../../i18n/i18n.js';
import { describeError } from '../../lib/errors.js';
import { formatDateTime, formatMs, formatNumber, formatPercent, formatRate } from '../../lib/format.js';
import {
  axisTimeOptions,
  checkSnapshot,
  DEFAULT_SERIES_PERIOD,
  driftTableRows,
  histogramBuckets,
  isSeriesPeriod,
  mergeSeries,
  NON_FINITE_TEXT,
  pickWindow,
  SERIES_PERIODS,
  seriesPoints,
  seriesRequest,
  serviceNow,
  tablePoints,
  tileNonFinite,
  tileValueText,
  timeLine,
  withinPeriod,
  type SeriesPeriod,
  type SeriesPoint,
} from './monitor-data.js';

const REFRESH_MS = 10_000;

const TILE_LABELS: Record<string, MessageKey> = {
  latency_p99: 'monitor.tile.latency_p99',
  cache_hit_rate: 'monitor.tile.cache_hit_rate',
  repeat_determinism: 'monitor.tile.repeat_determinism',
  sensitivity_max: 'monitor.tile.sensitivity_max',
  drift_js: 'monitor.tile.drift_js',
  drift_psi_max: 'monitor.tile.drift_psi_max',
};

const PERIOD_LABELS: Record<SeriesPeriod, MessageKey> = {
  '24h': 'monitor.period.24h',
  '7d': 'monitor.period.7d',
  '30d': 'monitor.period.30d',
  '365d': 'monitor.period.365d',
};

/** The period last chosen, kept while the app is open: coming back to the page shows the same one. */
let lastPeriod: SeriesPeriod = DEFAULT_SERIES_PERIOD;

const STATUS_LABELS: Record<TileStatus, MessageKey> = {
  ok: 'monitor.status.ok',
  amber: 'monitor.status.amber',
  red: 'monitor.status.red',
  unknown: 'monitor.status.unknown',
};

function limitText(tile: Tile, limit: number | null, locale: Locale): string {
  if (limit === null) return '—';
  const sign = tile.threshold.direction === 'above' ? '>' : '<';
  const v =
    tile.id === 'latency_p99'
      ? formatMs(locale, limit)
      : tile.id === 'cache_hit_rate'
        ? formatPercent(locale, limit, 0)
        : formatNumber(locale, limit, 3);
  return `${sign} ${v}`;
}

function StatusBadge({ status, t }: { status: TileStatus; t: T }) {
  return (
    <span className={`status status-${status}`}>{t(STATUS_LABELS[status] ?? 'monitor.status.unknown')}</span>
  );
}

function Tiles({
  tiles,
  snapshot,
  locale,
  t,
}: {
  tiles: Tile[];
  snapshot: Partial<MonitoringSnapshot>;
  locale: Locale;
  t: T;
}) {
  return (
    <ul className="tiles" data-testid="monitor-tiles">
      {tiles.map((tile) => (
        <li
          key={tile.id}
          className={`tile tile-${tile.status}`}
          data-tile={tile.id}
          data-status={tile.status}
        >
          <div className="tile-head">
            <span className="tile-label">{TILE_LABELS[tile.id] ? t(TILE_LABELS[tile.id]!) : tile.id}</span>
            <StatusBadge status={tile.status} t={t} />
          </div>
          <div className="tile-value">{tileValueText(tile, locale, tileNonFinite(tile, snapshot))}</div>
          <div className="tile-limits">
            {t('monitor.limits', {
              amber: limitText(tile, tile.threshold?.amber ?? null, locale),
              red: limitText(tile, tile.threshold?.red ?? null, locale),
            })}
          </div>
        </li>
      ))}
    </ul>
  );
}

function baseOption(c: ChartPalette): Pick<ChartOption, 'animation' | 'textStyle' | 'tooltip' | 'legend'> {
  return {
    animation: false,
    textStyle: { fontFamily: CHART_FONT, color: c.text },
    tooltip: { trigger: 'axis', confine: true },
    legend: { top: 0, textStyle: { color: c.text } },
  };
}

/** A time axis around the points (ECharts would stretch a single point's axis over a day). */
function timeBounds(points: SeriesPoint[]): { min?: number; max?: number } {
  if (points.length === 0) return {};
  const first = points[0]!.at;
  const last = points[points.length - 1]!.at;
  const pad = Math.max(5 * 60_000, (last - first) * 0.04);
  return { min: first - pad, max: last + pad };
}

/** A time axis label: the time of day, or the date too, as the points' span needs (axisTimeOptions). */
type AxisLabel = (ms: number) => string;

function latencyOption(points: SeriesPoint[], c: ChartPalette, axisLabel: AxisLabel): ChartOption {
  const line = (name: string, key: 'p50' | 'p90' | 'p99', color: string) => ({
    name,
    ...timeLine(points, key),
    lineStyle: { width: 2, color },
    itemStyle: { color },
  });
  return {
    ...baseOption(c),
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: {
      type: 'time',
      ...timeBounds(points),
      axisLabel: { color: c.muted, formatter: axisLabel, hideOverlap: true },
      axisLine: { lineStyle: { color: c.axis } },
    },
    yAxis: {
      type: 'value',
      name: 'ms',
      nameTextStyle: { color: c.muted },
      axisLabel: { color: c.muted },
      splitLine: { lineStyle: { color: c.grid } },
    },
    series: [
      line('p50', 'p50', c.series[0]!),
      line('p90', 'p90', c.series[2]!),
      line('p99', 'p99', c.series[1]!),
    ],
  };
}

function throughputOption(
  points: SeriesPoint[],
  c: ChartPalette,
  locale: Locale,
  axisLabel: AxisLabel,
  t: T,
): ChartOption {
  return {
    ...baseOption(c),
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    xAxis: {
      type: 'time',
      ...timeBounds(points),
      axisLabel: { color: c.muted, formatter: axisLabel, hideOverlap: true },
      axisLine: { lineStyle: { color: c.axis } },
    },
    yAxis: [
      {
        type: 'value',
        name: t('monitor.rpsUnit'),
        nameTextStyle: { color: c.muted },
        axisLabel: { color: c.muted },
        splitLine: { lineStyle: { color: c.grid } },
      },
      {
        type: 'value',
        min: 0,
        max: 1,
        name: t('monitor.hitRate'),
        nameTextStyle: { color: c.muted },
        axisLabel: { color: c.muted, formatter: (v: number) => formatPercent(locale, v, 0) },
        splitLine: { show: false },
      },
    ],
    series: [
      {
        name: t('monitor.throughput'),
        ...timeLine(points, 'rps'),
        itemStyle: { color: c.series[0] },
      },
      {
        name: t('monitor.hitRate'),
        ...timeLine(points, 'hitRate'),
        yAxisIndex: 1,
        itemStyle: { color: c.series[2] },
        lineStyle: { type: 'dashed' },
      },
    ],
  };
}

function histogramOption(buckets: { label: string; count: number }[], c: ChartPalette): ChartOption {
  return {
    animation: false,
    textStyle: { fontFamily: CHART_FONT, color: c.text },
    tooltip: { trigger: 'axis', confine: true },
    grid: { left: 8, right: 8, top: 16, bottom: 24, containLabel: true },
    xAxis: {
      type: 'category',
      data: buckets.map((b) => b.label),
      name: 'ms',
      nameLocation: 'middle',
      nameGap: 28,
      nameTextStyle: { color: c.muted },
      axisLabel: { color: c.muted, interval: 0, fontSize: 11 },
      axisLine: { lineStyle: { color: c.axis } },
    },
    yAxis: {
      type: 'value',
      minInterval: 1,
      axisLabel: { color: c.muted },
      splitLine: { lineStyle: { color: c.grid } },
    },
    series: [
      {
        type: 'bar',
        data: buckets.map((b) => b.count),
        itemStyle: { color: c.series[0], borderRadius: [3, 3, 0, 0] },
        barMaxWidth: 28,
      },
    ],
  };
}

function driftOption(
  rows: { label: string; recent: number | null; reference: number | null }[],
  c: ChartPalette,
  locale: Locale,
  t: T,
): ChartOption {
  const shown = [...rows].reverse();
  return {
    ...baseOption(c),
    tooltip: { trigger: 'axis', confine: true, axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
    xAxis: {
      type: 'value',
      axisLabel: { color: c.muted, formatter: (v: number) => formatPercent(locale, v, 0) },
      splitLine: { lineStyle: { color: c.grid } },
    },
    yAxis: {
      type: 'category',
      data: shown.map((r) => r.label),
      axisLabel: { color: c.text },
      axisTick: { show: false },
      axisLine: { lineStyle: { color: c.axis } },
    },
    series: [
      {
        name: t('monitor.drift.recent'),
        type: 'bar',
        data: shown.map((r) => r.recent),
        itemStyle: { color: c.series[0] },
        barMaxWidth: 12,
      },
      {
        name: t('monitor.drift.reference'),
        type: 'bar',
        data: shown.map((r) => r.reference),
        itemStyle: { color: c.rest },
        barMaxWidth: 12,
      },
    ],
  };
}

const pct = (locale: Locale, v: number | null | undefined) =>
  v === null || v === undefined ? '—' : formatPercent(locale, v);
const num = (locale: Locale, v: number | null | undefined, d = 3) =>
  v === null || v === undefined ? '—' : formatNumber(locale, v, d);

export default function MonitorPage() {
  const { api, settings, t, model } = useApp();
  const locale = settings.locale;
  const palette = chartPalette(settings.theme);
  const [snapshot, setSnapshot] = useState<{ value: Partial<MonitoringSnapshot>; valid: boolean } | null>(
    null,
  );
  const [series, setSeries] = useState<Partial<MonitoringSnapshot>[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [auto, setAuto] = useState(true);
  const [windowS, setWindowS] = useState<number | null>(null);
  const [period, setPeriod] = useState<SeriesPeriod>(lastPeriod);
  /** How the service thinned the period's series (a long one comes as one snapshot per bucket_ms). */
  const [sampling, setSampling] = useState<{ stored: number; bucketMs: number | null } | null>(null);

  // The chosen period's stored series is read once (thinned by the service when long), then only the points
  // stored since its last one. Choosing another period starts afresh.
  const known = useRef<{ period: SeriesPeriod; series: Partial<MonitoringSnapshot>[] }>({
    period,
    series: [],
  });
  const load = useCallback(async () => {
    let view = known.current;
    if (view.period !== period) {
      view = known.current = { period, series: [] };
      setSeries([]);
      setSampling(null);
    }
    try {
      const whole = view.series.length === 0;
      const now = checkSnapshot(((await api.monitoring({})) as { snapshot?: unknown }).snapshot);
      setSnapshot(now);
      // The period is counted back from the service's clock, which stamped the stored points (serviceNow).
      const clock = serviceNow(now?.value, Date.now());
      const past = await api.monitoringSeries(seriesRequest(period, view.series, clock)).catch(() => null);
      // An answer for a period left meanwhile is dropped.
      if (past && Array.isArray(past.series) && known.current === view) {
        if (whole) {
          setSampling({
            stored: typeof past.stored === 'number' ? past.stored : past.series.length,
            bucketMs: typeof past.bucket_ms === 'number' && past.bucket_ms > 0 ? past.bucket_ms : null,
          });
        }
        const merged = withinPeriod(
          mergeSeries(view.series, past.series as Partial<MonitoringSnapshot>[]),
          period,
          clock,
        );
        if (merged.length !== view.series.length || merged.at(-1) !== view.series.at(-1)) {
          view.series = merged;
          setSeries(merged);
        }
      }
      setError(null);
    } catch (e) {
      setError(describeError(e, t));
    }
  }, [api, t, period]);

  useEffect(() => {
    void load();
    if (!auto) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, REFRESH_MS);
    return () => window.clearInterval(id);
  }, [load, auto]);

  const s = snapshot?.value;
  const points = useMemo(() => seriesPoints(series, s, sampling?.bucketMs), [series, s, sampling]);
  const axisLabel = useMemo(() => {
    const format = new Intl.DateTimeFormat(
      locale,
      axisTimeOptions((points.at(-1)?.at ?? 0) - (points[0]?.at ?? 0)),
    );
    return (ms: number) => format.format(ms);
  }, [points, locale]);
  const current = s ? pickWindow(s, windowS) : undefined;
  const buckets = useMemo(() => histogramBuckets(current?.latency?.histogram), [current]);
  const schema = model.info?.schema;
  const driftRows = useMemo(
    () => driftTableRows(s?.drift?.features ?? [], schema, locale, t('explain.maskedFeature')),
    [s, schema, locale, t],
  );

  const latencyChart = useMemo(() => latencyOption(points, palette, axisLabel), [points, palette, axisLabel]);
  const throughputChart = useMemo(
    () => throughputOption(points, palette, locale, axisLabel, t),
    [points, palette, locale, axisLabel, t],
  );
  const histogramChart = useMemo(() => histogramOption(buckets, palette), [buckets, palette]);
  const driftChart = useMemo(
    () => driftOption(driftRows, palette, locale, t),
    [driftRows, palette, locale, t],
  );

  return (
    <div className="page page-monitor">
      <div className="page-head page-head-row">
        <div>
          <h1 tabIndex={-1}>{t('monitor.title')}</h1>
          <p className="page-lead">{t('monitor.lead')}</p>
        </div>
        <div className="toolbar">
          <label className="inline-label">
            <span>{t('monitor.period')}</span>
            <select
              value={period}
              data-testid="monitor-period"
              onChange={(e) => {
                if (!isSeriesPeriod(e.target.value)) return;
                lastPeriod = e.target.value;
                setPeriod(e.target.value);
              }}
            >
              {SERIES_PERIODS.map((p) => (
                <option key={p} value={p}>
                  {t(PERIOD_LABELS[p])}
                </option>
              ))}
            </select>
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} />
            <span>{t('monitor.autoRefresh')}</span>
          </label>
          <button type="button" className="btn" onClick={() => void load()}>
            {t('monitor.refresh')}
          </button>
        </div>
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {snapshot && !snapshot.valid && <p className="alert alert-warn">{t('monitor.partial')}</p>}
      {s && (
        <>
          <p className="muted small">
            {t('monitor.taken', {
              time: s.taken_at ? formatDateTime(locale, s.taken_at) : '—',
              model: s.model ? `${s.model.id}@${s.model.version}` : '—',
            })}
            {s.status && (
              <>
                {' · '}
                {t('monitor.overall')} <StatusBadge status={s.status} t={t} />
              </>
            )}
          </p>
          {Array.isArray(s.tiles) && <Tiles tiles={s.tiles} snapshot={s} locale={locale} t={t} />}

          <section className="card" aria-labelledby="latency-title">
            <div className="card-head">
              <h2 id="latency-title">{t('monitor.latency')}</h2>
              {Array.isArray(s.windows) && s.windows.length > 0 && (
                <label className="inline-label">
                  <span>{t('monitor.window')}</span>
                  <select
                    value={current?.window_s ?? ''}
                    onChange={(e) => setWindowS(Number(e.target.value))}
                  >
                    {s.windows.map((w) => (
                      <option key={w.window_s} value={w.window_s}>
                        {w.window_s >= 3600
                          ? t('monitor.hours', { n: w.window_s / 3600 })
                          : t('monitor.minutes', { n: w.window_s / 60 })}
                      </option>
                    ))}
                  </select>
                </label>
              )}
            </div>
            {current && (
              <ul className="stat-row">
                <li>
                  <span className="stat-label">p50</span>
                  <span className="stat-value">{formatMs(locale, current.latency?.p50_ms)}</span>
                </li>
                <li>
                  <span className="stat-label">p90</span>
                  <span className="stat-value">{formatMs(locale, current.latency?.p90_ms)}</span>
                </li>
                <li>
                  <span className="stat-label">p99</span>
                  <span className="stat-value">{formatMs(locale, current.latency?.p99_ms)}</span>
                </li>
                <li>
                  <span className="stat-label">{t('monitor.throughput')}</span>
                  <span className="stat-value" data-testid="throughput">
                    {formatRate(locale, current.throughput_rps)} {t('monitor.rpsUnit')}
                  </span>
                </li>
                <li>
                  <span className="stat-label">{t('monitor.hitRate')}</span>
                  <span className="stat-value">{pct(locale, current.cache?.hit_rate)}</span>
                </li>
                <li>
                  <span className="stat-label">{t('monitor.answers')}</span>
                  <span className="stat-value">{formatNumber(locale, current.count ?? 0)}</span>
                </li>
              </ul>
            )}
            <div className="chart-grid">
              <div>
                <h3>{t('monitor.latencyOverTime')}</h3>
                <EChart
                  option={latencyChart}
                  height={240}
                  label={t('monitor.latencyOverTime')}
                  testId="latency-chart"
                />
                {points.length <= 1 && <p className="muted small">{t('monitor.noHistory')}</p>}
                {sampling?.bucketMs && (
                  <p className="muted small" data-testid="series-thinned">
                    {t('monitor.thinned', {
                      stored: formatNumber(locale, sampling.stored),
                      period: t('monitor.hours', { n: sampling.bucketMs / HOUR_MS }),
                      shown: formatNumber(locale, series.length),
                    })}
                  </p>
                )}
              </div>
              <div>
                <h3>{t('monitor.histogram')}</h3>
                <EChart
                  option={histogramChart}
                  height={240}
                  label={t('monitor.histogram')}
                  testId="histogram-chart"
                />
              </div>
            </div>
            <details className="table-alt">
              <summary>{t('common.showTable')}</summary>
              <div className="chart-grid">
                <table className="data-table compact">
                  <caption>{t('monitor.latencyOverTime')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('monitor.time')}</th>
                      <th scope="col" className="num">
                        p50
                      </th>
                      <th scope="col" className="num">
                        p90
                      </th>
                      <th scope="col" className="num">
                        p99
                      </th>
                      <th scope="col" className="num">
                        {t('monitor.throughput')}
                      </th>
                      <th scope="col" className="num">
                        {t('monitor.hitRate')}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {tablePoints(points).map((p) => (
                      <tr key={p.at}>
                        <th scope="row" className="nowrap">
                          {formatDateTime(locale, p.at)}
                        </th>
                        <td className="num mono">{formatMs(locale, p.p50)}</td>
                        <td className="num mono">{formatMs(locale, p.p90)}</td>
                        <td className="num mono">{formatMs(locale, p.p99)}</td>
                        <td className="num mono">{formatRate(locale, p.rps)}</td>
                        <td className="num mono">{pct(locale, p.hitRate)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <table className="data-table compact">
                  <caption>{t('monitor.histogram')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('monitor.bucket')}</th>
                      <th scope="col" className="num">
                        {t('monitor.count')}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {buckets.map((b) => (
                      <tr key={b.label}>
                        <th scope="row">{b.label} ms</th>
                        <td className="num mono">{formatNumber(locale, b.count)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </section>

          <div className="chart-grid">
            <section className="card" aria-labelledby="throughput-title">
              <h2 id="throughput-title">{t('monitor.throughputTitle')}</h2>
              <EChart option={throughputChart} height={220} label={t('monitor.throughputTitle')} />
              {current?.cache && (
                <p className="muted small">
                  {t('monitor.cacheLevels', {
                    miss: formatNumber(locale, current.cache.by_level?.miss ?? 0),
                    memory: formatNumber(locale, current.cache.by_level?.memory ?? 0),
                    disk: formatNumber(locale, current.cache.by_level?.disk ?? 0),
                  })}
                </p>
              )}
            </section>
            <section className="card" aria-labelledby="stability-title">
              <h2 id="stability-title">{t('monitor.stability')}</h2>
              <dl className="kv">
                <div>
                  <dt>{t('monitor.stability.last')}</dt>
                  <dd>
                    {s.stability?.computed_at
                      ? formatDateTime(locale, s.stability.computed_at)
                      : t('monitor.stability.never')}
                  </dd>
                </div>
                <div>
                  <dt>{t('monitor.stability.samples')}</dt>
                  <dd>{formatNumber(locale, s.stability?.samples ?? 0)}</dd>
                </div>
                <div>
                  <dt>{t('monitor.stability.repeat')}</dt>
                  <dd className="mono">
                    {tileValueText(
                      { id: 'repeat_determinism', value: s.stability?.repeat_max_abs_delta ?? null },
                      locale,
                      s.stability?.repeat_non_finite === true,
                    )}
                  </dd>
                </div>
                <div>
                  <dt>{t('monitor.stability.sensitivity')}</dt>
                  <dd className="mono">
                    {s.stability?.sensitivity?.non_finite
                      ? NON_FINITE_TEXT
                      : `${num(locale, s.stability?.sensitivity?.max)} / ${num(locale, s.stability?.sensitivity?.mean)}`}
                  </dd>
                </div>
                <div>
                  <dt>{t('monitor.stability.radius')}</dt>
                  <dd className="mono">{num(locale, s.stability?.sensitivity?.radius)}</dd>
                </div>
              </dl>
            </section>
          </div>

          {s.drift && (
            <section className="card" aria-labelledby="drift-title">
              <div className="card-head">
                <h2 id="drift-title">{t('monitor.drift')}</h2>
                <span className="muted small">
                  {s.drift.state === 'computed'
                    ? t('monitor.drift.computed', {
                        rows: formatNumber(locale, s.drift.rows),
                        js: num(locale, s.drift.js),
                        psi: num(locale, s.drift.psi_max),
                      })
                    : s.drift.state === 'no_reference'
                      ? t('monitor.drift.noReference')
                      : t('monitor.drift.insufficient', {
                          rows: formatNumber(locale, s.drift.rows),
                          min: formatNumber(locale, s.drift.min_rows),
                        })}
                </span>
              </div>
              {driftRows.length > 0 && (
                <EChart
                  option={driftChart}
                  height={Math.max(200, driftRows.length * 30 + 60)}
                  label={t('monitor.drift')}
                  testId="drift-chart"
                />
              )}
              <details className="table-alt">
                <summary>{t('common.showTable')}</summary>
                <table className="data-table compact">
                  <caption>{t('monitor.drift')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('explain.col.feature')}</th>
                      <th scope="col" className="num">
                        {t('monitor.drift.recent')}
                      </th>
                      <th scope="col" className="num">
                        {t('monitor.drift.reference')}
                      </th>
                      <th scope="col" className="num">
                        PSI
                      </th>
                      <th scope="col" className="num">
                        JS
                      </th>
                      <th scope="col">{t('monitor.drift.status')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {driftRows.map((r) => (
                      <tr key={r.key}>
                        <th scope="row">{r.label}</th>
                        <td className="num mono">{pct(locale, r.recent)}</td>
                        <td className="num mono">{pct(locale, r.reference)}</td>
                        <td className="num mono">{num(locale, r.psi)}</td>
                        <td className="num mono">{num(locale, r.js)}</td>
                        <td>
                          <StatusBadge status={r.status} t={t} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </details>
            </section>
          )}
        </>
      )}
    </div>
  );
}
