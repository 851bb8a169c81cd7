// Saving an audit export as a file, streamed whatever the log's size. In the desktop app the main process
// writes it into the file the user picks (window.branchlens.exportAudit); in a browser it is downloaded from
// GET /api/app/auditExport. Neither holds the export in this page as one string, as the auditExport method's
// JSON answer would (it carries at most MAX_INLINE_EXPORT_BYTES).
import type { BranchLensBridge } from '../../../shared/bridge.js';
import { ApiError, type ApiRequest } from '../../../shared/contract.js';
import { isErrorBody } from './http.js';

export interface SavedAuditExport {
  /** The desktop path, or the browser download's file name. */
  where: string;
  /** How many entries it holds, when the transport can tell (the desktop app). */
  entries: number | null;
}

export interface AuditExportTransport {
  /** The desktop app's bridge; without it, the export is downloaded over HTTP. */
  bridge?: BranchLensBridge | undefined;
  /** The page's URL: the server that served it holds the log. */
  base: string;
  token?: () => string | null;
  fetch?: typeof fetch;
  download: (name: string, blob: Blob) => void;
}

/** Saves the export as `name`; null when the user cancels the desktop app's dialog. Failures are ApiErrors. */
export async function saveAuditExport(
  request: ApiRequest<'auditExport'>,
  name: string,
  transport: AuditExportTransport,
): Promise<SavedAuditExport | null> {
  if (transport.bridge) {
    const result = await transport.bridge.exportAudit(name, request);
    if (!result.ok) throw new ApiError(result.error);
    return result.value && { where: result.value.path, entries: result.value.entries };
  }
  const url = new URL('api/app/auditExport', transport.base);
  url.searchParams.set('format', request.format);
  if (request.gzip) url.searchParams.set('gzip', 'true');
  if (request.since) url.searchParams.set('since', request.since);
  if (request.until) url.searchParams.set('until', request.until);
  const token = transport.token?.();
  let response: Response;
  try {
    response = await (transport.fetch ?? fetch)(
      url,
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
  } catch {
    throw new ApiError({ error: 'internal', message: 'network: the BranchLens server cannot be reached' });
  }
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => null);
    throw new ApiError(
      isErrorBody(body) ? body : { error: 'internal', message: `the server answered ${response.status}` },
    );
  }
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch {
    // The stream was cut: the server failed after it had begun (its log says why), or the network did.
    throw new ApiError({ error: 'internal', message: 'network: the export was cut off before it ended' });
  }
  transport.download(name, blob);
  return { where: name, entries: null };
}
