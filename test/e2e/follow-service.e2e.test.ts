// The page follows changes made to the service from elsewhere, in Chromium: another program activates a model
// version or changes the branch's settings through the API, and the open Explain page updates its header and
// marks the result shown as out of date, keeping what the officer typed. The page's interval is set short by an
// init script, so that the test waits well under a second. Without Chromium this suite is skipped, and says so.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sealBundle, type ManifestFields } from '../../main/core/bundle/write.js';
import {
  chromiumForSuite,
  demoBundleVersion,
  openPage,
  screenshot,
  tempDir,
  useUiSession,
  waitUntil,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite('the tests of the page following the service');

const LONG = 120_000;
/** The page's interval for this suite (30 s in the app). */
const FOLLOW_MS = 300;

/** A call to the service's API from outside the page (as another workstation's page or IT's script makes it). */
async function call(base: string, method: string, body: unknown): Promise<unknown> {
  const r = await fetch(new URL(`api/app/${method}`, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer: unknown = await r.json();
  if (!r.ok) throw new Error(`${method}: ${r.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** A version of the demo bundle whose loan term accepts up to 360 months: the same fields, one rule changed. */
function longerTermBundle(version: string): string {
  const dest = demoBundleVersion(join(tempDir('branchlens-e2e-follow-'), `credit-demo-${version}`), version);
  const schema = JSON.parse(readFileSync(join(dest, 'schema.json'), 'utf8')) as {
    features: { name: string; range?: { max?: number } }[];
  };
  schema.features.find((f) => f.name === 'Time')!.range!.max = 360;
  writeFileSync(join(dest, 'schema.json'), JSON.stringify(schema, null, 2));
  const { files: _files, ...manifest } = JSON.parse(readFileSync(join(dest, 'manifest.json'), 'utf8')) as {
    files: unknown;
  } & ManifestFields;
  sealBundle(dest, manifest);
  return dest;
}

describe.skipIf(!available)('the page follows the service', () => {
  let s: UiSession;
  useUiSession((session) => {
    s = session;
  });

  it(
    'shows a model activated elsewhere in the header and marks the result explained with the previous one',
    async () => {
      const { page } = s;
      const base = s.server.url;
      await s.context.addInitScript(`window.__BRANCHLENS_FOLLOW_MS__ = ${FOLLOW_MS}`);
      await openPage(page, base, 'explain', 'en');
      // The officer has loaded sample applicant 1, typed an amount of their own and explained it.
      await page.locator('#sample-select').selectOption({ index: 1 });
      await page.locator('#field-Amount').fill('1234');
      await page.getByTestId('explain-button').click();
      await page.locator('[data-testid=result] [data-testid=watermark][data-state=ok]').waitFor();
      expect(await page.getByTestId('result-stale').count()).toBe(0);

      const bundle = demoBundleVersion(join(tempDir('branchlens-e2e-follow-'), 'credit-demo-1.0.1'), '1.0.1');
      await call(base, 'importModel', { path: bundle });
      await call(base, 'activateModel', { ref: 'credit-demo@1.0.1' });

      // The service takes it up at once (it was activated through it); the page within its interval.
      const badge = `document.querySelector('.model-badge')?.textContent ?? ''`;
      await waitUntil(page, `(${badge}).includes('credit-demo@1.0.1')`, 10 * FOLLOW_MS + 5_000);
      await waitUntil(page, `document.querySelector('[data-testid=result-stale]') !== null`, 5_000);
      expect(await page.getByTestId('result-stale').textContent()).toBe(
        'Explained with model credit-demo@1.0.0; the active model is now credit-demo@1.0.1: press Explain to ' +
          'explain again. Until then this result cannot be printed or exported.',
      );
      expect(await page.getByRole('button', { name: 'Print report' }).isDisabled()).toBe(true);
      // What was typed stays; the new version has the same fields, so no line about the form.
      expect(await page.locator('#field-Amount').inputValue()).toBe('1234');
      expect(await page.getByTestId('schema-changed').count()).toBe(0);

      await page.getByTestId('explain-button').click();
      await waitUntil(page, `document.querySelector('[data-testid=result-stale]') === null`, 30_000);
      expect(await page.getByTestId('meta').textContent()).toContain('credit-demo@1.0.1');

      // A version whose form differs says so in one line, and still keeps what was typed.
      await call(base, 'importModel', { path: longerTermBundle('1.0.2') });
      await call(base, 'activateModel', { ref: 'credit-demo@1.0.2' });
      await waitUntil(
        page,
        `document.querySelector('[data-testid=schema-changed]') !== null`,
        10 * FOLLOW_MS + 5_000,
      );
      expect(await page.getByTestId('schema-changed').textContent()).toBe(
        'The active model is now credit-demo@1.0.2, and its applicant form differs: other accepted values: Loan ' +
          'term. What you typed into the other fields is kept.',
      );
      expect(await page.locator('#field-Amount').inputValue()).toBe('1234');
      await screenshot(page, 'explain-followed-model-en');
      expect(await page.getByTestId('result-stale').textContent()).toContain(
        'the active model is now credit-demo@1.0.2',
      );
      await page.getByTestId('explain-button').click();
      await waitUntil(page, `document.querySelector('[data-testid=result-stale]') === null`, 30_000);
      expect(await page.getByTestId('schema-changed').count()).toBe(0);
      expect(s.problems).toEqual([]);
    },
    LONG,
  );

  it(
    'asks with settings changed elsewhere, and marks the result asked with the previous ones',
    async () => {
      const { page } = s;
      const base = s.server.url;
      const result = page.getByTestId('result');
      await result.locator('[data-testid=watermark][data-state=ok]').waitFor();
      expect(await result.getByTestId('attribution-row').count()).toBe(5);

      await call(base, 'updateSettings', { top_k: 3 });
      await waitUntil(
        page,
        `document.querySelector('[data-testid=result-stale]') !== null`,
        10 * FOLLOW_MS + 5_000,
      );
      expect(await page.getByTestId('result-stale').textContent()).toBe(
        'Explained with Gauss–Legendre · Top 5 · 50 steps; the settings are now Gauss–Legendre · Top 3 · 50 ' +
          'steps: press Explain to explain again. Until then this result cannot be printed or exported.',
      );
      expect(await page.locator('.form-note').textContent()).toBe('Top 3 · 50 steps');

      await page.getByTestId('explain-button').click();
      await waitUntil(page, `document.querySelector('[data-testid=result-stale]') === null`, 30_000);
      await result.locator('[data-testid=watermark][data-state=ok]').waitFor();
      expect(await result.getByTestId('attribution-row').count()).toBe(3);
      expect(s.problems).toEqual([]);
    },
    LONG,
  );

  it(
    'on the Models page, follows a model activated elsewhere without saying, meanwhile, that it is not served',
    async () => {
      const { page } = s;
      const base = s.server.url;
      await openPage(page, base, 'models', 'en');
      await page.locator('[data-testid=models-table] tr.is-active[data-ref="credit-demo@1.0.2"]').waitFor();
      // Every time the warning shows, however briefly.
      await page.evaluate(`
        window.notServedSeen = [];
        new MutationObserver(() => {
          const warning = document.querySelector('[data-testid=models-not-served]');
          if (warning) window.notServedSeen.push(warning.textContent ?? '');
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      `);
      // The list's round trip made long, as on a busy branch server: the page follows the served model first.
      let listed = 0;
      await page.route('**/api/app/listModels', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 800));
        listed++;
        await route.continue();
      });
      try {
        await call(base, 'activateModel', { ref: 'credit-demo@1.0.1' });
        await page.locator('[data-testid=models-table] tr.is-active[data-ref="credit-demo@1.0.1"]').waitFor({
          timeout: 10 * FOLLOW_MS + 10_000,
        });
        expect(listed).toBeGreaterThan(0);
        expect(await page.locator('.model-badge').textContent()).toContain('credit-demo@1.0.1');
        expect(await page.evaluate('window.notServedSeen')).toEqual([]);
        expect(await page.getByTestId('models-not-served').count()).toBe(0);
      } finally {
        await page.unroute('**/api/app/listModels');
      }
      expect(s.problems).toEqual([]);
    },
    LONG,
  );
});
