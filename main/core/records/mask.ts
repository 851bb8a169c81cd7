// Sensitive features leave the core under a stable keyed pseudonym (HMAC-SHA256 with the installation key),
// never under an unkeyed or per-process-salted hash, so the same feature masks the same way on every run.
import { createHmac } from 'node:crypto';

export const PSEUDONYM_PREFIX = 'sensitive_';

export function pseudonym(key: Buffer, featureName: string): string {
  return (
    PSEUDONYM_PREFIX + createHmac('sha256', key).update(`feature\0${featureName}`).digest('hex').slice(0, 12)
  );
}
