// Names of the explainer's settings in the user's language.
import type { MessageKey } from '../../../shared/i18n/index.js';
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
