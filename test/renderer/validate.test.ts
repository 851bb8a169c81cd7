// The form's validation gives the same verdict, field by field and code by code, as the engine's preprocessing
// (main/core/preprocess.ts) on a wide spread of raw values: a value the form accepts is one the API accepts.
import { describe, expect, it } from 'vitest';
import { Preprocessor } from '../../main/core/preprocess.js';
import { isInputError } from '../../shared/problems.js';
import { categoryFromInput } from '../../shared/bundle.js';
import { validateApplicant, WHOLE_APPLICANT } from '../../renderer/src/lib/validate.js';
import { demoSchema, sampleApplicants } from './helpers.js';

const schema = demoSchema();
const preprocessor = new Preprocessor(schema);
// The demo model with every feature optional, for rules that are not about required features.
const optional = { ...schema, features: schema.features.map((f) => ({ ...f, required: false })) };

/** What the engine says: the problems' (field, code), or the clean values. */
function engineVerdict(raw: Record<string, unknown>) {
  try {
    const r = preprocessor.encode(raw);
    const given = Object.fromEntries(Object.entries(r.values).filter(([k]) => !r.imputed.includes(k)));
    return { problems: [] as string[], values: given, imputed: r.imputed };
  } catch (e) {
    if (!isInputError(e)) throw e;
    return { problems: e.problems.map((p) => `${p.field}:${p.code}`).sort(), values: null, imputed: null };
  }
}

function formVerdict(raw: Record<string, unknown>) {
  const r = validateApplicant(schema, raw);
  return r.problems.length
    ? { problems: r.problems.map((p) => `${p.field}:${p.code}`).sort(), values: null, imputed: null }
    : { problems: [] as string[], values: r.values, imputed: r.imputed };
}

const NUMERIC_VALUES: unknown[] = [
  0,
  5,
  -1,
  2.5,
  1e9,
  NaN,
  Infinity,
  -Infinity,
  '7',
  ' 7 ',
  '7.0',
  '7.5',
  '1e1',
  '-3',
  '+4',
  '.5',
  'abc',
  '',
  '  ',
  'NaN',
  'inf',
  '-Infinity',
  '0x10',
  '1,000',
  true,
  false,
  null,
  undefined,
  [],
  {},
  '70',
  '71',
  120,
  121,
];
const CATEGORY_VALUES: unknown[] = [
  'rent',
  ' rent ',
  'RENT',
  'castle',
  '',
  null,
  undefined,
  3,
  true,
  'owner',
  'fixed',
  'freelance',
  // The labels the page shows, in either language, case and width.
  '租房',
  ' 自有住房 ',
  'Renting',
  'ＲＥＮＴＩＮＧ',
  'Ｒｅｎｔ',
  '兼职',
  'Part-time',
  // "Other" labels `other` of Home and `others` of Job.
  'Other',
  '其他',
];
const BOOLEAN_VALUES: unknown[] = [
  true,
  false,
  'yes',
  'no',
  'YES',
  ' No ',
  'true',
  'false',
  '1',
  '0',
  1,
  0,
  2,
  'maybe',
  '',
  null,
  undefined,
  [],
  // The words the page shows, in either language, case and width.
  '是',
  ' 否 ',
  'Yes',
  'ＮＯ',
  'ｙｅｓ',
  '对',
];

