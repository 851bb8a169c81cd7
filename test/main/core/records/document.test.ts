import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPLAIN_OPTIONS, Engine, type EngineExplanation } from '../../../../main/core/engine.js';
import { buildDocument, type DocumentContext } from '../../../../main/core/records/document.js';
import { pseudonym } from '../../../../main/core/records/mask.js';
import { documentParams, parseExplainOptions } from '../../../../main/core/service.js';
import { maskedFeatureTags } from '../../../../shared/masked-features.js';
import { readSample } from '../../cli/helpers.js';

const DEMO_BUNDLE = fileURLToPath(new URL('../../../../assets/models/credit-demo/', import.meta.url));
const HOLDOUT = fileURLToPath(new URL('../../../../assets/data/holdout.json', import.meta.url));

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.load(DEMO_BUNDLE, { backend: 'cpu' });
});
afterAll(() => engine?.dispose());

/** A document of the demo model as the service builds it for `ex`: top-K 0 in English and a random key, unless `over` says. */
function demoDocument(ex: EngineExplanation, over: Partial<DocumentContext> = {}) {
  return buildDocument(ex, {
    schema: engine.schema,
    model: { version: '1', sha256: 'a'.repeat(64), id: 'demo' },
    params: documentParams(parseExplainOptions({ top_k: 0, locale: over.locale ?? 'en' }), null),
    locale: 'en',
    backend: 'cpu',
    latencyMs: 1,
    cache: 'miss',
    maskKey: randomBytes(32),
    detail: false,
    ...over,
  });
}

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
        const doc = demoDocument(ex, {
          params: documentParams(options, null),
          locale,
          latencyMs: 1.5,
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

describe('ties in |attribution|', () => {
  // Income and Assets left out are imputed to the baseline's values: both attributions are exactly 0, tied with
  // the visible features at their baseline values (Records, Debt).
  const applicant = {
    Seniority: 2,
    Home: 'rent',
    Time: 60,
    Records: false,
    Job: 'freelance',
    Expenses: 60,
    Debt: 0,
    Amount: 1500,
    Price: 1800,
  };
  /** Installation keys: for some the pseudonyms sort as the schema lists Income and Assets, for others not. */
  const keys = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => Buffer.alloc(32, n));
  const build = (maskKey: Buffer, topK: number) => {
    const [ex] = engine.explain([applicant], DEFAULT_EXPLAIN_OPTIONS);
    return demoDocument(ex!, {
      params: documentParams(parseExplainOptions({ top_k: topK, locale: 'en' }), null),
      maskKey,
    });
  };

  it('list masked features by pseudonym after the visible ones, so that their order does not say which is which', () => {
    const orders = new Set<string>();
    for (const key of keys) {
      const doc = build(key, 0);
      const zeros = doc.attributions.filter((a) => a.attribution === 0).map((a) => a.feature);
      const masked = zeros.filter((f) => f.startsWith('sensitive_'));
      expect(masked).toHaveLength(2);
      expect(zeros).toEqual(['Records', 'Debt', ...[...masked].sort()]);
      orders.add(JSON.stringify(masked.map((f) => (f === pseudonym(key, 'Income') ? 'Income' : 'Assets'))));
    }
    // Both orders occur over the keys: the listing follows the pseudonyms, not the schema (Income before Assets).
    expect(orders.size).toBe(2);
  });

  it('keep the visible features at 0 in the top-K before the masked ones, in schema order', () => {
    const doc = build(keys[0]!, 9);
    expect(doc.attributions.slice(-2).map((a) => a.feature)).toEqual(['Records', 'Debt']);
    expect(doc.rest_count).toBe(2);
    expect(doc.rest_sum).toBe(0);
  });
});

describe('a masked feature', () => {
  it('is described with its pseudonym’s tag, so that two masked reasons do not read the same', () => {
    const applicant = readSample<Record<string, unknown>>('sample-2.json');
    const [ex] = engine.explain([applicant], DEFAULT_EXPLAIN_OPTIONS);
    const maskKey = Buffer.alloc(32, 7);
    const describeMasked = (locale: 'en' | 'zh-CN') => {
      const doc = demoDocument(ex!, { locale, maskKey });
      return new Map(doc.attributions.filter((a) => a.masked).map((a) => [a.feature, a.description]));
    };
    const income = pseudonym(maskKey, 'Income');
    const assets = pseudonym(maskKey, 'Assets');
    // The tag the pages show for each ("Sensitive feature (masked) #3fa2"): at least 4 digits of its pseudonym.
    const tags = maskedFeatureTags([income, assets]);
    expect(tags.get(income)).toBe(income.slice('sensitive_'.length, 'sensitive_'.length + 4));
    expect(describeMasked('en')).toEqual(
      new Map([
        [income, `Sensitive feature masked (#${tags.get(income)})`],
        [assets, `Sensitive feature masked (#${tags.get(assets)})`],
      ]),
    );
    expect(describeMasked('zh-CN')).toEqual(
      new Map([
        [income, `敏感特征已脱敏（#${tags.get(income)}）`],
        [assets, `敏感特征已脱敏（#${tags.get(assets)}）`],
      ]),
    );
  });

  it('keeps its attribution, from which the bundle gives the value back (what docs/api.md says masking does not hide)', () => {
    const applicant: Record<string, unknown> = {
      ...readSample<Record<string, unknown>>('sample-1.json'),
      Income: 200,
    };
    delete applicant.Assets;
    const maskKey = randomBytes(32);
    const params = documentParams(parseExplainOptions({ top_k: 0, locale: 'en' }), null);
    const doc = (a: Record<string, unknown>) =>
      demoDocument(engine.explain([a], DEFAULT_EXPLAIN_OPTIONS)[0]!, { params, maskKey });
    const income = pseudonym(maskKey, 'Income');
    const shown = doc(applicant).attributions.find((a) => a.feature === income)!;
    expect(shown.value).toBeNull();
    // Every other value is in the document; Assets, left out, has its attribution at exactly 0.
    const candidates = Array.from({ length: 401 }, (_, i) => ({ ...applicant, Income: i }));
    const matches = engine
      .explain(candidates, DEFAULT_EXPLAIN_OPTIONS)
      .flatMap((ex, i) =>
        Math.abs(ex.attributions.find((a) => a.feature === 'Income')!.attribution - shown.attribution) < 1e-9
          ? [i]
          : [],
      );
    expect(matches).toEqual([200]);
  });
});
