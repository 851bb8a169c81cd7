// The batch's answers: a real table (so screen readers know rows and columns) whose body is virtualised, with
// column sorting and filters, each row led by its cells of the file's first columns that are not features (a
// customer number and name), so that a sorted or filtered row is still known by its customer. A row opens its
// explanation below the table (click, or Enter on the row). The rows are one Tab stop, as in a WAI-ARIA grid:
// the arrow keys, Home, End and the page keys move between them.
import { Fragment, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import type { T } from '../../i18n/i18n.js';
import { attributionBars } from '../../lib/attribution-bars.js';
import { describeError } from '../../lib/errors.js';
import { formatMs, formatNumber, formatSigned } from '../../lib/format.js';
import { maskedFeatureLabels } from '../../lib/labels.js';
import { AttributionTable } from '../explain/AttributionChart.js';
import { Reasons } from '../explain/ResultPanel.js';
import {
  filterAndSort,
  maskedPseudonyms,
  scoreText,
  topLabel,
  type DecisionFilter,
  type MaskedLabel,
  type ResultRow,
  type SortDir,
  type SortKey,
} from './results.js';

const ROW_HEIGHT = 38;

/**
 * The kept columns the table shows (the first ones: a customer number, a name); the row's detail and the CSV
 * export have them all. A head-office extract with twenty such columns leaves the answer's columns readable.
 */
export const KEPT_COLUMNS_SHOWN = 2;
const KEPT_COLUMN_PX = 120;

/**
 * The columns' widths, set on the table's <col>s, which a fixed table layout follows before its header cells':
 * the row's line, the kept columns shown, decision, probability, strongest factor, adverse factor (the rest),
 * latency.
 */
function columnWidths(keptShown: number): (string | undefined)[] {
  return [
    '80px',
    ...Array<string>(keptShown).fill(`${KEPT_COLUMN_PX}px`),
    '96px',
    '100px',
    '26%',
    undefined,
    '100px',
  ];
}

/**
 * The table's least width with kept columns shown: in a narrow window it scrolls sideways in its scroller rather
 * than squeeze the adverse factor's column (the one without a width) to nothing.
 */
function minTableWidth(keptShown: number): string | undefined {
  return keptShown > 0 ? `${640 + KEPT_COLUMN_PX * keptShown}px` : undefined;
}

/** Stands for rows the virtualiser does not render, so that the scrollbar is the whole list's. */
function Spacer({ height, columns }: { height: number; columns: number }) {
  return (
    <tr aria-hidden="true" className="spacer">
      <td colSpan={columns} style={{ height }} />
    </tr>
  );
}

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

/** Every kept cell of the row, by its column's name as the file gives it (the table shows the first two). */
function KeptCells({ columns, row, t }: { columns: readonly string[]; row: ResultRow; t: T }) {
  if (columns.length === 0) return null;
  return (
    <dl className="kv" aria-label={t('batch.keptCells')} data-testid="kept-cells">
      {columns.map((name, i) => (
        <div key={i}>
          <dt>{name}</dt>
          <dd>{row.kept[i] || '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

function Detail({
  row,
  kept,
  schema,
  locale,
  t,
  maskedLabel,
}: {
  row: ResultRow;
  kept: readonly string[];
  schema: BundleSchema | undefined;
  locale: Locale;
  t: T;
  maskedLabel: MaskedLabel;
}) {
  if (!row.doc) {
    return (
      <>
        <KeptCells columns={kept} row={row} t={t} />
        <p className="alert alert-error">
          {t('batch.line', { line: row.line })} · {describeError(row.error, t)}
        </p>
      </>
    );
  }
  // A masked feature named as in the table above it (and on the other pages), not numbered within this row.
  const bars = attributionBars(row.doc, {
    masked: t('explain.maskedFeature'),
    rest: (n) => t('explain.rest', { count: n }),
    restDescription: (n) => t('explain.restDescription', { count: n }),
  }).map((b) => (b.masked ? { ...b, label: maskedLabel(b.key) } : b));
  return (
    <>
      <KeptCells columns={kept} row={row} t={t} />
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
    </>
  );
}

/** `kept`: the file's columns that are not features, as it names them, whose cells each row keeps (ResultRow.kept). */
export function ResultsTable(props: {
  rows: ResultRow[];
  version: number;
  kept: readonly string[];
  schema: BundleSchema | undefined;
  locale: Locale;
  t: T;
}) {
  const { rows, version, kept, schema, locale, t } = props;
  const keptShown = kept.slice(0, KEPT_COLUMNS_SHOWN);
  const columnCount = 6 + keptShown.length;
  const [sort, setSort] = useState<{ key: SortKey; dir: SortDir }>({ key: 'line', dir: 'asc' });
  const [decision, setDecision] = useState<DecisionFilter>('all');
  const [text, setText] = useState('');
  const [selected, setSelected] = useState<number | null>(null);
  /** The line of the row in the Tab order (the first row until the officer moves). */
  const [active, setActive] = useState<number | null>(null);
  /** The line of the row a key moved the focus from: rendered until the focus has left it (see rangeExtractor). */
  const [leaving, setLeaving] = useState<number | null>(null);
  /** Set by a key that moves between rows: the row it moved to takes the focus once rendered. */
  const focusActive = useRef(false);
  const scroller = useRef<HTMLDivElement>(null);
  const head = useRef<HTMLTableSectionElement>(null);
  const maskedWording = t('explain.maskedFeature');
  // Each masked feature the batch's answers show, named apart from the others, the same in every row.
  const maskedNames = useMemo(
    () => maskedFeatureLabels(maskedPseudonyms(rows), maskedWording),
    [rows, version, maskedWording],
  );
  const masked = useCallback<MaskedLabel>(
    (pseudonym) => maskedNames.get(pseudonym) ?? maskedWording,
    [maskedNames, maskedWording],
  );

  // `rows` grows in place while the batch runs; `version` says when to look again.
  const shown = useMemo(
    () => filterAndSort(rows, { decision, text }, sort, masked),
    [rows, version, decision, text, sort, masked],
  );
  const found = active === null ? -1 : shown.findIndex((r) => r.line === active);
  const activeIndex = found >= 0 ? found : 0;
  const leavingIndex = leaving === null ? -1 : shown.findIndex((r) => r.line === leaving);
  // The row in the Tab order is rendered wherever the list is scrolled: Tab always reaches the table, and a
  // focused row scrolled away with the wheel keeps the focus. So is the row a key leaves, until the focus has
  // moved: the virtualiser learns of a scroll a frame late, and a focused row it dropped would lose the focus.
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      const kept = [activeIndex, leavingIndex].filter(
        (i) => i >= 0 && i < range.count && !indexes.includes(i),
      );
      return kept.length ? [...new Set([...indexes, ...kept])].sort((a, b) => a - b) : indexes;
    },
    [activeIndex, leavingIndex],
  );
  const virtual = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
    rangeExtractor,
  });
  const items = virtual.getVirtualItems();
  const padBottom = items.length ? virtual.getTotalSize() - items[items.length - 1]!.end : 0;

  useEffect(() => {
    if (!focusActive.current) return;
    focusActive.current = false;
    const row = scroller.current?.querySelector<HTMLElement>(`tr[aria-rowindex="${activeIndex + 2}"]`);
    const from = document.activeElement;
    if (row && (from === document.body || scroller.current?.contains(from)))
      row.focus({ preventScroll: true });
  }, [activeIndex]);

  /** The height the rows are seen in: the scroller's, less the sticky header's. */
  const viewHeight = () => {
    const el = scroller.current;
    return el ? el.clientHeight - (head.current?.offsetHeight ?? 0) : 0;
  };
  /**
   * Scrolls as little as shows row `index` whole, below the sticky header (which the browser's scrolling to a
   * focused element would hide it under), from the scroller's own position: the virtualiser's lags behind keys.
   */
  const scrollToRow = (index: number) => {
    const el = scroller.current;
    if (!el) return;
    const top = index * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + viewHeight()) el.scrollTop = top + ROW_HEIGHT - viewHeight();
  };
  const moveTo = (from: number, to: number) => {
    const index = Math.max(0, Math.min(shown.length - 1, to));
    if (index === from) return;
    focusActive.current = true;
    setLeaving(shown[from]!.line);
    setActive(shown[index]!.line);
    scrollToRow(index);
  };
  /** The rows in view but one, as a page key moves them (at least one). */
  const pageRows = () => Math.max(1, Math.floor(viewHeight() / ROW_HEIGHT) - 1);
  const onRowKey = (e: KeyboardEvent<HTMLTableRowElement>, index: number, line: number) => {
    if (e.altKey || e.metaKey) return;
    switch (e.key) {
      case 'ArrowDown':
        moveTo(index, index + 1);
        break;
      case 'ArrowUp':
        moveTo(index, index - 1);
        break;
      case 'PageDown':
        moveTo(index, index + pageRows());
        break;
      case 'PageUp':
        moveTo(index, index - pageRows());
        break;
      case 'Home':
        moveTo(index, 0);
        break;
      case 'End':
        moveTo(index, shown.length - 1);
        break;
      case 'Enter':
      case ' ':
        setSelected(line);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  // Text and the line read from the top first; numbers and decisions, from the highest.
  const onSort = (key: SortKey) =>
    setSort((s) =>
      s.key === key
        ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' }
        : { key, dir: key === 'line' || key === 'top' || key.startsWith('kept:') ? 'asc' : 'desc' },
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
      {/* No scroll anchoring: the browser would move the list when the spacers change, away from the row a key
          scrolled to. */}
      <div
        ref={scroller}
        className="table-scroller"
        data-testid="results-scroller"
        style={{ overflowAnchor: 'none' }}
      >
        <table
          className="data-table results-table"
          role="grid"
          aria-labelledby="batch-results-title"
          aria-rowcount={shown.length + 1}
          data-testid="results-table"
          style={{ minWidth: minTableWidth(keptShown.length) }}
        >
          <colgroup>
            {columnWidths(keptShown.length).map((width, i) => (
              <col key={i} style={width ? { width } : undefined} />
            ))}
          </colgroup>
          <thead ref={head}>
            <tr aria-rowindex={1}>
              <SortHeader id="line" label={t('batch.col.line')} sort={sort} onSort={onSort} className="num" />
              {keptShown.map((name, i) => (
                <SortHeader
                  key={i}
                  id={`kept:${i}`}
                  label={name}
                  sort={sort}
                  onSort={onSort}
                  className="truncate"
                />
              ))}
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
            {items.map((item, k) => {
              const r = shown[item.index]!;
              const state = r.doc === null ? 'failed' : r.approved ? 'approved' : 'declined';
              const top = topLabel(r, masked);
              // The rows not rendered: above the first, and between the others and a focused row far from them.
              const gap = item.start - (k === 0 ? 0 : items[k - 1]!.end);
              return (
                <Fragment key={r.line}>
                  {gap > 0 && <Spacer height={gap} columns={columnCount} />}
                  <tr
                    aria-rowindex={item.index + 2}
                    className={`result-row ${selected === r.line ? 'is-selected' : ''}`}
                    style={{ height: ROW_HEIGHT }}
                    tabIndex={item.index === activeIndex ? 0 : -1}
                    aria-selected={selected === r.line}
                    onClick={() => setSelected(r.line)}
                    onFocus={() => setActive(r.line)}
                    onKeyDown={(e) => onRowKey(e, item.index, r.line)}
                  >
                    <td className="num mono">{r.line}</td>
                    {keptShown.map((_, i) => (
                      <td key={i} className="truncate" title={r.kept[i]}>
                        {r.kept[i]}
                      </td>
                    ))}
                    <td>
                      <span className={`pill pill-${state}`}>
                        {state === 'failed'
                          ? t('batch.failed')
                          : state === 'approved'
                            ? t('explain.approved')
                            : t('explain.declined')}
                      </span>
                    </td>
                    <td className="num mono">{scoreText(locale, r)}</td>
                    {/* The strongest factor and the reason are worded in the language the batch ran in; a masked
                        factor, as the page words it, in the page's. */}
                    <td className="truncate" lang={r.topMasked ? undefined : r.doc?.meta.locale}>
                      {top && (
                        <>
                          {top}{' '}
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
                </Fragment>
              );
            })}
            {padBottom > 0 && <Spacer height={padBottom} columns={columnCount} />}
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
          <Detail row={selectedRow} kept={kept} schema={schema} locale={locale} t={t} maskedLabel={masked} />
        </div>
      )}
    </section>
  );
}
