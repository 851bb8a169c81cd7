// A branch's batch file with its own customer columns (客户编号, 姓名), end to end in headless Chromium against a
// real server: the columns lead the results table and the CSV export, and never reach the service, so never its
// audit log. Without Chromium this suite is skipped, and says so.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import {
  RESULTS_DIR,
  chromiumForSuite,
  openPage,
  screenshot,
  tempDir,
  useUiSession,
  waitUntil,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite('the batch customer-column tests');

const CSV = [
  '客户编号,姓名,工龄,住房情况,贷款期限,逾期记录,职业类型,月支出,月收入,资产,负债,申请金额,购买价格',
  'C10,张三,2,租房,60,否,自由职业,60,200,5000,0,1500,1800',
  'C2,李四,15,自有住房,36,否,固定工作,60,250,"10,000",0,800,1500',
  'C3,=1+1,5,租房,60,否,自由职业,60,200,5000,0,900,1000',
].join('\n');

/** Every file under `dir`, as bytes. */
function allBytes(dir: string): Buffer[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allBytes(path) : [readFileSync(path)];
  });
}

describe.skipIf(!available)("a batch file's customer columns", () => {
  let s: UiSession;
  useUiSession((session) => {
    s = session;
  });

  it('lead the results table and the CSV export, and never reach the service or its audit log', async () => {
    const { page } = s;
    const file = join(tempDir('branchlens-e2e-kept-'), 'withid.csv');
    writeFileSync(file, CSV);
    await openPage(page, s.server.url, 'batch', 'zh-CN');
    expect(await page.locator('.dropzone').textContent()).toContain('工龄（Seniority）、住房情况（Home）');
    await page.setInputFiles('#batch-file', file);
    await waitUntil(page, `document.querySelector('[data-testid=count-good]')?.textContent === '3'`);
    expect(await page.getByTestId('ignored-columns').textContent()).toBe(
      '以下列不是模型特征，不会发送给模型，但会保留在结果和导出的 CSV 中：客户编号、姓名',
    );
    await page.getByTestId('batch-start').click();
    await waitUntil(
      page,
      `document.querySelector('[data-testid=batch-percent]')?.textContent === '100%'`,
      30_000,
    );
    const table = page.getByTestId('results-table');
    const headers = await table.locator('thead th').allTextContents();
    expect(headers.slice(0, 3).map((h) => h.replace(/[▲▼↕]/g, ''))).toEqual(['行号', '客户编号', '姓名']);
    expect(headers.join()).toContain('首要不利因素');
    // Sorted by customer number, as a person reads it: C2, C3, C10.
    await table.getByRole('button', { name: '客户编号' }).click();
    const firstCells = () =>
      table
        .locator('tbody tr.result-row')
        .evaluateAll((rows) => rows.map((r) => [r.children[1]!.textContent, r.children[2]!.textContent]));
    expect(await firstCells()).toEqual([
      ['C2', '李四'],
      ['C3', '=1+1'],
      ['C10', '张三'],
    ]);
    await page.getByRole('searchbox').fill('张三');
    expect(await firstCells()).toEqual([['C10', '张三']]);
    await page.locator('[data-testid=results-table] tbody tr.result-row').first().click();
    expect(await page.getByTestId('kept-cells').textContent()).toBe('客户编号C10姓名张三');
    await screenshot(page, 'batch-kept-columns-zh-CN');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: '导出 CSV', exact: true }).click(),
    ]);
    const saved = join(RESULTS_DIR, 'ui', 'batch-kept-columns.csv');
    await download.saveAs(saved);
    const csv = readFileSync(saved, 'utf8');
    const rows = Papa.parse<string[]>(csv.replace(/^\uFEFF/, ''), { skipEmptyLines: true }).data;
    expect(rows[0]!.slice(0, 4)).toEqual(['line', '客户编号', '姓名', 'document_id']);
    expect(rows.slice(1).map((r) => r.slice(0, 3))).toEqual([
      ['2', 'C10', '张三'],
      ['3', 'C2', '李四'],
      ['4', 'C3', "'=1+1"],
    ]);
    // A masked feature as the page names it, not its pseudonym.
    expect(csv).toMatch(/敏感特征（已脱敏） #[0-9a-f]{4,}: /);
    expect(csv).not.toContain('sensitive_');

    // The service saw the features alone: no customer's name or number anywhere in its data folder, which does
    // hold the batch's audit entries.
    const stored = allBytes(s.dataDir);
    expect(stored.some((bytes) => bytes.includes(Buffer.from(rows[1]![3]!)))).toBe(true);
    for (const bytes of stored) {
      for (const cell of ['张三', '李四', 'C10', '客户编号'])
        expect(bytes.includes(Buffer.from(cell))).toBe(false);
    }
    expect(s.problems).toEqual([]);
  }, 120_000);

  it('leave the reason column the width the others do not take, whatever their number', async () => {
    const { page } = s;
    const file = join(tempDir('branchlens-e2e-kept-'), 'oneid.csv');
    // One customer column: the reason column is then the sixth, which a stale rule for a fixed sixth column
    // (the latency's, before customer columns were kept) once held to 100 px.
    writeFileSync(
      file,
      CSV.split('\n')
        .map((line) => line.replace(/^[^,]*,[^,]*,/, (m) => m.split(',')[0] + ','))
        .join('\n'),
    );
    await openPage(page, s.server.url, 'batch', 'en');
    await page.setInputFiles('#batch-file', file);
    await waitUntil(page, `document.querySelector('[data-testid=count-good]')?.textContent === '3'`);
    await page.getByTestId('batch-start').click();
    await waitUntil(
      page,
      `document.querySelector('[data-testid=batch-percent]')?.textContent === '100%'`,
      30_000,
    );
    const widths = await page
      .getByTestId('results-table')
      .locator('thead th')
      .evaluateAll((ths) =>
        ths.map((th) => [th.textContent!.replace(/[▲▼↕]/g, ''), th.getBoundingClientRect().width] as const),
      );
    expect(widths.map(([name]) => name)).toEqual([
      'Row',
      '客户编号',
      'Decision',
      'Approval',
      'Strongest factor',
      'Top adverse factor',
      'Latency',
    ]);
    const [line, kept, decision, score, top, reason, latency] = widths.map(([, width]) => width);
    expect([line, kept, decision, score, latency]).toEqual([80, 120, 96, 100, 100]);
    const table = line! + kept! + decision! + score! + top! + reason! + latency!;
    expect(top! / table).toBeCloseTo(0.26, 1);
    // The reason takes what the fixed columns and the strongest factor's 26 % leave: at 1366 px, over 200 px.
    expect(reason).toBeGreaterThan(200);
    expect(s.problems).toEqual([]);
  }, 120_000);

  it("name the customer beside each problem, on the page and in the problems' CSV", async () => {
    const { page } = s;
    const file = join(tempDir('branchlens-e2e-kept-'), 'withbad.csv');
    writeFileSync(file, CSV + '\nC7,王五,abc,租房,60,否,自由职业,60,200,5000,0,1500,1800');
    await openPage(page, s.server.url, 'batch', 'en');
    await page.setInputFiles('#batch-file', file);
    await waitUntil(page, `document.querySelector('[data-testid=count-good]')?.textContent === '3'`);
    expect(await page.getByTestId('problems-title').textContent()).toBe('Rows with errors (1 problem)');
    const line = page.getByTestId('problem-list').getByRole('listitem');
    expect(await line.locator('.problem-row').textContent()).toBe('Row 5');
    expect(await line.getByTestId('problem-kept').textContent()).toBe('C7 · 王五');
    await screenshot(page, 'batch-kept-problems-en');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export the problems', exact: true }).click(),
    ]);
    const saved = join(RESULTS_DIR, 'ui', 'batch-kept-problems.csv');
    await download.saveAs(saved);
    const rows = Papa.parse<string[]>(readFileSync(saved, 'utf8').replace(/^\uFEFF/, ''), {
      skipEmptyLines: true,
    }).data;
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['line', '客户编号', '姓名', 'field'],
      ['5', 'C7', '王五', 'Years with current employer'],
    ]);
    expect(s.problems).toEqual([]);
  }, 120_000);
});
