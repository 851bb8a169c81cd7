// The UI's strings (shared/i18n) for the current language, and a bundle's own localized texts.
import type { Locale, Localized } from '../../../shared/bundle.js';
import { translate, type MessageKey, type MessageParams } from '../../../shared/i18n/index.js';

export type T = (key: MessageKey, params?: MessageParams) => string;

export function makeT(locale: Locale): T {
  return (key, params) => translate(locale, key, params);
}

/** A bundle's localized text (labels, units, descriptions) in `locale`, falling back to the other language. */
export function pick(text: Localized | undefined, locale: Locale): string {
  if (!text) return '';
  return text[locale] || text['zh-CN'] || text.en;
}
