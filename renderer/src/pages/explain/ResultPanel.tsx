// One explained applicant: probability and decision, the attribution chart and its table, the principal reasons
// for a decline, the completeness check, the watermark, and how the answer was made (cache level, latency).
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import type { ApiResponses } from '../../../../shared/contract.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import type { ThemeName } from '../../charts/palette.js';
import type { T } from '../../i18n/i18n.js';
import { pick } from '../../i18n/i18n.js';
import { chartLabel, type AttributionBar } from '../../lib/attribution-bars.js';
import { cacheText, methodName } from '../../lib/labels.js';
import { formatMs, formatNumber, formatSigned, formatTiny, shortHash } from '../../lib/format.js';
import { AttributionChart, AttributionTable } from './AttributionChart.js';
import { ProbabilityBar } from './ProbabilityBar.js';
import { watermarkFailureText } from './watermark-failure.js';

export type VerifyState =
  { state: 'pending' } | { state: 'done'; result: ApiResponses['verifyDocument'] } | { state: 'failed' };

/** Completeness holds when Σ attributions matches f(x) − f(baseline) to a small fraction of its size. */
export function completenessHolds(c: ExplanationDocument['completeness']): boolean {
  return Math.abs(c.delta) <= 1e-6 + 0.01 * Math.abs(c.expected);
}

export function outputLabel(schema: BundleSchema | undefined, locale: Locale, t: T): string {
  return pick(schema?.output.label, locale) || t('explain.score');
}

/** What the watermark check says: its state (a CSS class and a test's hook), an icon and the sentence. */
export function watermarkStatus(verify: VerifyState, t: T): { cls: string; icon: string; text: string } {
  return verify.state === 'pending'
    ? { cls: 'pending', icon: '…', text: t('explain.watermark.pending') }
    : verify.state === 'failed'
      ? { cls: 'unknown', icon: '?', text: t('explain.watermark.unknown') }
      : verify.result.ok
        ? { cls: 'ok', icon: '✓', text: t('explain.watermark.ok') }
        : {
            cls: 'bad',
            icon: '✕',
            text: t('explain.watermark.bad', { reason: watermarkFailureText(verify.result, t) }),
          };
}

export function Watermark({ verify, doc, t }: { verify: VerifyState; doc: ExplanationDocument; t: T }) {
  const status = watermarkStatus(verify, t);
  return (
    <div className={`check check-${status.cls}`} data-testid="watermark" data-state={status.cls}>
      <span className="check-icon" aria-hidden="true">
        {status.icon}
      </span>
      <div>
        <div className="check-title">{status.text}</div>
        <div className="check-detail mono" title={doc._meta.watermark}>
          {doc._meta.alg} · {t('explain.watermark.key')} {doc._meta.key_id} · {shortHash(doc._meta.watermark)}
        </div>
      </div>
    </div>
  );
}

export function Completeness({ doc, locale, t }: { doc: ExplanationDocument; locale: Locale; t: T }) {
  const c = doc.completeness;
  const ok = completenessHolds(c);
  const n = (v: number) => formatNumber(locale, v, 4);
  return (
    <div
      className={`check check-${ok ? 'ok' : 'warn'}`}
      data-testid="completeness"
      data-state={ok ? 'ok' : 'warn'}
    >
      <span className="check-icon" aria-hidden="true">
        {ok ? '✓' : '!'}
      </span>
      <div>
        <div className="check-title">
          {ok ? t('explain.completeness.ok') : t('explain.completeness.warn')}
        </div>
        <div className="check-detail">
          {t('explain.completeness.formula', {
            sum: formatSigned(c.sum, 4),
            score: n(doc.score),
            baseline: n(doc.baseline_score),
            expected: formatSigned(c.expected, 4),
          })}
        </div>
        <div className="check-detail">
          {t('explain.completeness.delta')} <span className="mono">{formatTiny(c.delta)}</span>
        </div>
      </div>
    </div>
  );
}

export function MetaLine({ doc, locale, t }: { doc: ExplanationDocument; locale: Locale; t: T }) {
  const p = doc.meta.explanation.params;
  return (
    <dl className="meta-line" data-testid="meta">
      <div>
        <dt>{t('explain.meta.cache')}</dt>
        <dd data-testid="cache-level">{cacheText(doc.meta.cache, t)}</dd>
      </div>
      <div>
        <dt>{t('explain.meta.latency')}</dt>
        <dd>{formatMs(locale, doc.meta.latency_ms)}</dd>
      </div>
      <div>
        <dt>{t('explain.meta.method')}</dt>
        <dd>{t('explain.meta.methodValue', { method: methodName(p.method, t), steps: p.n_steps })}</dd>
      </div>
      <div>
        <dt>{t('explain.meta.backend')}</dt>
        <dd className="mono">{doc.meta.backend}</dd>
      </div>
      <div>
        <dt>{t('explain.meta.model')}</dt>
        <dd className="mono">
          {doc.model.id}@{doc.model.version}
        </dd>
      </div>
      <div>
        <dt>{t('explain.meta.document')}</dt>
        <dd className="mono" title={doc.id}>
          {doc.id.slice(0, 8)}
        </dd>
      </div>
    </dl>
  );
}

