import { describe, expect, it } from 'vitest';
import { InputError, type Problem } from '../../../shared/problems.js';
import { Preprocessor } from '../../../main/core/preprocess.js';
import { numbersFromText } from '../../../shared/bundle.js';
import {
  CREDIT_BASELINE,
  CREDIT_FEATURES,
  OUTPUTS,
  booleanFeature,
  categoricalFeature,
  makeSchema,
  numericFeature,
} from '../../helpers/bundles.js';

// income (numeric, ≥ 0, mean 5000, std 2000, imputes 5000), age (integer 18–100, required, mean 40, std 12),
// purpose (car | home | education, imputes car), owns_home (boolean, imputes false).
const pre = new Preprocessor(makeSchema(CREDIT_FEATURES, OUTPUTS.sigmoid, CREDIT_BASELINE));

function problemsOf(raw: unknown, prefix?: string): Problem[] {
  try {
    pre.encode(raw, prefix);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems;
  }
  throw new Error('expected an InputError, but the applicant was accepted');
}

/** The single problem of an applicant that is valid but for `override`. */
function problemOf(override: Record<string, unknown>): Problem {
  const problems = problemsOf({ age: 30, ...override });
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

describe('a valid applicant', () => {
  it('encodes to scaled numbers, a one-hot group and 0/1', () => {
    const out = pre.encode({ income: 8200, age: 31, purpose: 'home', owns_home: true });
    expect(out.vector).toEqual([(8200 - 5000) / 2000, (31 - 40) / 12, 0, 1, 0, 1]);
    expect(out.values).toEqual({ income: 8200, age: 31, purpose: 'home', owns_home: true });
    expect(out.imputed).toEqual([]);
    expect(pre.width).toBe(6);
  });

  it('accepts CSV-style strings', () => {
    const out = pre.encode({ income: '12', age: ' 52 ', purpose: ' education ', owns_home: ' yes ' });
    expect(out.values).toEqual({ income: 12, age: 52, purpose: 'education', owns_home: true });
    expect(pre.encode({ age: 30, income: '1.5e3', owns_home: 'NO' }).values).toMatchObject({
      income: 1500,
      owns_home: false,
    });
    expect(pre.encode({ age: 30, owns_home: '1' }).values.owns_home).toBe(true);
    expect(pre.encode({ age: 30, owns_home: 0 }).values.owns_home).toBe(false);
  });

  it('imputes an empty string, null or an absent value, and says so', () => {
    const out = pre.encode({ income: '', age: 30, purpose: null, owns_home: '   ' });
    expect(out.values).toEqual({ income: 5000, age: 30, purpose: 'car', owns_home: false });
    expect(out.imputed).toEqual(['income', 'purpose', 'owns_home']);
    expect(out.vector).toEqual([0, (30 - 40) / 12, 1, 0, 0, 0]);
    expect(pre.encode({ age: 30 }).imputed).toEqual(['income', 'purpose', 'owns_home']);
  });
});

describe("a boolean feature's true_values and false_values", () => {
  it('are compared trimmed and lowercased on both sides: a bundle\'s "Y" and "N" read "Y", " y " and "no"', () => {
    const flags = new Preprocessor(
      makeSchema(
        [booleanFeature('defaulted', { true_values: ['Y', ' Yes '], false_values: ['N', 'NO'] })],
        OUTPUTS.sigmoid,
      ),
    );
    expect(flags.encode({ defaulted: 'Y' }).values.defaulted).toBe(true);
    expect(flags.encode({ defaulted: ' y ' }).values.defaulted).toBe(true);
    expect(flags.encode({ defaulted: 'yes' }).values.defaulted).toBe(true);
    expect(flags.encode({ defaulted: 'N' }).values.defaulted).toBe(false);
    expect(flags.encode({ defaulted: 'no' }).values.defaulted).toBe(false);
    expect(() => flags.encode({ defaulted: 'true' })).toThrow(
      /must be true or false \(for true: Y, {2}Yes , 是; for false: N, NO, 否\), got "true"/,
    );
  });
});

describe('the values the page shows: 是/否 and Yes/No, and category labels, in either language', () => {
  const labelled = new Preprocessor(
    makeSchema(
      [
        categoricalFeature('home', ['own', 'rent', 'parents'], {
          category_labels: {
            own: { 'zh-CN': '自有住房', en: 'Home owner' },
            rent: { 'zh-CN': '租房', en: 'Renting' },
            parents: { 'zh-CN': '与父母同住', en: 'Living with parents' },
          },
        }),
        booleanFeature('defaulted', { true_values: ['Y'], false_values: ['N'] }),
      ],
      OUTPUTS.sigmoid,
    ),
  );
  const read = (raw: Record<string, unknown>) => labelled.encode(raw).values;

  it('reads a category label in Chinese or English, in any case and width, as its code', () => {
    const asCode = labelled.encode({ home: 'rent' });
    for (const home of ['租房', ' 租房 ', 'Renting', 'RENTING', 'ｒｅｎｔｉｎｇ', 'Rent', 'ＲＥＮＴ']) {
      const out = labelled.encode({ home });
      expect(out.values.home, home).toBe('rent');
      expect(out.vector, home).toEqual(asCode.vector);
      // The applicant as read, for the audit log's input hash: the code, as if typed so.
      expect(out.applicant, home).toEqual({ home: 'rent' });
    }
    expect(read({ home: '与父母同住' }).home).toBe('parents');
  });

  it("reads 是/否 and Yes/No as true/false, beside a bundle's own words, in any case and width", () => {
    for (const [given, value] of [
      ['是', true],
      [' 否 ', false],
      ['Yes', true],
      ['NO', false],
      ['ｙｅｓ', true],
      ['Ｙ', true],
      ['y', true],
    ] as const) {
      const out = labelled.encode({ defaulted: given });
      expect(out.values.defaulted, given).toBe(value);
      expect(out.applicant, given).toEqual({ defaulted: value });
    }
  });

  it("lets the bundle's own values and codes win, and refuses a label that names two categories", () => {
    const clash = new Preprocessor(
      makeSchema(
        [
          // "other"'s English label is the code of another category; two categories share a Chinese label.
          categoricalFeature('job', ['fixed', 'other', 'others', 'temp'], {
            category_labels: {
              fixed: { 'zh-CN': '固定', en: 'Fixed' },
              other: { 'zh-CN': '其他', en: 'temp' },
              others: { 'zh-CN': '其他', en: 'Others' },
              temp: { 'zh-CN': '临时', en: 'Temporary' },
            },
          }),
          // A bundle whose no-word is a yes-word the page shows.
          booleanFeature('flag', { true_values: ['1'], false_values: ['0', 'yes'] }),
        ],
        OUTPUTS.sigmoid,
      ),
    );
    expect(clash.encode({ job: 'temp' }).values.job).toBe('temp');
    expect(clash.encode({ job: 'Others' }).values.job).toBe('others');
    expect(clash.encode({ flag: 'Yes' }).values.flag).toBe(false);
    expect(clash.encode({ flag: '是' }).values.flag).toBe(true);
    for (const job of ['其他', 'TEMP']) {
      expect(() => clash.encode({ job }), job).toThrow(
        /job: must be one of fixed, other, others, temp \(or a category's label, as the page shows it\), got/,
      );
    }
  });
});

describe('a bad applicant is refused naming the field', () => {
  it('for an unknown feature', () => {
    const p = problemOf({ salary: 1000 });
    expect(p).toMatchObject({ field: 'salary', code: 'unknown_feature' });
    expect(p.message).toMatch(/expected one of: income, age, purpose, owns_home/);
  });

  it.each([[{}], [{ age: '' }], [{ age: null }], [{ age: undefined }]])(
    'for a missing required feature: %j',
    (raw) => {
      expect(problemsOf(raw)).toEqual([{ field: 'age', code: 'missing', message: 'is required' }]);
    },
  );

  it.each([
    ['a string for a number', { income: 'abc' }, 'income', /must be a number, got "abc"/],
    ['a boolean for a number', { income: true }, 'income', /must be a number, got true/],
    ['an object for a number', { income: { value: 1 } }, 'income', /must be a number, got an object/],
    ['a list for a number', { income: [1] }, 'income', /must be a number, got a list/],
    ['a number for a categorical', { purpose: 3 }, 'purpose', /must be one of car, home, education, got 3/],
    ['an object for a categorical', { purpose: {} }, 'purpose', /got an object/],
    ['a word for a boolean', { owns_home: 'maybe' }, 'owns_home', /must be true or false .*got "maybe"/],
    ['an object for a boolean', { owns_home: { yes: true } }, 'owns_home', /got an object/],
  ])('for the wrong type: %s', (_, override, field, message) => {
    const p = problemOf(override);
    expect(p).toMatchObject({ field, code: 'wrong_type' });
    expect(p.message).toMatch(message);
  });

  it('for a number that scales past float32, which the model would see as Infinity (no range to stop it)', () => {
    // income has no max: 1e39 scales to ~5e35, within float32; x (identity scaler) to 1e39, past it.
    const wide = new Preprocessor(makeSchema([numericFeature('x')], OUTPUTS.sigmoid));
    expect(wide.encode({ x: 3e38 }).vector).toEqual([3e38]);
    for (const x of [1e39, -1e39, Number.MAX_VALUE]) {
      expect(() => wide.encode({ x })).toThrow(
        expect.objectContaining({
          problems: [
            {
              field: 'x',
              code: 'not_finite',
              message: expect.stringMatching(/^is too large for this model: .*float32/) as string,
            },
          ],
        }),
      );
      expect(() => wide.encode({ x }, '', 'perturbed')).toThrow(/too large/);
    }
    expect(pre.encode({ age: 30, income: 1e39 }).values.income).toBe(1e39);
  });

  it('for a number where a category named by digits is needed, saying to send it as text', () => {
    const grades = new Preprocessor(
      makeSchema([numericFeature('x'), categoricalFeature('grade', ['1', '2', '3'])], OUTPUTS.sigmoid),
    );
    expect(() => grades.encode({ x: 1, grade: 2 })).toThrow(
      /^grade: must be text, one of 1, 2, 3: got the number 2 \(send "2" in quotes\)$/,
    );
    expect(grades.encode({ x: 1, grade: '2' }).values.grade).toBe('2');
  });

  it.each([NaN, Infinity, -Infinity, 'NaN', 'nan', 'Infinity', '-inf', ' +INF '])(
    'for a value that is not finite: %s',
    (income) => {
      const p = problemOf({ income });
      expect(p).toMatchObject({ field: 'income', code: 'not_finite' });
      expect(p.message).toMatch(/finite/);
    },
  );

  it('for an unknown category', () => {
    const p = problemOf({ purpose: 'boat' });
    expect(p).toMatchObject({ field: 'purpose', code: 'unknown_category' });
    expect(p.message).toMatch(/must be one of car, home, education, got "boat"/);
  });

  it.each([
    [{ age: 17 }, 'age', /between 18 and 100, got 17/],
    [{ age: '101' }, 'age', /between 18 and 100, got 101/],
    [{ income: -1 }, 'income', /between 0 and ∞, got -1/],
  ])('for a value out of range: %j', (override, field, message) => {
    const p = problemOf(override);
    expect(p).toMatchObject({ field, code: 'out_of_range' });
    expect(p.message).toMatch(message);
  });

  it.each([30.5, '30.5'])('for a fraction where a whole number is needed: %j', (age) => {
    const p = problemOf({ age });
    expect(p).toMatchObject({ field: 'age', code: 'not_integer' });
    expect(p.message).toMatch(/whole number, got 30.5/);
  });

  it.each([null, [1, 2], 'age=30', 42])('for an applicant that is not an object: %j', (raw) => {
    expect(problemsOf(raw)).toEqual([expect.objectContaining({ field: 'input', code: 'wrong_type' })]);
    expect(problemsOf(raw, '[2].')[0]!.field).toBe('[2]');
  });
});

describe('several problems', () => {
  it('are reported together in one InputError, each naming its field', () => {
    const raw = { income: NaN, purpose: 'boat', owns_home: 'maybe', salary: 1 };
    let error: InputError | undefined;
    try {
      pre.encode(raw);
    } catch (e) {
      error = e as InputError;
    }
    expect(error).toBeInstanceOf(InputError);
    expect(error!.problems.map((p) => [p.field, p.code])).toEqual([
      ['salary', 'unknown_feature'],
      ['income', 'not_finite'],
      ['age', 'missing'],
      ['purpose', 'unknown_category'],
      ['owns_home', 'wrong_type'],
    ]);
    for (const field of ['salary', 'income', 'age', 'purpose', 'owns_home'])
      expect(error!.message).toContain(`${field}:`);
  });

  it('carry the field prefix', () => {
    expect(problemsOf({ age: 5, income: 'x' }, 'baseline.').map((p) => p.field)).toEqual([
      'baseline.income',
      'baseline.age',
    ]);
  });
});

describe('an applicant that gives no feature at all', () => {
  // Every feature optional, as in the demo model: defaults alone would still make a decision.
  const optional = new Preprocessor(
    makeSchema(
      CREDIT_FEATURES.map((f) => ({ ...f, required: false })),
      OUTPUTS.sigmoid,
      CREDIT_BASELINE,
    ),
  );
  const problems = (applicants: unknown[]) => {
    try {
      optional.encodeAll(applicants, 'caller');
    } catch (e) {
      return (e as InputError).problems.map((p) => [p.field, p.code]);
    }
    return [];
  };

  it('is refused as missing, whether empty, all null or only unknown fields', () => {
    expect(problems([{ income: 1000 }, {}])).toEqual([['[1]', 'missing']]);
    expect(problems([{ income: null, age: '', purpose: null, owns_home: null }])).toEqual([
      ['[0]', 'missing'],
    ]);
    expect(problems([{ name: 'x' }])).toEqual([
      ['name', 'unknown_feature'],
      ['[0]', 'missing'],
    ]);
  });

  it('is refused only as a caller’s applicant: a baseline, or the engine’s own input, may be all defaults', () => {
    expect(optional.encode({}, 'baseline.').imputed).toHaveLength(CREDIT_FEATURES.length);
    expect(optional.encodeAll([{}])[0]!.imputed).toHaveLength(CREDIT_FEATURES.length);
    expect(problems([{ owns_home: true }])).toEqual([]);
  });
});

describe('a caller’s applicant is JSON: its numbers are numbers', () => {
  const caller = (applicant: Record<string, unknown>) => {
    try {
      pre.encodeAll([applicant], 'caller');
    } catch (e) {
      return (e as InputError).problems.map((p) => [p.field, p.code, p.message]);
    }
    return [];
  };

  it('refuses a number sent as text, saying to send it without quotes', () => {
    expect(caller({ age: 30, income: '1500' })).toEqual([
      ['income', 'wrong_type', 'must be a JSON number, got the text "1500" (send 1500 without quotes)'],
    ]);
    expect(caller({ age: ' 52 ' })).toEqual([
      ['age', 'wrong_type', 'must be a JSON number, got the text " 52 " (send 52 without quotes)'],
    ]);
  });

  it('names the real problem of text that is no finite number', () => {
    expect(caller({ age: 30, income: 'NaN' })).toEqual([
      ['income', 'not_finite', 'must be a finite number (NaN and Infinity are not allowed)'],
    ]);
    expect(caller({ age: 30, income: 'abc' })).toEqual([
      ['income', 'wrong_type', 'must be a number, got "abc"'],
    ]);
  });

  it('accepts JSON numbers, and leaves the engine’s own inputs (a baseline) free to be text', () => {
    expect(caller({ age: 30, income: 1500 })).toEqual([]);
    expect(pre.encode({ age: '30', income: '1500' }, 'baseline.').values).toMatchObject({
      age: 30,
      income: 1500,
    });
  });
});

describe('numbersFromText: a CSV row as the JSON a caller sends', () => {
  const schema = makeSchema(CREDIT_FEATURES, OUTPUTS.sigmoid, CREDIT_BASELINE);

  it('turns a numeric feature’s number text into the number, and leaves every other cell as it is', () => {
    const row = { income: ' 1.5e3 ', age: '52', purpose: '1', owns_home: 'yes', note: '7' };
    expect(numbersFromText(schema, row, ',')).toEqual({
      income: 1500,
      age: 52,
      purpose: '1',
      owns_home: 'yes',
      note: '7',
    });
    expect(row.income).toBe(' 1.5e3 ');
  });

  it('reads the full-width digits a Chinese input method types, and no other look-alikes', () => {
    expect(numbersFromText(schema, { income: '１５００', age: '　５２　' }, ',')).toEqual({
      income: 1500,
      age: 52,
    });
    expect(numbersFromText(schema, { income: '－１．５ｅ３' }, ',').income).toBe(-1500);
    // Superscripts and circled digits are not numbers: the engine names them.
    for (const text of ['1⁵', '①']) expect(numbersFromText(schema, { income: text }, ',').income).toBe(text);
  });

  it('reads the groups of three Excel writes for a cell formatted with a thousands separator, and only those', () => {
    expect(numbersFromText(schema, { income: '12,000', age: '31' }, ',').income).toBe(12000);
    expect(numbersFromText(schema, { income: ' 1,234,567.50 ' }, ',').income).toBe(1234567.5);
    expect(numbersFromText(schema, { income: '-1,500' }, ',').income).toBe(-1500);
    expect(numbersFromText(schema, { income: '１，５００' }, ',').income).toBe(1500);
    // Not groups of three: a decimal comma (1,5), misplaced or doubled commas stay text, for the engine to name.
    for (const text of ['1,5', '15,00', ',500', '1,500,', '1,,500', '1,500.2,0'])
      expect(numbersFromText(schema, { income: text }, ',').income).toBe(text);
  });

  it('reads no grouping in a file separated by semicolons or tabs, where "1,500" may be one and a half', () => {
    // Excel separates with a semicolon where the decimal mark is a comma; "Unicode text" (tabs) in any locale.
    for (const delimiter of [';', '\t']) {
      expect(numbersFromText(schema, { income: '1,500' }, delimiter).income).toBe('1,500');
      expect(numbersFromText(schema, { income: '1500' }, delimiter).income).toBe(1500);
    }
  });

  it('leaves text that is no number, and empty cells, for the engine to name', () => {
    expect(numbersFromText(schema, { income: 'abc', age: '' }, ',')).toEqual({ income: 'abc', age: '' });
    expect(caller(numbersFromText(schema, { age: '30', income: 'NaN' }, ','))).toEqual([
      ['income', 'not_finite'],
    ]);
  });

  it('makes a caller’s CSV row encode exactly as the lenient engine reads its text', () => {
    const row = { income: '8200', age: ' 31 ', purpose: 'home', owns_home: 'YES' };
    // Alike but for the applicant as given, whose numbers are the numbers the CSV row was read into.
    const encoded = pre.encodeAll([numbersFromText(schema, row, ',')], 'caller')[0]!;
    const lenient = pre.encode(row);
    expect([encoded.vector, encoded.values, encoded.imputed]).toEqual([
      lenient.vector,
      lenient.values,
      lenient.imputed,
    ]);
  });

  function caller(applicant: Record<string, unknown>) {
    try {
      pre.encodeAll([applicant], 'caller');
    } catch (e) {
      return (e as InputError).problems.map((p) => [p.field, p.code]);
    }
    return [];
  }
});
