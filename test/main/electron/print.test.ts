// Printing the one-page report, saving files and streaming the audit export, through fake dialogs and a fake
// page; the export from a real service into a real file, which must verify as head office verifies it.
import { createReadStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyExportStream } from '../../../main/core/audit/verify-export.js';
import { BranchLensService } from '../../../main/core/service.js';
import {
  exportAuditAs,
  printReportToPdf,
  REPORT_PDF_OPTIONS,
  saveFileAs,
  type SaveDialogLike,
  type SaveTarget,
} from '../../../main/electron/print.js';
import { isInputError } from '../../../shared/problems.js';
import { rewriteSuffix, tamper } from '../core/audit/helpers.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

function fakeDialog(answer: { canceled: boolean; filePath?: string }) {
  const asked: Parameters<SaveDialogLike['showSaveDialog']>[0][] = [];
  const dialog: SaveDialogLike = {
    async showSaveDialog(options) {
      asked.push(options);
      return answer;
    },
  };
  return { dialog, asked };
}

let folders: { docs: string; data: string };
beforeAll(() => {
  folders = { docs: tempDir('branchlens-save-docs-'), data: tempDir('branchlens-save-data-') };
});
afterAll(() => {
  removeDir(folders.docs);
  removeDir(folders.data);
});

/** A page whose printToPDF records its options and returns `pdf`. */
function fakePage(pdf = Buffer.from('%PDF-1.7')) {
  const options: unknown[] = [];
  return {
    options,
    async printToPDF(o: typeof REPORT_PDF_OPTIONS) {
      options.push(o);
      return pdf;
    },
  };
}

describe('printReportToPdf', () => {
  it('prints the A4 report to the file the user picked', async () => {
    const file = join(folders.docs, 'applicant-7.pdf');
    const { dialog, asked } = fakeDialog({ canceled: false, filePath: file });
    const page = fakePage();
    const target = { dialog, defaultDir: folders.docs, locale: 'zh-CN' as const, dataDir: folders.data };
    const path = await printReportToPdf(page, target, 'applicant-7');
    expect(path).toBe(file);
    expect(asked[0]?.defaultPath).toBe(file);
    expect(asked[0]?.filters).toEqual([{ name: 'PDF', extensions: ['pdf'] }]);
    // In the user's language, as the rest of the app.
    expect(asked[0]?.title).toBe('保存解释报告');
    expect(page.options).toEqual([expect.objectContaining({ pageSize: 'A4', preferCSSPageSize: true })]);
    expect(readFileSync(file, 'utf8')).toBe('%PDF-1.7');
  });

  it('prints every page: no page range silently drops what did not fit on the first', async () => {
    // The report is laid out to fit one page (test/e2e/print-report.e2e.test.ts); should it ever not, the checks
    // and the sign-off lines must come out on a second page rather than be cut from the customer file.
    expect(REPORT_PDF_OPTIONS).not.toHaveProperty('pageRanges');
    const page = fakePage();
    const file = join(folders.docs, 'every-page.pdf');
    const { dialog } = fakeDialog({ canceled: false, filePath: file });
    await printReportToPdf(page, { dialog, defaultDir: folders.docs, locale: 'en' }, 'every-page');
    expect(page.options).toHaveLength(1);
    expect(page.options[0]).not.toHaveProperty('pageRanges');
  });

  it('prints nothing when the user cancels', async () => {
    const { dialog } = fakeDialog({ canceled: true });
    const page = fakePage();
    expect(
      await printReportToPdf(page, { dialog, defaultDir: folders.docs, locale: 'en' }, 'x.pdf'),
    ).toBeNull();
    expect(page.options).toEqual([]);
  });
});

describe('saveFileAs', () => {
  it('writes the bytes where the user chose, offering the file type', async () => {
    const file = join(folders.docs, 'audit.csv');
    const { dialog, asked } = fakeDialog({ canceled: false, filePath: file });
    const target = { dialog, defaultDir: folders.docs, locale: 'en' as const, dataDir: folders.data };
    const path = await saveFileAs(target, 'audit.csv', Buffer.from('seq,kind\n'));
    expect(path).toBe(file);
    expect(asked[0]?.filters).toEqual([
      { name: 'CSV', extensions: ['csv'] },
      { name: 'All files', extensions: ['*'] },
    ]);
    expect(asked[0]?.title).toBe('Save');
    expect(readFileSync(file, 'utf8')).toBe('seq,kind\n');
  });

  it('writes nothing when the user cancels', async () => {
    const { dialog } = fakeDialog({ canceled: true });
    const before = readdirSync(folders.docs);
    expect(
      await saveFileAs({ dialog, defaultDir: folders.docs, locale: 'zh-CN' }, 'a.txt', Buffer.from('a')),
    ).toBeNull();
    expect(readdirSync(folders.docs)).toEqual(before);
  });
});

describe('saving into the data folder', () => {
  it('is refused for the report and for any file, leaving the database as it was', async () => {
    const db = join(folders.data, 'branchlens.db');
    writeFileSync(db, 'the audit trail');
    const { dialog } = fakeDialog({ canceled: false, filePath: db });
    const target = { dialog, defaultDir: folders.docs, locale: 'en' as const, dataDir: folders.data };
    for (const save of [
      () => printReportToPdf(fakePage(), target, 'report'),
      () => saveFileAs(target, 'report.pdf', Buffer.from('%PDF')),
    ]) {
      const error = await save().catch((e: unknown) => e);
      expect(isInputError(error), String(error)).toBe(true);
      expect((error as Error).message).toContain('inside the data folder');
    }
    expect(readFileSync(db, 'utf8')).toBe('the audit trail');
    expect(readdirSync(folders.data)).toEqual(['branchlens.db']);
  });
});

