import { describe, expect, it } from 'vitest';
import { describeRepeatedKey, repeatedKeys } from '../../../main/core/json-keys.js';

describe('repeatedKeys', () => {
  it('finds a key repeated in one object, wherever the object is, and names where', () => {
    expect(repeatedKeys('{"a":1,"b":2,"a":3}')).toEqual([{ path: '', key: 'a' }]);
    expect(repeatedKeys('[{"x":1},{"y":{"z":1, "z" : 2}}]')).toEqual([{ path: '[1].y', key: 'z' }]);
    expect(repeatedKeys('{"meta":{"k":[1,2,{"q":1,"q":1}]}}')).toEqual([{ path: 'meta.k[2]', key: 'q' }]);
  });

  it('does not confuse the same key in different objects, strings that look like keys, or escapes', () => {
    expect(repeatedKeys('[{"a":1},{"a":2}]')).toEqual([]);
    expect(repeatedKeys('{"a":{"a":1}}')).toEqual([]);
    expect(repeatedKeys('{"a":"\\"a\\":","b":["a",":"]}')).toEqual([]);
    // The same key spelled with an escape is the same key.
    expect(repeatedKeys('{"a":1,"\\u0061":2}')).toEqual([{ path: '', key: 'a' }]);
  });

  it('words the problem so that the reader knows why it matters', () => {
    expect(describeRepeatedKey({ path: '[0]', key: 'score' })).toBe(
      'the key "score" appears more than once in [0]: which one counts would be a guess',
    );
  });
});
