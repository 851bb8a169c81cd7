import { describe, expect, it } from 'vitest';

import { describeValue, MAX_QUOTED_CHARS } from '../../shared/problems.js';

describe('describeValue', () => {
  it('quotes text whole up to the length every other quoted value keeps', () => {
    const text = 'x'.repeat(MAX_QUOTED_CHARS);
    expect(describeValue(text)).toBe(`"${text}"`);
    // A 50-character category name, e.g. a pasted sentence, is quoted whole like a 50-character field name.
    expect(describeValue('y'.repeat(50))).toBe(`"${'y'.repeat(50)}"`);
  });

  it('cuts longer text and says how long it was', () => {
    const quoted = describeValue('z'.repeat(10_000));
    expect(quoted).toBe(`"${'z'.repeat(MAX_QUOTED_CHARS)}…(10000 characters)"`);
  });

  it('names lists and objects by their kind, and other values as they print', () => {
    expect(describeValue([1, 2])).toBe('a list');
    expect(describeValue({ a: 1 })).toBe('an object');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(true)).toBe('true');
    expect(describeValue(12.5)).toBe('12.5');
  });
});
