// The one-page report for the customer file: shown only when printing (the print stylesheet hides the rest),
// whether through the browser's print dialog or the desktop app's printToPDF.
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import type { T } from '../../i18n/i18n.js';
import type { AttributionBar } from '../../lib/attribution-bars.js';
import { formatDateTime, formatPercent } from '../../lib/format.js';
import { AttributionChart, AttributionTable } from './AttributionChart.js';
import { Completeness, MetaLine, outputLabel, Reasons, Watermark, type VerifyState } from './ResultPanel.js';

export function Report(props: {
  doc: ExplanationDocument;
  bars: readonly AttributionBar[];
  verify: VerifyState;
  schema: BundleSchema | undefined;
  locale: Locale;
  t: T;
}) {
  const { doc, bars, verify, schema, locale, t } = props;
  const approved = doc.decision?.approved;
  return (
    <article className="report" aria-hidden="true" data-testid="report">
      <header className="report-head">
        <div>
          <div className="report-brand">BranchLens</div>
          <div className="report-title">{t('report.title')}</div>
        </div>
        <dl className="report-ids">
          <div>
            <dt>{t('report.printed')}</dt>
            <dd>{formatDateTime(locale, new Date())}</dd>
          </div>
          <div>
            <dt>{t('report.explained')}</dt>
            <dd>{formatDateTime(locale, doc.created_at)}</dd>
          </div>
          <div>
            <dt>{t('explain.meta.document')}</dt>
            <dd className="mono">{doc.id}</dd>
          </div>
        </dl>
      </header>
      <section className="report-decision">
        <div>
          <span className="report-label">{outputLabel(schema, locale, t)}</span>
          <strong className="report-score">{formatPercent(locale, doc.score)}</strong>
        </div>
        {doc.decision && (
          <div>
            <span className="report-label">{t('report.decision')}</span>
            <strong className={`report-verdict ${approved ? 'is-approved' : 'is-declined'}`}>
              {approved ? t('explain.approved') : t('explain.declined')}
            </strong>
            <span className="report-label">
              {t('explain.threshold', { value: formatPercent(locale, doc.decision.threshold, 0) })}
            </span>
          </div>
        )}
      </section>
      <section>
        <h2>{t('report.factors')}</h2>
        <AttributionChart bars={bars} theme="light" t={t} label={t('explain.tableCaption')} width={680} />
        <AttributionTable
          bars={bars}
          schema={schema}
          t={t}
          locale={locale}
          caption={t('explain.tableCaption')}
        />
      </section>
      <Reasons doc={doc} t={t} id="report-reasons" />
      <div className="checks">
        <Completeness doc={doc} locale={locale} t={t} />
        <Watermark verify={verify} doc={doc} t={t} />
      </div>
      <MetaLine doc={doc} locale={locale} t={t} />
      <p className="report-note">{t('report.note')}</p>
      <footer className="report-sign">
        <span>{t('report.officer')}</span>
        <span>{t('report.reviewer')}</span>
        <span>{t('report.date')}</span>
      </footer>
    </article>
  );
}
