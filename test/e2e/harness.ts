// What the UI's end-to-end tests and bench/ui.ts share: the built renderer (rebuilt when older than its
// sources), `branchlens serve` on an ephemeral port over a fresh data dir, and Debian's Chromium driven
// headless by playwright-core with a fresh profile. No browser is downloaded; without Chromium the suite skips.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { appRoot } from '../../main/core/paths.js';
import { startServer, type RunningServer } from '../../main/server/index.js';

export const ROOT = appRoot();
export const RENDERER_DIR = join(ROOT, 'dist', 'renderer');
export const RESULTS_DIR = join(ROOT, 'test-results');

/** Debian's Chromium (apt-get install chromium); $BRANCHLENS_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.BRANCHLENS_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** chromiumAvailable(), warning that `suite` is skipped when it is not. */
export function chromiumForSuite(suite: string): boolean {
  const available = chromiumAvailable();
  if (!available) {
    console.warn(
      `[e2e] SKIPPED ${suite}: no Chromium at ${CHROMIUM_PATH}. ` +
        'Install it (apt-get install chromium) or point $BRANCHLENS_CHROMIUM at one.',
    );
  }
  return available;
}

export type Locale = 'zh-CN' | 'en';

/** Switches with the header's button; the document's lang changes in the commit that renders the language. */
export async function setLanguage(page: Page, locale: Locale): Promise<void> {
  const current = await page.evaluate('document.documentElement.lang');
  if (current === locale) return;
  await page.locator('.lang-switch').click();
  await waitUntil(page, `document.documentElement.lang === ${JSON.stringify(locale)}`);
}

/**
 * Opens a page in a language: each test states the language its expectations are in, so that one test that
 * fails half-way (leaving the UI in English, say) does not fail the tests after it.
 */
export async function openPage(
  page: Page,
  base: string,
  route: string,
  locale: Locale = 'zh-CN',
): Promise<void> {
  await page.goto(`${base}#/${route}`);
  await page.locator('main h1').first().waitFor();
  await setLanguage(page, locale);
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

/** The renderer's sources: a change to any of them makes dist/renderer stale. */
const SOURCES = ['renderer', 'shared', 'vite.config.ts', join('assets', 'samples')];

/** Builds dist/renderer with Vite when it is missing or older than its sources. Returns true if it built. */
export function ensureRendererBuilt(): boolean {
  const index = join(RENDERER_DIR, 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
  if (built > sources) return false;
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  // NODE_ENV as `npm run build:renderer` has it: vitest sets it to 'test', with which Vite builds React's
  // development JSX (and StrictMode's double effects), not the renderer that ships.
  const run = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (run.status !== 0) throw new Error(`vite build failed:\n${run.stdout}\n${run.stderr}`);
  return true;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A copy of the demo bundle with another manifest version, resealed (the CLI tests' helper). */
export { demoBundleVersion } from '../main/cli/helpers.js';

export interface UiSession {
  server: RunningServer;
  context: BrowserContext;
  page: Page;
  dataDir: string;
  /** Console errors and failed requests seen by the page (CSP violations show up here). */
  problems: string[];
  /** Every URL the page requested. */
  requests: string[];
  close(): Promise<void>;
}

export interface UiSessionOptions {
  locale?: string;
  viewport?: { width: number; height: number };
  workers?: number;
  /** A server that requires the API token, as one bound to the branch network does. */
  tokenRequired?: boolean;
  /** Prepares the fresh data dir before the server opens it (a damaged database, say). */
  prepareDataDir?(dataDir: string): void;
}

/** A server over a fresh data dir and a fresh headless Chromium profile with one page open. */
export async function startUiSession(opts: UiSessionOptions = {}): Promise<UiSession> {
  const dataDir = tempDir('branchlens-e2e-data-');
  const profile = tempDir('branchlens-e2e-chromium-');
  opts.prepareDataDir?.(dataDir);
  const server = await startServer({
    dataDir,
    port: 0,
    workers: opts.workers ?? 1,
    backend: 'wasm',
    logLevel: false,
    rendererDir: RENDERER_DIR,
    ...(opts.tokenRequired && { tokenRequired: true }),
  });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      acceptDownloads: true,
      viewport: opts.viewport ?? { width: 1366, height: 900 },
      locale: opts.locale ?? 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
  } catch (e) {
    await server.close();
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A download's blob: URL is revoked after use, and a call still in flight when a test navigates or reloads
    // is aborted: neither is a failure of the page.
    const error = r.failure()?.errorText ?? '';
    if (!r.url().startsWith('blob:') && error !== 'net::ERR_ABORTED')
      problems.push(`request failed: ${r.url()} ${error}`);
  });
  return {
    server,
    context,
    page,
    dataDir,
    problems,
    requests,
    async close() {
      await context.close().catch(() => undefined);
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * One UI session for the suite (describe block) it is called in: the renderer built if stale, the session started
 * before the suite's tests and closed after them. `ready` receives it once started.
 */
export function useUiSession(ready: (session: UiSession) => void, opts: UiSessionOptions = {}): void {
  let session: UiSession | undefined;
  beforeAll(async () => {
    ensureRendererBuilt();
    session = await startUiSession(opts);
    ready(session);
  }, 240_000);
  afterAll(async () => {
    await session?.close();
  });
}

/** Saves a full-page screenshot as test-results/ui/<name>.png; returns the path relative to the repo. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(RESULTS_DIR, 'ui');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.png`);
  // From the top, so that the sticky header is where a person sees it.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: file, fullPage: true });
  return relative(ROOT, file);
}

/**
 * Waits until `expression` (JavaScript, evaluated in the page) is truthy. Polled from here with page.evaluate,
 * because Playwright's in-page polling of a string evaluates it with eval, which the UI's CSP forbids.
 */
/** What a failed wait saw, so that a rare failure in CI can be understood from its log alone. */
async function pageState(page: Page): Promise<string> {
  try {
    return String(
      await page.evaluate(`(() => {
        const text = (e) => (e.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 200);
        const a = document.activeElement;
        const lines = [
          'page: ' + location.hash + ', lang ' + document.documentElement.lang,
          'focus: <' + (a ? a.tagName.toLowerCase() : '') + '> ' + (a ? text(a) : '') +
            (a && a.getAttribute('aria-disabled') ? ' (aria-disabled)' : '') +
            (a && a.getAttribute('aria-pressed') ? ' aria-pressed=' + a.getAttribute('aria-pressed') : ''),
        ];
        for (const e of document.querySelectorAll('[aria-busy=true]')) lines.push('busy: ' + text(e).slice(0, 80));
        for (const e of document.querySelectorAll('[role=alert], .alert')) lines.push('alert: ' + text(e));
        return lines.join('\\n');
      })()`),
    );
  } catch (e) {
    return `(the page's state could not be read: ${(e as Error).message})`;
  }
}

export async function waitUntil(
  page: Page,
  expression: string,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(expression)) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${expression}\n${await pageState(page)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
