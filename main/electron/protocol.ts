// Serves the built renderer (dist/renderer/) as app://branchlens/…, with a strict Content-Security-Policy on
// every answer. Only files inside the renderer folder are served; unknown routes get index.html (the UI routes
// on the client). Plain Node: main.ts hands it to protocol.handle().
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, normalize, relative } from 'node:path';
import { isAppUrl } from './app-origin.js';

/**
 * Scripts only from the app itself (no inline script, no eval), nothing from elsewhere, no plugins, no frames,
 * no forms posting out. Inline styles are allowed, as by the HTTP server (main/server/headers.ts): the same UI
 * runs in both, and echarts' tooltips carry style attributes. IPC does not go through the network, so
 * connect-src only needs the app's own origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
} as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
};

/** Shown when the renderer has not been built, so the window says what to do instead of staying blank. */
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BranchLens</title></head>
<body><h1>BranchLens</h1><p>The user interface is not built. Run <code>npm run build:renderer</code> (or <code>npm start</code>, which builds it) and reopen the app.</p></body></html>
`;

/**
 * The file a request for `url` should get: a path inside `root`, or null when the URL is not the app's or
 * tries to leave the folder.
 */
export function resolveAppFile(root: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  const rel = normalize(pathname === '/' || pathname === '' ? 'index.html' : pathname.replace(/^\/+/, ''));
  const file = join(root, rel);
  const back = relative(root, file);
  if (back === '' || back.startsWith('..') || isAbsolute(back)) return null;
  return file;
}

function answer(status: number, body: Uint8Array | string | null, contentType?: string): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, ...(contentType ? { 'Content-Type': contentType } : {}) },
  });
}

async function tryRead(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Answers one app:// request from the files under `root` (the built renderer). */
export async function serveAppRequest(
  root: string,
  request: { url: string; method: string },
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return answer(405, null);
  const file = resolveAppFile(root, request.url);
  if (!file) return answer(404, null);
  const bytes = await tryRead(file);
  if (bytes) {
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    return answer(200, request.method === 'HEAD' ? null : new Uint8Array(bytes), type);
  }
  const indexFile = join(root, 'index.html');
  // A client-side route (no extension) gets the app's page; a missing asset is a 404.
  if (file !== indexFile && extname(file) !== '') return answer(404, null);
  const index = file === indexFile ? undefined : await tryRead(indexFile);
  return answer(200, index ? new Uint8Array(index) : NOT_BUILT_PAGE, 'text/html; charset=utf-8');
}
