// The words of the desktop app's native dialogs (save, cannot start, the rollback offer) in the user's language:
// the settings' locale once the service is open, else the OS's. Pure, so that it is tested without Electron.
import { LOCALES, type Locale } from '../../shared/bundle.js';
import { translate } from '../../shared/i18n/index.js';
import { wordedProblems, type Translate } from '../../shared/i18n/problems.js';
import type { Problem } from '../../shared/problems.js';

/** The settings' locale when there is one; else the OS locale's language (Electron: app.getLocale()), else English. */
export function desktopLocale(settings: Locale | undefined, osLocale: string): Locale {
  if (settings && (LOCALES as readonly string[]).includes(settings)) return settings;
  return /^zh\b/i.test(osLocale) ? 'zh-CN' : 'en';
}

/** The "cannot start" error box: the problem as the app words it, and where the log with the details is. */
export function cannotStartText(locale: Locale, message: string, logPath: string | null | undefined) {
  return {
    title: translate(locale, 'desktop.cannotStart'),
    content: logPath ? `${message}\n\n${translate(locale, 'desktop.logFile', { path: logPath })}` : message,
  };
}

/**
 * The offer to roll back when the active model cannot be loaded: the bundle's problems as the detail, one a line,
 * worded from their reasons (the service's English where a problem has none).
 */
export function rollbackOfferText(locale: Locale, error: { message: string; problems?: readonly Problem[] }) {
  const t: Translate = (key, params) => translate(locale, key, params);
  return {
    message: t('desktop.modelUnloadable'),
    detail: wordedProblems(error.problems, t)?.lines.join('\n') ?? error.message,
    buttons: [t('desktop.rollBack'), t('desktop.quit')],
  };
}
