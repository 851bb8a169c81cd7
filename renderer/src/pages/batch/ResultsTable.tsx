// The batch's answers: a real table (so screen readers know rows and columns) whose body is virtualised, with
// column sorting and filters. A row opens its explanation below the table (click, or Enter on the row).
import { useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import type { T } from '../../i18n/i18n.js';
import { attributionBars } from '../../lib/attribution-bars.js';
import { describeError } from '../../lib/errors.js';
import { formatMs, formatNumber, formatPercent, formatSigned } from '../../lib/format.js';
import { AttributionTable } from '../explain/AttributionChart.js';
import { Reasons } from '../explain/ResultPanel.js';
import { filterAndSort, type DecisionFilter, type ResultRow, type SortDir, type SortKey } from './results.js';

const ROW_HEIGHT = 38;

function SortHeader(props: {
  id: SortKey;
  label: string;
  sort: { key: SortKey; dir: SortDir };
  onSort(key: SortKey): void;
  className?: string;
}) {
  const active = props.sort.key === props.id;
  return (
    <th
      scope="col"
      className={props.className}
      aria-sort={active ? (props.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
    >
      <button type="button" className="sort-button" onClick={() => props.onSort(props.id)}>
        {props.label}
        <span className="sort-indicator" aria-hidden="true">
          {active ? (props.sort.dir === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}

function Detail({
  row,
  schema,
  locale,
  t,
}: {
  row: ResultRow;
  schema: BundleSchema | undefined;
  locale: Locale;
  t: T;
}) {
  if (!row.doc) {
    return (
      <p className="alert alert-error">
        {t('batch.line', { line: row.line })} · {describeError(row.error, t)}
      </p>
    );
  }
  const bars = attributionBars(row.doc, {
    masked: t('explain.maskedFeature'),
    rest: (n) => t('explain.rest', { count: n }),
    restDescription: (n) => t('explain.restDescription', { count: n }),
  });
  return (
    <div className="batch-detail">
      <AttributionTable
        bars={bars}
        schema={schema}
        t={t}
        locale={locale}
        caption={t('explain.tableCaption')}
      />
      <Reasons doc={row.doc} t={t} id="batch-reasons" />
    </div>
  );
}

export function ResultsTable(props: {
  rows: ResultRow[];
  version: number;
  schema: BundleSchema | undefined;
  locale: Locale;
  t: T;
}) {
  const { rows, version, schema, locale, t } = props;
  const [sort, setSort] = useState<{ key: SortKey; dir: SortDir }>({ key: 'line', dir: 'asc' });
  const [decision, setDecision] = useState<DecisionFilter>('all');
  const [text, setText] = useState('');
  const [selected, setSelected] = useState<number | null>(null);
  const scroller = useRef<HTMLDivElement>(null);

  // `rows` grows in place while the batch runs; `version` says when to look again.
  const shown = useMemo(
    () => filterAndSort(rows, { decision, text }, sort),
    [rows, version, decision, text, sort],
  );
  const virtual = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
  });
  const items = virtual.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length ? virtual.getTotalSize() - items[items.length - 1]!.end : 0;
  const onSort = (key: SortKey) =>
    setSort((s) =>
      s.key === key
        ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' }
        : { key, dir: key === 'line' || key === 'top' ? 'asc' : 'desc' },
    );
  const selectedRow = selected === null ? null : (rows.find((r) => r.line === selected) ?? null);

  return (
    <section className="card" aria-labelledby="batch-results-title">
      <div className="card-head">
        <h2 id="batch-results-title">{t('batch.results')}</h2>
        <div className="filters">
          <label>
            <span>{t('batch.filterDecision')}</span>
            <select value={decision} onChange={(e) => setDecision(e.target.value as DecisionFilter)}>
              <option value="all">{t('common.all')}</option>
              <option value="approved">{t('explain.approved')}</option>
              <option value="declined">{t('explain.declined')}</option>
              <option value="failed">{t('batch.failed')}</option>
            </select>
          </label>
          <label>
            <span>{t('batch.filterText')}</span>
            <input
              type="search"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder={t('batch.filterPlaceholder')}
            />
          </label>
        </div>
      </div>
      <p className="muted small" aria-live="polite">
        {t('batch.shown', {
          shown: formatNumber(locale, shown.length),
          total: formatNumber(locale, rows.length),
        })}
      </p>
      <div ref={scroller} className="table-scroller" data-testid="results-scroller">
        <table
          className="data-table results-table"
          aria-rowcount={shown.length + 1}
          data-testid="results-table"
        >
          <thead>
            <tr aria-rowindex={1}>
              <SortHeader id="line" label={t('batch.col.line')} sort={sort} onSort={onSort} className="num" />
              <SortHeader id="decision" label={t('batch.col.decision')} sort={sort} onSort={onSort} />
              <SortHeader
                id="score"
                label={t('batch.col.score')}
                sort={sort}
                onSort={onSort}
                className="num"
              />
              <SortHeader id="top" label={t('batch.col.top')} sort={sort} onSort={onSort} />
              <th scope="col">{t('batch.col.reason')}</th>
              <SortHeader
                id="latency"
                label={t('batch.col.latency')}
                sort={sort}
                onSort={onSort}
                className="num"
              />
            </tr>
          </thead>
          <tbody>
            {padTop > 0 && (
              <tr aria-hidden="true" className="spacer">
                <td colSpan={6} style={{ height: padTop }} />
              </tr>
            )}
            {items.map((item) => {
              const r = shown[item.index]!;
              const state = r.doc === null ? 'failed' : r.approved ? 'approved' : 'declined';
              return (
                <tr
                  key={r.line}
                  aria-rowindex={item.index + 2}
                  className={`result-row ${selected === r.line ? 'is-selected' : ''}`}
                  style={{ height: ROW_HEIGHT }}
                  tabIndex={0}
                  aria-selected={selected === r.line}
                  onClick={() => setSelected(r.line)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault();
                      setSelected(r.line);
                    }
                  }}
                >
                  <td className="num mono">{r.line}</td>
                  <td>
                    <span className={`pill pill-${state}`}>
                      {state === 'failed'
                        ? t('batch.failed')
                        : state === 'approved'
                          ? t('explain.approved')
                          : t('explain.declined')}
                    </span>
                  </td>
                  <td className="num mono">{r.score === null ? '—' : formatPercent(locale, r.score)}</td>
                  {/* The strongest factor and the reason are worded in the language the batch ran in. */}
                  <td className="truncate" lang={r.doc?.meta.locale}>
                    {r.top && (
                      <>
                        {r.top}{' '}
                        <span className={`mono value-${r.topValue < 0 ? 'negative' : 'positive'}`}>
                          {formatSigned(r.topValue)}
                        </span>
                      </>
                    )}
                  </td>
                  <td className="truncate" title={r.reason} lang={r.doc?.meta.locale}>
                    {r.doc === null ? describeError(r.error, t) : r.reason || '—'}
                  </td>
                  <td className="num mono">{formatMs(locale, r.latencyMs)}</td>
                </tr>
              );
            })}
            {padBottom > 0 && (
              <tr aria-hidden="true" className="spacer">
                <td colSpan={6} style={{ height: padBottom }} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {selectedRow && (
        <div className="detail-panel" aria-live="polite">
          <div className="card-head">
            <h3>{t('batch.detail', { line: selectedRow.line })}</h3>
            <button type="button" className="btn btn-small" onClick={() => setSelected(null)}>
              {t('common.close')}
            </button>
          </div>
          <Detail row={selectedRow} schema={schema} locale={locale} t={t} />
        </div>
      )}
    </section>
  );
}
