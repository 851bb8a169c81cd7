// A settings change's entry (kind settings_change, details {"changes": {"n_steps": {"from": 50, "to": 64}}}) as
// the Audit page words it: each setting by the Settings page's label, from → to, a method by its name and a
// top-K of 0 as "all". A change the page does not know (a later version's setting) shows as recorded.
import type { AuditEntryView } from '../../../../shared/contract.js';
import type { MessageKey } from '../../../../shared/i18n/index.js';
import type { T } from '../../i18n/i18n.js';
import { methodName } from '../../lib/labels.js';

const LABELS: Record<string, MessageKey> = {
  method: 'settings.method',
  n_steps: 'settings.steps',
  top_k: 'settings.topK',
};

function valueText(setting: string, value: unknown, t: T): string {
  if (setting === 'method' && typeof value === 'string') return methodName(value, t);
  if (setting === 'top_k' && value === 0) return t('settings.topKAll');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The changes an entry records, one [label, "from → to"] each, in the order recorded; [] for any other entry. */
export function settingsChangeRows(
  entry: Pick<AuditEntryView, 'kind' | 'details'>,
  t: T,
): [string, string][] {
  if (entry.kind !== 'settings_change') return [];
  const changes = entry.details?.changes;
  if (!changes || typeof changes !== 'object' || Array.isArray(changes)) return [];
  return Object.entries(changes).map(([setting, change]) => {
    const { from, to } = (change ?? {}) as { from?: unknown; to?: unknown };
    const key = LABELS[setting];
    return [key ? t(key) : setting, `${valueText(setting, from, t)} → ${valueText(setting, to, t)}`];
  });
}
