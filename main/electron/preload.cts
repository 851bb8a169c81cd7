// The preload: exposes one narrow, typed API to the renderer as `window.branchlens` (shared/bridge.ts).
// It is CommonJS (.cts → preload.cjs) and self-contained, because a sandboxed preload cannot be an ES module
// and its require() only knows 'electron' and a few built-ins. Hence the channel names are spelled here:
// they must match ipcChannel() in shared/bridge.ts and the constants in ipc-adapter.ts (a test checks both).
import type { BranchLensBridge, BridgeResult } from '../../shared/bridge.js';
import type { ApiMethod } from '../../shared/contract.js';
import { contextBridge, ipcRenderer } from 'electron';

const METHOD_NAME = /^[A-Za-z]{1,64}$/;

const bridge: BranchLensBridge = {
  async invoke<M extends ApiMethod>(method: M, request: unknown): Promise<BridgeResult<M>> {
    if (typeof method !== 'string' || !METHOD_NAME.test(method)) {
      return { ok: false, error: { error: 'not_found', message: `no API method "${String(method)}"` } };
    }
    try {
      return (await ipcRenderer.invoke(`branchlens:${method}`, request)) as BridgeResult<M>;
    } catch {
      // The main process registers every contract method; this is a method it does not know.
      return { ok: false, error: { error: 'not_found', message: `no API method "${method}"` } };
    }
  },
  async printToPdf(suggestedName) {
    return (await ipcRenderer.invoke('branchlens:printToPdf', suggestedName)) as string | null;
  },
  async saveFile(suggestedName, content, encoding) {
    return (await ipcRenderer.invoke('branchlens:saveFile', suggestedName, content, encoding)) as
      string | null;
  },
};

contextBridge.exposeInMainWorld('branchlens', bridge);
