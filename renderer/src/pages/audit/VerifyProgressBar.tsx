// The bar "Verify chain" shows while the check runs. The service runs one verification at a time (auditVerify) and
// says how far it has got (auditVerifyProgress); useVerifyProgress asks it every POLL_MS while the page waits.
import { useEffect, useState } from 'react';
import type { Api } from '../../../../shared/contract.js';
import type { Locale } from '../../../../shared/bundle.js';
import type { T } from '../../i18n/i18n.js';
import { formatNumber, formatPercent } from '../../lib/format.js';
import { POLL_MS, secondsLeft, type Running } from './verify-progress.js';

/**
 * The running verification's progress while `active`, asked for every POLL_MS (the first time after POLL_MS, so a
 * check that ends sooner shows no bar); null before the first answer and once inactive. A failed ask is skipped:
 * the verification's own call reports what went wrong.
 */
export function useVerifyProgress(api: Api, active: boolean): Running | null {
  const [progress, setProgress] = useState<Running | null>(null);
  useEffect(() => {
    if (!active) {
      setProgress(null);
      return;
    }
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const ask = () => {
      api.auditVerifyProgress({}).then(
        (p) => {
          if (stopped) return;
          if (p.running) setProgress(p);
          timer = setTimeout(ask, POLL_MS);
        },
        () => {
          if (!stopped) timer = setTimeout(ask, POLL_MS);
        },
      );
    };
    timer = setTimeout(ask, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, active]);
  return progress;
}

export function VerifyProgressBar({ progress, locale, t }: { progress: Running; locale: Locale; t: T }) {
  const fraction = progress.total > 0 ? progress.done / progress.total : 0;
  const left = secondsLeft(progress);
  const text = t('audit.verify.progress', {
    done: formatNumber(locale, progress.done),
    total: formatNumber(locale, progress.total),
    elapsed: formatNumber(locale, progress.elapsed_ms / 1000, 1),
  });
  return (
    <div className="progress-block verify-progress" data-testid="audit-verify-progress">
      <div className="progress-line">
        <label htmlFor="audit-verify-bar">{t('audit.verify.progressLabel')}</label>
        <span>{formatPercent(locale, fraction, 0)}</span>
      </div>
      <progress id="audit-verify-bar" max={Math.max(progress.total, 1)} value={progress.done} />
      <p className="muted small" data-testid="audit-verify-progress-text">
        {text}
        {left !== null && ` · ${t('audit.verify.left', { left: formatNumber(locale, Math.ceil(left), 0) })}`}
      </p>
    </div>
  );
}
