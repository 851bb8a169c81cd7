import { describe, expect, it } from 'vitest';
import { decodeBody, MAX_BODY_DEPTH, parseJsonBody } from '../../../main/server/body.js';
import type { InputError } from '../../../shared/problems.js';

function problems(text: string) {
  try {
    parseJsonBody(text);
  } catch (e) {
    return (e as InputError).problems;
  }
  throw new Error('expected problems');
}

describe('request bodies', () => {
  it('parses JSON up to the depth limit', () => {
    const deepest = '['.repeat(MAX_BODY_DEPTH) + ']'.repeat(MAX_BODY_DEPTH);
    expect(() => parseJsonBody(deepest)).not.toThrow();
    expect(parseJsonBody('{"applicants":[{"Amount":"12"}]}')).toEqual({ applicants: [{ Amount: '12' }] });
    expect(parseJsonBody('3')).toBe(3);
  });

  it('refuses one level deeper, and a million levels, without recursion', () => {
    const over = '['.repeat(MAX_BODY_DEPTH + 1) + ']'.repeat(MAX_BODY_DEPTH + 1);
    expect(problems(over)).toHaveLength(1);
    const huge = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    expect(problems(huge)[0]!.message).toMatch(/deeper than/);
  });

  it('refuses __proto__, constructor and prototype keys anywhere, naming the path', () => {
    expect(problems('{"a":[{"b":{"__proto__":{}}}]}').map((p) => p.field)).toEqual(['a[0].b.__proto__']);
    expect(problems('{"constructor":{"prototype":{"x":1}}}').map((p) => p.field)).toEqual(['constructor']);
    expect(problems('[{"prototype":1}]').map((p) => p.field)).toEqual(['[0].prototype']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('accepts those words as values', () => {
    expect(parseJsonBody('{"names":["__proto__","constructor"]}')).toEqual({
      names: ['__proto__', 'constructor'],
    });
  });

  it('refuses empty text and text that is not JSON', () => {
    expect(problems('')[0]).toMatchObject({ field: 'body', code: 'missing' });
    expect(problems(' \n')[0]).toMatchObject({ field: 'body', code: 'missing' });
    expect(problems('{"a":NaN}')[0]).toMatchObject({ field: 'body', code: 'invalid' });
    expect(problems("{'a':1}")[0]).toMatchObject({ field: 'body', code: 'invalid' });
  });
});

describe('body bytes', () => {
  it('reads UTF-8, dropping a byte-order mark', () => {
    expect(decodeBody(Buffer.from('{"Job":"自由职业"}'))).toBe('{"Job":"自由职业"}');
    expect(decodeBody(Buffer.from('\uFEFF{"a":1}'))).toBe('{"a":1}');
  });

  it('refuses bytes that are not UTF-8 instead of reading them as U+FFFD', () => {
    // "rent" with a Latin-1 byte inside: decoded loosely it would become "r\uFFFDnt".
    const latin1 = Buffer.from([0x7b, 0x22, 0x48, 0x22, 0x3a, 0x22, 0x72, 0xe9, 0x6e, 0x74, 0x22, 0x7d]);
    let error: unknown;
    try {
      decodeBody(latin1);
    } catch (e) {
      error = e;
    }
    expect((error as InputError).problems).toEqual([
      { field: 'body', code: 'invalid', message: expect.stringMatching(/not valid UTF-8/) as string },
    ]);
  });
});
