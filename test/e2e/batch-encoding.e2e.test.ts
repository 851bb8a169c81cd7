// Batch files as Excel saves them on Chinese Windows, end to end in Debian's headless Chromium: "CSV (逗号分隔)"
// is GB18030 (GBK) without a byte-order mark, "Unicode text" is UTF-16 LE with a mark and tabs, and a file may
// start with Excel's `sep=;` line. The bytes are built here. And the results table a batch fills: from the keyboard,
// and in the language shown. Without Chromium these suites are skipped, and say so.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  ROOT,
  chromiumForSuite,
  openPage,
  setLanguage,
  type Locale,
  screenshot,
  useUiSession,
  tempDir,
  waitUntil,
  type UiSession,
} from './harness.js';

const available = chromiumForSuite('the batch encoding tests');

const LONG = 120_000;

/** The GB18030 (GBK) bytes of the Chinese words the files below use; checked against Node's decoder. */
const GB18030_WORDS: Readonly<Record<string, string>> = {
  工龄: 'b9a4c1e4',
  住房情况: 'd7a1b7bfc7e9bff6',
  贷款期限: 'b4fbbfeec6dacfde',
  逾期记录: 'd3e2c6dabcc7c2bc',
  职业类型: 'd6b0d2b5c0e0d0cd',
  月支出: 'd4c2d6a7b3f6',
  申请金额: 'c9eac7ebbdf0b6ee',
  购买价格: 'b9bac2f2bcdbb8f1',
  姓名: 'd0d5c3fb',
  张三: 'd5c5c8fd',
  李四: 'c0eecbc4',
  王五: 'cdf5cee5',
  租房: 'd7e2b7bf',
  否: 'b7f1',
  城堡: 'b3c7b1a4',
  赵六: 'd5d4c1f9',
};

/** `text` as Excel's "CSV (逗号分隔)" saves it on Chinese Windows: ASCII, and the words above in GB18030. */
function gb18030(text: string): Buffer {
  const words = new RegExp(`(${Object.keys(GB18030_WORDS).join('|')})`);
  const bytes = Buffer.concat(
    text.split(words).map((part) => {
      const hex = GB18030_WORDS[part];
      if (hex !== undefined) return Buffer.from(hex, 'hex');
      if (/[^\p{ASCII}]/u.test(part)) throw new Error(`no GB18030 bytes for "${part}"`);
      return Buffer.from(part, 'latin1');
    }),
  );
  expect(new TextDecoder('gb18030', { fatal: true }).decode(bytes)).toBe(text);
  return bytes;
}

async function openBatch(page: Page, base: string, locale: Locale = 'zh-CN'): Promise<void> {
  await openPage(page, base, 'batch', locale);
}

/** Waits until the file summary names `name` and the file has been read (refused or not). */
async function fileRead(page: Page, name: string): Promise<void> {
  await waitUntil(
    page,
    `(() => {
      const summary = document.querySelector('[data-testid=file-summary]');
      const text = summary ? summary.textContent : '';
      return text.includes(${JSON.stringify(name)}) && !text.includes('正在读取') && !text.includes('Reading…');
    })()`,
  );
}

