// The explain page's logic: the chart's bars (sorted, masked, the rest bar), the form's state and samples, and
// problems worded per field in both languages, from the form's checks and from the API's answers.
import { describe, expect, it } from 'vitest';
import type { ExplanationDocument } from '../../shared/explanation.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import {
  attributionBars,
  barsTotal,
  chartLabel,
  symmetricBound,
} from '../../renderer/src/lib/attribution-bars.js';
import {
  checkedProblems,
  fieldMessages,
  problemText,
  rangeText,
  serverProblems,
  valueText,
} from '../../renderer/src/lib/problem-text.js';
import { formatScore, formatThreshold } from '../../renderer/src/lib/format.js';
import { validateApplicant } from '../../renderer/src/lib/validate.js';
import {
  carriedForm,
  emptyForm,
  fittingSamples,
  formFrom,
  loadedForm,
  rawApplicant,
  schemaChanges,
  schemaDiffers,
} from '../../renderer/src/pages/explain/form-state.js';
import { demoSchema, sampleApplicants } from './helpers.js';

const schema = demoSchema();
const zh = makeT('zh-CN');
const en = makeT('en');
const feature = (name: string) => schema.features.find((f) => f.name === name)!;
const CJK = /[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]/;

const wording = {
  masked: '敏感特征（已脱敏）',
  rest: (n: number) => zh('explain.rest', { count: n }),
  restDescription: (n: number) => zh('explain.restDescription', { count: n }),
};

type Doc = Pick<ExplanationDocument, 'attributions' | 'rest_sum' | 'rest_count'>;
const doc: Doc = {
  attributions: [
    {
      feature: 'Amount',
      label: '申请金额',
      value: 1500,
      attribution: -0.16,
      direction: 'negative',
      description: 'a',
    },
    {
      feature: 'Job',
      label: '职业类型',
      value: 'freelance',
      attribution: -0.19,
      direction: 'negative',
      description: 'j',
    },
    {
      feature: 'sensitive_e3fb0c1d2a9f',
      value: null,
      attribution: 0.07,
      direction: 'positive',
      description: 's',
      masked: true,
    },
    {
      feature: 'sensitive_5895aa0b7c3e',
      value: null,
      attribution: 0.01,
      direction: 'positive',
      description: 's',
      masked: true,
    },
  ],
  rest_sum: 0.116,
  rest_count: 7,
};

describe('the attribution chart', () => {
  it('orders bars by magnitude and ends with one "其余 N 项" bar for what top-K left out', () => {
    const bars = attributionBars(doc, wording);
    expect(bars.map((b) => b.label)).toEqual([
      '职业类型',
      '申请金额',
      '敏感特征（已脱敏） #e3fb',
      '敏感特征（已脱敏） #5895',
      '其余 7 项',
    ]);
    expect(bars.map((b) => b.kind)).toEqual(['negative', 'negative', 'positive', 'positive', 'rest']);
    expect(bars[4]!.value).toBe(0.116);
    expect(barsTotal(bars)).toBeCloseTo(-0.19 - 0.16 + 0.07 + 0.01 + 0.116, 12);
  });

  it('has no rest bar when every feature is shown, and tags a masked feature alone as it tags it among others', () => {
    const bars = attributionBars(
      { ...doc, attributions: doc.attributions.slice(0, 3), rest_count: 0, rest_sum: 0 },
      wording,
    );
    expect(bars.map((b) => b.label)).toEqual(['职业类型', '申请金额', '敏感特征（已脱敏） #e3fb']);
  });

  it('names each masked feature by its pseudonym’s tag, the same whatever the document lists before it', () => {
    // Numbered in document order, "1" would be one feature in this answer and the other in the next.
    const [first, second] = doc.attributions.filter((a) => a.masked);
    const swapped = {
      ...doc,
      attributions: [
        { ...first!, attribution: 0.01 },
        { ...second!, attribution: 0.07 },
      ],
    };
    const labels = (d: Doc) =>
      new Map(attributionBars(d, wording).flatMap((b) => (b.masked ? [[b.key, b.label]] : [])));
    const expected = new Map([
      ['sensitive_e3fb0c1d2a9f', '敏感特征（已脱敏） #e3fb'],
      ['sensitive_5895aa0b7c3e', '敏感特征（已脱敏） #5895'],
    ]);
    expect(labels(doc)).toEqual(expected);
    expect(labels(swapped)).toEqual(expected);
  });

  it("carries the document's language on the bars it words, not on the rest bar the page words", () => {
    const bars = attributionBars({ ...doc, meta: { locale: 'zh-CN' } }, wording);
    expect(bars.map((b) => b.docLocale)).toEqual(['zh-CN', 'zh-CN', 'zh-CN', 'zh-CN', undefined]);
    expect(attributionBars(doc, wording).every((b) => b.docLocale === undefined)).toBe(true);
  });

  it('tells a screen reader how many bars raise, lower and do not change approval, zero not counted as lowering', () => {
    // "Show all features": the values at the baseline's (no debt, no arrears) have attribution 0.
    const zero = (feature: string, label: string) => ({
      feature,
      label,
      value: 0,
      attribution: 0,
      direction: 'neutral' as const,
      description: label,
    });
    const all = attributionBars(
      {
        attributions: [...doc.attributions, zero('Debt', '负债'), zero('Records', '逾期记录')],
        rest_count: 0,
        rest_sum: 0,
      },
      wording,
    );
    expect(chartLabel(all, zh)).toBe(
      '归因条形图：共 6 条，2 项提高通过率，2 项降低通过率，2 项几乎没有影响。详细数值见下方表格。',
    );
    expect(chartLabel(all, en)).toBe(
      'Attribution bar chart: 6 bars, 2 raise the approval probability, 2 lower it and 2 hardly change it. The table below gives the numbers.',
    );
    // Top-K with its rest bar and no zero: the wording as before.
    expect(chartLabel(attributionBars(doc, wording), zh)).toBe(
      '归因条形图：共 5 条，2 项提高通过率，2 项降低通过率。详细数值见下方表格。',
    );
  });

  it('keeps zero in the middle of a symmetric axis with room for the labels', () => {
    expect(symmetricBound(attributionBars(doc, wording))).toBe(0.3);
    expect(symmetricBound([])).toBe(0.1);
  });
});

