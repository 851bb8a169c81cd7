// Electron's IPC transport of the API contract: one channel per contract method, plus the desktop-only calls
// (print to PDF, save a file, export the audit log to a file). Every call checks who sent it before anything runs, then goes through the
// same dispatch() as the HTTP transport. Every call answers {ok, value} or {ok: false, error} with the HTTP API's
// error body, bounded as HTTP bounds it, never a thrown error (which Electron would hand the page as English text,
// its problems lost).
// Electron reaches this file only through the small interfaces below, so it runs and is tested in plain Node.
import { z } from 'zod';
import { API_METHODS, API_REQUESTS, type ApiErrorBody, type ApiMethod } from '../../shared/contract.js';
import {
  ipcChannel,
  type BridgeResult,
  type DesktopResult,
  type ExportResult,
  type SavedExport,
  type SaveResult,
} from '../../shared/bridge.js';
import { InputError, problemsFromZod, type Problem } from '../../shared/problems.js';
import { dispatch, errorResult } from '../core/api.js';
import { boundedErrorBody } from '../core/error-body.js';
import { isAppUrl } from './app-origin.js';

/** The contract handlers, as apiHandlers(service) builds them. */
export type ApiHandlers = Parameters<typeof dispatch>[0];

/** What the adapter needs of the frame that sent a message (Electron: WebFrameMain). */
export interface SenderFrameLike {
  readonly url: string;
  readonly parent: SenderFrameLike | null;
}

/** What the adapter needs of an invoke event (Electron: IpcMainInvokeEvent). */
export interface InvokeEventLike {
  readonly senderFrame: SenderFrameLike | null;
}

/** What the adapter needs of ipcMain. */
export interface IpcMainLike<E extends InvokeEventLike = InvokeEventLike> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** An auditExport request once checked (gzip defaulted). */
export type AuditExportRequest = z.output<(typeof API_REQUESTS)['auditExport']>;

/** Desktop-only calls, implemented in main.ts with Electron's dialogs and printToPDF; failures are thrown. */
export interface DesktopCalls<E extends InvokeEventLike = InvokeEventLike> {
  printToPdf(event: E, suggestedName: string): Promise<string | null>;
  saveFile(event: E, suggestedName: string, content: Buffer): Promise<string | null>;
  /** Asks where to save, then streams the export there; null when the user cancels. */
  exportAudit(event: E, suggestedName: string, request: AuditExportRequest): Promise<SavedExport | null>;
}

export interface IpcOptions<E extends InvokeEventLike = InvokeEventLike> {
  /** Defaults to isAppMainFrame: the message must come from the app's own top-level page. */
  isTrustedSender?: (event: E) => boolean;
  desktop?: DesktopCalls<E>;
  /** Where unexpected failures are reported (their details never reach the renderer). */
  log?: (message: string, error: unknown) => void;
  /**
   * True once the app has begun to quit: every call is then answered CLOSING without running. The handlers stay
   * registered while the window may still be open (macOS's Cmd+Q waits up to 15 s for the service to close), so
   * that a batch's next call learns the app is closing instead of getting "no handler" (not_found).
   */
  isClosing?: () => boolean;
}

/** The channels of the desktop-only calls. The preload (preload.cts) spells the same names. */
export const PRINT_TO_PDF_CHANNEL = 'branchlens:printToPdf';
export const SAVE_FILE_CHANNEL = 'branchlens:saveFile';
export const EXPORT_AUDIT_CHANNEL = 'branchlens:exportAudit';

/** The default sender check: a top-level frame showing a page of app://branchlens/. */
export function isAppMainFrame(event: InvokeEventLike): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame.parent === null && isAppUrl(frame.url);
}

const UNAUTHORIZED: ApiErrorBody = {
  error: 'unauthorized',
  message: 'this window may not call BranchLens',
};

/**
 * The answer to any call once the app is quitting. As the HTTP transport words a server that is shutting down
 * (renderer/src/api/http.ts): the service is going away, so the page treats it as unreachable (a batch keeps the
 * rows not yet answered, to send again) rather than as a refusal of the call.
 */
export const CLOSING: ApiErrorBody = {
  error: 'internal',
  message: 'network: the desktop app is closing',
};

const fileName = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => !/[/\\\0]/.test(s), 'must be a file name, not a path');
const printArgs = z.tuple([fileName]);
const saveArgs = z.tuple([fileName, z.string().max(256 * 1024 * 1024), z.enum(['utf8', 'base64'])]);

/** The problems of a call's arguments, each named for the argument it concerns (`file name`, not `[0]`). */
function argumentProblems(error: z.ZodError, names: readonly string[]): Problem[] {
  return problemsFromZod(error).map((p) => {
    const index = /^\[(\d+)\]/.exec(p.field);
    return { ...p, field: (index && names[Number(index[1])]) || 'arguments' };
  });
}

