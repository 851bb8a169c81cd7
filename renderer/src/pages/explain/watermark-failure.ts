// Why a document's watermark does not verify, in the user's language from the kind the service names: the
// service's reason is English (for the CLI and API clients), and a Chinese sentence must not carry it.
import { WATERMARK_FAILURES, type WatermarkFailure } from '../../../../shared/contract.js';
import { placeholders } from '../../../../shared/i18n/index.js';
import type { T } from '../../i18n/i18n.js';

/** The failure worded from its kind; the service's own words for a kind this UI does not know (a newer server's). */
export function watermarkFailureText(failure: Omit<WatermarkFailure, 'ok'>, t: T): string {
  if (!Object.prototype.hasOwnProperty.call(WATERMARK_FAILURES, failure.kind)) return failure.reason;
  const key = `watermark.fail.${failure.kind}` as const;
  const params = failure.params ?? {};
  const filled = placeholders(t(key)).every((name) => Object.prototype.hasOwnProperty.call(params, name));
  return filled ? t(key, params) : failure.reason;
}
