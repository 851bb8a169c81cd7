// The one-page report for the customer file: shown only when printing (the print stylesheet hides the rest),
// whether through the browser's print dialog or the desktop app's printToPDF. It lists at most
// REPORT_MAX_FEATURES factors (the others folded into the last row, and the report says so), so that the
// probability, the reasons, the sign-off lines and the technical footer are on page 1 whatever the top-K. The
// body is what the customer reads; the checks and how the answer was made are in the footer (ReportVerification).
import { useMemo } from 'react';
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import type { T } from '../../i18n/i18n.js';
import type { AttributionBar } from '../../lib/attribution-bars.js';
import { EChart } from '../../charts/EChart.js';
import { formatDateTime, formatScore, formatThreshold } from '../../lib/format.js';
import { attributionOption, AttributionTable } from './AttributionChart.js';
import { applicantRows } from './report-applicant.js';
import { reportBars } from './report-bars.js';
import { formatPoints } from './points.js';
import { ReportVerification } from './ReportVerification.js';
import { outputLabel, Reasons, type VerifyState } from './ResultPanel.js';

/** The printed chart's height: denser than on screen (22 px a bar), room for the axis below. */
function chartHeight(bars: number): number {
  return Math.max(120, bars * 22 + 56);
}

export function Report(props: {
  doc: ExplanationDocument;
  /** The checked values explained (the form's, which the page checks still hold them). */
  applicant: Readonly<Record<string, unknown>>;
  bars: readonly AttributionBar[];
  verify: VerifyState;
  schema: BundleSchema | undefined;
  locale: Locale;
  t: T;
}) {
  const { doc, verify, schema, locale, t } = props;
  const approved = doc.decision?.approved;
  const factors = useMemo(
    () =>
      reportBars(doc, props.bars, {
        rest: (n) => t('explain.rest', { count: n }),
        restDescription: (n) => t('explain.restDescription', { count: n }),
      }),
    [doc, props.bars, t],
  );
  const applicant = useMemo(
    () => (schema ? applicantRows(schema, props.applicant, locale, t) : []),
    [schema, props.applicant, locale, t],
  );
  const bars = factors.bars;
  const chart = useMemo(() => attributionOption(bars, 'light', t), [bars, t]);
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
          <strong className="report-score">{formatScore(locale, doc.score, doc.decision?.threshold)}</strong>
        </div>
        {doc.decision && (
          <div>
            <span className="report-label">{t('report.decision')}</span>
            <strong className={`report-verdict ${approved ? 'is-approved' : 'is-declined'}`}>
              {approved ? t('explain.approved') : t('explain.declined')}
            </strong>
            <span className="report-label">
              {t('explain.threshold', { value: formatThreshold(locale, doc.decision.threshold) })}
            </span>
          </div>
        )}
      </section>
      {applicant.length > 0 && (
        <section className="report-applicant" data-testid="report-applicant">
          <h2>{t('explain.applicant')}</h2>
          <dl>
            {applicant.map((r) => (
              <div key={r.name}>
                <dt>{r.label}</dt>
                <dd>
                  {r.value}
                  {r.imputed && <span className="tag">{t('explain.imputed')}</span>}
                </dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      <section>
        <h2>{t('report.factors')}</h2>
        <EChart
          option={chart}
          label={t('explain.tableCaption')}
          height={chartHeight(bars.length)}
          width={680}
        />
        <AttributionTable
          bars={bars}
          schema={schema}
          t={t}
          locale={locale}
          caption={t('explain.tableCaption')}
        />
        {factors.folded > 0 && (
          <p className="report-folded" data-testid="report-folded">
            {t('report.folded', {
              shown: bars.length - 1,
              count: factors.restCount,
              sum: t('explain.points', { value: formatPoints(factors.restSum) }),
            })}
          </p>
        )}
      </section>
      <Reasons doc={doc} t={t} id="report-reasons" />
      <p className="report-note">{t('report.note')}</p>
      <div className="report-sign">
        <span>{t('report.officer')}</span>
        <span>{t('report.reviewer')}</span>
        <span>{t('report.date')}</span>
      </div>
      <ReportVerification doc={doc} verify={verify} locale={locale} t={t} />
    </article>
  );
}
