import { describe, expect, it } from 'vitest';
import { bundleSchemaSchema, type Feature } from '../../../../shared/bundle.js';
import {
  describe as describeFeature,
  describeIn,
  directionOf,
  formatValue,
} from '../../../../main/core/records/wording.js';
import { pseudonym } from '../../../../main/core/records/mask.js';

const schema = bundleSchemaSchema.parse({
  schema_version: 1,
  features: [
    {
      name: 'Income',
      type: 'numeric',
      label: { 'zh-CN': '月收入', en: 'Monthly income' },
      unit: { 'zh-CN': '千元', en: 'thousand' },
      scaler: { mean: 100, std: 50 },
      impute: 120,
      templates: {
        positive: {
          'zh-CN': '{label}较高（{value}），对通过率有正向影响',
          en: 'Higher {label} ({value}) raises approval',
        },
        negative: {
          'zh-CN': '{label}较低（{value}），对通过率有负向影响',
          en: 'Lower {label} ({value}) lowers approval',
        },
        neutral: { 'zh-CN': '{label}（{value}）影响不大', en: '{label} ({value}) has little effect' },
      },
    },
    {
      name: 'Home',
      type: 'categorical',
      label: { 'zh-CN': '住房', en: 'Housing' },
      categories: ['owner', 'rent'],
      category_labels: {
        owner: { 'zh-CN': '自有住房', en: 'owner' },
        rent: { 'zh-CN': '租房', en: 'renting' },
      },
      impute: 'owner',
      templates: {
        positive: { 'zh-CN': '住房情况（{value}）有利', en: 'Housing ({value}) helps' },
        negative: { 'zh-CN': '住房情况（{value}）不利', en: 'Housing ({value}) hurts' },
      },
    },
    {
      name: 'Records',
      type: 'boolean',
      label: { 'zh-CN': '逾期记录', en: 'Arrears records' },
      impute: false,
      templates: {
        positive: { 'zh-CN': '{label}：{value}，有利', en: '{label}: {value}, helps' },
        negative: { 'zh-CN': '{label}：{value}，不利', en: '{label}: {value}, hurts' },
      },
    },
  ],
  output: { kind: 'sigmoid', classes: ['bad', 'good'], explain_class: 'good' },
  baseline: {},
});
const [income, home, records] = schema.features as [Feature, Feature, Feature];

