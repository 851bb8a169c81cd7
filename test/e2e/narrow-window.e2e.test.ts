// The branch UI in a narrow window: a 1366-px screen zoomed to 200 % is 683 CSS px wide (and 384 high). Every
// page, with what it shows in use (an explanation, a batch's results, the audit entries they made), fits that
// width in both languages: nothing scrolls sideways, the language switch and the active model stay on the screen,
// and each page link stays on one line; a result explained with Enter is brought into view. Without Chromium this
// suite is skipped, and says so.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ROOT,
  chromiumForSuite,
  openPage,
  useUiSession,
  waitUntil,
  type Locale,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite('the narrow-window tests');

const LONG = 120_000;
const SAMPLE_CSV = join(ROOT, 'assets', 'samples', 'applicants.csv');
const ROUTES = ['explain', 'batch', 'audit', 'models', 'monitor', 'settings'] as const;
const LOCALES: Locale[] = ['en', 'zh-CN'];

interface Fit {
  scrollWidth: number;
  innerWidth: number;
  /** The header's parts whose right edge is past the window's. */
  offScreen: string[];
  /** The page links taller than one line. */
  wrappedLinks: string[];
}

const FIT = `(() => {
  const right = (e) => e.getBoundingClientRect().right;
  const parts = ['.brand', '.app-nav', '.model-badge', '.lang-switch'];
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    offScreen: parts.filter((p) => { const e = document.querySelector(p); return !e || right(e) > innerWidth; }),
    wrappedLinks: [...document.querySelectorAll('.app-nav a')]
      .filter((a) => a.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(a).lineHeight))
      .map((a) => a.textContent),
  };
})()`;

describe.skipIf(!available)('the branch UI at 200 % zoom (683 CSS px wide)', () => {
  let s: UiSession;
  useUiSession(
    (session) => {
      s = session;
    },
    { viewport: { width: 683, height: 384 } },
  );

  it(
    'fits every page in both languages: nothing scrolls sideways, the language switch stays on the screen',
    async () => {
      const { page } = s;
      const base = s.server.url;
      // What the pages show in use: an explanation, a batch's results, and the audit entries they made.
      await openPage(page, base, 'explain', 'en');
      await page.locator('#sample-select').selectOption({ index: 1 });
      await page.getByTestId('explain-button').click();
      await page.getByTestId('result').locator('[data-testid=watermark][data-state=ok]').waitFor();
      await openPage(page, base, 'batch', 'en');
      await page.setInputFiles('#batch-file', SAMPLE_CSV);
      await page.getByTestId('batch-start').click();
      await waitUntil(
        page,
        `document.querySelector('[data-testid=batch-percent]')?.textContent === '100%'`,
        30_000,
      );

      const misfits: string[] = [];
      for (const locale of LOCALES) {
        for (const route of ROUTES) {
          await openPage(page, base, route, locale);
          await page.locator('.model-badge:not(.model-badge-error)').waitFor();
          const fit = (await page.evaluate(FIT)) as Fit;
          if (fit.scrollWidth > fit.innerWidth)
            misfits.push(`${locale} ${route}: ${fit.scrollWidth} px wide in a ${fit.innerWidth}-px window`);
          if (fit.offScreen.length)
            misfits.push(`${locale} ${route}: off the screen: ${fit.offScreen.join(', ')}`);
          if (fit.wrappedLinks.length)
            misfits.push(`${locale} ${route}: links on several lines: ${fit.wrappedLinks.join(', ')}`);
        }
      }
      expect(misfits).toEqual([]);
    },
    LONG,
  );

  it(
    'brings the result into view after Enter, its heading focused, with a header that scrolls away',
    async () => {
      const { page } = s;
      const base = s.server.url;
      /** The result's heading: focused, and on the screen (between the top and the bottom of the window). */
      const headingShown = `(() => {
        const h = document.getElementById('result-title');
        if (!h || document.activeElement !== h) return false;
        const r = h.getBoundingClientRect();
        return r.top >= -1 && r.bottom <= innerHeight + 1; // within a pixel: layout in fractions of one
      })()`;
      await openPage(page, base, 'explain', 'en');
      // 384 px high: the header scrolls with the page instead of keeping a quarter of the screen.
      expect(await page.evaluate(`getComputedStyle(document.querySelector('.app-header')).position`)).toBe(
        'static',
      );
      // The result lands under the form, out of view: Enter in the last field brings it up at once when the
      // officer's system asks for reduced motion (no smooth scrolling)...
      await page.emulateMedia({ reducedMotion: 'reduce' });
      try {
        await page.locator('#sample-select').selectOption({ index: 2 });
        await page.locator('#field-Price').press('Enter');
        await waitUntil(page, `document.activeElement?.id === 'result-title'`, 30_000);
        expect(await page.evaluate(headingShown)).toBe(true);
      } finally {
        await page.emulateMedia({ reducedMotion: null });
      }
      // ...and with a smooth scroll otherwise.
      await page.locator('#sample-select').selectOption({ index: 3 });
      await page.locator('#field-Price').press('Enter');
      await waitUntil(page, headingShown, 30_000);
    },
    LONG,
  );
});
