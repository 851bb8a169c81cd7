// Head office asks when the branch changed how its explanations are computed: the Settings page's change of the
// steps is an entry of its own on the Audit page, found by its kind, naming the setting from and to. In
// Chromium against a real server; without Chromium this suite is skipped.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  RESULTS_DIR,
  chromiumForSuite,
  openPage,
  useUiSession,
  waitUntil,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite("the Audit page's settings-change tests");
const ROWS = '[data-testid=audit-table] tbody tr';

describe.skipIf(!available)('a settings change on the Audit page', () => {
  let s: UiSession;
  useUiSession((session) => {
    s = session;
  });

  it('is listed under its own kind, its detail naming the setting changed, from and to', async () => {
    const { page } = s;
    await openPage(page, s.server.url, 'settings');
    await page.getByLabel('积分步数').fill('64');
    await page.getByRole('button', { name: '保存', exact: true }).click();
    await page.getByText('设置已保存').waitFor();
    // The language is not a change to what an explanation says: switched there and back, no entry for it.
    await openPage(page, s.server.url, 'audit', 'en');
    await openPage(page, s.server.url, 'audit', 'zh-CN');
    await page.getByLabel('类型').selectOption({ label: '更改设置' });
    await page.getByRole('button', { name: '查询', exact: true }).click();
    await waitUntil(page, `document.querySelectorAll('${ROWS}').length === 1`);
    expect(await page.locator(ROWS).first().textContent()).toContain('更改设置');
    await page.locator(ROWS).first().getByRole('button', { name: /^详情/ }).click();
    await page.getByTestId('audit-entry').waitFor();
    // Worded as the Settings page names it, and recorded as stored.
    const fields = await page
      .getByTestId('audit-entry')
      .locator('dl > div')
      .evaluateAll((rows) => rows.map((r) => [r.children[0]!.textContent, r.children[1]!.textContent]));
    // Its own fields, after its kind; none of an explanation's (no column of dashes).
    expect(fields.map(([k]) => k)).toEqual(['序号', '时间', '类型', '积分步数', '本条哈希', '上一条哈希']);
    expect(fields[3]).toEqual(['积分步数', '50 → 64']);
    await page
      .getByTestId('audit-entry')
      .screenshot({ path: join(RESULTS_DIR, 'ui', 'audit-settings-change.png') });
    const detail = (await page.getByTestId('audit-entry').textContent())!.replace(/\s+/g, '');
    expect(detail).toContain('"n_steps":{"from":50,"to":64}');
    expect(detail).not.toContain('locale');
    expect(s.problems).toEqual([]);
  }, 120_000);
});
