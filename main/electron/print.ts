// The desktop-only calls behind the preload's printToPdf, saveFile and exportAudit: the user picks where the
// file goes in the OS save dialog, then the bytes are written (or streamed) there. Electron is reached only through the interfaces below.
import { join } from 'node:path';
import type { SavedExport } from '../../shared/bridge.js';
import type { Locale } from '../../shared/bundle.js';
import { translate } from '../../shared/i18n/index.js';
import { asDates } from '../core/api.js';
import { writeOutFile } from '../core/out-file.js';
import type { BranchLensService } from '../core/service.js';
import type { AuditExportRequest } from './ipc-adapter.js';

export interface SaveDialogLike {
  /** Electron: dialog.showSaveDialog(window, options). */
  showSaveDialog(options: {
    title: string;
    defaultPath: string;
    filters: { name: string; extensions: string[] }[];
    properties: 'showOverwriteConfirmation'[];
  }): Promise<{ canceled: boolean; filePath?: string }>;
}

/**
 * Every save dialog asks before replacing an existing file. Windows and macOS always do; Linux's (GTK or the
 * desktop portal) only with this flag, and the chosen file is then replaced without a word: yesterday's audit
 * export, or another applicant's report saved under the same name.
 */
const SAVE_DIALOG_PROPERTIES: 'showOverwriteConfirmation'[] = ['showOverwriteConfirmation'];

/** What printing needs of the sender's page (Electron: WebContents). */
export interface PrintableLike {
  printToPDF(options: {
    pageSize: 'A4';
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
  /** The language of the dialog's title (see desktopLocale). */
  locale: Locale;
  /**
   * The data folder (the database, the audit log and the keys): no save may go inside it, since a report saved
   * over the database would destroy the audit trail the bank must keep.
   */
  dataDir?: string;
}

/** Writes `bytes` to `path` whole or not at all (see writeOutFile), refusing a path inside the data folder. */
async function writeBytes(target: SaveTarget, path: string, bytes: Buffer): Promise<void> {
  await writeOutFile('file', path, (out) => void out.write(bytes), 0o666, target.dataDir);
}

/** The dialog's file types: the suggested name's extension, and all files. */
function filtersFor(suggestedName: string, locale: Locale): { name: string; extensions: string[] }[] {
  const ext = extensionOf(suggestedName);
  return [
    ...(ext ? [{ name: ext.toUpperCase(), extensions: [ext] }] : []),
    { name: translate(locale, 'desktop.save.allFiles'), extensions: ['*'] },
  ];
}

/**
 * The report: A4, with the page's own print styles and backgrounds, every page printed. The report is laid out to
 * fit one page (Report.tsx lists at most REPORT_MAX_FEATURES factors); a page range would instead drop whatever
 * did not fit (the checks, the sign-off lines) from the customer file without a word.
 */
export const REPORT_PDF_OPTIONS = {
  pageSize: 'A4',
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

/** Asks where to save, then prints the page's report to an A4 PDF there. Resolves to the path, or null if cancelled. */
export async function printReportToPdf(
  page: PrintableLike,
  target: SaveTarget,
  suggestedName: string,
): Promise<string | null> {
  const choice = await target.dialog.showSaveDialog({
    title: translate(target.locale, 'desktop.save.report'),
    defaultPath: join(target.defaultDir, withExtension(suggestedName, 'pdf')),
    filters: [{ name: 'PDF', extensions: ['pdf'] }],
    properties: SAVE_DIALOG_PROPERTIES,
  });
  if (choice.canceled || !choice.filePath) return null;
  const pdf = await page.printToPDF({ ...REPORT_PDF_OPTIONS });
  await writeBytes(target, choice.filePath, pdf);
  return choice.filePath;
}

/** Asks where to save, then writes the bytes there. Resolves to the path, or null if cancelled. */
export async function saveFileAs(
  target: SaveTarget,
  suggestedName: string,
  bytes: Buffer,
): Promise<string | null> {
  const choice = await target.dialog.showSaveDialog({
    title: translate(target.locale, 'desktop.save.file'),
    defaultPath: join(target.defaultDir, suggestedName),
    filters: filtersFor(suggestedName, target.locale),
    properties: SAVE_DIALOG_PROPERTIES,
  });
  if (choice.canceled || !choice.filePath) return null;
  await writeBytes(target, choice.filePath, bytes);
  return choice.filePath;
}

/**
 * Asks where to save, then streams what `write` writes into that file, whole or not at all (a failure leaves
 * neither a partial file nor a damaged old one). A path inside `dataDir` (the database, the audit log and the
 * keys) is refused. Resolves to the path and `write`'s result, or null if cancelled.
 */
export async function streamFileAs<T>(
  target: SaveTarget,
  suggestedName: string,
  title: string,
  write: (out: NodeJS.WritableStream) => Promise<T>,
  dataDir?: string,
): Promise<{ path: string; result: T } | null> {
  const choice = await target.dialog.showSaveDialog({
    title,
    defaultPath: join(target.defaultDir, suggestedName),
    filters: filtersFor(suggestedName, target.locale),
    properties: SAVE_DIALOG_PROPERTIES,
  });
  if (choice.canceled || !choice.filePath) return null;
  const path = choice.filePath;
  return { path, result: await writeOutFile('file', path, write, 0o666, dataDir) };
}

/**
 * The audit export, streamed into the file the user picks: never whole in memory nor across IPC, whatever the
 * log's size. The log is verified first (a broken one is refused, AuditBrokenError, and nothing is written).
 */
export async function exportAuditAs(
  target: SaveTarget,
  service: Pick<BranchLensService, 'auditExport' | 'dataDir'>,
  suggestedName: string,
  { format, gzip, since, until }: AuditExportRequest,
): Promise<SavedExport | null> {
  const saved = await streamFileAs(
    target,
    suggestedName,
    translate(target.locale, 'desktop.save.audit'),
    (out) =>
      service.auditExport({
        format,
        gzip,
        out,
        ...asDates({ since, until }),
      }),
    service.dataDir,
  );
  return saved && { path: saved.path, entries: saved.result.entries };
}
