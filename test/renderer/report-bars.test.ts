// The printed report's factors: at most REPORT_MAX_FEATURES features, the largest by |attribution|, the others
// folded into the one rest bar with the document's own rest, so that the numbers still add up. And its applicant:
// every feature with the value explained, sensitive ones masked.
import { describe, expect, it } from 'vitest';
import type { Attribution, ExplanationDocument } from '../../shared/explanation.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { attributionBars, barsTotal } from '../../renderer/src/lib/attribution-bars.js';
import { validateApplicant } from '../../renderer/src/lib/validate.js';
import { applicantRows } from '../../renderer/src/pages/explain/report-applicant.js';
import { REPORT_MAX_FEATURES, reportBars } from '../../renderer/src/pages/explain/report-bars.js';
import { demoSchema } from './helpers.js';

const en = makeT('en');
const zh = makeT('zh-CN');
const wording = {
  masked: 'Sensitive feature (masked)',
  rest: (n: number) => en('explain.rest', { count: n }),
  restDescription: (n: number) => en('explain.restDescription', { count: n }),
};

type Doc = Pick<ExplanationDocument, 'attributions' | 'rest_sum' | 'rest_count'>;

/** A document of `n` listed features (attributions that do not add up exactly in floating point) and a rest. */
function docOf(n: number, rest: { sum: number; count: number } = { sum: 0, count: 0 }): Doc {
  const attributions: Attribution[] = Array.from({ length: n }, (_, i) => {
    const attribution = (i % 2 ? -1 : 1) * (0.1 / (i + 1) + 1e-7 * i);
    return {
      feature: `f${i}`,
      label: `Feature ${i}`,
      value: i,
      attribution,
      direction: attribution > 0 ? 'positive' : 'negative',
      description: `Feature ${i} moves it`,
    };
  });
  return { attributions, rest_sum: rest.sum, rest_count: rest.count };
}

describe('reportBars', () => {
  it('leaves a document of at most REPORT_MAX_FEATURES features as the screen shows it', () => {
    for (const doc of [docOf(REPORT_MAX_FEATURES), docOf(3, { sum: 0.0123, count: 8 })]) {
      const bars = attributionBars(doc, wording);
      const report = reportBars(doc, bars, wording);
      expect(report.bars).toEqual(bars);
      expect(report.folded).toBe(0);
      expect(report).toMatchObject({ restCount: doc.rest_count, restSum: doc.rest_sum });
    }
  });

  it('lists the largest features and folds the others into the rest bar, whose value is their sum', () => {
    const doc = docOf(11);
    const bars = attributionBars(doc, wording);
    const report = reportBars(doc, bars, wording);
    expect(report.bars).toHaveLength(REPORT_MAX_FEATURES + 1);
    // The largest by |attribution|, in the screen's order.
    expect(report.bars.slice(0, -1)).toEqual(bars.slice(0, REPORT_MAX_FEATURES));
    const folded = bars.slice(REPORT_MAX_FEATURES);
    expect(report.folded).toBe(11 - REPORT_MAX_FEATURES);
    expect(report.restCount).toBe(11 - REPORT_MAX_FEATURES);
    expect(report.restSum).toBe(folded.reduce((s, b) => s + b.value, 0));
    expect(report.bars.at(-1)).toEqual({
      key: '__rest__',
      label: `${11 - REPORT_MAX_FEATURES} others`,
      value: report.restSum,
      kind: 'rest',
      masked: false,
      imputed: false,
      description: `The combined effect of the ${11 - REPORT_MAX_FEATURES} features not listed`,
    });
    expect(barsTotal(report.bars)).toBeCloseTo(barsTotal(bars), 12);
  });

  it('adds what it folds to the document’s own rest, for any top-K up to the settings’ 100', () => {
    for (const listed of [REPORT_MAX_FEATURES + 1, 20, 100]) {
      const doc = docOf(listed, { sum: -0.25, count: 7 });
      const bars = attributionBars(doc, wording);
      const report = reportBars(doc, bars, wording);
      expect(report.bars.filter((b) => b.kind !== 'rest')).toHaveLength(REPORT_MAX_FEATURES);
      expect(report.bars.filter((b) => b.kind === 'rest')).toHaveLength(1);
      expect(report.restCount).toBe(7 + listed - REPORT_MAX_FEATURES);
      const folded = bars.filter((b) => b.kind !== 'rest').slice(REPORT_MAX_FEATURES);
      expect(report.restSum).toBeCloseTo(-0.25 + folded.reduce((s, b) => s + b.value, 0), 15);
      // The report's bars still add up to the document's total, as Σ top-K + rest_sum does.
      expect(barsTotal(report.bars)).toBeCloseTo(barsTotal(bars), 12);
    }
  });

  it('words the rest bar and the report’s note in either language', () => {
    const doc = docOf(11);
    const zhWording = {
      masked: '敏感特征（已脱敏）',
      rest: (n: number) => zh('explain.rest', { count: n }),
      restDescription: (n: number) => zh('explain.restDescription', { count: n }),
    };
    const report = reportBars(doc, attributionBars(doc, zhWording), zhWording);
    expect(report.bars.at(-1)?.label).toBe('其余 5 项');
    expect(zh('report.folded', { shown: 6, count: 5, sum: '+0.0123' })).toBe(
      '仅列出影响最大的 6 项因素；其余 5 项特征合并为最后一行，合计 +0.0123。',
    );
    expect(en('report.folded', { shown: 6, count: 5, sum: '+0.0123' })).toBe(
      'Only the 6 largest factors are listed: the other 5 features are combined in the last row, together +0.0123.',
    );
  });
});

describe("the printed report's applicant", () => {
  const schema = demoSchema();
  // The page's first sample as the form checks it, with the housing and the debt left empty.
  const checked = validateApplicant(schema, {
    Seniority: '2',
    Time: '60',
    Records: false,
    Job: 'freelance',
    Expenses: '60',
    Income: '200',
    Assets: '5000',
    Amount: '1500',
    Price: '1800',
  });

  it('lists every feature with the value explained, sensitive values masked and defaults marked', () => {
    expect(checked.problems).toEqual([]);
    const rows = applicantRows(schema, checked.values, 'zh-CN', zh);
    expect(rows.map((r) => r.name)).toEqual(schema.features.map((f) => f.name));
    const text = Object.fromEntries(rows.map((r) => [r.label, r.value]));
    expect(text).toEqual({
      工龄: '2 年',
      住房情况: '自有住房',
      贷款期限: '60 个月',
      逾期记录: '否',
      职业类型: '自由职业',
      月支出: '60 千元/月',
      月收入: '已脱敏',
      资产: '已脱敏',
      负债: '0 千元',
      申请金额: '1,500 千元',
      购买价格: '1,800 千元',
    });
    expect(rows.filter((r) => r.imputed).map((r) => r.name)).toEqual(['Home', 'Debt']);
    expect(rows.filter((r) => r.masked).map((r) => r.name)).toEqual(['Income', 'Assets']);
    // Nothing of a sensitive value reaches the paper.
    expect(JSON.stringify(rows)).not.toMatch(/200|5,?000/);
  });

  it('is worded in English too', () => {
    const rows = applicantRows(schema, checked.values, 'en', en);
    expect(rows.find((r) => r.name === 'Time')).toMatchObject({ label: 'Loan term', value: '60 months' });
    expect(rows.find((r) => r.name === 'Amount')).toMatchObject({ value: '1,500 thousand' });
    expect(rows.find((r) => r.name === 'Income')).toMatchObject({ value: 'Masked', masked: true });
  });
});
