// Model-input attributions → raw-feature attributions: a categorical feature's one-hot group is summed back.
import type { InputColumn } from '../../../shared/bundle.js';

export function aggregateByFeature(
  columns: readonly InputColumn[],
  attributions: ArrayLike<number>,
): Map<string, number> {
  if (columns.length !== attributions.length) {
    throw new RangeError(`expected ${columns.length} attributions, got ${attributions.length}`);
  }
  const out = new Map<string, number>();
  columns.forEach((col, i) => out.set(col.feature, (out.get(col.feature) ?? 0) + attributions[i]!));
  return out;
}
