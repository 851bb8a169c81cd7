import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../../../main/core/engine.js';
import { buildDocument } from '../../../../main/core/records/document.js';
import { documentParams, parseExplainOptions } from '../../../../main/core/service.js';

const DEMO_BUNDLE = fileURLToPath(new URL('../../../../assets/models/credit-demo/', import.meta.url));
const HOLDOUT = fileURLToPath(new URL('../../../../assets/data/holdout.json', import.meta.url));

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.load(DEMO_BUNDLE, { backend: 'cpu' });
});
afterAll(() => engine?.dispose());

/** Every object in `value` whose members are not in RFC 8785 order, by path. */
function outOfOrder(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => outOfOrder(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const keys = Object.keys(value);
  const sorted = [...keys].sort();
  const here = keys.join() === sorted.join() ? [] : [`${path}: ${keys.join(', ')}`];
  return [...here, ...keys.flatMap((k) => outOfOrder((value as Record<string, unknown>)[k], `${path}.${k}`))];
}

describe('buildDocument', () => {
  it.each([
    ['zh-CN', false, undefined],
    ['en', true, undefined],
    ['en', false, 'attribution to a layer'],
  ] as const)(
    'lays every member out in RFC 8785 order (%s, detail %s, %s), so fixPrecision need not sort',
    (locale, detail, layer) => {
      const rows = (JSON.parse(readFileSync(HOLDOUT, 'utf8')) as Record<string, unknown>[])
        .slice(0, 20)
        .map(({ Status: _s, ...a }) => a);
      const options = parseExplainOptions({ top_k: 0, locale, ...(layer ? { layer: 0 } : {}) });
      const explanations = engine.explain(rows, {
        ...DEFAULT_EXPLAIN_OPTIONS,
        ...(layer ? { layer: { layer: 0 } } : {}),
      });
      for (const ex of explanations) {
        const doc = buildDocument(ex, {
          schema: engine.schema,
          model: { version: '1', sha256: 'a'.repeat(64), id: 'demo' },
          params: documentParams(options, null),
          locale,
          backend: 'cpu',
          latencyMs: 1.5,
          cache: 'miss',
          maskKey: randomBytes(32),
          detail,
        });
        expect(outOfOrder(doc)).toEqual([]);
        // Every shape of attribution is laid out: worded, masked (Income, Assets) or a layer unit.
        if (!layer) expect(doc.attributions.some((a) => a.masked)).toBe(true);
        if (!layer) expect(doc.decision).toBeDefined();
      }
    },
  );
});
