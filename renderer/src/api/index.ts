// The renderer's one Api: IPC inside the desktop app, HTTP in a browser (the server that served this page).
// Either way, answers are checked at this edge (./checked.ts), so the pages can trust what they render.
import type { Api } from '../../../shared/contract.js';
import { checked } from './checked.js';
import { desktopBridge } from './desktop.js';
import { httpCall, storedToken } from './http.js';
import { ipcCall } from './ipc.js';
import { apiOver } from './methods.js';

export type Transport = 'ipc' | 'http';

export function createApi(): { api: Api; transport: Transport } {
  const bridge = desktopBridge();
  if (bridge) return { api: apiOver(checked(ipcCall(bridge))), transport: 'ipc' };
  return {
    api: apiOver(checked(httpCall({ base: document.baseURI, token: storedToken }))),
    transport: 'http',
  };
}
