// The bundle's templates speak of the approval probability: an explanation for another class is worded from the
// approval direction. For the demo model (sigmoid, classes bad/good, approving class good), `target: "bad"`
// explains 1 − P(good): its attributions are the negation of the default's, and its wording and reasons are the
// default's. A softmax model explained for a class other than its approving one is worded in words that name
// that class, not with the templates.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleSchema, Locale } from '../../../../shared/bundle.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import type { EngineExplanation } from '../../../../main/core/engine.js';
import { buildDocument } from '../../../../main/core/records/document.js';
import { wordingFrame } from '../../../../main/core/records/wording.js';
import { BranchLensService, documentParams, parseExplainOptions } from '../../../../main/core/service.js';
import { CREDIT_FEATURES, makeSchema, OUTPUTS } from '../../../helpers/bundles.js';
import { removeDir, tempDir } from '../../cli/helpers.js';

/** Declined by the demo model: a record of arrears, little income, some debt. */
const DECLINED = {
  Seniority: 1,
  Home: 'rent',
  Time: 60,
  Records: true,
  Job: 'freelance',
  Expenses: 60,
  Income: 100,
  Assets: 0,
  Debt: 500,
  Amount: 1500,
  Price: 1600,
};

const LOCALES: Locale[] = ['en', 'zh-CN'];
type Output = BundleSchema['output'];
let data: string;
const docs = new Map<string, ExplanationDocument>();

beforeAll(async () => {
  data = tempDir('branchlens-target-wording-');
  const service = await BranchLensService.open({ dataDir: data });
  try {
    for (const locale of LOCALES) {
      for (const target of [undefined, 'good', 'bad', 0] as const) {
        const [doc] = await service.explain([DECLINED], {
          locale,
          top_k: 4,
          ...(target !== undefined ? { target } : {}),
        });
        docs.set(`${locale} ${String(target)}`, doc!);
      }
    }
  } finally {
    await service.close();
  }
});
afterAll(() => removeDir(data));

describe('a sigmoid model explained for its other class', () => {
  it.each(LOCALES)(
    'target bad gives the default target’s reasons and wording, from approval (%s)',
    (locale) => {
      const good = docs.get(`${locale} undefined`)!;
      const bad = docs.get(`${locale} bad`)!;
      expect(good.target.name).toBe('good');
      expect(bad.target.name).toBe('bad');
      expect(good.decision!.approved).toBe(false);
      // The attributions are bad's own: the negation of good's.
      expect(bad.attributions.map((a) => a.feature)).toEqual(good.attributions.map((a) => a.feature));
      bad.attributions.forEach((a, i) => {
        expect(Math.abs(a.attribution + good.attributions[i]!.attribution)).toBeLessThan(1e-9);
        expect(a.direction).toBe(a.attribution > 0 ? 'positive' : a.attribution < 0 ? 'negative' : 'neutral');
      });
      // Worded the same, from the approval direction.
      expect(bad.attributions.map((a) => a.description)).toEqual(good.attributions.map((a) => a.description));
      // The same reasons against approval: same features, same order, same words.
      expect(good.reasons.length).toBeGreaterThan(0);
      expect(bad.reasons.map((r) => [r.feature, r.label, r.description])).toEqual(
        good.reasons.map((r) => [r.feature, r.label, r.description]),
      );
      bad.reasons.forEach((r, i) =>
        expect(Math.abs(r.attribution + good.reasons[i]!.attribution)).toBeLessThan(1e-9),
      );
      // By name or by index, the same document content.
      const byIndex = docs.get(`${locale} 0`)!;
      expect(byIndex.reasons).toEqual(bad.reasons);
      expect(docs.get(`${locale} good`)!.reasons).toEqual(good.reasons);
    },
  );

  it.each([
    ['en', 'A record of arrears lowers the approval probability'],
    ['zh-CN', '有逾期记录，拉低了通过率'],
  ] as const)('an applicant with arrears is never told having none raised approval (%s)', (locale, words) => {
    for (const target of ['undefined', 'bad']) {
      const doc = docs.get(`${locale} ${target}`)!;
      const records = doc.attributions.find((a) => a.feature === 'Records')!;
      expect(records.value).toBe(true);
      expect(records.description, target).toBe(words);
      expect(doc.reasons[0]!.feature, target).toBe('Records');
      expect(doc.reasons[0]!.description, target).toBe(words);
      // No reason says something raised approval.
      for (const r of doc.reasons) expect(r.description, target).not.toMatch(/raises|正向/);
    }
  });
});

