// Answers checked against the contract where the pages depend on their shape: explanation documents are parsed
// with the same zod schema the server signs them by (shared/explanation.ts). The original is kept, untouched,
// since it is exactly what the watermark covers.
import { ApiError, type ApiMethod, type ApiRequest, type ApiResponses } from '../../../shared/contract.js';
import { z } from 'zod';
import { explanationDocumentSchema } from '../../../shared/explanation.js';
import type { Call } from './methods.js';

// The page's Content-Security-Policy forbids eval: zod must not even try its code-generating fast path.
z.config({ jitless: true });

const documentsSchema = explanationDocumentSchema.array();

/** Checks the answers whose shape the pages depend on most. */
export function checked(call: Call): Call {
  return async <M extends ApiMethod>(method: M, request: ApiRequest<M>) => {
    const response = await call(method, request);
    if (method === 'explain') {
      const documents = (response as ApiResponses['explain']).documents;
      const parsed = documentsSchema.safeParse(documents);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ApiError({
          error: 'internal',
          message: `the explanation does not match the contract (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
        });
      }
    }
    return response;
  };
}
