// The top-K attribution chart: horizontal bars sorted by magnitude, raising and lowering in distinct colours,
// the rest as one grey "N others" bar; and the same numbers as a table. Effects are shown in percentage points
// of the approval probability (points.ts), the exact change in the tooltip and the cell's title.
import { useMemo } from 'react';
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import { valueText } from '../../lib/problem-text.js';
import { EChart } from '../../charts/EChart.js';
import { CHART_FONT, escapeHtml } from '../../charts/text.js';
import { chartPalette, type ThemeName } from '../../charts/palette.js';
import type { ChartOption } from '../../charts/echarts.js';
import type { T } from '../../i18n/i18n.js';
import { symmetricBound, type AttributionBar } from '../../lib/attribution-bars.js';
import { axisPoints, formatPoints, pointsExact } from './points.js';

export function attributionOption(bars: readonly AttributionBar[], theme: ThemeName, t: T): ChartOption {
  const c = chartPalette(theme);
  const shown = [...bars].reverse(); // a category axis runs bottom-up: the largest bar goes on top
  const bound = symmetricBound(bars);
  const color = (b: AttributionBar) =>
    b.kind === 'rest'
      ? c.rest
      : b.kind === 'positive'
        ? c.positive
        : b.kind === 'negative'
          ? c.negative
          : c.neutral;
  return {
    animation: false,
    textStyle: { fontFamily: CHART_FONT },
    grid: { left: 8, right: 56, top: 8, bottom: 36, containLabel: true },
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (p: { dataIndex: number }) => {
        const b = shown[p.dataIndex];
        return b
          ? `<strong>${escapeHtml(b.label)}</strong> ${escapeHtml(pointsExact(b.value, t))}<br/>${escapeHtml(b.description)}`
          : '';
      },
    },
    xAxis: {
      type: 'value',
      min: -bound,
      max: bound,
      name: t('explain.chartAxis'),
      nameLocation: 'middle',
      nameGap: 24,
      nameTextStyle: { color: c.muted, fontSize: 12 },
      axisLabel: { color: c.muted, formatter: axisPoints },
      splitLine: { lineStyle: { color: c.grid } },
    },
    yAxis: {
      type: 'category',
      data: shown.map((b) => b.label),
      axisTick: { show: false },
      axisLine: { lineStyle: { color: c.axis } },
      axisLabel: { color: c.text, fontSize: 13, width: 200, overflow: 'truncate' },
    },
    series: [
      {
        type: 'bar',
        barMaxWidth: 22,
        barCategoryGap: '30%',
        data: shown.map((b) => ({
          value: b.value,
          itemStyle: { color: color(b), borderRadius: b.value < 0 ? [3, 0, 0, 3] : [0, 3, 3, 0] },
          label: {
            show: true,
            position: b.value < 0 ? 'left' : 'right',
            color: c.text,
            fontSize: 12,
            formatter: formatPoints(b.value),
          },
        })),
      },
    ],
  };
}

export function AttributionChart(props: {
  bars: readonly AttributionBar[];
  theme: ThemeName;
  t: T;
  label: string;
  width?: number;
  testId?: string;
  onDrawn?: () => void;
}) {
  const { bars, theme, t } = props;
  const option = useMemo(() => attributionOption(bars, theme, t), [bars, theme, t]);
  const height = Math.max(160, bars.length * 34 + 56);
  return (
    <EChart
      option={option}
      label={props.label}
      height={height}
      {...(props.width ? { width: props.width } : {})}
      {...(props.testId ? { testId: props.testId } : {})}
      {...(props.onDrawn ? { onDrawn: props.onDrawn } : {})}
    />
  );
}

export function AttributionTable(props: {
  bars: readonly AttributionBar[];
  schema: Pick<BundleSchema, 'features'> | undefined;
  t: T;
  locale: Locale;
  caption: string;
}) {
  const { bars, t, locale } = props;
  const features = new Map((props.schema?.features ?? []).map((f) => [f.name, f]));
  const shownValue = (b: AttributionBar) =>
    b.kind === 'rest'
      ? '—'
      : b.masked
        ? t('explain.maskedValue')
        : valueText(features.get(b.key), b.raw, locale, t);
  return (
    <table className="data-table attribution-table" data-testid="attribution-table">
      <caption className="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t('explain.col.feature')}</th>
          <th scope="col">{t('explain.col.value')}</th>
          <th scope="col" className="num">
            {t('explain.col.attribution')}
          </th>
          <th scope="col">{t('explain.col.description')}</th>
        </tr>
      </thead>
      <tbody>
        {bars.map((b) => (
          <tr key={b.key} data-kind={b.kind} data-testid={b.kind === 'rest' ? 'rest-row' : 'attribution-row'}>
            <th scope="row">
              <span className={`swatch swatch-${b.kind}`} aria-hidden="true" />
              {/* A masked feature's label is the page's wording; any other is the document's. */}
              <span lang={b.masked ? undefined : b.docLocale}>{b.label}</span>
              {b.masked && <span className="tag tag-sensitive">{t('explain.masked')}</span>}
              {b.imputed && <span className="tag">{t('explain.imputed')}</span>}
            </th>
            <td>{shownValue(b)}</td>
            <td className={`num mono value-${b.kind}`} title={pointsExact(b.value, t)}>
              {formatPoints(b.value)}
            </td>
            <td lang={b.docLocale}>{b.description}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