describe.skipIf(!available)('batch files in the encodings Excel saves', () => {
  let s: UiSession;
  let base: string;
  let dir: string;
  const write = (name: string, content: string | Buffer) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  useUiSession((session) => {
    s = session;
    base = session.server.url;
    dir = tempDir('branchlens-e2e-encoding-');
  });

  it(
    'reads a GBK "CSV (逗号分隔)" file as GB18030: its Chinese header and values legible, and says so',
    async () => {
      const { page } = s;
      const file = write(
        'gbk.csv',
        gb18030(
          [
            '工龄,住房情况,贷款期限,逾期记录,职业类型,月支出,申请金额,购买价格,姓名',
            '2,rent,60,no,fixed,45,900,1200,张三',
            '3,owner,36,no,freelance,60,800,1500,李四',
            // A category may be given by the label the page shows (租房, 否): read as its code. A word that is no
            // label (城堡) is refused, and named as the file writes it.
            '4,租房,60,否,fixed,45,900,1200,王五',
            '5,城堡,60,no,fixed,45,900,1200,赵六',
          ].join('\r\n') + '\r\n',
        ),
      );
      await openBatch(page, base);
      await page.setInputFiles('#batch-file', file);
      await fileRead(page, 'gbk.csv');
      expect(await page.locator('[data-testid=file-summary] [role=alert]').count()).toBe(0);
      expect(await page.getByTestId('count-good').textContent()).toBe('3');
      expect(await page.getByTestId('count-bad').textContent()).toBe('1');
      expect(await page.getByTestId('file-encoding').textContent()).toContain('GB18030');
      expect(await page.getByTestId('ignored-columns').textContent()).toContain('姓名');
      const problems = await page.getByTestId('problem-list').textContent();
      expect(problems).toContain('第 5 行');
      expect(problems).toContain('城堡');
      expect(problems).not.toContain('\uFFFD');
      await screenshot(page, 'batch-gb18030-zh-CN');

      await page.getByTestId('batch-start').click();
      await expect
        .poll(() => page.getByTestId('batch-percent').textContent(), { timeout: 30_000 })
        .toBe('100%');
      expect(await page.locator('[data-testid=results-table] tbody tr.result-row').count()).toBe(3);

      await setLanguage(page, 'en');
      expect(await page.getByTestId('file-encoding').textContent()).toContain('read as GB18030');
    },
    LONG,
  );

  it(
    'reads UTF-8 with and without a byte-order mark as UTF-8, with no note',
    async () => {
      const { page } = s;
      const text = [
        '工龄,住房情况,贷款期限,逾期记录,职业类型,月支出,申请金额,购买价格,姓名',
        '2,rent,60,no,fixed,45,900,1200,张三',
      ].join('\r\n');
      await openBatch(page, base);
      for (const [name, content] of [
        ['utf8.csv', text],
        ['utf8-bom.csv', '\uFEFF' + text],
      ] as const) {
        await page.setInputFiles('#batch-file', write(name, content));
        await fileRead(page, name);
        expect(await page.getByTestId('count-good').textContent()).toBe('1');
        expect(await page.getByTestId('count-bad').textContent()).toBe('0');
        expect(await page.getByTestId('ignored-columns').textContent()).toContain('姓名');
        expect(await page.getByTestId('file-encoding').count()).toBe(0);
      }
    },
    LONG,
  );

  it(
    'reads "Unicode text" (UTF-16 LE, tabs) past its first 16 KiB',
    async () => {
      const { page } = s;
      // 400 rows of 34 characters, two bytes each: about 27 KB, so papaparse reads it in two slices.
      const rows = Array.from({ length: 400 }, (_, i) => `${i % 30}\trent\t60\tno\tfixed\t45\t900\t1200`);
      const tsv = ['工龄\t住房情况\t贷款期限\t逾期记录\t职业类型\t月支出\t申请金额\t购买价格', ...rows].join(
        '\r\n',
      );
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tsv + '\r\n', 'utf16le')]);
      expect(utf16.length).toBeGreaterThan(16 * 1024);
      await openBatch(page, base);
      await page.setInputFiles('#batch-file', write('unicode.txt', utf16));
      await fileRead(page, 'unicode.txt');
      expect(await page.getByTestId('count-rows').textContent()).toBe('400');
      expect(await page.getByTestId('count-good').textContent()).toBe('400');
      expect(await page.getByTestId('count-bad').textContent()).toBe('0');
      expect(await page.getByTestId('file-encoding').count()).toBe(0);
    },
    LONG,
  );

  it(
    'keeps a UTF-8 character whole where the file crosses 16 KiB (papaparse reads files 16 KiB at a time)',
    async () => {
      const { page } = s;
      const SLICE = 16 * 1024;
      const header = 'Seniority,Home,Time,Records,Job,Expenses,Amount,Price,note';
      const good = (note: string) => `2,rent,60,no,fixed,45,900,1200,${note}`;
      const home = '租房'.repeat(10); // a label, not a code: the row is refused, and its problem shows the value
      const bad = `4,${home},60,no,fixed,45,900,1200,x`;
      // Good rows up to just before 16 KiB, the first one padded so that byte 16,384 falls inside a character
      // of the bad row's Home value (its second byte of three).
      const rows = Array.from({ length: Math.floor((SLICE - 64) / (good('x').length + 2)) }, () => good('x'));
      const homeStart = (pad: number) =>
        Buffer.byteLength([header, good('x'.repeat(1 + pad)), ...rows.slice(1), '4,'].join('\r\n'));
      const pad = SLICE - homeStart(0) - 1;
      expect(pad).toBeGreaterThanOrEqual(0);
      rows[0] = good('x'.repeat(1 + pad));
      expect(SLICE - homeStart(pad)).toBe(1);
      const csv = [header, ...rows, bad, good('x')].join('\r\n') + '\r\n';
      await openBatch(page, base, 'en');
      await page.setInputFiles('#batch-file', write('straddle.csv', csv));
      await fileRead(page, 'straddle.csv');
      expect(await page.getByTestId('count-good').textContent()).toBe(String(rows.length + 1));
      expect(await page.getByTestId('count-bad').textContent()).toBe('1');
      const problems = await page.getByTestId('problem-list').textContent();
      expect(problems).toContain(home);
      expect(problems).not.toContain('\uFFFD');
    },
    LONG,
  );

  it(
    "takes the separator from Excel's `sep=;` first line, and numbers the rows as the file does",
    async () => {
      const { page } = s;
      await openBatch(page, base);
      // Excel's first line naming the separator: not a header. The header is line 2, the first row line 3.
      const sep = [
        'sep=;',
        'Seniority;Home;Time;Records;Job;Expenses;Amount;Price',
        '2;rent;60;no;fixed;45;900;1200',
        '3;castle;60;no;fixed;45;900;1200',
      ].join('\r\n');
      await page.setInputFiles('#batch-file', write('sep.csv', sep));
      await fileRead(page, 'sep.csv');
      expect(await page.locator('[data-testid=file-summary] [role=alert]').count()).toBe(0);
      expect(await page.getByTestId('count-good').textContent()).toBe('1');
      expect(await page.getByTestId('count-bad').textContent()).toBe('1');
      expect(await page.getByTestId('problem-list').textContent()).toContain('第 4 行');
    },
    LONG,
  );
});