describe('business wording', () => {
  it('picks the template by direction and locale and fills label and value with its unit', () => {
    expect(describeFeature(income, 130, 0.2, 'zh-CN')).toBe('月收入较高（130 千元），对通过率有正向影响');
    expect(describeFeature(income, 40, -0.2, 'zh-CN')).toBe('月收入较低（40 千元），对通过率有负向影响');
    expect(describeFeature(income, 130, 0.2, 'en')).toBe(
      'Higher Monthly income (130 thousand) raises approval',
    );
    expect(describeFeature(income, 40, -0.2, 'en')).toBe(
      'Lower Monthly income (40 thousand) lowers approval',
    );
    expect(describeFeature(income, 100, 0, 'en')).toBe('Monthly income (100 thousand) has little effect');
  });

  it('words categories and booleans by their labels, and says when a value was imputed', () => {
    expect(describeFeature(home, 'rent', -0.1, 'zh-CN')).toBe('住房情况（租房）不利');
    expect(describeFeature(home, 'rent', -0.1, 'en')).toBe('Housing (renting) hurts');
    expect(describeFeature(records, true, -0.3, 'zh-CN')).toBe('逾期记录：是，不利');
    expect(describeFeature(records, false, 0.3, 'en')).toBe('Arrears records: no, helps');
    expect(describeFeature(income, 120, 0.1, 'en', true)).toContain('missing; default used');
    expect(formatValue(income, 12.3456, 'en')).toBe('12.35 thousand');
  });

  it('says a defaulted value was missing without nesting brackets, in Chinese and English', () => {
    // The template's own brackets hold the note: not 住房情况（自有住房（缺失，按默认值））.
    expect(describeFeature(home, 'owner', 0.1, 'zh-CN', true)).toBe(
      '住房情况（缺失，按默认值：自有住房）有利',
    );
    expect(describeFeature(home, 'owner', 0.1, 'en', true)).toBe(
      'Housing (missing; default used: owner) helps',
    );
    expect(describeFeature(income, 120, 0, 'zh-CN', true)).toBe('月收入（缺失，按默认值：120 千元）影响不大');
    // A quoted value keeps its quotes around the value alone; an unbracketed one takes the note after it.
    const quoted = {
      ...home,
      templates: {
        positive: { 'zh-CN': '{label}为“{value}”，有利', en: '{label} is “{value}”, helps' },
        negative: home.templates.negative,
      },
    };
    expect(describeFeature(quoted, 'owner', 0.1, 'zh-CN', true)).toBe(
      '住房为“自有住房”（缺失，按默认值），有利',
    );
    expect(describeFeature(quoted, 'owner', 0.1, 'en', true)).toBe(
      'Housing is “owner” (missing; default used), helps',
    );
    expect(describeFeature(records, false, 0.3, 'zh-CN', true)).toBe('逾期记录：否（缺失，按默认值），有利');
    // The words of a class other than the approving one, too.
    const frame = { kind: 'class', className: 'medium' } as const;
    const zh = describeIn(frame, home, 'owner', 0.1, 'zh-CN', true);
    expect(zh).toBe('住房（缺失，按默认值：自有住房）提高了“medium”类的概率');
    for (const text of [zh, describeFeature(home, 'owner', -0.1, 'zh-CN', true)])
      expect(text).not.toMatch(/（[^）]*（/);
    expect(describeIn(frame, home, 'owner', 0.1, 'en', true)).not.toMatch(/\([^)]*\(/);
  });

  it('groups digits as the UI does, and gives one unit of time in the singular', () => {
    expect(formatValue(income, 1500, 'zh-CN')).toBe('1,500 千元');
    expect(formatValue(income, 1234567.891, 'en')).toBe('1,234,567.89 thousand');
    const seniority = { ...income, unit: { 'zh-CN': '年', en: 'years' } };
    expect(formatValue(seniority, 1, 'en')).toBe('1 year');
    expect(formatValue(seniority, 2, 'en')).toBe('2 years');
    expect(formatValue(seniority, 1, 'zh-CN')).toBe('1 年');
    expect(formatValue({ ...income, unit: { 'zh-CN': '千元', en: 'thousands' } }, 1, 'en')).toBe(
      '1 thousands',
    );
  });

  it('words a zero attribution as no effect when the bundle has no neutral template, never as raising', () => {
    // Home and Records have positive and negative templates only; a value at the baseline's has attribution 0.
    expect(describeFeature(home, 'owner', 0, 'zh-CN')).toBe('住房（自有住房）几乎没有影响');
    expect(describeFeature(home, 'owner', 0, 'en')).toBe('Housing (owner) has almost no effect');
    expect(describeFeature(records, false, 0, 'en')).toBe('Arrears records (no) has almost no effect');
    expect(describeFeature(records, false, 0, 'zh-CN', true)).toBe(
      '逾期记录（缺失，按默认值：否）几乎没有影响',
    );
    // Worded from the approval side for the other class of a sigmoid model too: zero stays zero.
    expect(describeIn({ kind: 'approval', sign: -1 }, home, 'rent', 0, 'zh-CN')).toBe(
      '住房（租房）几乎没有影响',
    );
    // A bundle's own neutral words still come first.
    expect(describeFeature(income, 120, 0, 'zh-CN')).toBe('月收入（120 千元）影响不大');
  });

  it('classifies direction by sign', () => {
    expect([directionOf(0.1), directionOf(-0.1), directionOf(0)]).toEqual([
      'positive',
      'negative',
      'neutral',
    ]);
  });
});

describe('sensitive pseudonyms', () => {
  it('are stable for one key, differ across keys and features, and do not contain the name', () => {
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(32, 2);
    expect(pseudonym(k1, 'Income')).toBe(pseudonym(k1, 'Income'));
    expect(pseudonym(k1, 'Income')).not.toBe(pseudonym(k2, 'Income'));
    expect(pseudonym(k1, 'Income')).not.toBe(pseudonym(k1, 'Assets'));
    expect(pseudonym(k1, 'Income')).toMatch(/^sensitive_[0-9a-f]{12}$/);
  });
});
