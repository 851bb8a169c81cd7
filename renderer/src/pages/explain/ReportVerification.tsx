// The printed report's technical footer, "For verification": what an auditor or the branch's IT checks (the
// model and how the answer was made, the completeness check, the watermark and how to verify it), set apart in
// small type at the bottom of the page, so that the body the customer reads holds the decision and its reasons.
import type { Locale } from '../../../../shared/bundle.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import type { T } from '../../i18n/i18n.js';
import { formatNumber, formatSigned, formatTiny, shortHash } from '../../lib/format.js';
import { completenessHolds, MetaLine, watermarkStatus, type VerifyState } from './ResultPanel.js';

export function ReportVerification(props: {
  doc: ExplanationDocument;
  verify: VerifyState;
  locale: Locale;
  t: T;
}) {
  const { doc, locale, t } = props;
  const c = doc.completeness;
  const holds = completenessHolds(c);
  const n = (v: number) => formatNumber(locale, v, 4);
  const watermark = watermarkStatus(props.verify, t);
  return (
    <footer className="report-verify" data-testid="report-verify" aria-labelledby="report-verify-title">
      <h2 id="report-verify-title">{t('report.verify.title')}</h2>
      <MetaLine doc={doc} locale={locale} t={t} />
      <p data-testid="completeness" data-state={holds ? 'ok' : 'warn'}>
        {holds ? t('explain.completeness.ok') : t('explain.completeness.warn')}
        {t('common.colon')}
        {t('explain.completeness.formula', {
          sum: formatSigned(c.sum, 4),
          score: n(doc.score),
          baseline: n(doc.baseline_score),
          expected: formatSigned(c.expected, 4),
        })}
        {' · '}
        {t('explain.completeness.delta')} <span className="mono">{formatTiny(c.delta)}</span>
      </p>
      <p data-testid="watermark" data-state={watermark.cls}>
        {watermark.text}
        {' · '}
        <span className="mono">
          {doc._meta.alg} · {t('explain.watermark.key')} {doc._meta.key_id} · {shortHash(doc._meta.watermark)}
        </span>
        {' · '}
        {t('report.verify.how')}
      </p>
    </footer>
  );
}
