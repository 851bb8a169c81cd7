// What the demo model's schema says about each input, besides what is fitted on the training split:
// names, labels, units, direction wording and ranges, in zh-CN and en.
// Age and Marital are left out on purpose: credit law (e.g. US Regulation B) forbids marital status and
// restricts age as a basis for credit decisions, so the demo model never sees them.
import type { BooleanFeature, CategoricalFeature, Localized, NumericFeature } from '../../shared/bundle.js';

export type NumericSpec = Omit<NumericFeature, 'scaler' | 'impute'>;
export type CategoricalSpec = Omit<CategoricalFeature, 'impute'>;
export type BooleanSpec = Omit<BooleanFeature, 'impute'>;
export type FeatureSpec = NumericSpec | CategoricalSpec | BooleanSpec;

const YEARS: Localized = { 'zh-CN': '年', en: 'years' };
const MONTHS: Localized = { 'zh-CN': '个月', en: 'months' };
const MONEY: Localized = { 'zh-CN': '千元', en: 'thousand' };
const MONEY_PER_MONTH: Localized = { 'zh-CN': '千元/月', en: 'thousand / month' };

const NEUTRAL: Localized = {
  'zh-CN': '{label}（{value}）对通过率几乎没有影响',
  en: '{label} ({value}) has almost no effect on the approval probability',
};

/**
 * Wording for a feature whose effect may go either way (a category, or a number without a clear direction),
 * so the text never claims a direction the model does not have. `zh`/`en` name the feature and its value.
 */
function eitherWay(zh: string, en: string): FeatureSpec['templates'] {
  return {
    positive: { 'zh-CN': `${zh}，对通过率有正向影响`, en: `${en} raises the approval probability` },
    negative: { 'zh-CN': `${zh}，拉低了通过率`, en: `${en} lowers the approval probability` },
    neutral: NEUTRAL,
  };
}

/**
 * The model's inputs, in input order. A feature the branch's data always has (the loan's amount, price and term,
 * the applicant's expenses, years with the employer and any arrears record) is required: a decision without it
 * would rest on a made-up value. Those the data itself sometimes lacks (housing, job, income, assets, debt) are
 * optional and imputed as in training, and the explanation marks them imputed. train-demo.test.ts checks the
 * split against the data.
 */
