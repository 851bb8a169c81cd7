// Printing the one-page report and saving files, through fake dialogs and a fake page.
import { describe, expect, it } from 'vitest';
import {
  printReportToPdf,
  REPORT_PDF_OPTIONS,
  saveFileAs,
  type SaveDialogLike,
} from '../../../main/electron/print.js';

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

describe('printReportToPdf', () => {
  it('prints one A4 page to the file the user picked', async () => {
    const { dialog, asked } = fakeDialog({ canceled: false, filePath: '/docs/applicant-7.pdf' });
    const written: [string, Buffer][] = [];
    const options: unknown[] = [];
    const page = {
      async printToPDF(o: typeof REPORT_PDF_OPTIONS) {
        options.push(o);
        return Buffer.from('%PDF-1.7');
      },
    };
    const path = await printReportToPdf(
      page,
      { dialog, defaultDir: '/docs', write: async (p, b) => void written.push([p, b]) },
      'applicant-7',
    );
    expect(path).toBe('/docs/applicant-7.pdf');
    expect(asked[0]?.defaultPath).toMatch(/applicant-7\.pdf$/);
    expect(asked[0]?.filters).toEqual([{ name: 'PDF', extensions: ['pdf'] }]);
    expect(options).toEqual([expect.objectContaining({ pageSize: 'A4', pageRanges: '1' })]);
    expect(written).toEqual([['/docs/applicant-7.pdf', Buffer.from('%PDF-1.7')]]);
  });

  it('prints nothing when the user cancels', async () => {
    const { dialog } = fakeDialog({ canceled: true });
    let printed = false;
    const page = {
      async printToPDF() {
        printed = true;
        return Buffer.alloc(0);
      },
    };
    expect(await printReportToPdf(page, { dialog, defaultDir: '/docs' }, 'x.pdf')).toBeNull();
    expect(printed).toBe(false);
  });
});

describe('saveFileAs', () => {
  it('writes the bytes where the user chose, offering the file type', async () => {
    const { dialog, asked } = fakeDialog({ canceled: false, filePath: '/docs/audit.csv' });
    const written: [string, Buffer][] = [];
    const path = await saveFileAs(
      { dialog, defaultDir: '/docs', write: async (p, b) => void written.push([p, b]) },
      'audit.csv',
      Buffer.from('seq,kind\n'),
    );
    expect(path).toBe('/docs/audit.csv');
    expect(asked[0]?.filters[0]).toEqual({ name: 'CSV', extensions: ['csv'] });
    expect(written).toEqual([['/docs/audit.csv', Buffer.from('seq,kind\n')]]);
  });

  it('writes nothing when the user cancels', async () => {
    const { dialog } = fakeDialog({ canceled: true });
    const written: unknown[] = [];
    expect(
      await saveFileAs(
        { dialog, defaultDir: '/d', write: async (p) => void written.push(p) },
        'a.txt',
        Buffer.from('a'),
      ),
    ).toBeNull();
    expect(written).toEqual([]);
  });
});
