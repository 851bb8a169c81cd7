// The one narrow API the Electron preload exposes to the renderer as `window.branchlens`.
// It carries contract calls only; the main process validates every request and checks the sender.
import type { ApiErrorBody, ApiMethod, ApiRequest, ApiResponses } from './contract.js';

export type BridgeResult<M extends ApiMethod> =
  { ok: true; value: ApiResponses[M] } | { ok: false; error: ApiErrorBody };

/** Where an audit export was saved, and how many entries it holds. */
export interface SavedExport {
  path: string;
  entries: number;
}

/**
 * What a desktop call (print, save, export) answers: its value, or why not as the contract's error body, the
 * body the HTTP API would send (an ApiError's body in the renderer, worded in the user's language).
 */
export type DesktopResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

/** A file printed or saved: where (null: the user cancelled the dialog), or why not. */
export type SaveResult = DesktopResult<string | null>;

/** An export saved (null: the user cancelled the dialog), or why not. */
export type ExportResult = DesktopResult<SavedExport | null>;

export interface BranchLensBridge {
  invoke<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<BridgeResult<M>>;
  /** Prints the current page to a PDF the user chooses (Electron's printToPDF): the path, null, or why not. */
  printToPdf(suggestedName: string): Promise<SaveResult>;
  /** Saves text or base64 content where the user chooses: the path, null when cancelled, or why not. */
  saveFile(suggestedName: string, content: string, encoding: 'utf8' | 'base64'): Promise<SaveResult>;
  /**
   * Exports the audit log straight into a file the user chooses: the main process streams it there, so an
   * export of any size never crosses IPC (nor sits whole in memory).
   */
  exportAudit(suggestedName: string, request: ApiRequest<'auditExport'>): Promise<ExportResult>;
}

/** The IPC channel of a contract method. */
export function ipcChannel(method: ApiMethod): string {
  return `branchlens:${method}`;
}
