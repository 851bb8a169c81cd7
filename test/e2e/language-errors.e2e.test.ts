// Messages already on screen follow a change of language: the explain form's field errors and summary, and the
// models page's import refusal, are worded when shown, not kept as the sentences of the language they were made
// in. And Ctrl+P with a result the form no longer holds (or none) prints a line saying so, not a blank page.
// Without Chromium this suite is skipped, and says so.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  chromiumForSuite,
  openPage,
  setLanguage,
  useUiSession,
  tempDir,
  waitUntil,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite('the language-switch error tests');

const LONG = 120_000;

const CJK = /[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]/;

async function text(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

describe.skipIf(!available)('messages on screen when the language changes', () => {
  let s: UiSession;
  let base: string;
  useUiSession((session) => {
    s = session;
    base = session.server.url;
  });

  it(
    "rewords the explain form's field errors and their summary in the new language",
    async () => {
      const { page } = s;
      await openPage(page, base, 'explain', 'zh-CN');
      // Sample applicant 1 from the picker (the form opens empty); what is typed after that stays.
      await page.locator('#sample-select').selectOption({ index: 1 });
      await waitUntil(page, `document.querySelector('#field-Seniority')?.value === '2'`);
      await page.locator('#field-Seniority').fill('abc');
      await page.locator('#field-Time').fill('');
      await page.getByTestId('explain-button').click();
      await page.getByTestId('error-summary').waitFor();
      expect(await text(page, 'error-Seniority')).toContain('请输入数字');
      expect(await text(page, 'error-Time')).toContain('此项必填');

      await setLanguage(page, 'en');
      await waitUntil(
        page,
        `!/请输入数字/.test(document.querySelector('[data-testid=error-Seniority]').textContent)`,
      );
      const seniority = await text(page, 'error-Seniority');
      const time = await text(page, 'error-Time');
      const summary = await text(page, 'error-summary');
      expect(seniority).toContain('abc');
      for (const message of [seniority, time, summary]) expect(message).not.toMatch(CJK);

      // And back: the same problems, in Chinese again.
      await setLanguage(page, 'zh-CN');
      await waitUntil(
        page,
        `/请输入数字/.test(document.querySelector('[data-testid=error-Seniority]').textContent)`,
      );
      expect(await text(page, 'error-Time')).toContain('此项必填');
    },
    LONG,
  );

  it(
    "rewords the models page's import refusal in the new language",
    async () => {
      const { page } = s;
      const nowhere = join(tempDir('branchlens-e2e-lang-'), 'nowhere');
      await openPage(page, base, 'models', 'zh-CN');
      await page.getByTestId('import-path').fill(nowhere);
      await page.getByRole('button', { name: '导入', exact: true }).click();
      await page.locator('[data-testid=import-result].alert-error').waitFor();
      expect(await text(page, 'import-result')).toContain(`模型包无效：${nowhere} 不存在或不是文件夹`);
      // The browser logs the refusal's 400: expected here.
      s.problems.splice(0, s.problems.length, ...s.problems.filter((p) => !p.includes('status of 400')));

      await setLanguage(page, 'en');
      await waitUntil(
        page,
        `!/模型包无效/.test(document.querySelector('[data-testid=import-result]').textContent)`,
      );
      const refused = await text(page, 'import-result');
      expect(refused).toContain(nowhere);
      expect(refused).not.toMatch(CJK);
      expect(s.problems).toEqual([]);
    },
    LONG,
  );

  it(
    'prints a notice, not a blank page, when the result is out of date or there is none',
    async () => {
      const { page } = s;
      for (const locale of ['en', 'zh-CN'] as const) {
        await openPage(page, base, 'explain', locale);
        await page.locator('#sample-select').selectOption({ index: 2 });
        await page.getByTestId('explain-button').click();
        await page
          .getByTestId('result')
          .locator('[data-testid=attribution-chart][data-state=drawn]')
          .waitFor();
        // The form no longer holds the applicant explained: the result is stale.
        await page.locator('#field-Seniority').fill('37');
        await page.evaluate("dispatchEvent(new Event('beforeprint'))");
        await page.emulateMedia({ media: 'print' });
        expect(await page.getByTestId('report').count()).toBe(0);
        const notice = page.getByTestId('print-notice');
        expect(await notice.isVisible()).toBe(true);
        expect(await notice.textContent()).toContain(
          locale === 'en' ? 'explain the applicant again before printing' : '请重新解释后再打印',
        );
        expect(((await page.evaluate('document.body.innerText')) as string).trim()).not.toBe('');
        await page.emulateMedia({ media: null });
        await page.evaluate("dispatchEvent(new Event('afterprint'))");
        await waitUntil(page, "!document.querySelector('[data-testid=print-notice]')");
      }

      // No result at all (a reload forgets the one kept for the page): the same notice.
      await page.reload();
      await page.locator('main h1').first().waitFor();
      await page.locator('#field-Seniority').waitFor();
      expect(await page.getByTestId('result').count()).toBe(0);
      await page.evaluate("dispatchEvent(new Event('beforeprint'))");
      await page.emulateMedia({ media: 'print' });
      expect(await page.getByTestId('print-notice').isVisible()).toBe(true);
      expect(await page.getByTestId('print-notice').textContent()).toContain('请重新解释后再打印');
      await page.emulateMedia({ media: null });
      await page.evaluate("dispatchEvent(new Event('afterprint'))");
    },
    LONG,
  );
});
