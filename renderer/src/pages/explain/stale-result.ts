// Whether the result shown still answers for what the page would ask now, and if not, why, in one line: the
// active model changed (another program activated one), the explain settings changed (IT, another workstation), or
// the form was edited. A stale result is marked so and is not printed or exported until explained again. Pure.
import type { Locale } from '../../../../shared/bundle.js';
import type { ModelRef, Settings } from '../../../../shared/contract.js';
import type { T } from '../../i18n/i18n.js';
import { methodName } from '../../lib/labels.js';
import { featureLabel } from '../../lib/problem-text.js';
import type { SchemaChanges } from './form-state.js';

export type ExplainSettings = Pick<Settings, 'top_k' | 'method' | 'n_steps'>;

/** What a result was asked with: the model that answered (the document's), and the options sent. */
export interface ExplainedWith {
  model: Pick<ModelRef, 'id' | 'version' | 'sha256'>;
  options: ExplainSettings;
  /** Asked with every feature (top_k 0) by "Show all features", whatever the settings' top-K. */
  showAll: boolean;
}

export type StaleReason =
  | { kind: 'model'; explained: string; active: string }
  | { kind: 'settings'; explained: ExplainSettings; current: ExplainSettings; showAll: boolean }
  | { kind: 'form' };

const refOf = (m: Pick<ModelRef, 'id' | 'version'>) => `${m.id}@${m.version}`;

/**
 * Why the result is out of date, or null. `active`: the model the page now shows (undefined while it loads: not a
 * reason); `formHolds`: whether the form still holds the applicant explained.
 */
export function staleReason(
  result: ExplainedWith,
  active: Pick<ModelRef, 'id' | 'version' | 'sha256'> | undefined,
  settings: ExplainSettings,
  formHolds: boolean,
): StaleReason | null {
  if (active && active.sha256 !== result.model.sha256) {
    return { kind: 'model', explained: refOf(result.model), active: refOf(active) };
  }
  const o = result.options;
  if (
    o.method !== settings.method ||
    o.n_steps !== settings.n_steps ||
    (!result.showAll && o.top_k !== settings.top_k)
  ) {
    return { kind: 'settings', explained: o, current: settings, showAll: result.showAll };
  }
  return formHolds ? null : { kind: 'form' };
}

/** Settings as the form's note words them, with the method: "Gauss–Legendre · Top 5 · 50 steps". */
export function settingsText(s: ExplainSettings, all: boolean, t: T): string {
  const note =
    all || s.top_k === 0
      ? t('explain.settingsNoteAll', { steps: s.n_steps })
      : t('explain.settingsNote', { k: s.top_k, steps: s.n_steps });
  return t('explain.explainedWith', { method: methodName(s.method, t), note });
}

/** The one line shown over a stale result, in the page's language. */
export function staleText(reason: StaleReason, t: T): string {
  switch (reason.kind) {
    case 'model':
      return t('explain.staleModel', { explained: reason.explained, active: reason.active });
    case 'settings':
      return t('explain.staleSettings', {
        explained: settingsText(reason.explained, reason.showAll, t),
        current: settingsText(reason.current, false, t),
      });
    case 'form':
      return t('explain.staleResult');
  }
}

/** The one line saying that the newly active model's form differs from the one the officer was filling in. */
export function schemaChangedText(model: string, changes: SchemaChanges, locale: Locale, t: T): string {
  const names = (fs: SchemaChanges['added']) =>
    fs.map((f) => featureLabel(f, locale)).join(t('common.listSeparator'));
  const parts = [
    changes.added.length > 0 && t('explain.schemaAdded', { fields: names(changes.added) }),
    changes.removed.length > 0 && t('explain.schemaRemoved', { fields: names(changes.removed) }),
    changes.changed.length > 0 && t('explain.schemaRuleChanged', { fields: names(changes.changed) }),
  ].filter((p): p is string => typeof p === 'string');
  return t('explain.schemaChanged', { model, changes: parts.join(t('error.problemSeparator')) });
}
