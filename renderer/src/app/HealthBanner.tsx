// The banner of a damaged database, a full disk or no running engine, on top of every page until a health read
// says all is well again (health-alert.ts decides what it says). Not a dialog: the officer may still read the audit
// log or print what was explained. Its sentence is announced when it appears or changes (role="alert"); the
// server's sentence is a detail outside the alert, since a full disk's changes at each read (the bytes free), and
// is in English (lang="en", so that a screen reader reads it as English).
import { useApp } from './context.js';
import { HEALTH_ALERT_KEYS } from './health-alert.js';

export function HealthBanner() {
  const { healthAlert, t } = useApp();
  if (!healthAlert) return null;
  return (
    <div
      className="alert alert-error health-banner"
      data-testid="health-banner"
      data-concern={healthAlert.concern}
    >
      <p role="alert">{t(HEALTH_ALERT_KEYS[healthAlert.concern])}</p>
      {healthAlert.detail && (
        <details className="health-banner-detail">
          <summary>{t('health.detail')}</summary>
          <p lang="en" className="mono">
            {healthAlert.detail}
          </p>
        </details>
      )}
    </div>
  );
}