export function Reasons({ doc, t, id = 'reasons' }: { doc: ExplanationDocument; t: T; id?: string }) {
  const declined = doc.decision && !doc.decision.approved;
  return (
    <section className="reasons" aria-labelledby={`${id}-title`} data-testid={id}>
      <h3 id={`${id}-title`}>{declined ? t('explain.reasons.declined') : t('explain.reasons.adverse')}</h3>
      {doc.reasons.length === 0 ? (
        <p className="muted">{t('explain.reasons.none')}</p>
      ) : (
        // In the document's language, which is not the page's after a change of language (a batch's rows).
        <ol lang={doc.meta.locale}>
          {doc.reasons.map((r) => (
            <li key={r.feature}>{r.description}</li>
          ))}
        </ol>
      )}
    </section>
  );
}

export interface ResultPanelProps {
  doc: ExplanationDocument;
  bars: readonly AttributionBar[];
  verify: VerifyState;
  schema: BundleSchema | undefined;
  locale: Locale;
  theme: ThemeName;
  t: T;
  showAll: boolean;
  busy: boolean;
  /** The form no longer holds this applicant: shown as out of date, not to be printed or exported. */
  stale?: boolean;
  /** Why it is out of date (another model or other settings since); the edited form's line when not given. */
  staleText?: string | undefined;
  onToggleAll(): void;
  onExport(): void;
  onPrint(): void;
  onChartDrawn(): void;
  /** The result's heading, focused when the page brings a new result into view (reveal-result.ts). */
  headingRef?: React.Ref<HTMLHeadingElement>;
}

export function ResultPanel(props: ResultPanelProps) {
  const { doc, bars, verify, schema, locale, theme, t } = props;
  return (
    <section
      className={`result ${props.stale ? 'result-stale' : ''}`}
      aria-labelledby="result-title"
      aria-busy={props.busy}
      data-testid="result"
      data-stale={props.stale ? 'true' : undefined}
    >
      <div className="result-head">
        <h2 id="result-title" tabIndex={-1} ref={props.headingRef}>
          {t('explain.resultTitle')}
        </h2>
        <div className="toolbar">
          <button
            type="button"
            className="btn"
            // Still focusable while busy (aria-disabled), so that the keyboard focus stays on it.
            onClick={() => !props.busy && props.onToggleAll()}
            aria-disabled={props.busy || undefined}
            disabled={props.stale}
            aria-pressed={props.showAll}
          >
            {props.showAll ? t('explain.showTopK') : t('explain.showAll')}
          </button>
          <button type="button" className="btn" onClick={props.onExport} disabled={props.stale}>
            {t('explain.exportJson')}
          </button>
          <button type="button" className="btn" onClick={props.onPrint} disabled={props.stale}>
            {t('explain.print')}
          </button>
        </div>
      </div>
      {props.stale && (
        <p className="alert alert-warn" role="status" data-testid="result-stale">
          {props.staleText ?? t('explain.staleResult')}
        </p>
      )}

      <ProbabilityBar doc={doc} label={outputLabel(schema, locale, t)} locale={locale} t={t} />

      <div className="card-section">
        <h3>
          {props.showAll || doc.rest_count === 0
            ? t('explain.chartTitleAll', { count: doc.attributions.length })
            : t('explain.chartTitle', { count: doc.attributions.length })}
        </h3>
        <div className="legend" aria-hidden="true">
          <span>
            <span className="swatch swatch-positive" />
            {t('explain.legend.positive')}
          </span>
          <span>
            <span className="swatch swatch-negative" />
            {t('explain.legend.negative')}
          </span>
          {doc.rest_count > 0 && (
            <span>
              <span className="swatch swatch-rest" />
              {t('explain.legend.rest')}
            </span>
          )}
        </div>
        <AttributionChart
          bars={bars}
          theme={theme}
          t={t}
          label={chartLabel(bars, t)}
          testId="attribution-chart"
          onDrawn={props.onChartDrawn}
        />
        <details className="table-alt">
          <summary>{t('common.showTable')}</summary>
          <AttributionTable
            bars={bars}
            schema={schema}
            t={t}
            locale={locale}
            caption={t('explain.tableCaption')}
          />
        </details>
      </div>

      <Reasons doc={doc} t={t} />

      <section className="descriptions" aria-labelledby="descriptions-title">
        <h3 id="descriptions-title">{t('explain.descriptions')}</h3>
        <ul>
          {bars
            .filter((b) => b.kind !== 'rest')
            .map((b) => (
              <li key={b.key} className={`description description-${b.kind}`}>
                <span className={`swatch swatch-${b.kind}`} aria-hidden="true" />
                <span>
                  <span lang={b.docLocale}>{b.description}</span>
                  {b.masked && <span className="tag tag-sensitive">{t('explain.masked')}</span>}
                </span>
              </li>
            ))}
        </ul>
      </section>

      <div className="checks">
        <Completeness doc={doc} locale={locale} t={t} />
        <Watermark verify={verify} doc={doc} t={t} />
      </div>
      <MetaLine doc={doc} locale={locale} t={t} />
    </section>
  );
}
