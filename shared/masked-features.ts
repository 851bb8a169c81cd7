// How a sensitive feature is told apart once masked, the same on every side: by its keyed pseudonym
// (main/core/records/mask.ts) and a tag of its first hex digits, never by its name or its place in the schema.

/** How a sensitive feature's keyed pseudonym begins: "sensitive_" and 12 hex digits. */
export const PSEUDONYM_PREFIX = 'sensitive_';

/** The pseudonym's digits a masked feature's tag shows, at least: more only where two share them. */
export const TAG_DIGITS = 4;

const PSEUDONYM = /^sensitive_[0-9a-f]{12}$/;

/** Whether a feature name is a masked feature's pseudonym (a feature's own name never is one). */
export function isPseudonym(name: string): boolean {
  return PSEUDONYM.test(name);
}

/**
 * Each pseudonym's tag: its first TAG_DIGITS hex digits ("sensitive_3fa2c1d0e9ab" → "3fa2"), or as many more as
 * tell it apart from the others given that share them. The same pseudonyms give the same tags, in any order.
 */
export function maskedFeatureTags(pseudonyms: Iterable<string>): Map<string, string> {
  const names = [...new Set(pseudonyms)];
  const digitsOf = (name: string) =>
    name.startsWith(PSEUDONYM_PREFIX) ? name.slice(PSEUDONYM_PREFIX.length) : name;
  const tags = new Map<string, string>();
  for (const name of names) {
    const digits = digitsOf(name);
    let length = TAG_DIGITS;
    for (const other of names) {
      if (other === name) continue;
      const theirs = digitsOf(other);
      while (length < digits.length && theirs.startsWith(digits.slice(0, length))) length++;
    }
    tags.set(name, digits.slice(0, length));
  }
  return tags;
}

/**
 * `items` with the masked ones after the others, sorted by pseudonym (`name`), the others in their order: the
 * order documents rank ties in and `detail` lays its columns out. In schema order, masked features told apart
 * by pseudonym would say which pseudonym is which feature (the schema, which every client reads, names them).
 */
export function maskedLast<T>(
  items: readonly T[],
  name: (item: T) => string,
  masked: (item: T, index: number) => boolean,
): T[] {
  const visible: T[] = [];
  const hidden: T[] = [];
  items.forEach((item, i) => (masked(item, i) ? hidden : visible).push(item));
  if (hidden.length === 0) return visible;
  hidden.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  return [...visible, ...hidden];
}
