// The app's own origin: pages are served from app://branchlens/ (a privileged custom scheme), never file://.
// Sender checks, navigation rules and the protocol handler all compare against this one definition.
export const APP_SCHEME = 'app';
export const APP_HOST = 'branchlens';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_START_URL = `${APP_ORIGIN}/index.html`;

/** True when `url` is a page of the app itself (app://branchlens/…). Custom schemes have an opaque `origin` in WHATWG URLs (and Node keeps their host's case), so scheme and lower-cased host are compared. */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.host.toLowerCase() === APP_HOST &&
    parsed.username === '' &&
    parsed.password === ''
  );
}
