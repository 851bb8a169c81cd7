// The Api over HTTP: POST /api/app/<method> on the server that served this page (`branchlens serve`).
import {
  ApiError,
  type ApiErrorBody,
  type ApiMethod,
  type ApiRequest,
  type ApiResponses,
} from '../../../shared/contract.js';
import { apiOver, type Call } from './methods.js';

/** Where the API token is kept for this tab, when the server asks for one (a non-loopback bind). */
export const TOKEN_STORAGE_KEY = 'branchlens.apiToken';

export function isErrorBody(v: unknown): v is ApiErrorBody {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { error?: unknown }).error === 'string' &&
    typeof (v as { message?: unknown }).message === 'string'
  );
}

/** The token this tab keeps for the server, if any. */
export function storedToken(): string | null {
  try {
    const storage = (globalThis as { sessionStorage?: { getItem(key: string): string | null } })
      .sessionStorage;
    return storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

export interface HttpApiOptions {
  /** The page's URL (document.baseURI): the API is on the server that served the UI. */
  base: string;
  token?: () => string | null;
  fetch?: typeof fetch;
}

export function httpCall(opts: HttpApiOptions): Call {
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  return async <M extends ApiMethod>(method: M, request: ApiRequest<M>) => {
    const url = new URL(`api/app/${method}`, opts.base);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    const token = opts.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(request ?? {}),
      });
    } catch {
      throw new ApiError({ error: 'internal', message: 'network: the BranchLens server cannot be reached' });
    }
    let body: unknown;
    let json = true;
    try {
      body = await response.json();
    } catch {
      json = false;
    }
    // A 503 that is not "busy" is a server shutting down (it answers the calls it still gets so): for the caller
    // the server is going away, as if it could not be reached, not a refusal of this call.
    if (response.status === 503 && !(json && isErrorBody(body) && body.error === 'busy')) {
      throw new ApiError({ error: 'internal', message: 'network: the BranchLens server is shutting down' });
    }
    if (!json) {
      throw new ApiError({
        error: 'internal',
        message: `the server answered ${response.status} without a JSON body`,
      });
    }
    if (response.ok) return body as ApiResponses[M];
    throw new ApiError(
      isErrorBody(body) ? body : { error: 'internal', message: `the server answered ${response.status}` },
    );
  };
}

export function httpApi(opts: HttpApiOptions) {
  return apiOver(httpCall(opts));
}
