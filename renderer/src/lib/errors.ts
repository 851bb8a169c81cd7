// Failed calls as a sentence for the user, in their language: what went wrong and what to do.
import { ApiError } from '../../../shared/contract.js';
import { wordedProblems } from '../../../shared/i18n/problems.js';
import type { Problem } from '../../../shared/problems.js';
import type { T } from '../i18n/i18n.js';

export function describeError(e: unknown, t: T): string {
  if (e instanceof ApiError) {
    const body = e.body;
    switch (body.error) {
      case 'invalid_request':
        return invalidRequestText(body.message, body.problems, t);
      case 'busy':
        return t('error.busy', { seconds: body.retry_after_s });
      case 'not_found':
        return t('error.notFound', { message: body.message });
      case 'audit_broken':
        return t('error.auditBroken', { seq: body.seq });
      case 'unauthorized':
        return t('error.unauthorized');
      case 'storage':
        return t('error.storage', { message: body.message });
      case 'internal':
        return body.message.startsWith('network:')
          ? t('error.network')
          : t('error.internal', { message: body.message });
    }
  }
  return t('error.internal', { message: e instanceof Error ? e.message : String(e) });
}

/**
 * Bad input as one sentence. Problems with a reason this UI knows are worded in the user's language from their
 * reason and params; when no known reason is the registry's, the sentence says the bundle is not valid. Any
 * other problem keeps the server's words: a message that lists its problems as terminal lines ("invalid model bundle:\n  -
 * /dir: is not a folder") keeps its headline, with the problems joined after it.
 */
export function invalidRequestText(message: string, problems: readonly Problem[] | undefined, t: T): string {
  const worded = wordedProblems(problems, t);
  if (worded) {
    const text = worded.lines.join(t('error.problemSeparator'));
    return worded.bundle
      ? t('error.invalidBundle', { problems: text })
      : t('error.invalid', { message: text });
  }
  return t('error.invalid', { message: serverText(message, problems, t) });
}

/** The server's words for bad input, its problems joined after the headline of a listing message. */
function serverText(message: string, problems: readonly Problem[] | undefined, t: T): string {
  const [headline = '', ...lines] = message.split('\n');
  if (lines.length === 0 || !problems?.length) return message;
  const listed = problems.map((p) => `${p.field}: ${p.message}`).join(t('error.problemSeparator'));
  return headline.trim() ? `${headline.trim()} ${listed}` : listed;
}

export function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiError && e.body.error === 'unauthorized';
}
