// Sensitive features leave the core under a stable keyed pseudonym (HMAC-SHA256 with the installation key),
// never under an unkeyed or per-process-salted hash, so the same feature masks the same way on every run.
import { createHmac } from 'node:crypto';

export const PSEUDONYM_PREFIX = 'sensitive_';

/** Pseudonyms already worked out, per key: a model has a handful of sensitive features, asked for per answer. */
const known = new WeakMap<Buffer, Map<string, string>>();

export function pseudonym(key: Buffer, featureName: string): string {
  let byName = known.get(key);
  if (!byName) known.set(key, (byName = new Map()));
  let name = byName.get(featureName);
  if (name === undefined) {
    name =
      PSEUDONYM_PREFIX +
      createHmac('sha256', key).update(`feature\0${featureName}`).digest('hex').slice(0, 12);
    if (byName.size < 1024) byName.set(featureName, name);
  }
  return name;
}
