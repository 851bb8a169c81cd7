// The rule both sides tell masked features apart by: the document's descriptions (main/core/records) and the
// pages' labels (renderer/src/lib/labels.ts) tag a masked feature alike.
import { describe, expect, it } from 'vitest';
import { isPseudonym, maskedFeatureTags, maskedLast } from '../../shared/masked-features.js';

describe('masked feature tags', () => {
  it('are the first 4 hex digits of the pseudonym, more only for those that share them, in any order', () => {
    const names = ['sensitive_3fa2c1d0e9ab', 'sensitive_b71e00000000', 'sensitive_3fa29900aaaa'];
    const expected = new Map([
      ['sensitive_3fa2c1d0e9ab', '3fa2c'],
      ['sensitive_b71e00000000', 'b71e'],
      ['sensitive_3fa29900aaaa', '3fa29'],
    ]);
    expect(maskedFeatureTags(names)).toEqual(expected);
    expect(new Map([...maskedFeatureTags([...names].reverse())].sort())).toEqual(
      new Map([...expected].sort()),
    );
    expect(maskedFeatureTags(['sensitive_b71e00000000'])).toEqual(
      new Map([['sensitive_b71e00000000', 'b71e']]),
    );
  });

  it('recognise a pseudonym by its prefix and 12 hex digits only', () => {
    expect(isPseudonym('sensitive_3fa2c1d0e9ab')).toBe(true);
    expect(isPseudonym('sensitive_income')).toBe(false);
    expect(isPseudonym('Income')).toBe(false);
  });
});

describe('maskedLast', () => {
  it('keeps the visible items in their order and puts the masked ones after them, sorted by name', () => {
    const items = ['sensitive_ffff00000000', 'Seniority', 'sensitive_000011111111', 'Amount'];
    expect(maskedLast(items, (n) => n, isPseudonym)).toEqual([
      'Seniority',
      'Amount',
      'sensitive_000011111111',
      'sensitive_ffff00000000',
    ]);
  });
});