describe('the probability beside its threshold', () => {
  it('never reads as the threshold or beyond it when the decision is a decline, nor below it for an approval', () => {
    // The demo model's first sample with a loan of 1,642 thousand: declined, a hair under the threshold (the
    // page, its announcement and the printed report read 50.0 % beside "threshold 50%").
    expect(formatScore('zh-CN', 0.499698966742, 0.5)).toBe('49.9%');
    expect(formatScore('zh-CN', 0.5, 0.5)).toBe('50.0%');
    expect(formatScore('en', 0.52549, 0.5255)).toBe('52.5%');
    expect(formatScore('en', 0.52551, 0.5255)).toBe('52.6%');
    expect(formatScore('en', 0.5253, 0.5252)).toBe('52.6%'); // approved: not 52.5 %, under 52.52 %
    // Away from the threshold, rounded as always; with no decision, as formatPercent.
    expect(formatScore('zh-CN', 0.578778862953, 0.5)).toBe('57.9%');
    expect(formatScore('zh-CN', 0.49951, 0.3)).toBe('50.0%');
    expect(formatScore('en', 0.49971)).toBe('50.0%');
  });

  it('shows a threshold with the digits it has', () => {
    expect(formatThreshold('zh-CN', 0.5)).toBe('50%');
    expect(formatThreshold('en', 0.525)).toBe('52.5%');
    expect(formatThreshold('en', 0.5255)).toBe('52.55%');
  });
});

