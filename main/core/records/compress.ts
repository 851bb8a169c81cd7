// Top-K compression of an explanation: the K largest |attributions| stay, the rest collapse into
// rest_sum and rest_count, so that Σ top-K + rest_sum still equals the full sum (completeness survives).

export const DEFAULT_TOP_K = 5;
/** Regulation B's commentary: more than four principal reasons is not helpful to an applicant. */
export const MAX_REASONS = 4;

export interface Attributed {
  attribution: number;
}

/** Sorted by |attribution| descending; ties keep their input order (a document's: see inRankingOrder). */
export function byMagnitude<T extends Attributed>(items: readonly T[]): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => Math.abs(b.item.attribution) - Math.abs(a.item.attribution) || a.i - b.i)
    .map(({ item }) => item);
}

export function compressTopK<T extends Attributed>(
  items: readonly T[],
  topK: number,
): { top: T[]; rest_sum: number; rest_count: number } {
  if (!Number.isInteger(topK) || topK < 0)
    throw new RangeError(`top_k must be a whole number ≥ 0, got ${topK}`);
  const sorted = byMagnitude(items);
  const keep = topK === 0 ? sorted.length : Math.min(topK, sorted.length);
  const rest = sorted.slice(keep);
  return {
    top: sorted.slice(0, keep),
    rest_sum: rest.reduce((s, a) => s + a.attribution, 0),
    rest_count: rest.length,
  };
}

/** The principal reasons against the explained outcome: the most negative attributions, at most four. */
export function principalReasons<T extends Attributed>(items: readonly T[], max = MAX_REASONS): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .filter(({ item }) => item.attribution < 0)
    .sort((a, b) => a.item.attribution - b.item.attribution || a.i - b.i)
    .slice(0, max)
    .map(({ item }) => item);
}