/** The same handlers, logging failures that become 'internal' (the renderer only sees the generic message). */
function logInternalFailures(
  handlers: ApiHandlers,
  log: (message: string, error: unknown) => void,
): ApiHandlers {
  const wrapped: Record<string, (req: unknown) => Promise<unknown>> = {};
  for (const method of API_METHODS) {
    const run = handlers[method] as (req: unknown) => Promise<unknown>;
    wrapped[method] = async (req) => {
      try {
        return await run(req);
      } catch (e) {
        if (errorResult(e).body.error === 'internal') log(`IPC ${method} failed`, e);
        throw e;
      }
    };
  }
  return wrapped as ApiHandlers;
}

/**
 * Registers one ipcMain handler per contract method (channel ipcChannel(method)) and, when given, the desktop
 * calls. Returns a function that removes them all.
 */
export function registerIpc<E extends InvokeEventLike>(
  ipc: IpcMainLike<E>,
  handlers: ApiHandlers,
  opts: IpcOptions<E> = {},
): () => void {
  const trusted = opts.isTrustedSender ?? isAppMainFrame;
  const closing = opts.isClosing ?? (() => false);
  const log = opts.log ?? ((message, error) => console.error(message, error));
  const channels: string[] = [];
  const logged = logInternalFailures(handlers, log);

  /** The sender check, where reading a disposed frame's properties (Electron throws then) counts as untrusted. */
  function isTrusted(event: E): boolean {
    try {
      return trusted(event);
    } catch {
      return false;
    }
  }

  for (const method of API_METHODS) {
    const channel = ipcChannel(method);
    ipc.handle(channel, async (event, request) => invokeMethod(method, event, request));
    channels.push(channel);
  }

  async function invokeMethod(
    method: ApiMethod,
    event: E,
    request: unknown,
  ): Promise<BridgeResult<ApiMethod>> {
    if (!isTrusted(event)) return { ok: false, error: UNAUTHORIZED };
    if (closing()) return { ok: false, error: CLOSING };
    try {
      const result = await dispatch(logged, method, request);
      return result.ok
        ? { ok: true, value: result.body as never }
        : { ok: false, error: boundedErrorBody(result.body) };
    } catch (e) {
      // dispatch() maps handler failures itself; this catches only the impossible, without leaking it.
      log(`IPC ${method} failed`, e);
      return { ok: false, error: boundedErrorBody(errorResult(e).body) };
    }
  }

  /**
   * A desktop call answered as the bridge promises: its value, or the contract's error body (as the HTTP API
   * would send it). `prepare` checks the arguments (after the sender): their problems, or the call to run.
   * Unexpected failures are logged here; the page gets only the generic internal message.
   */
  async function desktopCall<T>(
    name: string,
    event: E,
    prepare: () => Problem[] | (() => Promise<T>),
  ): Promise<DesktopResult<T>> {
    if (!isTrusted(event)) return { ok: false, error: UNAUTHORIZED };
    if (closing()) return { ok: false, error: CLOSING };
    try {
      const call = prepare();
      if (Array.isArray(call)) {
        return { ok: false, error: boundedErrorBody(errorResult(new InputError(call)).body) };
      }
      return { ok: true, value: await call() };
    } catch (e) {
      const result = errorResult(e);
      if (result.body.error === 'internal') log(`IPC ${name} failed`, e);
      return { ok: false, error: boundedErrorBody(result.body) };
    }
  }

  const desktop = opts.desktop;
  if (desktop) {
    ipc.handle(PRINT_TO_PDF_CHANNEL, (event, ...args): Promise<SaveResult> =>
      desktopCall('printToPdf', event, () => {
        const parsed = printArgs.safeParse(args);
        if (!parsed.success) return argumentProblems(parsed.error, ['file name']);
        return () => desktop.printToPdf(event, parsed.data[0]);
      }),
    );
    ipc.handle(SAVE_FILE_CHANNEL, (event, ...args): Promise<SaveResult> =>
      desktopCall('saveFile', event, () => {
        const parsed = saveArgs.safeParse(args);
        if (!parsed.success) return argumentProblems(parsed.error, ['file name', 'content', 'encoding']);
        const [name, content, encoding] = parsed.data;
        return () => desktop.saveFile(event, name, Buffer.from(content, encoding));
      }),
    );
    ipc.handle(EXPORT_AUDIT_CHANNEL, (event, ...args): Promise<ExportResult> =>
      desktopCall('exportAudit', event, () => {
        const name = fileName.safeParse(args[0]);
        const request = API_REQUESTS.auditExport.safeParse(args[1] ?? {});
        if (!name.success || !request.success) {
          return [
            ...(name.success ? [] : problemsFromZod(name.error).map((p) => ({ ...p, field: 'file name' }))),
            ...(request.success ? [] : problemsFromZod(request.error)),
          ];
        }
        return () => desktop.exportAudit(event, name.data, request.data);
      }),
    );
    channels.push(PRINT_TO_PDF_CHANNEL, SAVE_FILE_CHANNEL, EXPORT_AUDIT_CHANNEL);
  }

  return () => {
    for (const c of channels) ipc.removeHandler(c);
  };
}
