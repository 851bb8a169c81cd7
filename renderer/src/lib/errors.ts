// Failed calls as a sentence for the user, in their language: what went wrong and what to do.
import { ApiError } from '../../../shared/contract.js';
import type { T } from '../i18n/i18n.js';

export function describeError(e: unknown, t: T): string {
  if (e instanceof ApiError) {
    const body = e.body;
    switch (body.error) {
      case 'invalid_request':
        return t('error.invalid', { message: body.message });
      case 'busy':
        return t('error.busy', { seconds: body.retry_after_s });
      case 'not_found':
        return t('error.notFound', { message: body.message });
      case 'audit_broken':
        return t('error.auditBroken', { message: body.message });
      case 'unauthorized':
        return t('error.unauthorized');
      case 'internal':
        return body.message.startsWith('network:')
          ? t('error.network')
          : t('error.internal', { message: body.message });
    }
  }
  return t('error.internal', { message: e instanceof Error ? e.message : String(e) });
}

export function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiError && e.body.error === 'unauthorized';
}