describe('the applicant form', () => {
  it('fills in a sample as strings, leaving a missing value empty', () => {
    const form = formFrom(schema, sampleApplicants()[3]!);
    expect(form.Seniority).toBe('6');
    expect(form.Records).toBe('false');
    expect(form.Income).toBe('');
    expect(Object.keys(emptyForm(schema))).toEqual(schema.features.map((f) => f.name));
  });

  it('sends booleans as booleans and drops empty fields, and the result validates as the sample does', () => {
    const raw = rawApplicant(schema, formFrom(schema, sampleApplicants()[3]!));
    expect(raw.Records).toBe(false);
    expect(raw).not.toHaveProperty('Income');
    const r = validateApplicant(schema, raw);
    expect(r.problems).toEqual([]);
    expect(r.values).toEqual(Object.fromEntries(Object.entries(sampleApplicants()[3]!)));
  });

  it('takes a number typed with the grouping commas its range hint is written with, and only those', () => {
    const form = {
      ...formFrom(schema, sampleApplicants()[0]!),
      Assets: '1,500,000',
      Amount: '１，５００',
      Price: '1,800.',
    };
    expect(rangeText(feature('Assets'), 'zh-CN', zh)).toBe('0 至 2,000,000 千元');
    const r = validateApplicant(schema, rawApplicant(schema, form));
    expect(r.problems).toEqual([]);
    expect(r.values).toMatchObject({ Assets: 1_500_000, Amount: 1500, Price: 1800 });
    // Not groups of three: refused as before (not read as 15, nor as 1.5), with the value as it was typed.
    for (const typed of ['1,5', '15,00', ',500', '1,500,', '1,,500']) {
      const bad = validateApplicant(schema, rawApplicant(schema, { ...form, Amount: typed }));
      expect(bad.problems, typed).toEqual([{ field: 'Amount', code: 'wrong_type', given: typed }]);
    }
  });

  it('knows which sample the form holds, and none once a field is typed into', () => {
    const forms = sampleApplicants().map((a) => formFrom(schema, a));
    expect(loadedForm(schema, formFrom(schema, sampleApplicants()[2]!), forms)).toBe(2);
    expect(loadedForm(schema, { ...forms[2]!, Seniority: '9' }, forms)).toBe(-1);
    expect(loadedForm(schema, emptyForm(schema), forms)).toBe(-1);
  });

  it('keeps only the samples that fit the active model', () => {
    expect(fittingSamples(schema, [{ Seniority: 1, Age: 30 }, { Age: 30 }])).toEqual([{ Seniority: 1 }]);
  });
});

describe('problems in the user language', () => {
  it('says what is wrong with the numbers the schema gives', () => {
    expect(problemText(feature('Time'), { code: 'out_of_range', given: '500' }, 'zh-CN', zh)).toBe(
      '超出范围：1 至 120 个月（当前为 500）',
    );
    expect(problemText(feature('Time'), { code: 'out_of_range', given: '500' }, 'en', en)).toBe(
      'Out of range: 1 to 120 months (got 500)',
    );
    expect(problemText(feature('Seniority'), { code: 'wrong_type', given: 'abc' }, 'zh-CN', zh)).toBe(
      '请输入数字（当前为“abc”）',
    );
    expect(problemText(feature('Home'), { code: 'unknown_category', given: 'castle' }, 'en', en)).toContain(
      'owner (Home owner)',
    );
    // The codes are listed with the labels the form shows, and either is said to be what to write (a file may
    // hold 租房 as well as rent).
    expect(problemText(feature('Home'), { code: 'unknown_category', given: '城堡' }, 'zh-CN', zh)).toBe(
      '“城堡”不是可选值；请填写以下代码或其名称之一：ignore（未说明）、other（其他）、owner（自有住房）、' +
        'parents（与父母同住）、priv（私人住房）、rent（租房）',
    );
    expect(problemText(feature('Home'), { code: 'unknown_category', given: 'Castle' }, 'en', en)).toMatch(
      /^"Castle" is not an option; write one of these codes, or its label: ignore \(Not stated\), /,
    );
    expect(problemText(feature('Records'), { code: 'wrong_type', given: 'maybe' }, 'en', en)).toContain(
      'yes / true / 1',
    );
  });

  it("says which values a yes/no feature takes for yes and which for no, the page's 是/否 among them", () => {
    // The page shows booleans as 是/否, so a file typed in Chinese holds them: they are read, and said to be.
    expect(problemText(feature('Records'), { code: 'wrong_type', given: '对' }, 'zh-CN', zh)).toBe(
      '无法将“对”识别为是或否：“是”请填 yes / true / 1 / 是，“否”请填 no / false / 0 / 否',
    );
    expect(problemText(feature('Records'), { code: 'wrong_type', given: 'Y' }, 'en', en)).toBe(
      '"Y" is not read as yes or no: for yes write yes / true / 1 / 是, for no write no / false / 0 / 否',
    );
  });

  it('puts the API problems under their fields, in a batch too, and keeps the others as they came', () => {
    const kept = serverProblems(
      [
        { field: 'Time', code: 'out_of_range', message: 'must be between 1 and 120, got 500' },
        { field: '[3].Seniority', code: 'wrong_type', message: 'must be a number, got "x"' },
        { field: 'options.top_k', code: 'invalid', message: 'Too big' },
      ],
      schema,
    );
    const r = { byField: fieldMessages(kept.byField, schema, 'zh-CN', zh), other: kept.other };
    expect(r.byField).toEqual({
      Time: '超出范围：1 至 120 个月（当前为 500）',
      Seniority: '请输入数字（当前为“x”）',
    });
    expect(r.other).toEqual(['options.top_k: Too big']);
  });

  it('shows raw values as the branch reads them', () => {
    expect(valueText(feature('Home'), 'rent', 'zh-CN', zh)).toBe('租房');
    expect(valueText(feature('Amount'), 1500, 'en', en)).toBe('1,500 thousand');
    expect(valueText(feature('Records'), false, 'zh-CN', zh)).toBe('否');
    expect(valueText(undefined, null, 'zh-CN', zh)).toBe('—');
  });
});

