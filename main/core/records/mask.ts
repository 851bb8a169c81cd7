// Sensitive features leave the core under a stable keyed pseudonym (HMAC-SHA256 with the installation key),
// never under an unkeyed or per-process-salted hash, so the same feature masks the same way on every run.
import { createHmac } from 'node:crypto';
import type { BundleSchema } from '../../../shared/bundle.js';
import { maskedFeatureTags, PSEUDONYM_PREFIX } from '../../../shared/masked-features.js';

export { PSEUDONYM_PREFIX };

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

/** Each schema's sensitive features' tags, per key: worked out once per model. */
const tagsKnown = new WeakMap<Buffer, WeakMap<BundleSchema, Map<string, string>>>();

/**
 * The tag of each of the schema's sensitive features, by feature name: the first digits of its pseudonym that tell
 * it apart from the model's other sensitive features (maskedFeatureTags), the tag the UI shows for it. Taken over
 * all of the model's sensitive features, not those one document shows, so a feature's tag is the same in every
 * document.
 */
export function maskedTags(key: Buffer, schema: BundleSchema): Map<string, string> {
  let bySchema = tagsKnown.get(key);
  if (!bySchema) tagsKnown.set(key, (bySchema = new WeakMap()));
  let tags = bySchema.get(schema);
  if (!tags) {
    const names = schema.features.filter((f) => f.sensitive).map((f) => f.name);
    const byPseudonym = maskedFeatureTags(names.map((name) => pseudonym(key, name)));
    tags = new Map(names.map((name) => [name, byPseudonym.get(pseudonym(key, name))!]));
    bySchema.set(schema, tags);
  }
  return tags;
}