export const CREDIT_FEATURES: readonly FeatureSpec[] = [
  {
    name: 'Seniority',
    type: 'numeric',
    label: { 'zh-CN': '工龄', en: 'Years with current employer' },
    unit: YEARS,
    description: {
      'zh-CN': '在现雇主处工作的年数',
      en: 'Years the applicant has worked for the current employer',
    },
    templates: {
      positive: {
        'zh-CN': '{label}较长（{value}），对通过率有正向影响',
        en: 'Longer time with the current employer ({value}) raises the approval probability',
      },
      negative: {
        'zh-CN': '{label}较短（{value}），拉低了通过率',
        en: 'Shorter time with the current employer ({value}) lowers the approval probability',
      },
      neutral: NEUTRAL,
    },
    range: { min: 0, max: 70 },
    integer: true,
    required: true,
    sensitive: false,
  },
  {
    name: 'Home',
    type: 'categorical',
    label: { 'zh-CN': '住房情况', en: 'Housing' },
    description: { 'zh-CN': '申请人目前的住房情况', en: "The applicant's housing situation" },
    categories: ['ignore', 'other', 'owner', 'parents', 'priv', 'rent'],
    category_labels: {
      ignore: { 'zh-CN': '未说明', en: 'Not stated' },
      other: { 'zh-CN': '其他', en: 'Other' },
      owner: { 'zh-CN': '自有住房', en: 'Home owner' },
      parents: { 'zh-CN': '与父母同住', en: 'Living with parents' },
      priv: { 'zh-CN': '私人住房', en: 'Private housing' },
      rent: { 'zh-CN': '租房', en: 'Renting' },
    },
    templates: eitherWay('{label}为“{value}”', '{label} ({value})'),
    required: false,
    sensitive: false,
  },
  {
    name: 'Time',
    type: 'numeric',
    label: { 'zh-CN': '贷款期限', en: 'Loan term' },
    unit: MONTHS,
    description: { 'zh-CN': '申请的贷款期限（月数）', en: 'Requested loan term, in months' },
    templates: eitherWay('{label}（{value}）', '{label} ({value})'),
    range: { min: 1, max: 120 },
    integer: true,
    required: true,
    sensitive: false,
  },
  {
    name: 'Records',
    type: 'boolean',
    label: { 'zh-CN': '逾期记录', en: 'Record of arrears' },
    description: {
      'zh-CN': '是否有过拖欠还款的记录',
      en: 'Whether the applicant has a record of arrears (past missed payments)',
    },
    true_values: ['yes', 'true', '1'],
    false_values: ['no', 'false', '0'],
    templates: {
      positive: {
        'zh-CN': '没有逾期记录，对通过率有正向影响',
        en: 'Having no record of arrears raises the approval probability',
      },
      negative: {
        'zh-CN': '有逾期记录，拉低了通过率',
        en: 'A record of arrears lowers the approval probability',
      },
      neutral: NEUTRAL,
    },
    required: true,
    sensitive: false,
  },
  {
    name: 'Job',
    type: 'categorical',
    label: { 'zh-CN': '职业类型', en: 'Employment type' },
    description: { 'zh-CN': '申请人的就业类型', en: "The applicant's type of employment" },
    categories: ['fixed', 'freelance', 'others', 'partime'],
    category_labels: {
      fixed: { 'zh-CN': '固定工作', en: 'Permanent job' },
      freelance: { 'zh-CN': '自由职业', en: 'Freelance' },
      others: { 'zh-CN': '其他', en: 'Other' },
      partime: { 'zh-CN': '兼职', en: 'Part-time' },
    },
    templates: eitherWay('{label}为“{value}”', '{label} ({value})'),
    required: false,
    sensitive: false,
  },
  {
    name: 'Expenses',
    type: 'numeric',
    label: { 'zh-CN': '月支出', en: 'Monthly expenses' },
    unit: MONEY_PER_MONTH,
    description: { 'zh-CN': '每月的固定支出', en: 'Regular monthly expenses' },
    templates: eitherWay('{label}（{value}）', '{label} ({value})'),
    range: { min: 0, max: 2000 },
    integer: true,
    required: true,
    sensitive: false,
  },
  {
    name: 'Income',
    type: 'numeric',
    label: { 'zh-CN': '月收入', en: 'Monthly income' },
    unit: MONEY_PER_MONTH,
    description: { 'zh-CN': '每月收入', en: 'Monthly income' },
    templates: {
      positive: {
        'zh-CN': '收入较高（{value}），对通过率有正向影响',
        en: 'Higher income ({value}) raises the approval probability',
      },
      negative: {
        'zh-CN': '收入较低（{value}），拉低了通过率',
        en: 'Lower income ({value}) lowers the approval probability',
      },
      neutral: NEUTRAL,
    },
    range: { min: 0, max: 20000 },
    integer: true,
    required: false,
    sensitive: true,
  },
  {
    name: 'Assets',
    type: 'numeric',
    label: { 'zh-CN': '资产', en: 'Assets' },
    unit: MONEY,
    description: { 'zh-CN': '申请人名下资产的价值', en: "Value of the applicant's assets" },
    templates: {
      positive: {
        'zh-CN': '资产较多（{value}），对通过率有正向影响',
        en: 'More assets ({value}) raise the approval probability',
      },
      negative: {
        'zh-CN': '资产较少（{value}），拉低了通过率',
        en: 'Fewer assets ({value}) lower the approval probability',
      },
      neutral: NEUTRAL,
    },
    range: { min: 0, max: 2_000_000 },
    integer: true,
    required: false,
    sensitive: true,
  },
  {
    name: 'Debt',
    type: 'numeric',
    label: { 'zh-CN': '负债', en: 'Debt' },
    unit: MONEY,
    description: { 'zh-CN': '现有负债金额', en: 'Amount of existing debt' },
    templates: {
      positive: {
        'zh-CN': '负债较少（{value}），对通过率有正向影响',
        en: 'Less debt ({value}) raises the approval probability',
      },
      negative: {
        'zh-CN': '负债较多（{value}），拉低了通过率',
        en: 'More debt ({value}) lowers the approval probability',
      },
      neutral: NEUTRAL,
    },
    range: { min: 0, max: 500_000 },
    integer: true,
    required: false,
    sensitive: false,
  },
  {
    name: 'Amount',
    type: 'numeric',
    label: { 'zh-CN': '申请金额', en: 'Loan amount' },
    unit: MONEY,
    description: { 'zh-CN': '申请的贷款金额', en: 'Requested loan amount' },
    templates: {
      positive: {
        'zh-CN': '申请金额较低（{value}），对通过率有正向影响',
        en: 'A smaller loan amount ({value}) raises the approval probability',
      },
      negative: {
        'zh-CN': '申请金额较高（{value}），拉低了通过率',
        en: 'A larger loan amount ({value}) lowers the approval probability',
      },
      neutral: NEUTRAL,
    },
    range: { min: 0, max: 100_000 },
    integer: true,
    required: true,
    sensitive: false,
  },
  {
    name: 'Price',
    type: 'numeric',
    label: { 'zh-CN': '购买价格', en: 'Purchase price' },
    unit: MONEY,
    description: { 'zh-CN': '贷款所购商品的价格', en: 'Price of the good the loan pays for' },
    templates: eitherWay('{label}（{value}）', '{label} ({value})'),
    range: { min: 0, max: 200_000 },
    integer: true,
    required: true,
    sensitive: false,
  },
];

export const FEATURE_NAMES: readonly string[] = CREDIT_FEATURES.map((f) => f.name);

/**
 * The direction the wording of the "较高/较低" ("higher/lower") templates assumes: +1 when a larger value raises
 * the approval probability, −1 when it lowers it. test/assets checks the shipped model agrees on held-out rows.
 */
export const TEMPLATE_DIRECTIONS: Readonly<Record<string, 1 | -1>> = {
  Seniority: 1,
  Income: 1,
  Assets: 1,
  Debt: -1,
  Amount: -1,
};
