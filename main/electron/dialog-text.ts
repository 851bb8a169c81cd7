// The words of the desktop app's native dialogs (save, cannot start, the rollback offer) in the user's language:
// the settings' locale once the service is open, else the OS's. Pure, so that it is tested without Electron.
import { LOCALES, type Locale } from '../../shared/bundle.js';
import { translate } from '../../shared/i18n/index.js';

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

/** The offer to roll back when the active model cannot be loaded; `detail` is the bundle's problems. */
export function rollbackOfferText(locale: Locale, detail: string) {
  return {
    message: translate(locale, 'desktop.modelUnloadable'),
    detail,
    buttons: [translate(locale, 'desktop.rollBack'), translate(locale, 'desktop.quit')],
  };
}
