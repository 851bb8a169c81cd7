// What an import did, in the user's language, from the API's structured answer (status, model, activation)
// rather than the server's English sentence.
import type { ApiResponses, ModelRef } from '../../../../shared/contract.js';
import type { T } from '../../i18n/i18n.js';
import { shortHash } from '../../lib/format.js';

type ImportAnswer = ApiResponses['importModel'];
type SwitchAnswer = ApiResponses['activateModel'] | ApiResponses['rollbackModel'];

const refOf = (m: Pick<ModelRef, 'id' | 'version'>) => `${m.id}@${m.version}`;

/** `previous`: the model that was active before the import, if any (the one an activating import replaced). */
export function importResultText(r: ImportAnswer, previous: ModelRef | null, t: T): string {
  const model = refOf(r.model);
  let what: string;
  switch (r.status) {
    case 'installed':
      what = t('models.import.installed', { model, sha: shortHash(r.model.sha256) });
      break;
    case 'already_installed':
      what = t('models.import.alreadyInstalled', { model });
      break;
    case 'repaired':
      what = t('models.import.repaired', { model });
      break;
    default:
      // A status this UI does not know yet: the server's own words are better than nothing.
      return t('models.import.done', { model, message: r.message });
  }
  if (!r.activated) return what;
  const wasOther = previous && refOf(previous) !== model;
  return wasOther
    ? t('models.import.activatedWas', { what, previous: refOf(previous) })
    : t('models.import.activated', { what });
}

/** What an activation or a rollback did, in the user's language (not the server's English `message`). */
export function switchResultText(kind: 'activate' | 'rollback', r: SwitchAnswer, t: T): string {
  const model = refOf(r.model);
  if (!r.changed) return t('models.alreadyActive', { model });
  return t(kind === 'activate' ? 'models.activated' : 'models.rolledBack', { model });
}
