// Finding this morning's decision for a customer on the Audit page, in Chromium: the document id off the printout
// (or the 8 characters the result shows) lists every serving of it, a seq its entry, a typing slip is said by the
// field; an entry's detail, opened below the list, is scrolled into view with the focus on it, and Escape closes
// it, giving the focus back to the row's Details. Without Chromium this suite is skipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExplanationDocument } from '../../shared/explanation.js';
import { ROOT, chromiumForSuite, openPage, useUiSession, waitUntil, type UiSession } from './harness.js';

const available = chromiumForSuite("the Audit page's lookup tests");
const LONG = 120_000;

const ROWS = '[data-testid=audit-table] tbody tr';

describe.skipIf(!available)('looking a decision up on the Audit page', () => {
  let s: UiSession;
  let base: string;
  let documentId: string;
  useUiSession((session) => {
    s = session;
    base = session.server.url;
  });

  async function explain(applicants: unknown[]): Promise<ExplanationDocument[]> {
    const r = await fetch(new URL('api/app/explain', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ applicants }),
    });
    expect(r.status).toBe(200);
    return ((await r.json()) as { documents: ExplanationDocument[] }).documents;
  }

  /** The Audit page with no filter or lookup left from a test before (going there again keeps its state). */
  async function openAudit(): Promise<void> {
    const { page } = s;
    await openPage(page, base, 'audit');
    await page.getByRole('button', { name: '重置', exact: true }).click();
    await page.locator(ROWS).nth(8).waitFor();
  }

  /** Types the lookup into the filter form and searches, waiting for the list to settle. */
  async function lookUp(fields: { document?: string; seq?: string }): Promise<void> {
    const { page } = s;
    await page.getByLabel('文档编号（完整或前 8 位）').fill(fields.document ?? '');
    await page.getByLabel('序号', { exact: true }).fill(fields.seq ?? '');
    await page.getByLabel('序号', { exact: true }).press('Enter');
  }

  it(
    'lists every serving of a document found by the 8 characters the result shows, and an entry by its seq',
    async () => {
      const { page } = s;
      const samples = JSON.parse(
        readFileSync(join(ROOT, 'assets', 'samples', 'applicants.json'), 'utf8'),
      ) as unknown[];
      // The customer's decision, then the branch's morning, then the customer's again (from the cache).
      documentId = (await explain([samples[0]]))[0]!.id;
      // Twenty other applicants: a list long enough that an entry's detail opens out of view.
      await explain(
        Array.from({ length: 20 }, (_, i) => ({
          ...(samples[1 + (i % 3)] as Record<string, unknown>),
          Seniority: i + 1,
        })),
      );
      await explain([samples[0]]);

      await openAudit();
      await lookUp({ document: documentId.slice(0, 8).toUpperCase() });
      await waitUntil(page, `document.querySelectorAll('${ROWS}').length === 2`);
      const cache = await page
        .locator(ROWS)
        .evaluateAll((rows) => rows.map((r) => r.children[6]!.textContent));
      expect(cache).toEqual(['内存缓存', '未命中（实时计算）']);
      // Each is that document: its detail shows the whole id as the printout does.
      await page.locator(ROWS).first().getByRole('button', { name: /^详情/ }).click();
      await page.getByTestId('audit-entry').waitFor();
      expect(await page.getByTestId('audit-entry').textContent()).toContain(documentId);
      const seq = (await page.locator(ROWS).nth(1).locator('td').first().textContent())!;
      await page.keyboard.press('Escape');
      await page.getByTestId('audit-entry').waitFor({ state: 'detached' });

      await lookUp({ seq });
      await waitUntil(page, `document.querySelectorAll('${ROWS}').length === 1`);
      expect(await page.locator(ROWS).first().locator('td').first().textContent()).toBe(seq);

      // A document no entry has: said so, not a bare empty list.
      await lookUp({ document: 'ffffffff-ffff' });
      await page.getByTestId('audit-empty').waitFor();
      expect(await page.getByTestId('audit-empty').textContent()).toContain('没有该文档编号或序号的记录');
    },
    LONG,
  );

  it(
    'says a typing slip by its field, with the focus on it, and asks nothing',
    async () => {
      const { page } = s;
      await openAudit();
      const asked: string[] = [];
      const listen = (r: { url(): string }) => {
        if (r.url().endsWith('/auditPage')) asked.push(r.url());
      };
      page.on('request', listen);
      try {
        await lookUp({ document: 'XYZ12345' });
        await page.getByTestId('audit-document-id-problem').waitFor();
        expect(await page.getByTestId('audit-document-id-problem').textContent()).toBe(
          '文档编号只含数字 0–9、字母 a–f 和连字符：请检查输入。',
        );
        expect(await page.evaluate('document.activeElement.id')).toBe('audit-document-id');
        expect(await page.locator('#audit-document-id').getAttribute('aria-invalid')).toBe('true');

        await lookUp({ document: '3f2a1b', seq: '-3' });
        expect(await page.getByTestId('audit-document-id-problem').textContent()).toBe(
          '请至少输入文档编号的前 8 位。',
        );
        expect(await page.getByTestId('audit-seq-problem').textContent()).toBe('序号须为不小于 1 的整数。');
        expect(asked).toEqual([]);
        // Corrected, the problems go and the search runs.
        await lookUp({ document: documentId.slice(0, 8) });
        await waitUntil(page, `document.querySelectorAll('${ROWS}').length === 2`);
        expect(await page.getByTestId('audit-document-id-problem').count()).toBe(0);
        expect(await page.getByTestId('audit-seq-problem').count()).toBe(0);
        expect(asked.length).toBeGreaterThan(0);
      } finally {
        page.off('request', listen);
      }
    },
    LONG,
  );

  it(
    'brings an opened entry into view with the focus on it; Escape closes it and gives the focus back to its row',
    async () => {
      const { page } = s;
      await openAudit();
      const details = page.getByRole('button', { name: /^详情/ });
      const label = (await details.nth(6).textContent())!;
      await details.nth(6).click();
      await waitUntil(page, "document.activeElement?.id === 'audit-entry-title'", 5_000);
      // Its top just under the sticky header, not at the window's bottom edge with the rest below it.
      await waitUntil(
        page,
        `(() => { const top = document.querySelector('[data-testid=audit-entry]').getBoundingClientRect().top;
           const covered = parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 0;
           return top >= covered - 1 && top <= covered + 40; })()`,
        5_000,
      );
      await page.keyboard.press('Escape');
      await page.getByTestId('audit-entry').waitFor({ state: 'detached' });
      expect(await page.evaluate('document.activeElement.textContent')).toBe(label);

      // Closed by Escape also after a click in its text, which leaves the focus on the page's body.
      await details.nth(6).click();
      await page.getByTestId('audit-entry').waitFor();
      await page.getByTestId('audit-entry').locator('dl').click();
      await page.keyboard.press('Escape');
      await page.getByTestId('audit-entry').waitFor({ state: 'detached' });
      expect(await page.evaluate('document.activeElement.textContent')).toBe(label);
      expect(s.problems).toEqual([]);
    },
    LONG,
  );
});