describe("the explain form's problems", () => {
  it('are kept as codes, and worded in whichever language they are shown in', () => {
    const checked = validateApplicant(schema, { Seniority: 'abc', Amount: '900' });
    const issues = checkedProblems(checked.problems);
    expect(issues.Seniority).toEqual({ code: 'wrong_type', given: 'abc' });
    expect(JSON.stringify(issues)).not.toMatch(CJK);
    const inZh = fieldMessages(issues, schema, 'zh-CN', zh);
    const inEn = fieldMessages(issues, schema, 'en', en);
    expect(Object.keys(inEn)).toEqual(Object.keys(inZh));
    expect(inZh.Seniority).toContain('请输入数字');
    expect(inEn.Seniority).toContain('abc');
    for (const m of Object.values(inEn)) expect(m).not.toMatch(CJK);
  });

  it("from the API's answer: by feature with the value it got, the rest in the server's words", () => {
    const mapped = serverProblems(
      [
        { field: '[0].Time', code: 'out_of_range', message: 'out of range [1, 120], got 500' },
        { field: 'extra', code: 'unknown_feature', message: 'not a feature of the model' },
      ],
      schema,
    );
    expect(mapped.byField).toEqual({ Time: { code: 'out_of_range', given: '500' } });
    expect(mapped.other).toEqual(['extra: not a feature of the model']);
    expect(fieldMessages(mapped.byField, schema, 'zh-CN', zh).Time).toContain('超出范围');
    expect(fieldMessages(mapped.byField, schema, 'en', en).Time).not.toMatch(CJK);
  });
});

describe('the form when another model becomes active', () => {
  it('keeps what was typed into the features the new model still has, and starts its new ones empty', () => {
    const typed: Record<string, string> = { ...formFrom(schema, sampleApplicants()[0]!), Amount: '1,234' };
    const next = {
      features: [
        ...schema.features.filter((f) => f.name !== 'Assets'),
        { ...feature('Seniority'), name: 'Age', label: { 'zh-CN': '年龄', en: 'Age' } },
      ],
    };
    const carried = carriedForm(next, typed);
    expect(Object.keys(carried)).toEqual(next.features.map((f) => f.name));
    expect(carried.Amount).toBe('1,234');
    expect(carried.Job).toBe(typed.Job);
    expect(carried.Age).toBe('');
    expect(carried).not.toHaveProperty('Assets');
  });

  it('tells features added, removed and with other accepted values from those only relabelled', () => {
    const same = schemaChanges(schema, {
      features: schema.features.map((f) => ({ ...f, label: { 'zh-CN': '新', en: 'New' } })),
    });
    expect(schemaDiffers(same)).toBe(false);

    const time = feature('Time');
    const job = feature('Job');
    const changes = schemaChanges(schema, {
      features: [
        ...schema.features.filter((f) => !['Assets', 'Time', 'Job'].includes(f.name)),
        { ...time, range: { min: 1, max: 360 } } as typeof time,
        {
          ...job,
          categories: [...(job.type === 'categorical' ? job.categories : []), 'retired'],
        } as typeof job,
        { ...feature('Seniority'), name: 'Age' },
      ],
    });
    expect(schemaDiffers(changes)).toBe(true);
    expect(changes.added.map((f) => f.name)).toEqual(['Age']);
    expect(changes.removed.map((f) => f.name)).toEqual(['Assets']);
    expect(changes.changed.map((f) => f.name)).toEqual(['Time', 'Job']);
  });
});