function valuesFor(type: string): unknown[] {
  return type === 'numeric' ? NUMERIC_VALUES : type === 'categorical' ? CATEGORY_VALUES : BOOLEAN_VALUES;
}

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the form validator', () => {
  it('agrees with the engine on every value of every feature, one at a time', () => {
    const base = sampleApplicants()[0]!;
    for (const f of schema.features) {
      for (const v of valuesFor(f.type)) {
        const raw = { ...base, [f.name]: v };
        expect(formVerdict(raw), `${f.name} = ${JSON.stringify(v)}`).toEqual(engineVerdict(raw));
      }
    }
  });

  it('agrees with the engine on 2,000 random applicants, unknown fields included', () => {
    const next = random(20261126);
    for (let i = 0; i < 2000; i++) {
      const raw: Record<string, unknown> = {};
      for (const f of schema.features) {
        if (next() < 0.15) continue;
        const values = valuesFor(f.type);
        raw[f.name] = values[Math.floor(next() * values.length)];
      }
      if (next() < 0.05) raw.Age = 30;
      expect(formVerdict(raw), JSON.stringify(raw)).toEqual(engineVerdict(raw));
    }
  });

  it('accepts the sample applicants and leaves missing optional features to the service', () => {
    for (const sample of sampleApplicants()) {
      const r = validateApplicant(schema, sample);
      expect(r.problems).toEqual([]);
    }
    const r = validateApplicant(schema, sampleApplicants()[3]!);
    expect(r.imputed).toEqual(['Income']);
    expect(r.values).not.toHaveProperty('Income');
  });

  it('takes a category code in another case as the code, when only one code is spelt that way', () => {
    const home = schema.features.find((f) => f.name === 'Home')!;
    expect(home.type).toBe('categorical');
    if (home.type !== 'categorical') return;
    const r = validateApplicant(optional, { Home: ' Rent ', Job: 'FIXED' });
    expect(r.problems).toEqual([]);
    expect(r.values).toEqual({ Home: 'rent', Job: 'fixed' });
    // What the form sends is what the engine takes.
    expect(new Preprocessor(optional).encode(r.values).values.Home).toBe('rent');
    const ambiguous = { ...home, categories: ['rent', 'Rent'] };
    expect(categoryFromInput(ambiguous, 'RENT')).toBeUndefined();
    expect(categoryFromInput(ambiguous, 'Rent')).toBe('Rent');
  });

  it('takes the labels and yes/no words the page shows, in either language, as the code and boolean they show', () => {
    // A Chinese officer's batch row, typed as the page shows the values: the form sends what the engine reads.
    const r = validateApplicant(optional, { Home: '租房', Job: 'Part-time', Records: '否' });
    expect(r.problems).toEqual([]);
    expect(r.values).toEqual({ Home: 'rent', Job: 'partime', Records: false });
    const engine = new Preprocessor(optional).encode({ Home: '租房', Job: 'Part-time', Records: '否' });
    expect(engine.values).toMatchObject(r.values);
    expect(validateApplicant(optional, { Records: 'ＹＥＳ' }).values).toEqual({ Records: true });
    // "Other" and 其他 label one category of each feature: a code of one feature, not two of the same.
    expect(validateApplicant(optional, { Home: '其他', Job: 'Other' }).values).toEqual({
      Home: 'other',
      Job: 'others',
    });
    const home = schema.features.find((f) => f.name === 'Home')!;
    if (home.type !== 'categorical') return;
    // A label shared by two categories names neither.
    const shared = {
      ...home,
      category_labels: { ...home.category_labels, priv: { 'zh-CN': '租房', en: 'Private' } },
    };
    expect(categoryFromInput(shared, '租房')).toBeUndefined();
    expect(categoryFromInput(shared, 'rent')).toBe('rent');
  });

  it("reads a bundle's own true/false words in any case, and refuses a number past float32, as the engine does", () => {
    // A bank's bundle: Records as Y/N in capitals, Income without a range.
    const bank = {
      ...optional,
      features: optional.features.map((f) =>
        f.type === 'boolean'
          ? { ...f, true_values: ['Y'], false_values: ['N'] }
          : f.name === 'Income' && f.type === 'numeric'
            ? { ...f, range: undefined }
            : f,
      ),
    };
    const engine = new Preprocessor(bank);
    const records = bank.features.find((f) => f.type === 'boolean')!.name;
    for (const [given, value] of [
      ['Y', true],
      [' y ', true],
      ['N', false],
    ] as const) {
      expect(validateApplicant(bank, { [records]: given }).values).toEqual({ [records]: value });
      expect(engine.encode({ [records]: given }).values[records]).toBe(value);
    }
    const form = validateApplicant(bank, { Income: 1e300 }).problems.map((p) => `${p.field}:${p.code}`);
    expect(form).toEqual(['Income:not_finite']);
    try {
      engine.encode({ Income: 1e300 });
      expect.unreachable('the engine takes 1e300');
    } catch (e) {
      expect(isInputError(e) && e.problems.map((p) => `${p.field}:${p.code}`)).toEqual(['Income:not_finite']);
    }
  });

  it('refuses an applicant that gives none of the features, as the engine does, as one problem', () => {
    const engineProblems = (s: typeof schema, raw: Record<string, unknown>) => {
      try {
        new Preprocessor(s).encode(raw, '', 'caller');
        return [];
      } catch (e) {
        if (!isInputError(e)) throw e;
        return e.problems.map((p) => `${p.field}:${p.code}`);
      }
    };
    for (const raw of [{}, { Seniority: '  ', Home: '' }, { Income: null, Records: undefined }]) {
      // All optional: the applicant itself is the engine's one problem, and the form's.
      expect(engineProblems(optional, raw)).toEqual(['[0]:missing']);
      expect(validateApplicant(optional, raw)).toEqual({
        values: {},
        imputed: [],
        problems: [{ field: WHOLE_APPLICANT, code: 'missing' }],
      });
      // The demo model: the engine lists the six required features too; the form says it once.
      expect(engineProblems(schema, raw)).toContain('[0]:missing');
      expect(validateApplicant(schema, raw).problems).toEqual([{ field: WHOLE_APPLICANT, code: 'missing' }]);
    }
    // One feature given is enough for the rule: the rest are the usual checks.
    expect(validateApplicant(optional, { Home: 'rent' }).problems).toEqual([]);
    // The required features themselves are pinned by test/assets/credit-demo-bundle.test.ts.
    const required = schema.features.filter((f) => f.required).map((f) => f.name);
    expect(required).toHaveLength(6);
    expect(validateApplicant(schema, { Home: 'rent' }).problems.map((p) => p.field)).toEqual(required);
  });

  it('reports a required feature left empty as missing', () => {
    const strict = {
      features: schema.features.map((f) => (f.name === 'Home' ? { ...f, required: true } : f)),
    };
    const r = validateApplicant(strict, { ...sampleApplicants()[0]!, Home: '  ' });
    expect(r.problems).toEqual([{ field: 'Home', code: 'missing' }]);
  });
});
