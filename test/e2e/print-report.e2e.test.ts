// The printed report stays on one A4 page at the largest top-K the settings allow, in both languages: printed
// with the desktop app's own PDF options (REPORT_PDF_OPTIONS, main/electron/print.ts), the PDF has one page, and
// the probability, the reasons, the sign-off lines and, under them, the technical footer with the watermark check
// are inside it. Factors beyond the report's few are folded into its last row, which says how many and their sum.
// Without Chromium this suite is skipped, and says so.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { REPORT_PDF_OPTIONS } from '../../main/electron/print.js';
import { REPORT_MAX_FEATURES } from '../../renderer/src/pages/explain/report-bars.js';
import {
  RESULTS_DIR,
  chromiumForSuite,
  openPage,
  useUiSession,
  waitUntil,
  type Locale,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite('the printed report tests');

const LONG = 120_000;

/** The largest top-K the settings accept (shared/contract.ts). */
const MAX_TOP_K = 100;

/** CSS px (96 per inch) of a length in mm. */
const px = (mm: number) => (mm / 25.4) * 96;
/** A4 less the wider of the report's @page margins (12 mm 14 mm, print.css) and printToPDF's. */
const margin = (cssMm: number, pdfInches: number) => Math.max(cssMm, pdfInches * 25.4);
const PRINTABLE = {
  width: px(210 - margin(14, REPORT_PDF_OPTIONS.margins.left) - margin(14, REPORT_PDF_OPTIONS.margins.right)),
  height: px(
    297 - margin(12, REPORT_PDF_OPTIONS.margins.top) - margin(12, REPORT_PDF_OPTIONS.margins.bottom),
  ),
};

/** What the desktop app asks of webContents.printToPDF, as Playwright's page.pdf() spells it: every page. */
function pdfOptions() {
  const o = REPORT_PDF_OPTIONS;
  const inches = (n: number) => `${n}in`;
  return {
    format: o.pageSize,
    preferCSSPageSize: o.preferCSSPageSize,
    printBackground: o.printBackground,
    tagged: o.generateTaggedPDF,
    margin: {
      top: inches(o.margins.top),
      bottom: inches(o.margins.bottom),
      left: inches(o.margins.left),
      right: inches(o.margins.right),
    },
  };
}

function pageCount(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
}

/** A table cell's effect in percentage points as formatPoints writes it (U+2212 for minus). */
function signed(text: string): number {
  return Number(text.trim().replace('\u2212', '-'));
}

async function effects(page: Page, rows: string): Promise<number[]> {
  const cells = await page.locator(`${rows} td.num`).allTextContents();
  return cells.map(signed);
}

describe.skipIf(!available)('the printed report', () => {
  let s: UiSession;
  let base: string;
  useUiSession((session) => {
    s = session;
    base = session.server.url;
  });

  for (const locale of ['zh-CN', 'en'] as const satisfies readonly Locale[]) {
    it(
      `fits one A4 page at top-K ${MAX_TOP_K} in ${locale}, checks and sign-off lines included`,
      async () => {
        const { page } = s;
        // The settings API, as the Settings page saves it.
        const saved = await fetch(new URL('api/app/updateSettings', base), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ top_k: MAX_TOP_K, locale }),
        });
        expect(saved.status).toBe(200);
        await openPage(page, base, 'explain', locale);
        await page.locator('#sample-select').selectOption({ index: 1 });
        await page.getByTestId('explain-button').click();
        const result = page.getByTestId('result');
        await result.locator('[data-testid=attribution-chart][data-state=drawn]').waitFor();
        await result.locator('[data-testid=watermark][data-state=ok]').waitFor();
        // On screen: every feature of the demo model (11), none left out.
        const onScreen = await effects(page, '[data-testid=result] [data-testid=attribution-row]');
        expect(onScreen.length).toBeGreaterThan(REPORT_MAX_FEATURES);
        expect(await result.getByTestId('rest-row').count()).toBe(0);

        await page.evaluate('window.print = () => { window.__printed = (window.__printed ?? 0) + 1; }');
        await page.evaluate('window.__printed = 0');
        await result.getByRole('button', { name: locale === 'en' ? 'Print report' : '打印报告' }).click();
        await waitUntil(page, 'window.__printed === 1');
        const report = page.getByTestId('report');

        // The report lists the largest few and folds the others into its last row, saying how many and their sum.
        const listed = await effects(page, '[data-testid=report] [data-testid=attribution-row]');
        expect(listed).toEqual(onScreen.slice(0, REPORT_MAX_FEATURES));
        const [rest] = await effects(page, '[data-testid=report] [data-testid=rest-row]');
        const foldedCount = onScreen.length - REPORT_MAX_FEATURES;
        const foldedSum = onScreen.slice(REPORT_MAX_FEATURES).reduce((a, b) => a + b, 0);
        // Each cell is rounded to 0.1 point: the rest's cell is within half a point per folded cell of their sum.
        expect(Math.abs(rest! - foldedSum)).toBeLessThanOrEqual(0.05 * (foldedCount + 1) + 1e-9);
        const note = (await report.getByTestId('report-folded').textContent()) ?? '';
        const restText = (await report.locator('[data-testid=rest-row] td.num').textContent())?.trim() ?? '';
        expect(note).toContain(
          locale === 'en'
            ? `the other ${foldedCount} features are combined in the last row, together ${restText}`
            : `其余 ${foldedCount} 项特征合并为最后一行，合计 ${restText}`,
        );
        expect(await report.locator('.chart').getAttribute('data-state')).toBe('drawn');
        // The applicant as explained, every feature (the loan term is not among the factors listed), the
        // sensitive ones masked.
        const applicant = await report.locator('[data-testid=report-applicant] dl > div').allTextContents();
        expect(applicant).toHaveLength(11);
        expect(applicant).toContain(locale === 'en' ? 'Loan term60 months' : '贷款期限60 个月');
        expect(applicant).toContain(locale === 'en' ? 'Monthly incomeMasked' : '月收入已脱敏');

        // Effects in percentage points of the approval probability, the exact change in the cell's title.
        const cell = report.locator('[data-testid=attribution-row] td.num').first();
        expect(await cell.textContent()).toMatch(/^[+\u2212]\d+\.\d$/);
        expect(await cell.getAttribute('title')).toMatch(
          locale === 'en'
            ? /^[+\u2212]\d+\.\d percentage points \(the probability changes by [+\u2212]0\.\d{4}\)$/
            : /^[+\u2212]\d+\.\d 个百分点（通过率变化 [+\u2212]0\.\d{4}）$/,
        );
        expect(
          await report
            .locator('svg text', { hasText: locale === 'en' ? 'percentage points' : '百分点' })
            .count(),
        ).toBe(1);
        // The technical checks are in the footer "For verification", not in the body the customer reads.
        const verify = report.getByTestId('report-verify');
        expect(await verify.locator('h2').textContent()).toBe(
          locale === 'en' ? 'For verification' : '供核验',
        );
        const body = (await page.evaluate(`(() => {
          const report = document.querySelector('[data-testid=report]').cloneNode(true);
          report.querySelector('[data-testid=report-verify]').remove();
          return report.textContent;
        })()`)) as string;
        const footer = (await verify.textContent()) ?? '';
        for (const technical of ['Σ', 'HMAC-SHA256/JCS', 'branchlens verify', 'wasm']) {
          expect(body, technical).not.toContain(technical);
          expect(footer, technical).toContain(technical);
        }
        expect(footer).toContain('credit-demo@1.0.0');

        // Laid out for print on the printable area: everything down to the sign-off lines is on page 1.
        await page.setViewportSize({
          width: Math.floor(PRINTABLE.width),
          height: Math.floor(PRINTABLE.height),
        });
        await page.emulateMedia({ media: 'print' });
        const layout = (await page.evaluate(`(() => {
          const report = document.querySelector('[data-testid=report]');
          const top = report.getBoundingClientRect().top;
          const bottom = (sel) => {
            const e = report.querySelector(sel);
            return e && e.getClientRects().length > 0 ? e.getBoundingClientRect().bottom - top : null;
          };
          const last = report.lastElementChild;
          return {
            score: bottom('.report-score'),
            applicant: bottom('[data-testid=report-applicant]'),
            reasons: bottom('[data-testid=report-reasons]'),
            watermark: bottom('[data-testid=watermark]'),
            sign: bottom('.report-sign'),
            verify: bottom('[data-testid=report-verify]'),
            last: last.getBoundingClientRect().bottom - top,
            lastIsVerify: last.dataset.testid === 'report-verify',
            verifyHasWatermark: last.contains(report.querySelector('[data-testid=watermark]')),
            watermarkState: report.querySelector('[data-testid=watermark]').dataset.state,
          };
        })()`)) as Record<string, number | boolean | string | null>;
        // The technical footer comes last, under the sign-off lines, and holds the watermark check.
        expect(layout.lastIsVerify).toBe(true);
        expect(layout.verifyHasWatermark).toBe(true);
        for (const part of [
          'score',
          'applicant',
          'reasons',
          'watermark',
          'sign',
          'verify',
          'last',
        ] as const) {
          expect(
            layout[part],
            `${part} (printable height ${Math.round(PRINTABLE.height)} px)`,
          ).not.toBeNull();
          expect(layout[part] as number, part).toBeLessThanOrEqual(PRINTABLE.height);
        }
        expect(layout.watermarkState).toBe('ok');
        await page.emulateMedia({ media: null }); // 'print' stays forced otherwise, and page.pdf() prints anyway
        await page.setViewportSize({ width: 1366, height: 900 });

        // What the desktop app's printToPDF makes of it: one page.
        const pdf = await page.pdf(pdfOptions());
        mkdirSync(join(RESULTS_DIR, 'ui'), { recursive: true });
        writeFileSync(join(RESULTS_DIR, 'ui', `report-top-k-${MAX_TOP_K}-${locale}.pdf`), pdf);
        expect(pageCount(pdf)).toBe(1);
        expect(s.problems).toEqual([]);
      },
      LONG,
    );
  }

  it(
    'reads a decline a hair under the threshold as under it, on screen and on paper',
    async () => {
      const { page } = s;
      s.server.service.updateSettings({ locale: 'zh-CN', top_k: 5 });
      await openPage(page, base, 'explain', 'zh-CN');
      // The first sample with a loan of 1,642 thousand: approval probability 0.4997, declined at 0.5.
      await page.locator('#sample-select').selectOption({ index: 1 });
      await page.locator('#field-Amount').fill('1642');
      await page.getByTestId('explain-button').click();
      const result = page.getByTestId('result');
      // The result of the test before may still be on the page (a goto to the same page changes no more than
      // the hash): wait for this applicant's.
      await expect
        .poll(() => result.getByTestId('probability-value').textContent(), { timeout: 30_000 })
        .toBe('49.9%');
      await result.locator('[data-testid=watermark][data-state=ok]').waitFor();
      expect(await result.getByTestId('decision').textContent()).toContain('拒绝');
      expect(await page.getByTestId('result-announcement').textContent()).toBe(
        '解释完成：拒绝。通过率 49.9%，阈值 50%。',
      );
      await page.evaluate('window.print = () => { window.__printed = (window.__printed ?? 0) + 1; }');
      await page.evaluate('window.__printed = 0');
      await result.getByRole('button', { name: '打印报告' }).click();
      await waitUntil(page, 'window.__printed === 1');
      expect(await page.getByTestId('report').locator('.report-score').textContent()).toBe('49.9%');
      await page.evaluate("dispatchEvent(new Event('afterprint'))");
    },
    LONG,
  );

  it(
    'prints the report in the same colours from the dark theme as from the light one',
    async () => {
      const { page } = s;
      const printed: Record<string, string[]> = {};
      for (const theme of ['light', 'dark'] as const) {
        s.server.service.updateSettings({ locale: 'zh-CN', theme, top_k: 5 });
        await page.goto(`${base}#/explain`);
        await page.reload();
        await waitUntil(page, `document.documentElement.dataset.theme === ${JSON.stringify(theme)}`);
        await page.locator('#sample-select').selectOption({ index: 1 });
        await page.getByTestId('explain-button').click();
        const result = page.getByTestId('result');
        await result.locator('[data-testid=attribution-chart][data-state=drawn]').waitFor();
        await result.locator('[data-testid=watermark][data-state=ok]').waitFor();
        await page.evaluate('window.print = () => { window.__printed = (window.__printed ?? 0) + 1; }');
        await page.evaluate('window.__printed = 0');
        await result.getByRole('button', { name: '打印报告' }).click();
        await waitUntil(page, 'window.__printed === 1');
        await page.emulateMedia({ media: 'print' });
        try {
          await page.getByTestId('report').locator('.chart[data-state=drawn]').waitFor();
          // Each element of the report (not the chart's own drawing, which is always in the light palette) with
          // the colours it prints in.
          printed[theme] = (await page.evaluate(`[...document.querySelectorAll(
            '[data-testid=report] *:not(.chart *)')].map((e) => {
              const c = getComputedStyle(e);
              return e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ': ' +
                [c.color, c.backgroundColor, c.borderTopColor, c.borderBottomColor].join(' ');
            })`)) as string[];
        } finally {
          await page.emulateMedia({ media: null });
          await page.evaluate("dispatchEvent(new Event('afterprint'))");
        }
      }
      expect(printed.light!.length).toBeGreaterThan(20);
      expect(printed.dark).toEqual(printed.light);
      // The technical footer on paper: grey text (print.css), not the dark theme's light text.
      const footer = printed.dark!.find((e) => e.startsWith('footer.report-verify:'));
      expect(footer).toContain('rgb(68, 68, 68)');
      s.server.service.updateSettings({ theme: 'light' });
    },
    LONG,
  );
});
