// The desktop-only calls behind the preload's printToPdf and saveFile: the user picks where the file goes in
// the OS save dialog, then the bytes are written there. Electron is reached only through the interfaces below.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SaveDialogLike {
  /** Electron: dialog.showSaveDialog(window, options). */
  showSaveDialog(options: {
    title: string;
    defaultPath: string;
    filters: { name: string; extensions: string[] }[];
  }): Promise<{ canceled: boolean; filePath?: string }>;
}

/** What printing needs of the sender's page (Electron: WebContents). */
export interface PrintableLike {
  printToPDF(options: {
    pageSize: 'A4';
    pageRanges: string;
    printBackground: boolean;
    preferCSSPageSize: boolean;
    /** Inches. */
    margins: { top: number; bottom: number; left: number; right: number };
    generateTaggedPDF: boolean;
  }): Promise<Buffer>;
}

export interface SaveTarget {
  dialog: SaveDialogLike;
  /** The folder the dialog opens in (Electron: app.getPath('documents')). */
  defaultDir: string;
  write?: (path: string, bytes: Buffer) => Promise<void>;
}

/** The one-page report: A4, first page only, with the page's own print styles and backgrounds. */
export const REPORT_PDF_OPTIONS = {
  pageSize: 'A4',
  pageRanges: '1',
  printBackground: true,
  preferCSSPageSize: true,
  margins: { top: 0.4, bottom: 0.4, left: 0.4, right: 0.4 },
  generateTaggedPDF: true,
} as const;

function withExtension(name: string, ext: string): string {
  return name.toLowerCase().endsWith(`.${ext}`) ? name : `${name}.${ext}`;
}

function extensionOf(name: string): string | undefined {
  const m = /\.([A-Za-z0-9]{1,10})$/.exec(name);
  return m?.[1]?.toLowerCase();
}

/** Asks where to save, then prints the page to a one-page A4 PDF there. Resolves to the path, or null if cancelled. */
export async function printReportToPdf(
  page: PrintableLike,
  target: SaveTarget,
  suggestedName: string,
): Promise<string | null> {
  const choice = await target.dialog.showSaveDialog({
    title: 'Save the explanation report',
    defaultPath: join(target.defaultDir, withExtension(suggestedName, 'pdf')),
    filters: [{ name: 'PDF', extensions: ['pdf'] }],
  });
  if (choice.canceled || !choice.filePath) return null;
  const pdf = await page.printToPDF({ ...REPORT_PDF_OPTIONS });
  await (target.write ?? writeFile)(choice.filePath, pdf);
  return choice.filePath;
}

/** Asks where to save, then writes the bytes there. Resolves to the path, or null if cancelled. */
export async function saveFileAs(
  target: SaveTarget,
  suggestedName: string,
  bytes: Buffer,
): Promise<string | null> {
  const ext = extensionOf(suggestedName);
  const choice = await target.dialog.showSaveDialog({
    title: 'Save',
    defaultPath: join(target.defaultDir, suggestedName),
    filters: [
      ...(ext ? [{ name: ext.toUpperCase(), extensions: [ext] }] : []),
      { name: 'All files', extensions: ['*'] },
    ],
  });
  if (choice.canceled || !choice.filePath) return null;
  await (target.write ?? writeFile)(choice.filePath, bytes);
  return choice.filePath;
}
