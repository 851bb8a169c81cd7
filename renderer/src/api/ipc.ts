// The Api over Electron's IPC: the preload's window.branchlens.invoke (shared/bridge.ts).
import type { BranchLensBridge } from '../../../shared/bridge.js';
import { ApiError, type ApiMethod, type ApiRequest, type ApiResponses } from '../../../shared/contract.js';
import { apiOver, type Call } from './methods.js';

export function ipcCall(bridge: BranchLensBridge): Call {
  return async <M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponses[M]> => {
    const result = await bridge.invoke(method, request);
    if (result.ok) return result.value;
    throw new ApiError(result.error);
  };
}

export function ipcApi(bridge: BranchLensBridge) {
  return apiOver(ipcCall(bridge));
}
