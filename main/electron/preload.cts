// The preload: exposes one narrow, typed API to the renderer as `window.branchlens` (shared/bridge.ts).
// It is CommonJS (.cts → preload.cjs) and self-contained, because a sandboxed preload cannot be an ES module
// and its require() only knows 'electron' and a few built-ins. Hence the channel names are spelled here:
// they must match ipcChannel() in shared/bridge.ts and the constants in ipc-adapter.ts (a test checks both).
import type { BranchLensBridge, BridgeResult, ExportResult, SaveResult } from '../../shared/bridge.js';
import type { ApiMethod } from '../../shared/contract.js';
import { contextBridge, ipcRenderer } from 'electron';

const METHOD_NAME = /^[A-Za-z]{1,64}$/;

/** A call the transport itself failed (a request that cannot be cloned, a call during shutdown). */
const NOT_PASSED_ON = {
  ok: false,
  error: { error: 'internal', message: 'the desktop app could not pass on this request' },
} as const;

const bridge: BranchLensBridge = {
  async invoke<M extends ApiMethod>(method: M, request: unknown): Promise<BridgeResult<M>> {
    if (typeof method !== 'string' || !METHOD_NAME.test(method)) {
      return { ok: false, error: { error: 'not_found', message: `no API method "${String(method)}"` } };
    }
    try {
      return (await ipcRenderer.invoke(`branchlens:${method}`, request)) as BridgeResult<M>;
    } catch (e) {
      // The main process registers every contract method: no handler means a method it does not know. Anything
      // else (a request that cannot be cloned, a call during shutdown) is the transport failing, not the method.
      return /No handler registered/.test(String(e))
        ? { ok: false, error: { error: 'not_found', message: `no API method "${method}"` } }
        : NOT_PASSED_ON;
    }
  },
  async printToPdf(suggestedName) {
    try {
      return (await ipcRenderer.invoke('branchlens:printToPdf', suggestedName)) as SaveResult;
    } catch {
      return NOT_PASSED_ON;
    }
  },
  async saveFile(suggestedName, content, encoding) {
    try {
      return (await ipcRenderer.invoke(
        'branchlens:saveFile',
        suggestedName,
        content,
        encoding,
      )) as SaveResult;
    } catch {
      return NOT_PASSED_ON;
    }
  },
  async exportAudit(suggestedName, request) {
    try {
      return (await ipcRenderer.invoke('branchlens:exportAudit', suggestedName, request)) as ExportResult;
    } catch {
      return NOT_PASSED_ON;
    }
  },
};

contextBridge.exposeInMainWorld('branchlens', bridge);
