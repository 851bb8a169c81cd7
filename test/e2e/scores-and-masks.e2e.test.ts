// Outside the Explain page, in Chromium: a probability shown beside the decision never reads as the threshold it
// fell short of (Batch, Audit), and two sensitive features, both masked, do not read the same (Batch's table and
// a row's detail). Without Chromium this suite is skipped, and says so.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumForSuite, openPage, tempDir, useUiSession, waitUntil, type UiSession } from './harness.js';

const available = chromiumForSuite('the score and masked-feature tests');

const LONG = 120_000;

/**
 * Line 2: the first sample applicant with a larger loan, whose approval probability is 0.49977 (declined at
 * 50 %), which rounds to 50.0 %. Line 3: the second sample applicant, whose top five factors hold both of the
 * demo model's sensitive features (Income and Assets), the strongest of them masked.
 */
const CSV = [
  'Seniority,Home,Time,Records,Job,Expenses,Income,Assets,Debt,Amount,Price',
  '2,rent,60,no,freelance,60,200,5000,0,1649,1949',
  '15,owner,36,no,fixed,60,250,10000,0,800,1500',
].join('\n');

const MASKED_TAG = /^Sensitive feature \(masked\) #[0-9a-f]{4,}/;

describe.skipIf(!available)('scores beside a threshold, and masked features told apart', () => {
  let s: UiSession;
  useUiSession((session) => {
    s = session;
  });

  it(
    'shows a decline at 0.4997 as 49.9 % in the batch table and the audit log, and names masked features apart',
    async () => {
      const { page } = s;
      const base = s.server.url;
      const file = join(tempDir('branchlens-e2e-scores-'), 'near-threshold.csv');
      writeFileSync(file, CSV);
      await openPage(page, base, 'batch', 'en');
      await page.setInputFiles('#batch-file', file);
      await page.getByTestId('batch-start').click();
      await waitUntil(
        page,
        `document.querySelector('[data-testid=batch-percent]')?.textContent === '100%'`,
        30_000,
      );
      const cells = (row: number) =>
        page.locator(`[data-testid=results-table] tbody tr[aria-rowindex="${row}"] td`);
      expect(await cells(2).nth(1).textContent()).toBe('Declined');
      expect(await cells(2).nth(2).textContent()).toBe('49.9%');

      // The second applicant's strongest factor is masked: named with its tag, as in its detail below.
      const strongest = (await cells(3).nth(3).textContent())!;
      expect(strongest).toMatch(MASKED_TAG);
      await page.locator('[data-testid=results-table] tbody tr[aria-rowindex="3"]').click();
      const labels = await page
        .locator('.batch-detail [data-testid=attribution-row] th > span:not(.swatch):not(.tag)')
        .allTextContents();
      const masked = labels.filter((l) => l.startsWith('Sensitive feature'));
      expect(masked).toHaveLength(2);
      for (const l of masked) expect(l).toMatch(MASKED_TAG);
      expect(new Set(masked).size).toBe(2);
      expect(strongest.startsWith(masked[0]!)).toBe(true);

      // The audit log shows the same answer at the same 49.9 %, beside its decline.
      await openPage(page, base, 'audit', 'en');
      await page.locator('[data-testid=audit-table] tbody tr').nth(1).waitFor();
      const scores = await page
        .locator('[data-testid=audit-table] tbody tr td:nth-child(5)')
        .allTextContents();
      expect(scores).toContain('49.9%');
      expect(scores).not.toContain('50.0%');
    },
    LONG,
  );
});
