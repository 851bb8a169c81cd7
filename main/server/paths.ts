// Which part of the server a request's path belongs to, by the roots that own it.

/** The request URL's path, without its query. */
export function pathOf(url: string): string {
  return url.split('?')[0]!;
}

/** Whether `path` (or a URL) is one of `roots` or lies under one: `/v2` and `/v2/models`, not `/v2x`. */
export function isUnder(path: string, roots: readonly string[]): boolean {
  const p = pathOf(path);
  return roots.some((root) => p === root || p.startsWith(`${root}/`));
}

/**
 * Roots that belong to the API (the app's, Seldon's and its executor's, KServe's V1 and V2, the metrics under
 * their name and Seldon's), never to the UI.
 */
const API_ROOTS = [
  '/api',
  '/health',
  '/metrics',
  '/prometheus',
  '/metadata',
  '/predict',
  '/send-feedback',
  '/v1',
  '/v2',
];

/**
 * Whether a path is one of the API's roots or lies under one, read as the router reads it (percent-decoded) and
 * with repeated slashes as one: `//health/ping` and `/%70redict` are the API's mistakes, not the UI's routes.
 */
export function isApiPath(path: string): boolean {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Bad percent-encoding: the path as it came.
  }
  return isUnder(decoded.replace(/\/{2,}/g, '/'), API_ROOTS);
}
