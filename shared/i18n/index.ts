// The branch UI's strings in every supported language. zh-CN is the source: its keys are the message keys,
// and every other language must give each of them (the compiler checks, test/renderer/i18n.test.ts too).
// Parameters are written {name} and filled in by translate().
import type { Locale } from '../bundle.js';
import { en } from './en.js';
import { zhCN, type MessageKey } from './zh-CN.js';

export type { MessageKey } from './zh-CN.js';
export type Messages = Readonly<Record<MessageKey, string>>;
export type MessageParams = Readonly<Record<string, string | number>>;

export const MESSAGES: Readonly<Record<Locale, Messages>> = { 'zh-CN': zhCN, en };

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

/** The names of the {placeholders} in a message, in order of appearance. */
export function placeholders(message: string): string[] {
  return [...message.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** The message for `key` in `locale`, with its {placeholders} filled in (an unknown one is left as written). */
export function translate(locale: Locale, key: MessageKey, params?: MessageParams): string {
  const message = MESSAGES[locale]?.[key] ?? zhCN[key] ?? key;
  if (!params) return message;
  return message.replace(PLACEHOLDER, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}