describe('wordingFrame', () => {
  it('words from approval: sign −1 only for a sigmoid model’s non-approving class', () => {
    const sigmoid = {
      kind: 'sigmoid',
      classes: ['bad', 'good'],
      explain_class: 'good',
      threshold: 0.5,
    } satisfies Output;
    expect(wordingFrame(sigmoid, { index: 1, name: 'good' })).toEqual({ kind: 'approval', sign: 1 });
    expect(wordingFrame(sigmoid, { index: 0, name: 'bad' })).toEqual({ kind: 'approval', sign: -1 });
    // A bundle whose approving class is classes[0]: explaining classes[1] is the other direction.
    const flipped: Output = { ...sigmoid, classes: ['approved', 'declined'], explain_class: 'approved' };
    expect(wordingFrame(flipped, { index: 1, name: 'declined' })).toEqual({ kind: 'approval', sign: -1 });
    expect(wordingFrame({ kind: 'regression' }, { index: null, name: null })).toEqual({
      kind: 'approval',
      sign: 1,
    });
    const softmax = { kind: 'softmax', classes: ['low', 'medium', 'high'] } satisfies Output;
    expect(wordingFrame(softmax, { index: 0, name: 'low' })).toEqual({ kind: 'approval', sign: 1 });
    expect(wordingFrame({ ...softmax, explain_class: 'high' }, { index: 2, name: 'high' })).toEqual({
      kind: 'approval',
      sign: 1,
    });
    expect(wordingFrame({ ...softmax, explain_class: 'high' }, { index: 0, name: 'low' })).toEqual({
      kind: 'class',
      className: 'low',
    });
  });

  it.each([
    ['en', /^income \(8,200\) lowered the probability of class “low”$/],
    ['zh-CN', /^income（8,200）降低了“low”类的概率$/],
  ] as const)(
    'a softmax model explained for another class than its approving one names that class (%s)',
    (locale, words) => {
      const schema = makeSchema(CREDIT_FEATURES, { ...OUTPUTS.softmax, explain_class: 'high' });
      const attributions = [
        { feature: 'income', value: 8200, attribution: -0.3 },
        { feature: 'age', value: 31, attribution: 0.2 },
        { feature: 'purpose', value: 'home', attribution: -0.1 },
        { feature: 'owns_home', value: true, attribution: 0 },
      ];
      const ex: EngineExplanation = {
        values: { income: 8200, age: 31, purpose: 'home', owns_home: true },
        imputed: [],
        predictions: [0.2, 0.3, 0.5],
        target: { index: 0, name: 'low' },
        score: 0.2,
        baseline_score: 0.4,
        attributions,
        completeness: { sum: -0.2, expected: -0.2, delta: 0 },
        detail: { names: [], inputs: [], baseline: [], attributions_raw: [], predictions: [] },
      };
      const doc = buildDocument(ex, {
        schema,
        model: { id: 'm', version: '1', sha256: 'a'.repeat(64) },
        params: documentParams(parseExplainOptions({ target: 'low', top_k: 0, locale }), 'low'),
        locale,
        backend: 'cpu',
        latencyMs: 1,
        cache: 'miss',
        maskKey: randomBytes(32),
        detail: false,
      });
      const income = doc.attributions.find((a) => a.feature === 'income')!;
      expect(income.description).toMatch(words);
      // Not the bundle's templates, which speak of the approving class.
      for (const a of doc.attributions) expect(a.description).not.toMatch(/raised it|lowered it/);
      // The reasons are against the explained class, most negative first, worded so.
      expect(doc.reasons.map((r) => r.feature)).toEqual(['income', 'purpose']);
      expect(doc.reasons[0]!.description).toMatch(words);
    },
  );
});