describe('the save dialogs', () => {
  it('ask before replacing an existing file, which Linux’s dialog does only when told', async () => {
    // On Linux the dialog replaces a file the officer picks without asking unless showOverwriteConfirmation is
    // set: yesterday's audit export or another applicant's report would be lost without a word.
    const { dialog, asked } = fakeDialog({ canceled: true });
    const target = { dialog, defaultDir: folders.docs, locale: 'en' as const };
    const service = {
      dataDir: folders.data,
      auditExport: () => Promise.reject(new Error('not reached: the dialog was cancelled')),
    };
    await printReportToPdf(fakePage(), target, 'report');
    await saveFileAs(target, 'batch.csv', Buffer.from('a'));
    await exportAuditAs(target, service, 'audit.jsonl', { format: 'jsonl', gzip: false });
    expect(asked).toHaveLength(3);
    for (const options of asked) expect(options.properties).toContain('showOverwriteConfirmation');
  });
});

describe('exportAuditAs', () => {
  let data: string;
  let docs: string;
  let service: BranchLensService;
  /** The save target of a desktop app in Chinese, with `dialog`. */
  const at = (dialog: SaveDialogLike): SaveTarget => ({ dialog, defaultDir: docs, locale: 'zh-CN' });

  beforeAll(async () => {
    data = tempDir('branchlens-export-data-');
    docs = tempDir('branchlens-export-docs-');
    service = await BranchLensService.open({ dataDir: data, workers: 0 });
    await service.explain(holdoutApplicants(3), {});
  });
  afterAll(async () => {
    await service?.close();
    removeDir(data);
    removeDir(docs);
  });

  it('streams the export into the file the user picked, where it verifies with the public key', async () => {
    const path = join(docs, 'head-office.jsonl');
    const { dialog, asked } = fakeDialog({ canceled: false, filePath: path });
    const saved = await exportAuditAs(at(dialog), service, 'audit.jsonl', {
      format: 'jsonl',
      gzip: false,
    });
    expect(asked[0]?.defaultPath).toBe(join(docs, 'audit.jsonl'));
    expect(asked[0]?.filters).toEqual([
      { name: 'JSONL', extensions: ['jsonl'] },
      { name: '所有文件', extensions: ['*'] },
    ]);
    expect(asked[0]?.title).toBe('保存审计导出');
    // Three explanations (and the demo model's installation) are in the log, each a line, with the seal.
    expect(saved?.path).toBe(path);
    expect(saved?.entries).toBeGreaterThanOrEqual(3);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(saved!.entries);
    const verdict = await verifyExportStream(createReadStream(path), service.auditPublicKey().pem);
    expect(verdict.ok).toBe(true);
    expect(verdict.entries).toBe(saved!.entries);
    expect(readdirSync(docs)).toEqual(['head-office.jsonl']);
  });

  it('gzips it when asked', async () => {
    const path = join(docs, 'head-office.csv.gz');
    const { dialog } = fakeDialog({ canceled: false, filePath: path });
    const saved = await exportAuditAs(at(dialog), service, 'audit.csv.gz', {
      format: 'csv',
      gzip: true,
    });
    expect(readFileSync(path).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const verdict = await verifyExportStream(
      createReadStream(path).pipe(createGunzip()),
      service.auditPublicKey().pem,
    );
    expect(verdict).toMatchObject({ ok: true, format: 'csv', entries: saved!.entries });
  });

  it('writes nothing when the user cancels', async () => {
    const before = readdirSync(docs);
    const { dialog } = fakeDialog({ canceled: true });
    expect(
      await exportAuditAs(at(dialog), service, 'audit.jsonl', {
        format: 'jsonl',
        gzip: false,
      }),
    ).toBeNull();
    expect(readdirSync(docs)).toEqual(before);
  });

  it('refuses a file inside the data folder, which holds the database and keys', async () => {
    const path = join(data, 'branchlens.db');
    const { dialog } = fakeDialog({ canceled: false, filePath: path });
    const refused = await exportAuditAs(at(dialog), service, 'audit.jsonl', {
      format: 'jsonl',
      gzip: false,
    }).catch((e: unknown) => e);
    expect(isInputError(refused) && refused.problems[0]?.message).toMatch(/inside the data folder/);
    expect((await service.auditVerify()).ok).toBe(true);
  });

  it('refuses a log that fails verification, leaving no file behind', async () => {
    const other = tempDir('branchlens-export-broken-');
    try {
      const broken = await BranchLensService.open({ dataDir: other, workers: 0 });
      try {
        await broken.explain(holdoutApplicants(2), {});
        await broken.auditExport({ format: 'jsonl', out: join(docs, 'first.jsonl') });
      } finally {
        await broken.close();
      }
      tamper(other, (raw) => rewriteSuffix(raw, 1, 0.999));
      const reopened = await BranchLensService.open({ dataDir: other, workers: 0 });
      try {
        const path = join(docs, 'broken.jsonl');
        const { dialog } = fakeDialog({ canceled: false, filePath: path });
        const refused = await exportAuditAs(at(dialog), reopened, 'audit.jsonl', {
          format: 'jsonl',
          gzip: false,
        }).catch((e: unknown) => e);
        expect((refused as Error).name).toBe('AuditBrokenError');
        expect(existsSync(path)).toBe(false);
        expect(readdirSync(docs).filter((f) => f.endsWith('.partial'))).toEqual([]);
      } finally {
        await reopened.close();
      }
    } finally {
      removeDir(other);
    }
  });
});
