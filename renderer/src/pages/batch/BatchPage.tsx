// 批量 Batch: a CSV file (picker or drag-and-drop) checked row by row; the good rows explained in chunks with a
// progress bar, counts and cancel; the answers in a sortable, filterable, virtualised table; CSV and JSONL exports.
import {
  useCallback,
  useDeferredValue,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import { useApp } from '../../app/context.js';
import type { T } from '../../i18n/i18n.js';
import { describeError } from '../../lib/errors.js';
import { maskedFeatureLabels } from '../../lib/labels.js';
import { fileStamp, saveFile } from '../../lib/download.js';
import { formatMs, formatNumber, formatPercent } from '../../lib/format.js';
import { featureLabel, problemText } from '../../lib/problem-text.js';
import { WHOLE_APPLICANT, type FieldProblem } from '../../lib/validate.js';
import { batchStore, type BatchState } from './batch-store.js';
import { expectedColumns, featureList, fileRefusalText } from './file-refusal.js';
import { shownColumns } from './csv-rows.js';
import { maskedPseudonyms, problemsCsv, resultsCsv, resultsJsonl } from './results.js';
import { ResultsTable } from './ResultsTable.js';
import { ProblemList, type ProblemLine } from './ProblemList.js';

/**
 * A problem with the row as a whole: no feature given (`missing`, from validateApplicant or the service's
 * `[k]`), or a wrong number of cells (`invalid`, from the CSV parser).
 */
function wholeRowText(p: Pick<FieldProblem, 'code'>, t: T): string {
  switch (p.code) {
    case 'missing':
      return t('batch.emptyRow');
    case 'invalid':
      return t('batch.malformedRow');
    default:
      return t('problem.invalid');
  }
}

function problemLines(
  state: BatchState,
  schema: BundleSchema | undefined,
  locale: Locale,
  t: T,
): ProblemLine[] {
  const features = new Map((schema?.features ?? []).map((f) => [f.name, f]));
  const out: ProblemLine[] = [];
  const line = (
    row: { line: number; kept: readonly string[] },
    p: Pick<FieldProblem, 'field' | 'code' | 'given'>,
  ): ProblemLine => {
    const { line: at, kept } = row;
    if (p.field === WHOLE_APPLICANT)
      return { line: at, kept, field: t('batch.wholeRow'), message: wholeRowText(p, t) };
    const f = features.get(p.field);
    return {
      line: at,
      kept,
      field: f ? featureLabel(f, locale) : p.field,
      message: problemText(f, p, locale, t),
    };
  };
  for (const b of state.bad) {
    for (const p of b.problems) out.push(line(b, p));
  }
  for (const r of state.results) {
    if (r.doc !== null) continue;
    if (r.problems?.length) {
      for (const p of r.problems) out.push(line(r, p));
    } else {
      out.push({
        line: r.line,
        kept: r.kept,
        field: t('batch.wholeRow'),
        message: describeError(r.error, t),
      });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

/** `missing`: the optional features with no column, as labels (a required one refuses the file instead). */
function ColumnNotices({ ignored, missing, t }: { ignored: string[]; missing: string; t: T }) {
  const set = shownColumns(ignored);
  const more = set.more > 0 ? t('batch.moreColumns', { count: set.more }) : '';
  return (
    <>
      {ignored.length > 0 && (
        <p className="alert alert-info" data-testid="ignored-columns">
          {t('batch.ignoredColumns', { columns: set.shown.join(t('common.listSeparator')) + more })}
        </p>
      )}
      {missing.length > 0 && (
        <p className="alert alert-warn" data-testid="missing-columns">
          {t('batch.missingColumns', { columns: missing })}
        </p>
      )}
    </>
  );
}

export default function BatchPage() {
  const { api, settings, t, model, notify } = useApp();
  const locale = settings.locale;
  const schema = model.info?.schema;
  const state = useSyncExternalStore(batchStore.subscribe, batchStore.getSnapshot);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  // The counts' number format is built while the page waits for a file: a page's first Intl.NumberFormat costs
  // ~15 ms (the language's data), which would otherwise lengthen the task that starts reading the file.
  useEffect(() => {
    if (typeof window.requestIdleCallback !== 'function') return;
    const id = window.requestIdleCallback(() => formatNumber(locale, 0));
    return () => window.cancelIdleCallback(id);
  }, [locale]);

  const load = useCallback(
    (file: File | undefined) => {
      if (!file || !schema) return;
      void batchStore.load(file, schema);
    },
    [schema],
  );

  const explainOptions = {
    top_k: settings.top_k,
    method: settings.method,
    n_steps: settings.n_steps,
    locale,
  };
  const start = () => void batchStore.run(api, explainOptions);
  /** Only the rows a stopped run left unexplained, the answers received kept. */
  const resume = () => void batchStore.resume(api, explainOptions);

  // The lists (problems, results) follow the counts at a lower priority, rendered in slices while rows stream in.
  const deferred = useDeferredValue(state);
  const problems = useMemo(() => problemLines(deferred, schema, locale, t), [deferred, schema, locale, t]);

  const total = state.good.length;
  const fraction = total > 0 ? state.answered / total : 0;
  const elapsedMs =
    state.startedAt !== null ? (state.finishedAt ?? performance.now()) - state.startedAt : null;
  const rate = elapsedMs && elapsedMs > 0 ? state.answered / (elapsedMs / 1000) : null;
  const running = state.phase === 'running';
  const milestone = Math.floor(fraction * 4) * 25;
  const pending = state.pending.length;
  const stopped = state.phase === 'cancelled' || state.phase === 'interrupted';
  // Rows the service refused are rows with errors, as the problem list shows them, not valid ones.
  const withErrors = state.bad.length + state.failed;

  /** Saves and says where; a folder the officer may not write to, a full disk, are said, not swallowed. */
  const save = async (name: string, content: () => string, type: string) => {
    try {
      const where = await saveFile(name, content(), { type });
      if (where) notify('success', 'common.saved', { where });
    } catch (e) {
      notify('error', (t) => describeError(e, t));
    }
  };

  /** The CSV as the table reads: the file's kept columns, a masked feature named as the page names it now. */
  const csvOfResults = () => {
    const wording = t('explain.maskedFeature');
    const names = maskedFeatureLabels(maskedPseudonyms(state.results), wording);
    return resultsCsv(state.results, {
      kept: state.columns?.ignored ?? [],
      maskedLabel: (pseudonym) => names.get(pseudonym) ?? wording,
    });
  };

  const exportResults = (kind: 'csv' | 'jsonl') =>
    save(
      `branchlens-batch-${fileStamp()}.${kind}`,
      () => (kind === 'csv' ? csvOfResults() : resultsJsonl(state.results)),
      kind === 'csv' ? 'text/csv;charset=utf-8' : 'application/x-ndjson',
    );

  const exportProblems = () =>
    save(
      `branchlens-batch-problems-${fileStamp()}.csv`,
      () => problemsCsv(problems, state.columns?.ignored ?? []),
      'text/csv;charset=utf-8',
    );

  return (
    <div className="page page-batch">
      <div className="page-head">
        <h1 tabIndex={-1}>{t('batch.title')}</h1>
        <p className="page-lead">{t('batch.lead')}</p>
      </div>

      <section className="card" aria-labelledby="batch-file-title">
        <h2 id="batch-file-title">{t('batch.file')}</h2>
        <div
          className={`dropzone ${dragging ? 'dropzone-active' : ''}`}
          data-testid="dropzone"
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            load(e.dataTransfer.files[0]);
          }}
        >
          <svg viewBox="0 0 24 24" className="dropzone-icon" aria-hidden="true">
            <path
              d="M12 15V4m0 0l-4 4m4-4l4 4M5 15v3a2 2 0 002 2h10a2 2 0 002-2v-3"
              fill="none"
              stroke="currentColor"
              strokeWidth="1.8"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          <p>{t('batch.drop')}</p>
          <input
            ref={input}
            id="batch-file"
            type="file"
            accept=".csv,text/csv"
            className="visually-hidden"
            disabled={!schema || running}
            onChange={(e) => {
              load(e.target.files?.[0]);
              e.target.value = '';
            }}
          />
          <label htmlFor="batch-file" className="btn">
            {t('batch.choose')}
          </label>
          <p className="muted small">
            {t('batch.columnsHint', { columns: schema ? expectedColumns(schema, locale, t) : '' })}
          </p>
        </div>

        {state.fileName && (
          <div className="file-summary" data-testid="file-summary">
            <p>
              <strong>{state.fileName}</strong>
              {state.phase === 'parsing' && <span className="muted"> · {t('batch.parsing')}</span>}
            </p>
            {state.encoding === 'gb18030' && !state.fileError && (
              <p className="muted small" data-testid="file-encoding">
                {t('batch.readAsGb18030')}
              </p>
            )}
            {state.fileError && (
              <p className="alert alert-error" role="alert">
                {fileRefusalText(state.fileError, schema, locale, t)}
              </p>
            )}
            {state.columns && !state.fileError && (
              <ColumnNotices
                ignored={state.columns.ignored}
                missing={schema ? featureList(schema, state.columns.missing, locale, t) : ''}
                t={t}
              />
            )}
            {!state.fileError && (
              <ul className="counts">
                <li>
                  <span className="count-value" data-testid="count-rows">
                    {formatNumber(locale, state.good.length + state.bad.length)}
                  </span>
                  <span className="count-label">{t('batch.rows')}</span>
                </li>
                <li>
                  <span className="count-value" data-testid="count-good">
                    {formatNumber(locale, state.good.length - state.failed)}
                  </span>
                  <span className="count-label">{t('batch.goodRows')}</span>
                </li>
                <li className={withErrors ? 'count-bad' : ''}>
                  <span className="count-value" data-testid="count-bad">
                    {formatNumber(locale, withErrors)}
                  </span>
                  <span className="count-label">{t('batch.badRows')}</span>
                </li>
              </ul>
            )}
          </div>
        )}

        {problems.length > 0 && (
          <details className="problems" open={problems.length <= 20}>
            <summary data-testid="problems-title">
              {problems.length === 1
                ? t('batch.problemsTitleOne')
                : t('batch.problemsTitle', { count: formatNumber(locale, problems.length) })}
            </summary>
            <ProblemList lines={problems} withKept={(state.columns?.ignored.length ?? 0) > 0} t={t} />
            <button type="button" className="btn btn-small" onClick={() => void exportProblems()}>
              {t('batch.exportProblems')}
            </button>
          </details>
        )}
      </section>

      {state.good.length > 0 && state.phase !== 'parsing' && (
        <section className="card" aria-labelledby="batch-run-title">
          <div className="card-head">
            <h2 id="batch-run-title">{t('batch.run')}</h2>
            <div className="toolbar">
              {running ? (
                <button type="button" className="btn btn-danger" onClick={() => batchStore.cancel()}>
                  {t('batch.cancel')}
                </button>
              ) : (
                <>
                  {stopped && pending > 0 && (
                    <button
                      type="button"
                      className="btn btn-primary"
                      onClick={resume}
                      data-testid="batch-resume"
                    >
                      {pending === 1
                        ? t('batch.resumeOne')
                        : t('batch.resume', { count: formatNumber(locale, pending) })}
                    </button>
                  )}
                  <button
                    type="button"
                    className={stopped && pending > 0 ? 'btn' : 'btn btn-primary'}
                    onClick={start}
                    data-testid="batch-start"
                  >
                    {state.phase === 'ready'
                      ? total === 1
                        ? t('batch.startOne')
                        : t('batch.start', { count: formatNumber(locale, total) })
                      : total === 1
                        ? t('batch.restartOne')
                        : t('batch.restart', { count: formatNumber(locale, total) })}
                  </button>
                </>
              )}
              <button
                type="button"
                className="btn"
                disabled={state.results.length === 0 || running}
                onClick={() => void exportResults('csv')}
              >
                {t('batch.exportCsv')}
              </button>
              <button
                type="button"
                className="btn"
                disabled={state.results.length === 0 || running}
                onClick={() => void exportResults('jsonl')}
              >
                {t('batch.exportJsonl')}
              </button>
            </div>
          </div>
          {state.phase === 'interrupted' && state.unreachable && (
            <p className="alert alert-error" role="alert" data-testid="batch-unreachable">
              {describeError(state.unreachable, t)}
            </p>
          )}
          {state.phase !== 'ready' && (
            <div className="progress-block">
              <div className="progress-line">
                <label htmlFor="batch-progress">{t('batch.progress')}</label>
                <span data-testid="batch-percent">{formatPercent(locale, fraction, 0)}</span>
              </div>
              <progress id="batch-progress" max={total} value={state.answered} data-testid="batch-progress" />
              <p className="muted small">
                {t('batch.progressText', {
                  done: formatNumber(locale, state.answered),
                  total: formatNumber(locale, total),
                  rate: rate ? formatNumber(locale, rate, 0) : '—',
                  elapsed: elapsedMs !== null ? formatMs(locale, elapsedMs) : '—',
                })}
                {state.phase === 'cancelled' && ` · ${t('batch.cancelled')}`}
                {state.phase === 'interrupted' && ` · ${t('batch.interrupted')}`}
              </p>
              <p className="visually-hidden" aria-live="polite">
                {state.phase === 'done'
                  ? t('batch.finished')
                  : running
                    ? t('batch.milestone', { percent: milestone })
                    : ''}
              </p>
              <ul className="counts">
                <li className="count-approved">
                  <span className="count-value" data-testid="count-approved">
                    {formatNumber(locale, state.approved)}
                  </span>
                  <span className="count-label">{t('explain.approved')}</span>
                </li>
                <li className="count-declined">
                  <span className="count-value" data-testid="count-declined">
                    {formatNumber(locale, state.declined)}
                  </span>
                  <span className="count-label">{t('explain.declined')}</span>
                </li>
                <li className={state.failed ? 'count-bad' : ''}>
                  <span className="count-value">{formatNumber(locale, state.failed)}</span>
                  <span className="count-label">{t('batch.failed')}</span>
                </li>
              </ul>
            </div>
          )}
        </section>
      )}

      {deferred.results.length > 0 && (
        <ResultsTable
          rows={deferred.results}
          version={deferred.version}
          kept={deferred.columns?.ignored ?? []}
          schema={schema}
          locale={locale}
          t={t}
        />
      )}
    </div>
  );
}
