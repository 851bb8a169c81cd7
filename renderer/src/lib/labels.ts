// Labels in the user's language: the explainer's methods, cache levels, and the masked features' pseudonyms.
import type { MessageKey } from '../../../shared/i18n/index.js';
import { maskedFeatureTags, PSEUDONYM_PREFIX } from '../../../shared/masked-features.js';
import type { T } from '../i18n/i18n.js';

const METHOD_KEYS: Record<string, MessageKey> = {
  gausslegendre: 'method.gausslegendre',
  riemann_left: 'method.riemann_left',
  riemann_right: 'method.riemann_right',
  riemann_middle: 'method.riemann_middle',
  riemann_trapezoid: 'method.riemann_trapezoid',
};

export function methodName(method: string, t: T): string {
  const key = METHOD_KEYS[method];
  return key ? t(key) : method;
}

/** A cache level (explanation documents, audit entries) in the user's language. */
export function cacheText(level: string | null | undefined, t: T): string {
  switch (level) {
    case 'miss':
      return t('explain.cache.miss');
    case 'memory':
      return t('explain.cache.memory');
    case 'disk':
      return t('explain.cache.disk');
    case null:
    case undefined:
      return '—';
    default:
      return level;
  }
}

/** How a sensitive feature's keyed pseudonym begins: "sensitive_" and 12 hex digits. */
export { PSEUDONYM_PREFIX };

/**
 * How a page names the masked features it shows: its wording for a masked feature (`masked`, e.g. "敏感特征（已脱敏）")
 * and a tag from each one's keyed pseudonym ("sensitive_3fa2c1d0e9ab" → "敏感特征（已脱敏） #3fa2"), so that two of
 * them do not read the same. Never the feature's name: the pseudonym is an HMAC of it with the installation's key.
 *
 * The tag, not a number: it is the same on every page, in every answer and after a reload, and it is found in the
 * audit log and the exports, which give the pseudonym whole, and in the documents' own descriptions of masked
 * features ("Sensitive feature masked (#3fa2)"), which follow the same rule (shared/masked-features.ts). A number
 * says where a feature comes among those it is numbered with, and the pages see different ones: a document only
 * those its top-K kept, so that "1" would be Income in one answer and Assets in the next.
 *
 * `pseudonyms`: the masked features the page shows together. Where two share their first digits, those two show
 * as many more as tell them apart.
 */
export function maskedFeatureLabels(pseudonyms: Iterable<string>, masked: string): Map<string, string> {
  const tags = maskedFeatureTags(pseudonyms);
  return new Map([...tags].map(([name, tag]) => [name, `${masked} #${tag}`]));
}
