// "Verify chain" on a large log shows how far it has got: a bar with the entries checked of the log's, from the
// server's own progress, then the verdict. A page opened while a check runs joins it. In Chromium against a real
// server; without Chromium this suite is skipped.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { appendEntries } from '../../main/core/audit/append.js';
import { openWritable } from '../../main/core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey } from '../../main/core/keys.js';
import { explainInput } from '../main/core/audit/helpers.js';
import { RESULTS_DIR, chromiumForSuite, openPage, useUiSession, type UiSession } from './harness.js';

const available = chromiumForSuite("the Audit page's verification progress tests");
/** Enough for the check to take a second or so here (~0.9 s per 150,000 entries), past the first ask at 250 ms. */
const ENTRIES = 150_000;

describe.skipIf(!available)('verifying a large audit log on the Audit page', () => {
  let s: UiSession;
  useUiSession(
    (session) => {
      s = session;
    },
    {
      prepareDataDir(dataDir) {
        const db = openWritable(dataDir);
        const signingKey = loadOrCreateSigningKey(fileSecretStore(dataDir));
        for (let k = 0; k < ENTRIES; k += 10_000) {
          appendEntries(
            db,
            Array.from({ length: 10_000 }, (_, i) => explainInput(k + i)),
            { signingKey },
          );
        }
        db.close();
      },
    },
  );

  it('shows the entries checked as the server reports them, then the verdict', async () => {
    const { page } = s;
    await openPage(page, s.server.url, 'audit');
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/app/auditVerifyProgress')) asked.push(r.url());
    });
    await page.getByTestId('audit-verify-button').click();
    const bar = page.getByTestId('audit-verify-progress');
    await bar.waitFor();
    const text = (await page.getByTestId('audit-verify-progress-text').textContent())!;
    expect(text).toMatch(/^已核对 [\d,]+ \/ 150,0\d\d 条 · 用时 \d+\.\d 秒/);
    const max = Number(await bar.locator('progress').getAttribute('max'));
    expect(max).toBeGreaterThanOrEqual(ENTRIES);
    await page.getByTestId('audit-verify').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('audit-verify').getAttribute('data-state')).toBe('ok');
    expect(await bar.count()).toBe(0);
    await page
      .getByTestId('audit-verify')
      .screenshot({ path: join(RESULTS_DIR, 'ui', 'audit-verified-large.png') });
    const summary = (await page.getByTestId('audit-verify').textContent())!;
    expect(summary).toContain(`${max.toLocaleString('en')} 条记录`);
    // It stops asking once the verdict is in.
    const count = asked.length;
    expect(count).toBeGreaterThan(0);
    await page.waitForTimeout(600);
    expect(asked.length).toBe(count);
    expect(s.problems).toEqual([]);
  }, 120_000);

  it('joins a check already running when the page is opened', async () => {
    const { page } = s;
    await openPage(page, s.server.url, 'explain', 'en');
    // The server says a check runs (another window's) when the page first asks; the page then waits for it with
    // its own call, which the service answers with that run's result (test/main/core/service-audit-verify.test.ts).
    let first = true;
    await page.route('**/api/app/auditVerifyProgress', async (route) => {
      if (!first) return route.continue();
      first = false;
      return route.fulfill({
        json: { running: true, done: 0, total: ENTRIES, elapsed_ms: 10 },
      });
    });
    const verifyCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/app/auditVerify')) verifyCalls.push(r.method());
    });
    try {
      await openPage(page, s.server.url, 'audit', 'en');
      await page.getByTestId('audit-verify').waitFor({ timeout: 60_000 });
      expect(verifyCalls).toEqual(['POST']);
      expect(await page.getByTestId('audit-verify').getAttribute('data-state')).toBe('ok');
      const verdict = await s.server.service.auditVerify();
      expect(await page.getByTestId('audit-verify').textContent()).toContain(
        `${verdict.entries.toLocaleString('en')} entries`,
      );
      expect(await page.getByTestId('audit-verify-button').isDisabled()).toBe(false);
      expect(s.problems).toEqual([]);
    } finally {
      await page.unroute('**/api/app/auditVerifyProgress');
    }
  }, 120_000);
});
