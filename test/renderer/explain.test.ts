// The explain page's logic: the chart's bars (sorted, masked, the rest bar), the form's state and samples, and
// problems worded per field in both languages, from the form's checks and from the API's answers.
import { describe, expect, it } from 'vitest';
import type { ExplanationDocument } from '../../shared/explanation.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { attributionBars, barsTotal, symmetricBound } from '../../renderer/src/lib/attribution-bars.js';
import {
  checkedProblems,
  fieldMessages,
  problemText,
  rangeText,
  serverProblems,
  valueText,
} from '../../renderer/src/lib/problem-text.js';
import { validateApplicant } from '../../renderer/src/lib/validate.js';
import {
  emptyForm,
  fittingSamples,
  formFrom,
  loadedForm,
  rawApplicant,
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
      feature: 'sensitive_1',
      value: null,
      attribution: 0.07,
      direction: 'positive',
      description: 's',
      masked: true,
    },
    {
      feature: 'sensitive_2',
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
      '敏感特征（已脱敏） 1',
      '敏感特征（已脱敏） 2',
      '其余 7 项',
    ]);
    expect(bars.map((b) => b.kind)).toEqual(['negative', 'negative', 'positive', 'positive', 'rest']);
    expect(bars[4]!.value).toBe(0.116);
    expect(barsTotal(bars)).toBeCloseTo(-0.19 - 0.16 + 0.07 + 0.01 + 0.116, 12);
  });

  it('has no rest bar when every feature is shown, and one masked label when one feature is masked', () => {
    const bars = attributionBars(
      { ...doc, attributions: doc.attributions.slice(0, 3), rest_count: 0, rest_sum: 0 },
      wording,
    );
    expect(bars.map((b) => b.label)).toEqual(['职业类型', '申请金额', '敏感特征（已脱敏）']);
  });

  it("carries the document's language on the bars it words, not on the rest bar the page words", () => {
    const bars = attributionBars({ ...doc, meta: { locale: 'zh-CN' } }, wording);
    expect(bars.map((b) => b.docLocale)).toEqual(['zh-CN', 'zh-CN', 'zh-CN', 'zh-CN', undefined]);
    expect(attributionBars(doc, wording).every((b) => b.docLocale === undefined)).toBe(true);
  });

  it('keeps zero in the middle of a symmetric axis with room for the labels', () => {
    expect(symmetricBound(attributionBars(doc, wording))).toBe(0.3);
    expect(symmetricBound([])).toBe(0.1);
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
    // A file must hold the codes: they are listed, with the labels the form shows.
    expect(problemText(feature('Home'), { code: 'unknown_category', given: '租房' }, 'zh-CN', zh)).toBe(
      '“租房”不是可选值；可选：ignore（未说明）、other（其他）、owner（自有住房）、parents（与父母同住）、' +
        'priv（私人住房）、rent（租房）',
    );
    expect(problemText(feature('Records'), { code: 'wrong_type', given: 'maybe' }, 'en', en)).toContain(
      'yes / true / 1',
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
