// 模型 Models: the installed bundles with the active one marked; a model card (description, metrics, training
// data, features); importing a bundle folder; activating a version and rolling back, each behind a confirmation.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { BundleSchema, Feature, Locale } from '../../../../shared/bundle.js';
import type { ApiResponses, InstalledModelView, ModelRef } from '../../../../shared/contract.js';
import type { MessageKey } from '../../../../shared/i18n/index.js';
import { ConfirmDialog } from '../../app/ConfirmDialog.js';
import { useApp } from '../../app/context.js';
import type { T } from '../../i18n/i18n.js';
import { pick } from '../../i18n/i18n.js';
import { describeError } from '../../lib/errors.js';
import { formatDateTime, formatNumber, shortHash } from '../../lib/format.js';
import { categoryLabel, featureLabel, rangeText } from '../../lib/problem-text.js';
import { folderFromInput } from './import-path.js';
import { importResultText, switchResultText } from './import-result.js';
import { activeNotServed, notServedText } from './served-model.js';

type Pending = { kind: 'activate'; model: InstalledModelView } | { kind: 'rollback' } | null;

/**
 * What an import did, kept as the API's answer (or its error) and worded when shown, so that the sentence
 * follows a change of language.
 */
type ImportOutcome =
  | { ok: true; answer: ApiResponses['importModel']; previous: ModelRef | null }
  | { ok: false; error: unknown };

const METRIC_KEYS: Record<string, MessageKey> = {
  auc: 'models.metric.auc',
  accuracy: 'models.metric.accuracy',
  log_loss: 'models.metric.log_loss',
  holdout_rows: 'models.metric.holdout_rows',
};

function metricName(name: string, t: T): string {
  const key = METRIC_KEYS[name];
  return key ? t(key) : name;
}

function featureKind(f: Feature, t: T): string {
  switch (f.type) {
    case 'numeric':
      return f.integer ? t('models.type.integer') : t('models.type.numeric');
    case 'categorical':
      return t('models.type.categorical');
    case 'boolean':
      return t('models.type.boolean');
  }
}

function featureDomain(f: Feature, locale: Locale, t: T): string {
  if (f.type === 'categorical')
    return f.categories.map((c) => categoryLabel(f, c, locale)).join(t('common.listSeparator'));
  if (f.type === 'boolean') return `${t('common.yes')} / ${t('common.no')}`;
  return rangeText(f, locale, t) ?? (f.unit ? pick(f.unit, locale) : '—');
}

