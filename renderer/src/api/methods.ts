// Every contract method, spelled out so that building a client needs no runtime schema. The Record type makes
// the compiler refuse a list that misses a method of the contract or names one it does not have.
import type { Api, ApiMethod, ApiRequest, ApiResponses } from '../../../shared/contract.js';

const METHODS: Record<ApiMethod, true> = {
  health: true,
  getModel: true,
  explain: true,
  predict: true,
  verifyDocument: true,
  listModels: true,
  importModel: true,
  activateModel: true,
  rollbackModel: true,
  auditPage: true,
  auditEntry: true,
  auditVerify: true,
  auditVerifyProgress: true,
  auditExport: true,
  auditPublicKey: true,
  monitoring: true,
  monitoringSeries: true,
  getSettings: true,
  updateSettings: true,
};

export const API_METHOD_NAMES = Object.keys(METHODS) as ApiMethod[];

/** One transport's call: the method's request in, its response out, or an ApiError thrown. */
export type Call = <M extends ApiMethod>(method: M, request: ApiRequest<M>) => Promise<ApiResponses[M]>;

/** The contract's Api over a transport's call. */
export function apiOver(call: Call): Api {
  const api: Partial<Record<ApiMethod, unknown>> = {};
  for (const method of API_METHOD_NAMES) {
    api[method] = (request: ApiRequest<typeof method>) => call(method, request);
  }
  return api as Api;
}
