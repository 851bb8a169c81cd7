// A service whose database failed its background integrity check, in Chromium: every page carries a banner that
// says so in the page's language (Chinese, then English), with the server's sentence naming the file as a detail;
// the banner stays across pages and polls without being drawn (or announced) again. The server runs a worker
// engine, as `branchlens serve` does, so that the check runs. Without Chromium this suite is skipped, and says so.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { damageUnreadPage } from '../main/core/db/damage.js';
import {
  chromiumForSuite,
  openPage,
  screenshot,
  setLanguage,
  useUiSession,
  waitUntil,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite('the tests of the health banner');

const LONG = 120_000;
/** The page's interval for this suite (30 s in the app). */
const FOLLOW_MS = 300;

const BANNER = '[data-testid=health-banner]';
const text = (selector: string) => `(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`;

describe.skipIf(!available)('the banner of a damaged database', () => {
  let s: UiSession;
  useUiSession(
    (session) => {
      s = session;
    },
    { workers: 1, prepareDataDir: (dir) => void damageUnreadPage(dir) },
  );

  it(
    'is on top of every page in Chinese and in English, naming the file in its detail',
    async () => {
      const { page } = s;
      await s.server.service.integrityChecked;
      expect(s.server.service.health()).toMatchObject({ status: 'degraded', database: 'error' });
      await s.context.addInitScript(`window.__BRANCHLENS_FOLLOW_MS__ = ${FOLLOW_MS}`);

      await openPage(page, s.server.url, 'explain', 'zh-CN');
      await waitUntil(page, `document.querySelector('${BANNER}[data-concern=damaged]') !== null`);
      const alert = `${BANNER} [role=alert]`;
      expect(await page.evaluate(text(alert))).toContain('数据库未通过完整性检查');
      expect(await page.evaluate(text(alert))).toContain('请勿删除数据文件夹');
      expect(await page.evaluate(text(`${BANNER} summary`))).toBe('服务给出的详情');
      const detail = await page.evaluate(text(`${BANNER} details p`));
      expect(detail).toContain(join(s.dataDir, 'branchlens.db'));
      expect(detail).toContain('failed its integrity check');
      // The detail is not read out with the alert (a full disk's changes at each poll).
      expect(await page.evaluate(text(alert))).not.toContain('failed its integrity check');
      await screenshot(page, 'health-banner-damaged-zh');

      // Polls that find the same damage leave the alert's element as it is: nothing to announce again.
      await page.evaluate(`window.__healthAlert = document.querySelector('${alert}')`);
      await page.waitForTimeout(4 * FOLLOW_MS);
      expect(await page.evaluate(`window.__healthAlert === document.querySelector('${alert}')`)).toBe(true);

      await setLanguage(page, 'en');
      await waitUntil(page, `${text(alert)}.includes('failed its integrity check')`);
      expect(await page.evaluate(text(alert))).toContain('Do not delete the data folder');
      expect(await page.evaluate(text(alert))).toContain('head office');
      expect(await page.evaluate(text(`${BANNER} summary`))).toBe('Details from the service');

      // On every page, not only the one it appeared on.
      await page.locator('.app-nav a[href="#/audit"]').click();
      await waitUntil(page, `location.hash === '#/audit' && document.querySelector('main h1') !== null`);
      expect(await page.evaluate(text(alert))).toContain('failed its integrity check');
      await screenshot(page, 'health-banner-damaged-en');
      expect(s.problems).toEqual([]);
    },
    LONG,
  );
});
