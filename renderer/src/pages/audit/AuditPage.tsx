// 审计 Audit: the tamper-evident log, newest first, filtered by date, model version, decision and kind, or looked
// up by a document id off a printout or an entry's seq; one entry's detail (Escape closes it); "Verify chain" with
// the first broken entry if any; exports and the public key for head office.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Locale } from '../../../../shared/bundle.js';
import type { AuditEntryView, AuditVerifyView } from '../../../../shared/contract.js';
import { AUDIT_EXPORT_FORMATS } from '../../../../shared/contract.js';
import { useApp } from '../../app/context.js';
import type { T } from '../../i18n/i18n.js';
import { describeError } from '../../lib/errors.js';
import { auditBreakText } from './audit-break.js';
import { cacheText } from '../../lib/labels.js';
import { saveAuditExportHere, saveFile } from '../../lib/download.js';
import {
  formatDateTime,
  formatMs,
  formatNumber,
  formatSigned,
  formatThreshold,
  shortHash,
} from '../../lib/format.js';
import { maskedFeatureLabels } from '../../lib/labels.js';
import {
  auditExportRequest,
  auditQuery,
  datesReversed,
  documentsIn,
  exportDatesReversed,
  isLookup,
  lookupProblems,
  NO_FILTERS,
  otherFiltersSet,
  type AuditFilters,
  type LookupProblems,
} from './audit-query.js';
import { entryDecision, entryScoreText } from './entry-decision.js';
import { auditFeatureName } from './entry-features.js';
import { auditExportName } from './export-name.js';
import { escapeBelongsElsewhere, revealEntry } from './reveal-entry.js';
import { settingsChangeRows } from './settings-change.js';
import { useVerifyProgress, VerifyProgressBar } from './VerifyProgressBar.js';

const PAGE_SIZE = 50;

function kindText(kind: string, t: T): string {
  switch (kind) {
    case 'explain':
      return t('audit.kind.explain');
    case 'model_import':
      return t('audit.kind.model_import');
    case 'model_activate':
      return t('audit.kind.model_activate');
    case 'model_rollback':
      return t('audit.kind.model_rollback');
    case 'settings_change':
      return t('audit.kind.settings_change');
    default:
      return kind;
  }
}