/** The focused element, described for an assertion: its tag, its row index in the table, and where it is. */
async function focusedRow(page: Page): Promise<{ tag: string; rowIndex: number | null; inTable: boolean }> {
  return (await page.evaluate(`(() => {
    const a = document.activeElement;
    const row = a && a.getAttribute('aria-rowindex');
    return {
      tag: a ? a.tagName.toLowerCase() : '',
      rowIndex: row === null ? null : Number(row),
      inTable: !!(a && a.closest('[data-testid=results-table]')),
    };
  })()`)) as { tag: string; rowIndex: number | null; inTable: boolean };
}

describe.skipIf(!available)('the batch results table, from the keyboard and in the language shown', () => {
  let s: UiSession;
  let base: string;
  let dir: string;

  useUiSession((session) => {
    s = session;
    base = session.server.url;
    dir = tempDir('branchlens-e2e-batch-table-');
  });

  /** Runs `file` to 100 % on the batch page. */
  async function runBatch(page: Page, file: string, name: string): Promise<void> {
    await page.setInputFiles('#batch-file', file);
    await fileRead(page, name);
    await page.getByTestId('batch-start').click();
    await expect
      .poll(() => page.getByTestId('batch-percent').textContent(), { timeout: 60_000 })
      .toBe('100%');
  }

  it(
    'is one Tab stop: the arrow keys, Home, End and the page keys move between rows, rendering the focused one',
    async () => {
      const { page } = s;
      // 120 rows: four times as many as the virtualiser renders at once.
      const sample = readFileSync(join(ROOT, 'assets', 'samples', 'applicants.csv'), 'utf8')
        .trim()
        .split(/\r?\n/);
      const rows = Array.from({ length: 120 }, (_, i) => sample[1 + (i % (sample.length - 1))]!);
      const file = join(dir, 'many.csv');
      writeFileSync(file, [sample[0], ...rows].join('\r\n') + '\r\n');
      await openBatch(page, base, 'en');
      await runBatch(page, file, 'many.csv');
      const table = page.getByTestId('results-table');
      expect(await table.getAttribute('role')).toBe('grid');
      expect(await table.getAttribute('aria-rowcount')).toBe('121');
      const rendered = await page.locator('[data-testid=results-table] tbody tr.result-row').count();
      expect(rendered).toBeLessThan(60);
      // One row only is in the Tab order.
      expect(await page.locator('[data-testid=results-table] tbody tr[tabindex="0"]').count()).toBe(1);

      // From the search field, Tab passes the sort buttons and enters the table on its first row.
      await page.getByRole('searchbox').focus();
      let presses = 0;
      while (!(await focusedRow(page)).rowIndex && presses < 10) {
        await page.keyboard.press('Tab');
        presses++;
      }
      expect(await focusedRow(page)).toEqual({ tag: 'tr', rowIndex: 2, inTable: true });

      const focusedIsShown = `(() => {
        const row = document.activeElement;
        const scroller = document.querySelector('[data-testid=results-scroller]').getBoundingClientRect();
        const head = document.querySelector('[data-testid=results-table] thead').getBoundingClientRect();
        const r = row.getBoundingClientRect();
        return r.top >= head.bottom - 1 && r.bottom <= scroller.bottom + 1;
      })()`;
      for (let i = 0; i < 45; i++) await page.keyboard.press('ArrowDown');
      expect(await focusedRow(page)).toEqual({ tag: 'tr', rowIndex: 47, inTable: true });
      expect(await page.evaluate('document.activeElement.cells[0].textContent')).toBe('47');
      expect(await page.evaluate(focusedIsShown)).toBe(true);
      // The first rows are no longer rendered: the list scrolled with the focus.
      expect(await page.locator('[data-testid=results-table] tbody tr[aria-rowindex="2"]').count()).toBe(0);
      expect(await page.locator('[data-testid=results-table] tbody tr[tabindex="0"]').count()).toBe(1);

      await page.keyboard.press('End');
      expect((await focusedRow(page)).rowIndex).toBe(121);
      expect(await page.evaluate(focusedIsShown)).toBe(true);
      await page.keyboard.press('ArrowDown');
      expect((await focusedRow(page)).rowIndex).toBe(121);
      await page.keyboard.press('PageUp');
      const up = (await focusedRow(page)).rowIndex!;
      expect(up).toBeLessThan(121 - 5);
      expect(await page.evaluate(focusedIsShown)).toBe(true);
      await page.keyboard.press('PageDown');
      expect((await focusedRow(page)).rowIndex).toBe(121);
      await page.keyboard.press('Home');
      expect((await focusedRow(page)).rowIndex).toBe(2);
      expect(await page.evaluate(focusedIsShown)).toBe(true);
      await page.keyboard.press('ArrowUp');
      expect((await focusedRow(page)).rowIndex).toBe(2);

      // Enter opens the row's explanation, as a click does, and marks the row selected.
      for (let i = 0; i < 35; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      expect(await page.locator('.detail-panel .card-head h3').textContent()).toBe('Explanation of row 37');
      expect(await page.evaluate('document.activeElement.getAttribute("aria-selected")')).toBe('true');

      // One Tab leaves the table; Shift+Tab comes back to the row it left.
      await page.keyboard.press('Tab');
      expect((await focusedRow(page)).inTable).toBe(false);
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Close');
      await page.keyboard.press('Shift+Tab');
      expect(await focusedRow(page)).toEqual({ tag: 'tr', rowIndex: 37, inTable: true });
      // Space, too, opens the row the focus is on.
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press(' ');
      expect(await page.locator('.detail-panel .card-head h3').textContent()).toBe('Explanation of row 38');

      // The list scrolled far away with the wheel: the row in the Tab order is still there to come back to.
      await page.keyboard.press('Tab');
      await page.getByTestId('results-scroller').evaluate((e) => (e.scrollTop = e.scrollHeight));
      await waitUntil(page, `!document.querySelector('[data-testid=results-table] tr[aria-rowindex="60"]')`);
      await waitUntil(
        page,
        `!!document.querySelector('[data-testid=results-table] tr[aria-rowindex="121"]')`,
      );
      await page.keyboard.press('Shift+Tab');
      expect(await focusedRow(page)).toEqual({ tag: 'tr', rowIndex: 38, inTable: true });
      expect(await page.evaluate(focusedIsShown)).toBe(true);
    },
    LONG,
  );

  it(
    'words a masked strongest factor in the language shown, after the page changes language',
    async () => {
      const { page } = s;
      await openBatch(page, base, 'zh-CN');
      // The sample's second applicant (line 3): its strongest factor is a sensitive feature, masked.
      await runBatch(page, join(ROOT, 'assets', 'samples', 'applicants.csv'), 'applicants.csv');
      const cell = page.locator('[data-testid=results-table] tbody tr[aria-rowindex="3"] td').nth(3);
      expect(await cell.textContent()).toContain('敏感特征（已脱敏）');
      await setLanguage(page, 'en');
      await expect.poll(() => cell.textContent()).toContain('Sensitive feature (masked)');
      expect(await cell.evaluate((e) => e.closest('[lang]')!.getAttribute('lang'))).toBe('en');
      // And the search finds it by the words shown.
      await page.getByRole('searchbox').fill('sensitive');
      expect(
        await page
          .locator('[data-testid=results-table] tbody tr.result-row td:first-child')
          .allTextContents(),
      ).toEqual(['3']);
    },
    LONG,
  );
});
