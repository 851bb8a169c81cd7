// Whether the service explains with the registry's active model. Another program on the same data folder (the
// CLI beside the app, another workstation's page on the branch server) may activate, roll back or import one:
// the service follows within seconds, but a page holds the model it loaded until it asks again.
import type { InstalledModelView, ModelRef } from '../../../../shared/contract.js';
import type { T } from '../../i18n/i18n.js';

const refOf = (m: Pick<ModelRef, 'id' | 'version'>) => `${m.id}@${m.version}`;

/** The registry's active model when it is not `served` (the model the page loaded), else null. */
export function activeNotServed(
  models: readonly InstalledModelView[],
  served: Pick<ModelRef, 'sha256'> | null | undefined,
): InstalledModelView | null {
  const active = models.find((m) => m.active);
  return active && served && active.sha256 !== served.sha256 ? active : null;
}

/** Why the list's active model is not the one explaining, in the user's language. */
export function notServedText(active: ModelRef, served: ModelRef, t: T): string {
  return t('models.notServed', { active: refOf(active), served: refOf(served) });
}
