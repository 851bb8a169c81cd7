// Saving a file the user asked for: the desktop app's save dialog (window.branchlens.saveFile), or a browser
// download. Resolves to where it went (the desktop path), the file name (browser), or null when cancelled.
// The desktop app's refusals (a file inside the data folder, a folder that may not be written) reject with the
// same ApiError as a call over HTTP (desktop-save.ts).
import type { ApiRequest } from '../../../shared/contract.js';
import { saveAuditExport, type SavedAuditExport } from '../api/audit-export.js';
import { desktopBridge } from '../api/desktop.js';
import { storedToken } from '../api/http.js';
import { printToPdfVia, saveFileVia } from './desktop-save.js';

export async function saveFile(
  name: string,
  content: string,
  options: { type: string; encoding?: 'utf8' | 'base64' },
): Promise<string | null> {
  const encoding = options.encoding ?? 'utf8';
  const bridge = desktopBridge();
  if (bridge) return saveFileVia(bridge, name, content, encoding);
  downloadBlob(
    name,
    encoding === 'base64'
      ? new Blob([Uint8Array.from(atob(content), (c) => c.charCodeAt(0))], { type: options.type })
      : new Blob([content], { type: options.type }),
  );
  return name;
}

/** The browser's download of `blob` as `name` (a large blob stays on disk in the browser, not in this page). */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Prints the current page: a PDF through the desktop app's dialog, or the browser's print dialog. */
export async function printPage(suggestedName: string): Promise<string | null> {
  const bridge = desktopBridge();
  if (bridge) return printToPdfVia(bridge, suggestedName);
  window.print();
  return null;
}

/** A file-name-safe local timestamp: 20261126-0954. */
export function fileStamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`;
}

/** Saves an audit export through this page's own transport (api/audit-export.ts): streamed, whatever its size. */
export function saveAuditExportHere(
  request: ApiRequest<'auditExport'>,
  name: string,
): Promise<SavedAuditExport | null> {
  return saveAuditExport(request, name, {
    bridge: desktopBridge(),
    base: document.baseURI,
    token: storedToken,
    download: downloadBlob,
  });
}
