// The Audit page's export of a range of local days, in Chromium (Asia/Shanghai): a month exported from the page
// holds exactly the entries stamped from its first local midnight up to the next month's, the last millisecond of
// its last day included; an until day before the since day is refused on the page. The server's audit log runs on
// a set clock, so that entries sit on either side of each bound. Without Chromium this suite is skipped.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../main/server/index.js';
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  RENDERER_DIR,
  RESULTS_DIR,
  chromiumForSuite,
  ensureRendererBuilt,
  openPage,
  setLanguage,
  tempDir,
} from './harness.js';

const available = chromiumForSuite("the Audit page's export range tests");

const LONG = 120_000;

/** Entries stamped at these instants (Beijing time), in order, besides the ones the server makes as it starts. */
const STAMPS = [
  '2025-09-30T23:59:59.999+08:00', // before the range
  '2025-10-01T00:00:00.000+08:00', // its first millisecond (30 September in UTC)
  '2025-10-15T12:00:00.000+08:00',
  '2025-10-31T23:59:59.999+08:00', // its last millisecond
  '2025-11-01T00:00:00.000+08:00', // after it (still 31 October in UTC)
  '2025-11-02T09:00:00.000+08:00',
];
const RANGE_START = Date.parse('2025-10-01T00:00:00.000+08:00');
const RANGE_END = Date.parse('2025-11-01T00:00:00.000+08:00');

interface ExportedEntry {
  record: string;
  seq: number;
  timestamp: string;
}

function entriesOf(jsonl: string): ExportedEntry[] {
  return jsonl
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ExportedEntry)
    .filter((r) => r.record === 'entry');
}

describe.skipIf(!available)("the Audit page's export of a range of days", () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let dataDir: string;
  let profile: string;
  let clock = new Date('2025-09-15T10:00:00.000+08:00');

  beforeAll(async () => {
    ensureRendererBuilt();
    dataDir = tempDir('branchlens-e2e-range-data-');
    profile = tempDir('branchlens-e2e-range-chromium-');
    // The audit log in this thread (a writer thread keeps its own clock), stamping by the set clock.
    server = await startServer({
      dataDir,
      port: 0,
      workers: 0,
      writer: 'inline',
      backend: 'wasm',
      logLevel: false,
      rendererDir: RENDERER_DIR,
      audit: { now: () => clock },
    });
    for (const stamp of STAMPS) {
      clock = new Date(stamp);
      await server.service.audit.append({ kind: 'model_activate', details: { reason: `stamped ${stamp}` } });
    }
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      acceptDownloads: true,
      viewport: { width: 1366, height: 900 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await server?.close();
    for (const dir of [dataDir, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'exports a month of local days: exactly the entries stamped in it, under a name that says the range',
    async () => {
      // The whole log, to tell which entries the month holds.
      const all = await fetch(new URL('api/app/auditExport?format=jsonl', server.url));
      expect(all.status).toBe(200);
      const log = entriesOf(await all.text());
      const expected = log
        .filter((e) => Date.parse(e.timestamp) >= RANGE_START && Date.parse(e.timestamp) < RANGE_END)
        .map((e) => e.seq);
      expect(expected).toHaveLength(3);
      expect(log.length).toBeGreaterThan(expected.length + 2);

      await openPage(page, server.url, 'audit');
      await page.getByLabel('起始日期（可选）').fill('2025-10-01');
      await page.getByLabel('截止日期（含当日，可选）').fill('2025-10-31');
      const [file] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: '导出', exact: true }).click(),
      ]);
      const path = join(RESULTS_DIR, 'ui', 'audit-range.jsonl');
      await file.saveAs(path);
      expect(file.suggestedFilename()).toBe('branchlens-audit-2025-10-01-to-2025-10-31.jsonl');
      const exported = readFileSync(path, 'utf8');
      expect(entriesOf(exported).map((e) => e.seq)).toEqual(expected);
      // Sealed: its last line is the signed checkpoint over the range's last entry.
      const seal = JSON.parse(exported.trim().split('\n').at(-1)!) as { record: string; seq: number };
      expect(seal).toMatchObject({ record: 'checkpoint', seq: expected.at(-1) });
    },
    LONG,
  );

  it(
    'refuses an until day before the since day, saying so in either language',
    async () => {
      await openPage(page, server.url, 'audit');
      const exportButton = page.getByRole('button', { name: '导出', exact: true });
      await page.getByLabel('起始日期（可选）').fill('2025-11-01');
      await page.getByLabel('截止日期（含当日，可选）').fill('2025-10-31');
      const problem = page.getByTestId('audit-export-reversed');
      expect(await problem.textContent()).toBe('截止日期早于起始日期：请调换或更正日期后再导出。');
      expect(await exportButton.isDisabled()).toBe(true);
      await setLanguage(page, 'en');
      expect(await problem.textContent()).toBe(
        'The until date is before the since date: swap or correct the dates, then export.',
      );
      // The same day at both ends is that one day, not reversed.
      await page.getByLabel('Until, inclusive (optional)').fill('2025-11-01');
      expect(await problem.count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Export', exact: true }).isDisabled()).toBe(false);
    },
    LONG,
  );
});
