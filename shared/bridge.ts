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

/** An export saved (null: the user cancelled the dialog), or why not, as the contract's error body. */
export type ExportResult = { ok: true; value: SavedExport | null } | { ok: false; error: ApiErrorBody };

export interface BranchLensBridge {
  invoke<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<BridgeResult<M>>;
  /** Prints the current page to a PDF the user chooses (Electron's printToPDF); resolves to the path or null. */
  printToPdf(suggestedName: string): Promise<string | null>;
  /** Saves text or base64 content where the user chooses; resolves to the path or null when cancelled. */
  saveFile(suggestedName: string, content: string, encoding: 'utf8' | 'base64'): Promise<string | null>;
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
