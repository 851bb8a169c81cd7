// Who may call the server: loopback binds answer local clients only; any other bind (or --token-required)
// demands the installation's API token as a bearer token, generated on first use and kept 0600 in the data dir.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { SecretStore } from '../core/keys.js';

export const API_TOKEN_NAME = 'api-token';

/** True when `host` can only be reached from this machine: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const v4 = h.startsWith('::ffff:') && isIP(h.slice(7)) === 4 ? h.slice(7) : h;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  if (isIP(h) === 6) return new URL(`http://[${h}]/`).hostname === '[::1]';
  return false;
}

/**
 * True when a request's Host header names this machine. A loopback server without a token answers only such
 * requests, so that a web page cannot reach it through a DNS name rebound to 127.0.0.1.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined) return false;
  // Clients send the same Host header on every request: remember the few answers seen.
  let loopback = seenHosts.get(header);
  if (loopback === undefined) {
    const host = hostOfHeader(header).toLowerCase();
    loopback = host.endsWith('.localhost') || (host !== '' && isLoopbackHost(host));
    if (seenHosts.size >= 64) seenHosts.clear();
    seenHosts.set(header, loopback);
  }
  return loopback;
}

const seenHosts = new Map<string, boolean>();

/**
 * True when a browser says (Fetch Metadata) that another site's page made the request: a loopback server
 * without a token refuses such requests, bar a link that opens the UI. Its Host check stops DNS rebinding, and
 * JSON bodies need a CORS preflight it never grants, but a page can still send GETs to 127.0.0.1 (`<img src>`,
 * `fetch` with no-cors, iframes, downloads) by the hundred, each audit export a verification thread of its own.
 * The UI's own requests are same-origin; a typed URL or bookmark is `none`; clients other than browsers send no
 * Sec-Fetch-Site at all.
 */
export function isCrossSiteRequest(headers: Record<string, string | string[] | undefined>): boolean {
  const site = headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/**
 * True when a browser's Origin header names another origin than the server the request is for (its Host): a page
 * of another site, or one with no origin of its own (`null`: a sandboxed frame, a local file). Browsers without
 * Fetch Metadata (Safari before 16.4, Firefox before 90) send no Sec-Fetch-Site but do send Origin on a POST, and a
 * POST without a body needs neither a content type nor a CORS preflight (`fetch(url, {method: 'POST', mode:
 * 'no-cors'})`): enough to call `rollbackModel`. The UI's own requests carry its origin, which is the Host's.
 */
export function isForeignOrigin(headers: Record<string, string | string[] | undefined>): boolean {
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    // URL drops a default port and lowercases, as browsers write the Host they send.
    return new URL(String(origin)).host !== new URL(`http://${String(headers.host)}`).host;
  } catch {
    return true;
  }
}

/** A link followed in the browser's window (not an iframe, image or script): one request per click. */
export function isTopLevelNavigation(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['sec-fetch-mode'] === 'navigate' && headers['sec-fetch-dest'] === 'document';
}

/** The host name of a Host header (`name:port`, `[v6]:port`), without the port. */
export function hostOfHeader(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  const colon = header.lastIndexOf(':');
  return colon === -1 ? header : header.slice(0, colon);
}

/** The API token: read from the store, or generated and stored (`created` is then true: show it once). */
export function loadOrCreateApiToken(store: SecretStore): { token: string; created: boolean } {
  const existing = store.read(API_TOKEN_NAME)?.toString('utf8').trim();
  if (existing) return { token: existing, created: false };
  store.write(API_TOKEN_NAME, Buffer.from(randomBytes(32).toString('base64url')));
  // Another process may have written first: whatever is stored now is the token.
  const token = store.read(API_TOKEN_NAME)!.toString('utf8').trim();
  return { token, created: true };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Checks an Authorization header against the token in constant time (hashes make the lengths equal). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  // Compare something even without a header, so a missing header takes as long as a wrong one.
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}
