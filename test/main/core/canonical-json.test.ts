import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonOfSorted } from '../../../main/core/canonical-json.js';

/** A small seeded generator, so a failure names a reproducible case. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const AWKWARD_STRINGS = [
  '',
  'plain',
  'é',
  '中文',
  '😀',
  'a"b',
  'back\\slash',
  '\\u0041 literal',
  'tab\tnew\nline',
  '\u0000\u001f\u007f',
  '\u2028\u2029',
  '\ufeff',
  'Z',
  '_',
  'a',
  'aa',
  '\u00e9',
  '\ud83d\ude00x',
];
const AWKWARD_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  0.1 + 0.2,
  1e21,
  1e-7,
  123456789012345680000,
  5e-324,
  1.7976931348623157e308,
  -1e-300,
  2 ** 53,
  0.000001,
  1 / 3,
];

function randomValue(next: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const r = next();
  if (depth <= 0 || r < 0.35) {
    const k = Math.floor(next() * 5);
    if (k === 0) return pick(AWKWARD_STRINGS);
    if (k === 1) return pick(AWKWARD_NUMBERS);
    if (k === 2) return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
    if (k === 3) return pick([true, false, null]);
    return pick(AWKWARD_STRINGS) + pick(AWKWARD_STRINGS);
  }
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth - 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--)
    out[pick(AWKWARD_STRINGS) + pick(['', 'x', '1'])] = randomValue(next, depth - 1);
  if (next() < 0.2) out.skipped = undefined;
  return out;
}

describe('canonicalJson', () => {
  it('gives exactly the reference RFC 8785 text over awkward strings, numbers and nesting', () => {
    const next = rng(8785);
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(next, 4);
      expect(canonicalJson(value), JSON.stringify(value)).toBe(canonicalize(value));
    }
  });

  it('sorts members by UTF-16 code units and drops undefined ones', () => {
    expect(canonicalJson({ b: 1, a: [undefined, 2], é: 3, Z: 4, _: 5, skipped: undefined })).toBe(
      '{"Z":4,"_":5,"a":[null,2],"b":1,"é":3}',
    );
  });

  it('refuses what JSON cannot hold exactly, as RFC 8785 does', () => {
    expect(() => canonicalJson({ x: NaN })).toThrow();
    expect(() => canonicalJson([Infinity])).toThrow();
    expect(() => canonicalJson({ s: 'lone \ud800 surrogate' })).toThrow(/surrogate/i);
    expect(() => canonicalJson({ ['\udc00']: 1 })).toThrow(/surrogate/i);
    expect(() => canonicalJson(undefined)).toThrow();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow();
  });
});

describe('canonicalJsonOfSorted', () => {
  it('equals canonicalJson for values whose members are inserted in sorted order', () => {
    const next = rng(1785);
    const sortDeep = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sortDeep)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]),
            )
          : v;
    for (let i = 0; i < 2000; i++) {
      const value = sortDeep(randomValue(next, 4));
      expect(canonicalJsonOfSorted(value)).toBe(canonicalize(value));
    }
    // Index-like keys are listed first by every object, whatever the insertion order: the fallback sorts them.
    expect(canonicalJsonOfSorted({ '10': 1, '9': 2, a: 3 })).toBe('{"10":1,"9":2,"a":3}');
  });
});
