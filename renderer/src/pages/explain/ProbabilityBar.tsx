// The approval probability on a 0–100 % bar with the model's threshold marked, and the decision it gives.
import type { Locale } from '../../../../shared/bundle.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import type { T } from '../../i18n/i18n.js';
import { formatScore, formatThreshold } from '../../lib/format.js';

/** What a screen reader is told when an explanation arrives: the decision, the probability and the threshold. */
export function resultAnnouncement(doc: ExplanationDocument, label: string, locale: Locale, t: T): string {
  const probability = formatScore(locale, Math.min(1, Math.max(0, doc.score)), doc.decision?.threshold);
  if (!doc.decision) return t('explain.announceScore', { label, probability });
  return t('explain.announceDecision', {
    decision: doc.decision.approved ? t('explain.approved') : t('explain.declined'),
    label,
    probability,
    threshold: t('explain.threshold', { value: formatThreshold(locale, doc.decision.threshold) }),
  });
}

export function ProbabilityBar(props: { doc: ExplanationDocument; label: string; locale: Locale; t: T }) {
  const { doc, locale, t } = props;
  const p = Math.min(1, Math.max(0, doc.score));
  const threshold = doc.decision?.threshold;
  const approved = doc.decision?.approved;
  const shown = formatScore(locale, p, threshold);
  const state = approved === undefined ? 'neutral' : approved ? 'approved' : 'declined';
  return (
    <div className={`probability probability-${state}`} data-testid="probability">
      <div className="probability-head">
        <div>
          <div className="probability-label">{props.label}</div>
          <div className="probability-value" data-testid="probability-value">
            {shown}
          </div>
        </div>
        {doc.decision && (
          // Not a live region: the page announces the decision with the probability (resultAnnouncement).
          <div className={`decision decision-${state}`} data-testid="decision">
            <span className="decision-icon" aria-hidden="true">
              {approved ? '✓' : '✕'}
            </span>
            {approved ? t('explain.approved') : t('explain.declined')}
          </div>
        )}
      </div>
      <div
        className="probability-track"
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(p * 1000) / 10}
        aria-valuetext={shown}
      >
        <div className="probability-fill" style={{ width: `${p * 100}%` }} />
        {threshold !== undefined && (
          <div className="probability-threshold" style={{ left: `${threshold * 100}%` }} aria-hidden="true" />
        )}
      </div>
      <div className="probability-scale" aria-hidden="true">
        <span>0%</span>
        {threshold !== undefined && (
          <span className="probability-threshold-label" style={{ left: `${threshold * 100}%` }}>
            {t('explain.threshold', { value: formatThreshold(locale, threshold) })}
          </span>
        )}
        <span>100%</span>
      </div>
      {threshold !== undefined && (
        <p className="visually-hidden">
          {t('explain.threshold', { value: formatThreshold(locale, threshold) })}
        </p>
      )}
    </div>
  );
}