/** Labelled values, a term and its description each. */
function KeyValues(props: { rows: readonly [string, React.ReactNode][] }) {
  return (
    <dl className="kv">
      {props.rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

const DOCUMENT_ID_PROBLEM_KEYS = {
  not_hex: 'audit.filter.documentNotHex',
  too_short: 'audit.filter.documentTooShort',
  too_long: 'audit.filter.documentTooLong',
} as const;

/** The lookup's problems worded, by field (an id for the field's aria-describedby). */
function lookupProblemText(problems: LookupProblems, t: T): { documentId?: string; seq?: string } {
  return {
    ...(problems.documentId && { documentId: t(DOCUMENT_ID_PROBLEM_KEYS[problems.documentId]) }),
    ...(problems.seq && { seq: t('audit.filter.seqInvalid') }),
  };
}

/** The empty list's words: a lookup that found nothing says so, and whether the other filters narrowed it. */
function emptyText(filters: AuditFilters, t: T): string {
  if (!isLookup(filters)) return t('audit.empty');
  return t(otherFiltersSet(filters) ? 'audit.emptyLookupFiltered' : 'audit.emptyLookup');
}

function VerifyResult({
  result,
  onOpen,
  locale,
  t,
}: {
  result: AuditVerifyView;
  onOpen(seq: number): void;
  locale: Locale;
  t: T;
}) {
  if (result.ok) {
    return (
      <div className="check check-ok" data-testid="audit-verify" data-state="ok" role="status">
        <span className="check-icon" aria-hidden="true">
          ✓
        </span>
        <div>
          <div className="check-title">{t('audit.verify.ok')}</div>
          <div className="check-detail">
            {t('audit.verify.summary', {
              entries: formatNumber(locale, result.entries),
              checkpoints: formatNumber(locale, result.checkpoints),
            })}
            {result.head && (
              <>
                {' · '}
                {t('audit.verify.head', { seq: result.head.seq })}{' '}
                <span className="mono">{shortHash(result.head.hash)}</span>
              </>
            )}
          </div>
          {result.other_key_ids && (
            <div className="check-detail" data-testid="audit-verify-other-keys">
              {t('audit.verify.otherKeys', { keys: result.other_key_ids.join(t('common.listSeparator')) })}
            </div>
          )}
        </div>
      </div>
    );
  }
  return (
    <div className="check check-bad" data-testid="audit-verify" data-state="bad" role="alert">
      <span className="check-icon" aria-hidden="true">
        ✕
      </span>
      <div>
        <div className="check-title">{t('audit.verify.bad')}</div>
        {result.break && (
          <div className="check-detail">
            {auditBreakText(result.break, t)}{' '}
            <button type="button" className="btn-link" onClick={() => onOpen(result.break!.seq)}>
              {t('audit.verify.open')}
            </button>
            <details className="break-details">
              <summary>{t('audit.verify.details')}</summary>
              <span className="mono" data-testid="audit-break-message">
                {result.break.message}
              </span>
            </details>
          </div>
        )}
      </div>
    </div>
  );
}

function EntryDetail({ entry, t, onClose }: { entry: AuditEntryView; t: T; onClose(): void }) {
  const { settings, model } = useApp();
  const locale = settings.locale;
  const schema = model.info?.schema ?? null;
  const decision = entryDecision(entry);
  const features = (entry.top_attributions ?? []).map((a) => auditFeatureName(a.feature, schema, locale));
  // A masked feature, recorded under its pseudonym, named as every page names it (told apart from the others).
  const maskedNames = maskedFeatureLabels(
    features.filter((f) => f.masked).map((f) => f.recorded),
    t('explain.maskedFeature'),
  );
  // [label, value, whether the entry records it]: an explain entry shows every field (a dash says "none"); a
  // model or settings change only those it has, not a column of dashes for an explanation it is not.
  const fields: [string, React.ReactNode, boolean][] = [
    [t('audit.col.seq'), <span className="mono">{entry.seq}</span>, true],
    [t('audit.col.time'), formatDateTime(locale, entry.timestamp), true],
    [t('audit.col.kind'), kindText(entry.kind, t), true],
    // A settings change's own fields, worded as the Settings page names them, next to its kind.
    ...settingsChangeRows(entry, t).map(([k, v]): [string, React.ReactNode, boolean] => [k, v, true]),
    [
      t('audit.col.model'),
      entry.model_id ? <span className="mono">{`${entry.model_id}@${entry.model_version ?? ''}`}</span> : '—',
      entry.model_id !== null,
    ],
    [
      t('audit.detail.modelSha'),
      <span className="mono break">{entry.model_sha256 ?? '—'}</span>,
      entry.model_sha256 !== null,
    ],
    [
      t('audit.detail.explainer'),
      entry.explainer_version ? <span className="mono">{entry.explainer_version}</span> : '—',
      entry.explainer_version !== null,
    ],
    [t('audit.col.prediction'), entryScoreText(locale, entry), entry.prediction !== null],
    [
      t('audit.col.decision'),
      decision === null
        ? '—'
        : (decision.approved ? t('explain.approved') : t('explain.declined')) +
          (decision.threshold === null
            ? ''
            : ` · ${t('explain.threshold', { value: formatThreshold(locale, decision.threshold) })}`),
      decision !== null,
    ],
    [t('audit.col.cache'), cacheText(entry.cache_level, t), entry.cache_level !== null],
    [t('audit.col.latency'), formatMs(locale, entry.latency_ms), entry.latency_ms !== null],
    [
      t('audit.detail.document'),
      <span className="mono break">{entry.document_id ?? '—'}</span>,
      entry.document_id !== null,
    ],
    [
      t('audit.detail.inputHash'),
      <span className="mono break">{entry.input_hash ?? '—'}</span>,
      entry.input_hash !== null,
    ],
    [
      t('audit.detail.watermark'),
      <span className="mono break">{entry.watermark ?? '—'}</span>,
      entry.watermark !== null,
    ],
    [t('audit.detail.entryHash'), <span className="mono break">{entry.entry_hash}</span>, true],
    [t('audit.detail.prevHash'), <span className="mono break">{entry.prev_hash}</span>, true],
  ];
  const rows = fields
    .filter(([, , recorded]) => recorded || entry.kind === 'explain')
    .map(([k, v]): [string, React.ReactNode] => [k, v]);
  return (
    <section
      id="audit-entry"
      className="detail-panel"
      aria-labelledby="audit-entry-title"
      data-testid="audit-entry"
    >
      <div className="card-head">
        <h3 id="audit-entry-title" tabIndex={-1}>
          {t('audit.detail.title', { seq: entry.seq })}
        </h3>
        <button type="button" className="btn btn-small" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
      <KeyValues rows={rows} />
      {entry.explainer_params && (
        <>
          <h4>{t('audit.detail.params')}</h4>
          <pre className="code">{JSON.stringify(entry.explainer_params, null, 2)}</pre>
        </>
      )}
      {entry.top_attributions && entry.top_attributions.length > 0 && (
        <table className="data-table compact">
          <caption>{t('audit.detail.attributions')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('explain.col.feature')}</th>
              <th scope="col" className="num">
                {t('explain.col.attribution')}
              </th>
            </tr>
          </thead>
          <tbody>
            {entry.top_attributions.map((a, i) => {
              const name = features[i]!;
              const label = maskedNames.get(name.recorded) ?? name.label;
              return (
                <tr key={a.feature} data-testid="audit-attribution" data-feature={a.feature}>
                  <th scope="row">
                    {label === name.recorded ? (
                      <span className="mono">{name.recorded}</span>
                    ) : (
                      <>
                        {label} <span className="mono muted small">{name.recorded}</span>
                      </>
                    )}
                    {name.masked && <span className="tag tag-sensitive">{t('explain.masked')}</span>}
                  </th>
                  <td className={`num mono value-${a.attribution < 0 ? 'negative' : 'positive'}`}>
                    {formatSigned(a.attribution, 4)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {entry.details && entry.kind !== 'explain' && (
        <>
          <h4>{t('audit.detail.details')}</h4>
          <pre className="code">{JSON.stringify(entry.details, null, 2)}</pre>
        </>
      )}
    </section>
  );
}

export default function AuditPage() {
  const { api, settings, t, notify } = useApp();
  const locale = settings.locale;
  const [draft, setDraft] = useState<AuditFilters>(NO_FILTERS);
  const [filters, setFilters] = useState<AuditFilters>(NO_FILTERS);
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ entries: AuditEntryView[]; next: number | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [versions, setVersions] = useState<string[]>([]);
  const [entry, setEntry] = useState<AuditEntryView | null>(null);
  /** Set once a search was refused for a lookup field: its problems then show, and go as it is corrected. */
  const [lookupChecked, setLookupChecked] = useState(false);
  const shownProblems = lookupChecked ? lookupProblemText(lookupProblems(draft), t) : {};
  /** An entry opened by a click takes the focus once its detail is committed (and scrolls into view). */
  const focusEntry = useRef(false);
  /**
   * The control the entry was opened from (its row's Details, or the chain check's link): the focus goes back to it
   * when the entry is closed, not to the start of the page with the panel that held it.
   */
  const opener = useRef<HTMLElement | null>(null);
  const [verify, setVerify] = useState<AuditVerifyView | null>(null);
  const [verifying, setVerifying] = useState(false);
  const verifyProgress = useVerifyProgress(api, verifying);
  const [format, setFormat] = useState<(typeof AUDIT_EXPORT_FORMATS)[number]>('jsonl');
  const [gzip, setGzip] = useState(false);
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [exporting, setExporting] = useState(false);
  const cursor = cursors[cursors.length - 1];

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const r = await api.auditPage(auditQuery(filters, PAGE_SIZE, cursor));
      setPage({ entries: r.entries, next: r.next_before_seq });
      setError(null);
    } catch (e) {
      setError(describeError(e, t));
    } finally {
      setLoading(false);
    }
  }, [api, filters, cursor, t]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    api.listModels({}).then(
      (r) => setVersions([...new Set(r.models.map((m) => m.version))].sort()),
      () => undefined,
    );
  }, [api]);

  useEffect(() => {
    if (!entry || !focusEntry.current) return;
    focusEntry.current = false;
    revealEntry(document.getElementById('audit-entry'), document.getElementById('audit-entry-title'));
  }, [entry]);

  const open = async (seq: number) => {
    const from = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    try {
      const opened = (await api.auditEntry({ seq })).entry;
      opener.current = from;
      focusEntry.current = true;
      setEntry(opened);
    } catch (e) {
      notify('error', (t) => describeError(e, t));
    }
  };

  const closeEntry = useCallback(() => {
    const back = opener.current;
    opener.current = null;
    setEntry(null);
    // The opener may be gone (another page of the log, new filters): the list's heading then.
    if (back?.isConnected) back.focus();
    else document.getElementById('audit-list-title')?.focus();
  }, []);

  // Escape closes an open entry wherever the focus is on the page (a click in its text leaves it on the body).
  useEffect(() => {
    if (!entry) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      if (escapeBelongsElsewhere(e.target, document.getElementById('audit-entry'))) return;
      e.preventDefault();
      closeEntry();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [entry, closeEntry]);

  const search = () => {
    if (datesReversed(draft)) return;
    const problems = lookupProblems(draft);
    if (problems.documentId || problems.seq) {
      setLookupChecked(true);
      document.getElementById(problems.documentId ? 'audit-document-id' : 'audit-seq')?.focus();
      return;
    }
    setLookupChecked(false);
    setFilters(draft);
    setCursors([undefined]);
  };

  const runVerify = useCallback(async () => {
    setVerifying(true);
    try {
      setVerify(await api.auditVerify({}));
    } catch (e) {
      notify('error', (t) => describeError(e, t));
    } finally {
      setVerifying(false);
    }
  }, [api, notify]);

  // A check already running (started in another window, or before this page was left) is joined: the service
  // answers a call made while one runs with that run's result, and its bar shows meanwhile.
  useEffect(() => {
    let left = false;
    api.auditVerifyProgress({}).then(
      (p) => {
        if (p.running && !left) void runVerify();
      },
      () => undefined,
    );
    return () => {
      left = true;
    };
  }, [api, runVerify]);

  const exportReversed = exportDatesReversed({ since, until });
  const runExport = async () => {
    if (exportReversed) return;
    setExporting(true);
    try {
      // Streamed into a file whatever the log's size: never held here as one string.
      const saved = await saveAuditExportHere(
        auditExportRequest({ format, gzip, since, until }),
        auditExportName(format, gzip, new Date(), { since, until }),
      );
      if (saved) {
        if (saved.entries === null) notify('success', 'common.saved', { where: saved.where });
        else notify('success', 'audit.export.done', { entries: saved.entries, where: saved.where });
      }
    } catch (e) {
      notify('error', (t) => describeError(e, t));
    } finally {
      setExporting(false);
    }
  };

  const downloadKey = async () => {
    try {
      const r = await api.auditPublicKey({});
      const where = await saveFile(`branchlens-audit-${r.key_id}.pub.pem`, r.pem, {
        type: 'application/x-pem-file',
      });
      if (where) notify('success', 'common.saved', { where });
    } catch (e) {
      notify('error', (t) => describeError(e, t));
    }
  };

  return (
    <div className="page page-audit">
      <div className="page-head">
        <h1 tabIndex={-1}>{t('audit.title')}</h1>
        <p className="page-lead">{t('audit.lead')}</p>
      </div>

      <div className="audit-tools">
        <section className="card" aria-labelledby="audit-verify-title">
          <h2 id="audit-verify-title">{t('audit.verify.title')}</h2>
          <p className="muted small">{t('audit.verify.lead')}</p>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => void runVerify()}
            disabled={verifying}
            data-testid="audit-verify-button"
          >
            {verifying ? t('audit.verify.running') : t('audit.verify.button')}
          </button>
          {verifying && verifyProgress && (
            <VerifyProgressBar progress={verifyProgress} locale={locale} t={t} />
          )}
          {verify && <VerifyResult result={verify} onOpen={(seq) => void open(seq)} locale={locale} t={t} />}
        </section>
        <section className="card" aria-labelledby="audit-export-title">
          <h2 id="audit-export-title">{t('audit.export.title')}</h2>
          <div className="inline-form">
            <label>
              <span>{t('audit.export.format')}</span>
              <select value={format} onChange={(e) => setFormat(e.target.value as typeof format)}>
                {AUDIT_EXPORT_FORMATS.map((f) => (
                  <option key={f} value={f}>
                    {f === 'es-bulk' ? t('audit.export.esBulk') : f.toUpperCase()}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <span>{t('audit.export.since')}</span>
              <input type="date" value={since} onChange={(e) => setSince(e.target.value)} />
            </label>
            <label>
              <span>{t('audit.export.until')}</span>
              <input type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
            </label>
            <label className="checkbox">
              <input type="checkbox" checked={gzip} onChange={(e) => setGzip(e.target.checked)} />
              <span>{t('audit.export.gzip')}</span>
            </label>
            {exportReversed && (
              <p
                className="alert alert-error filter-problem"
                role="alert"
                data-testid="audit-export-reversed"
              >
                {t('audit.export.reversed')}
              </p>
            )}
          </div>
          <div className="toolbar">
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => void runExport()}
              disabled={exporting || exportReversed}
            >
              {exporting ? t('audit.export.running') : t('audit.export.button')}
            </button>
            <button type="button" className="btn" onClick={() => void downloadKey()}>
              {t('audit.export.publicKey')}
            </button>
          </div>
        </section>
      </div>

      <section className="card" aria-labelledby="audit-list-title">
        <h2 id="audit-list-title" tabIndex={-1}>
          {t('audit.list')}
        </h2>
        <form
          className="inline-form filters-form"
          onSubmit={(e) => {
            e.preventDefault();
            search();
          }}
        >
          <label className="grow">
            <span>{t('audit.filter.document')}</span>
            <input
              id="audit-document-id"
              className="mono"
              type="text"
              value={draft.documentId}
              spellCheck={false}
              autoComplete="off"
              maxLength={100}
              placeholder="3f2a1b9c"
              aria-invalid={shownProblems.documentId ? true : undefined}
              aria-describedby={shownProblems.documentId ? 'audit-document-id-problem' : undefined}
              onChange={(e) => setDraft({ ...draft, documentId: e.target.value })}
            />
          </label>
          {shownProblems.documentId && (
            <p
              id="audit-document-id-problem"
              className="alert alert-error filter-problem"
              role="alert"
              data-testid="audit-document-id-problem"
            >
              {shownProblems.documentId}
            </p>
          )}
          <label>
            <span>{t('audit.filter.seq')}</span>
            <input
              id="audit-seq"
              className="mono"
              type="text"
              inputMode="numeric"
              value={draft.seq}
              autoComplete="off"
              maxLength={20}
              size={8}
              aria-invalid={shownProblems.seq ? true : undefined}
              aria-describedby={shownProblems.seq ? 'audit-seq-problem' : undefined}
              onChange={(e) => setDraft({ ...draft, seq: e.target.value })}
            />
          </label>
          {shownProblems.seq && (
            <p
              id="audit-seq-problem"
              className="alert alert-error filter-problem"
              role="alert"
              data-testid="audit-seq-problem"
            >
              {shownProblems.seq}
            </p>
          )}
          <label>
            <span>{t('audit.filter.from')}</span>
            <input
              type="date"
              value={draft.from}
              onChange={(e) => setDraft({ ...draft, from: e.target.value })}
            />
          </label>
          <label>
            <span>{t('audit.filter.to')}</span>
            <input
              type="date"
              value={draft.to}
              onChange={(e) => setDraft({ ...draft, to: e.target.value })}
            />
          </label>
          {datesReversed(draft) && (
            <p className="alert alert-error filter-problem" role="alert" data-testid="audit-dates-reversed">
              {t('audit.filter.reversed')}
            </p>
          )}
          <label>
            <span>{t('audit.filter.version')}</span>
            <select
              value={draft.modelVersion}
              onChange={(e) => setDraft({ ...draft, modelVersion: e.target.value })}
            >
              <option value="">{t('common.all')}</option>
              {versions.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t('audit.filter.decision')}</span>
            <select
              value={draft.decision}
              onChange={(e) => setDraft({ ...draft, decision: e.target.value as AuditFilters['decision'] })}
            >
              <option value="">{t('common.all')}</option>
              <option value="approved">{t('explain.approved')}</option>
              <option value="declined">{t('explain.declined')}</option>
            </select>
          </label>
          <label>
            <span>{t('audit.filter.kind')}</span>
            <select
              value={draft.kind}
              onChange={(e) => setDraft({ ...draft, kind: e.target.value as AuditFilters['kind'] })}
            >
              <option value="">{t('common.all')}</option>
              {(
                ['explain', 'model_import', 'model_activate', 'model_rollback', 'settings_change'] as const
              ).map((k) => (
                <option key={k} value={k}>
                  {kindText(k, t)}
                </option>
              ))}
            </select>
          </label>
          <div className="toolbar">
            <button type="submit" className="btn btn-primary">
              {t('audit.filter.apply')}
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => {
                setDraft(NO_FILTERS);
                setFilters(NO_FILTERS);
                setCursors([undefined]);
                setLookupChecked(false);
              }}
            >
              {t('audit.filter.reset')}
            </button>
          </div>
        </form>

        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
        {page && filters.documentId.trim() !== '' && documentsIn(page.entries) > 1 && (
          <p className="alert alert-warn" role="status" data-testid="audit-lookup-several">
            {t('audit.lookupSeveral', {
              count: documentsIn(page.entries),
              prefix: filters.documentId.trim(),
            })}
          </p>
        )}
        <div className="table-scroller" aria-busy={loading}>
          <table className="data-table" data-testid="audit-table">
            <caption className="visually-hidden">{t('audit.list')}</caption>
            <thead>
              <tr>
                <th scope="col" className="num">
                  {t('audit.col.seq')}
                </th>
                <th scope="col">{t('audit.col.time')}</th>
                <th scope="col">{t('audit.col.kind')}</th>
                <th scope="col">{t('audit.col.model')}</th>
                <th scope="col" className="num">
                  {t('audit.col.prediction')}
                </th>
                <th scope="col">{t('audit.col.decision')}</th>
                <th scope="col">{t('audit.col.cache')}</th>
                <th scope="col" className="num">
                  {t('audit.col.latency')}
                </th>
                <th scope="col">
                  <span className="visually-hidden">{t('audit.col.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {page?.entries.length === 0 && (
                <tr>
                  <td colSpan={9} className="muted empty-cell" data-testid="audit-empty">
                    {emptyText(filters, t)}
                  </td>
                </tr>
              )}
              {page?.entries.map((e) => {
                const approved = entryDecision(e)?.approved ?? null;
                return (
                  <tr key={e.seq} className={entry?.seq === e.seq ? 'is-selected' : ''}>
                    <td className="num mono">{e.seq}</td>
                    <td className="nowrap">{formatDateTime(locale, e.timestamp)}</td>
                    <td>{kindText(e.kind, t)}</td>
                    <td className="mono">{e.model_id ? `${e.model_id}@${e.model_version ?? ''}` : '—'}</td>
                    <td className="num mono">{entryScoreText(locale, e)}</td>
                    <td>
                      {approved === null ? (
                        '—'
                      ) : (
                        <span className={`pill pill-${approved ? 'approved' : 'declined'}`}>
                          {approved ? t('explain.approved') : t('explain.declined')}
                        </span>
                      )}
                    </td>
                    <td>{cacheText(e.cache_level, t)}</td>
                    <td className="num mono">{formatMs(locale, e.latency_ms)}</td>
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => void open(e.seq)}>
                        {t('audit.open')}
                        <span className="visually-hidden"> #{e.seq}</span>
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <div className="pager">
          <button
            type="button"
            className="btn"
            disabled={cursors.length <= 1 || loading}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            ← {t('audit.newer')}
          </button>
          <span className="muted small">{t('audit.page', { page: cursors.length })}</span>
          <button
            type="button"
            className="btn"
            disabled={!page?.next || loading}
            onClick={() => page?.next && setCursors((c) => [...c, page.next!])}
          >
            {t('audit.older')} →
          </button>
        </div>
        {entry && <EntryDetail entry={entry} t={t} onClose={closeEntry} />}
      </section>
    </div>
  );
}
