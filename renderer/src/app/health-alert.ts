// What the service's health says the officer must know before explaining: a damaged database, one that cannot be
// used, a full disk, no engine running. Each is a banner on every page until a health read says all is well again;
// the server's own sentence (in English, naming the file) goes with it as a detail. Pure: context.tsx keeps the
// alert, HealthBanner.tsx draws it.
import type { HealthView } from '../../../shared/contract.js';
import type { MessageKey } from '../../../shared/i18n/index.js';

/** What is wrong, as far as the UI words it differently. */
export type HealthConcern = 'damaged' | 'database' | 'diskFull' | 'engines';

export interface HealthAlert {
  concern: HealthConcern;
  /** The server's sentence (English), when it gave one. */
  detail?: string;
}

/** The banner's sentence for each concern. */
export const HEALTH_ALERT_KEYS: Readonly<Record<HealthConcern, MessageKey>> = {
  damaged: 'health.damaged',
  database: 'health.database',
  diskFull: 'health.diskFull',
  engines: 'health.engines',
};

function concernOf(health: Pick<HealthView, 'status' | 'database' | 'problem'>): HealthConcern | null {
  switch (health.database) {
    case 'full':
      return 'diskFull';
    case 'error':
      // The service gives a sentence with 'error' only for what its integrity check found (service.ts health());
      // without one the database failed otherwise (a file moved under it, its writer stopped): restoring a backup
      // would be the wrong advice there.
      return health.problem ? 'damaged' : 'database';
    case 'ok':
      // Degraded with a sound database: no engine is running, and every explain is refused as busy.
      return health.status === 'degraded' ? 'engines' : null;
  }
}

/** The alert a health answer calls for, or null when there is nothing to say. */
export function healthAlert(health: Pick<HealthView, 'status' | 'database' | 'problem'>): HealthAlert | null {
  const concern = concernOf(health);
  if (!concern) return null;
  return health.problem ? { concern, detail: health.problem } : { concern };
}

export function sameHealthAlert(a: HealthAlert | null, b: HealthAlert | null): boolean {
  return a === b || (a !== null && b !== null && a.concern === b.concern && a.detail === b.detail);
}

/**
 * The alert to show after a health read: `shown` itself when nothing changed (so that the banner is not drawn, nor
 * announced, again at each poll), and `shown` as well when the read failed. An unreachable service says nothing
 * about its database, and the header's badge and each failed call already say that it cannot be reached.
 */
export function nextHealthAlert(
  shown: HealthAlert | null,
  read: PromiseSettledResult<Pick<HealthView, 'status' | 'database' | 'problem'>>,
): HealthAlert | null {
  if (read.status === 'rejected') return shown;
  const next = healthAlert(read.value);
  return sameHealthAlert(shown, next) ? shown : next;
}