function FeaturesTable({ schema, locale, t }: { schema: BundleSchema; locale: Locale; t: T }) {
  return (
    <table className="data-table compact">
      <caption>{t('models.card.features', { count: schema.features.length })}</caption>
      <thead>
        <tr>
          <th scope="col">{t('models.col.feature')}</th>
          <th scope="col">{t('models.col.name')}</th>
          <th scope="col">{t('models.col.type')}</th>
          <th scope="col">{t('models.col.domain')}</th>
          <th scope="col">{t('models.col.flags')}</th>
        </tr>
      </thead>
      <tbody>
        {schema.features.map((f) => (
          <tr key={f.name}>
            <th scope="row">{featureLabel(f, locale)}</th>
            <td className="mono">{f.name}</td>
            <td>{featureKind(f, t)}</td>
            <td>{featureDomain(f, locale, t)}</td>
            <td>
              {f.sensitive && <span className="tag tag-sensitive">{t('form.sensitive')}</span>}
              {f.required && <span className="tag">{t('form.required')}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ModelCard({
  m,
  schema,
  locale,
  t,
}: {
  m: InstalledModelView;
  schema: BundleSchema | null;
  locale: Locale;
  t: T;
}) {
  const td = m.manifest.training_data;
  const metrics = Object.entries(m.manifest.metrics);
  return (
    <article className="model-card" aria-labelledby="model-card-title" data-testid="model-card">
      <h3 id="model-card-title">
        {m.id} <span className="mono">{m.version}</span>
        {m.active && <span className="pill pill-approved">{t('models.active')}</span>}
      </h3>
      {m.manifest.description && <p>{pick(m.manifest.description, locale)}</p>}
      <dl className="kv">
        <div>
          <dt>{t('models.card.created')}</dt>
          <dd>{formatDateTime(locale, m.manifest.created_at)}</dd>
        </div>
        <div>
          <dt>{t('models.card.installed')}</dt>
          <dd>{formatDateTime(locale, m.installedAt)}</dd>
        </div>
        <div>
          <dt>{t('models.card.sha')}</dt>
          <dd className="mono break">{m.sha256}</dd>
        </div>
      </dl>
      <div className="card-columns">
        <div>
          <h4>{t('models.card.metrics')}</h4>
          {metrics.length === 0 ? (
            <p className="muted">—</p>
          ) : (
            <table className="data-table compact">
              <tbody>
                {metrics.map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row" title={k}>
                      {metricName(k, t)}
                    </th>
                    <td className="num mono">{formatNumber(locale, v, 4)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div>
          <h4>{t('models.card.training')}</h4>
          <p>{td.description}</p>
          <dl className="kv">
            {td.rows !== undefined && (
              <div>
                <dt>{t('models.card.rows')}</dt>
                <dd>{formatNumber(locale, td.rows)}</dd>
              </div>
            )}
            {td.source && (
              <div>
                <dt>{t('models.card.source')}</dt>
                <dd className="break">{td.source}</dd>
              </div>
            )}
            {td.license && (
              <div>
                <dt>{t('models.card.license')}</dt>
                <dd>{td.license}</dd>
              </div>
            )}
          </dl>
        </div>
      </div>
      {schema ? (
        <FeaturesTable schema={schema} locale={locale} t={t} />
      ) : (
        <p className="muted small">{t('models.card.featuresActiveOnly')}</p>
      )}
    </article>
  );
}

export default function ModelsPage() {
  const { api, settings, t, model, notify } = useApp();
  const locale = settings.locale;
  const [models, setModels] = useState<InstalledModelView[] | null>(null);
  /** The list's failure, worded when shown. */
  const [error, setError] = useState<{ error: unknown } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [path, setPath] = useState('');
  const [importing, setImporting] = useState(false);
  const [importResult, setImportResult] = useState<ImportOutcome | null>(null);
  const importResultRef = useRef<HTMLParagraphElement>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [working, setWorking] = useState(false);
  /**
   * The list, and the served model, checked against each other (the model loaded again if they differed). Both:
   * when the app follows a model activated elsewhere, the served model changes a round trip before the list does,
   * and the list still marking the previous one active is no sign the service keeps another model.
   */
  const [checkedFor, setCheckedFor] = useState<{
    models: InstalledModelView[];
    servedSha256: string;
  } | null>(null);

  const refresh = useCallback(async () => {
    try {
      setModels((await api.listModels({})).models);
      setError(null);
    } catch (e) {
      setError({ error: e });
    }
  }, [api]);

  // Read again when the app follows a model activated by another program (context.tsx): else the list would
  // still mark the previous one active, and the check below would say the service does not explain with it.
  const servedSha256 = model.info?.model.sha256;
  useEffect(() => {
    void refresh();
  }, [refresh, servedSha256]);

  // The result appears under the form, below the fold on a laptop screen: bring it into view.
  useEffect(() => {
    if (importResult) importResultRef.current?.scrollIntoView({ block: 'nearest' });
  }, [importResult]);

  // Another program may have changed the active model since the page loaded it (the CLI beside the app, another
  // workstation's page): the header, the model card and the Explain form would go on showing the old one. Loaded
  // again once per list, so that a service which keeps another model (see notServed) is not asked in a loop.
  const { info: servedInfo, reload: reloadModel } = model;
  /** The list being checked: the reload gives a new model object, which must not start a second check. */
  const checking = useRef<InstalledModelView[] | null>(null);
  useEffect(() => {
    if (!models || !servedInfo || checking.current === models) return;
    checking.current = models;
    void (async () => {
      if (activeNotServed(models, servedInfo.model)) await reloadModel();
      setCheckedFor({ models, servedSha256: servedInfo.model.sha256 });
    })();
  }, [models, servedInfo, reloadModel]);
  const notServed =
    models &&
    checkedFor?.models === models &&
    checkedFor.servedSha256 === model.info?.model.sha256 &&
    !model.loading
      ? activeNotServed(models, model.info.model)
      : null;

  const active = models?.find((m) => m.active) ?? null;
  const shown = models?.find((m) => m.ref === selected) ?? active;
  const schemaFor = (m: InstalledModelView) =>
    model.info && model.info.model.sha256 === m.sha256 ? model.info.schema : null;

  const doImport = async (e: React.FormEvent) => {
    e.preventDefault();
    const folder = folderFromInput(path);
    if (!folder) return;
    setImporting(true);
    setImportResult(null);
    const previous = active;
    try {
      const r = await api.importModel({ path: folder });
      setImportResult({ ok: true, answer: r, previous });
      await refresh();
      if (r.activated) await model.reload();
    } catch (err) {
      setImportResult({ ok: false, error: err });
    } finally {
      setImporting(false);
    }
  };

  const confirm = async () => {
    const p = pending;
    setPending(null);
    if (!p) return;
    setWorking(true);
    try {
      const r =
        p.kind === 'activate' ? await api.activateModel({ ref: p.model.ref }) : await api.rollbackModel({});
      notify(r.changed ? 'success' : 'info', (t) => switchResultText(p.kind, r, t));
      await refresh();
      await model.reload();
      setSelected(null);
    } catch (e) {
      notify('error', (t) => describeError(e, t));
    } finally {
      setWorking(false);
    }
  };

  return (
    <div className="page page-models">
      <div className="page-head">
        <h1 tabIndex={-1}>{t('models.title')}</h1>
        <p className="page-lead">{t('models.lead')}</p>
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {describeError(error.error, t)}
        </p>
      )}
      {notServed && model.info && (
        <p className="alert alert-warn" role="status" data-testid="models-not-served">
          {notServedText(notServed, model.info.model, t)}
        </p>
      )}
      <section className="card" aria-labelledby="models-list-title">
        <div className="card-head">
          <h2 id="models-list-title">{t('models.installed')}</h2>
          <span className="muted small grow-right" role="status">
            {working ? t('models.working') : ''}
          </span>
          <button
            type="button"
            className="btn"
            disabled={working || !models || models.length < 2}
            onClick={() => setPending({ kind: 'rollback' })}
            data-testid="rollback-button"
          >
            {t('models.rollback')}
          </button>
        </div>
        <div className="table-scroller">
          <table className="data-table" data-testid="models-table">
            <caption className="visually-hidden">{t('models.installed')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('models.col.model')}</th>
                <th scope="col">{t('models.col.version')}</th>
                <th scope="col">{t('models.col.installed')}</th>
                <th scope="col">{t('models.col.sha')}</th>
                <th scope="col">{t('models.col.status')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('audit.col.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {models?.map((m) => (
                <tr key={m.ref} className={m.active ? 'is-active' : ''} data-ref={m.ref}>
                  <th scope="row">{m.id}</th>
                  <td className="mono">{m.version}</td>
                  <td className="nowrap">{formatDateTime(locale, m.installedAt)}</td>
                  <td className="mono" title={m.sha256}>
                    {shortHash(m.sha256)}
                  </td>
                  <td>
                    {m.active ? (
                      <span className="pill pill-approved">{t('models.active')}</span>
                    ) : (
                      <span className="muted">{t('models.inactive')}</span>
                    )}
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => setSelected(m.ref)}
                      aria-pressed={shown?.ref === m.ref}
                    >
                      {t('models.card.show')}
                      <span className="visually-hidden"> {m.ref}</span>
                    </button>
                    {!m.active && (
                      <button
                        type="button"
                        className="btn btn-small btn-primary"
                        disabled={working}
                        onClick={() => setPending({ kind: 'activate', model: m })}
                        data-testid={`activate-${m.ref}`}
                      >
                        {t('models.activate')}
                        <span className="visually-hidden"> {m.ref}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {shown && (
        <section className="card" aria-label={t('models.card.title')}>
          <ModelCard m={shown} schema={schemaFor(shown)} locale={locale} t={t} />
        </section>
      )}

      <section className="card" aria-labelledby="models-import-title">
        <h2 id="models-import-title">{t('models.import.title')}</h2>
        <p className="muted small">{t('models.import.lead')}</p>
        <form className="inline-form" onSubmit={(e) => void doImport(e)}>
          <label className="grow">
            <span>{t('models.import.path')}</span>
            <input
              type="text"
              value={path}
              onChange={(e) => setPath(e.target.value)}
              placeholder={t('models.import.placeholder')}
              spellCheck={false}
              autoComplete="off"
              data-testid="import-path"
            />
          </label>
          <button type="submit" className="btn btn-primary" disabled={importing || !folderFromInput(path)}>
            {importing ? t('models.import.running') : t('models.import.button')}
          </button>
        </form>
        {/* Always in the page, so that screen readers announce the result when it is filled in. */}
        <div aria-live="polite" aria-atomic="true" data-testid="import-live">
          {importResult && (
            <p
              ref={importResultRef}
              className={`alert ${importResult.ok ? 'alert-success' : 'alert-error'}`}
              data-testid="import-result"
            >
              {importResult.ok
                ? importResultText(importResult.answer, importResult.previous, t)
                : describeError(importResult.error, t)}
            </p>
          )}
        </div>
      </section>

      <ConfirmDialog
        open={pending !== null}
        title={
          pending?.kind === 'rollback' ? t('models.confirmRollback.title') : t('models.confirmActivate.title')
        }
        body={
          pending?.kind === 'rollback' ? (
            <p>
              {t('models.confirmRollback.body', { model: active ? `${active.id}@${active.version}` : '' })}
            </p>
          ) : pending?.kind === 'activate' ? (
            <p>
              {t('models.confirmActivate.body', {
                from: active ? `${active.id}@${active.version}` : '—',
                to: `${pending.model.id}@${pending.model.version}`,
              })}
            </p>
          ) : null
        }
        confirm={pending?.kind === 'rollback' ? t('models.rollback') : t('models.activate')}
        cancel={t('common.cancel')}
        danger={pending?.kind === 'rollback'}
        onConfirm={() => void confirm()}
        onCancel={() => setPending(null)}
      />
    </div>
  );
}
