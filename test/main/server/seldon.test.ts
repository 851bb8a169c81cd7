import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../main/core/bundle/load.js';
import {
  namingRequestFields,
  predictionData,
  predictionNames,
  predictionRows,
  seldonApplicants,
  seldonModelMetadata,
  seldonRequestSchema,
  type SeldonRequest,
} from '../../../main/server/seldon.js';
import type { OutputSpec } from '../../../shared/bundle.js';
import { MAX_APPLICANTS_PER_CALL } from '../../../shared/contract.js';
import { InputError, problemsFromZod, type Problem } from '../../../shared/problems.js';
import { booleanFeature, makeSchema, numericFeature, OUTPUTS } from '../../helpers/bundles.js';
import { DEMO_BUNDLE, readSample } from '../cli/helpers.js';

const schema = readBundle(DEMO_BUNDLE).schema;
const sample = readSample<Record<string, unknown>>('sample-1.json');
const names = schema.features.map((f) => f.name);

function parse(body: unknown): SeldonRequest {
  const r = seldonRequestSchema.safeParse(body);
  if (!r.success) throw new InputError(problemsFromZod(r.error));
  return r.data;
}

function problems(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (e) {
    return (e as InputError).problems;
  }
  throw new Error('expected problems');
}

function fields(fn: () => unknown): string[] {
  return problems(fn).map((p) => p.field);
}

/** A model a tensor can carry: numbers, and a boolean read from 1/0 (booleanFeature's default values). */
const numeric = makeSchema(
  [numericFeature('income'), numericFeature('debt', { integer: true }), booleanFeature('owns_home')],
  OUTPUTS.sigmoid,
);
const tensor = (shape: unknown, values: unknown, names?: string[]) => ({
  data: { ...(names ? { names } : {}), tensor: { shape, values } },
});

describe('Seldon requests', () => {
  it('maps ndarray rows to applicants by names', () => {
    const req = parse({ data: { names, ndarray: [names.map((n) => sample[n])] } });
    expect(req.form).toBe('ndarray');
    expect(seldonApplicants(req, schema)).toEqual([sample]);
  });

  it('reads jsonData as one applicant or {applicants}, and a bare list', () => {
    expect(seldonApplicants(parse({ jsonData: sample }), schema)).toEqual([sample]);
    expect(parse({ jsonData: sample }).form).toBe('jsonData');
    const list = parse({ jsonData: { applicants: [sample, sample] } });
    expect(list.form).toBe('jsonData.applicants');
    expect(seldonApplicants(list, schema)).toHaveLength(2);
    const bare = parse([sample]);
    expect(bare.form).toBe('list');
    expect(seldonApplicants(bare, schema)).toEqual([sample]);
  });

  it('reads jsonData holding a list of applicants, as SeldonClient sends json_data=[...]', () => {
    const list = parse({ jsonData: [sample, sample], meta: { puid: 'p1' } });
    expect(list.form).toBe('jsonData.list');
    expect(list.puid).toBe('p1');
    expect(seldonApplicants(list, schema)).toEqual([sample, sample]);
    expect(fields(() => parse({ jsonData: [] }))).toEqual(['jsonData']);
    expect(fields(() => parse({ jsonData: [sample, 3] }))).toEqual(['jsonData[1]']);
    // Neither an applicant nor a list: one problem saying which forms jsonData takes.
    const text = (() => {
      try {
        parse({ jsonData: 'Amount=1500' });
      } catch (e) {
        return (e as InputError).problems;
      }
    })();
    expect(text).toHaveLength(1);
    expect(text![0]).toMatchObject({
      field: 'jsonData',
      message: expect.stringContaining('list of applicant'),
    });
  });

  it('names unknown, repeated and missing names, and rows of the wrong length', () => {
    const req = parse({
      data: {
        names: ['Shoe', names[0], names[0]],
        ndarray: [
          [1, 2, 3],
          [1, 2],
        ],
      },
    });
    expect(fields(() => seldonApplicants(req, schema))).toEqual([
      'data.names[0]',
      'data.names[2]',
      'data.names',
      'data.ndarray[1]',
    ]);
  });

  it('reads rows without names as the features in schema order', () => {
    const row = names.map((n) => sample[n]);
    expect(seldonApplicants(parse({ data: { ndarray: [row, row] } }), schema)).toEqual([sample, sample]);
    expect(fields(() => seldonApplicants(parse({ data: { ndarray: [row, row.slice(1)] } }), schema))).toEqual(
      ['data.ndarray[1]'],
    );
    const short = (() => {
      try {
        seldonApplicants(parse({ data: { ndarray: [row.slice(1)] } }), schema);
      } catch (e) {
        return (e as InputError).problems[0]!.message;
      }
    })();
    expect(short).toContain(`the model's ${names.length} features in this order: ${names.join(', ')}`);
  });

  it('refuses shapes that are not Seldon messages, naming where', () => {
    expect(fields(() => parse({}))).toEqual(['body']);
    expect(fields(() => parse(null))).toEqual(['body']);
    expect(fields(() => parse({ data: { names, ndarray: [] } }))).toEqual(['data.ndarray']);
    expect(fields(() => parse({ data: { names } }))).toEqual(['data.ndarray']);
    // Seldon's forms this server does not take are one problem each, named by the form.
    expect(fields(() => parse({ data: { names, tftensor: { dtype: 'DT_DOUBLE' } } }))).toEqual([
      'data.tftensor',
    ]);
    expect(
      fields(() => parse({ data: { names, ndarray: [[1]], tensor: { shape: [1, 1], values: [1] } } })),
    ).toEqual(['data']);
    expect(fields(() => parse({ strData: 'hello' }))).toEqual(['strData']);
    expect(fields(() => parse({ binData: 'aGk=' }))).toEqual(['binData']);
    // Unknown keys are named by themselves.
    expect(fields(() => parse({ data: { names, ndarray: [[1]], extra: 1 }, other: 2 }))).toEqual([
      'data.extra',
      'other',
    ]);
    expect(fields(() => parse({ jsonData: { applicants: 'x' } }))).toEqual(['jsonData.applicants']);
    expect(fields(() => parse({ jsonData: { applicants: [] } }))).toEqual(['jsonData.applicants']);
    // Nothing beside "applicants": a key there would otherwise be dropped without a word.
    expect(fields(() => parse({ jsonData: { applicants: [sample], Amount: 5, note: 'x' } }))).toEqual([
      'jsonData.Amount',
      'jsonData.note',
    ]);
    expect(fields(() => parse([]))).toEqual(['body']);
    expect(fields(() => parse([1]))).toEqual(['[0]']);
  });

  it('refuses a tensor for a model with a categorical feature, naming each such feature', () => {
    // Whatever the tensor's shape: the form itself is what this model cannot take.
    for (const body of [
      tensor(
        [1, names.length],
        names.map(() => 1),
      ),
      tensor([1, 2, 3], []),
    ]) {
      const refused = problems(() => seldonApplicants(parse(body), schema));
      expect(refused.map((p) => p.field)).toEqual(['data.tensor', 'data.tensor']);
      expect(refused[0]!.message).toBe('Home is categorical: a tensor holds numbers only; send data.ndarray');
      expect(refused[1]!.message).toMatch(/^Job is categorical/);
    }
    // …and a boolean feature that does not read 1 and 0.
    const yesNo = makeSchema(
      [numericFeature('income'), booleanFeature('owns_home', { true_values: ['yes'], false_values: ['no'] })],
      OUTPUTS.sigmoid,
    );
    const refused = problems(() => seldonApplicants(parse(tensor([1, 2], [1, 1])), yesNo));
    expect(refused).toEqual([
      expect.objectContaining({
        field: 'data.tensor',
        message: expect.stringMatching(/^owns_home is boolean/),
      }),
    ]);
  });

  it('reads a tensor for a model whose features are numbers, names optional, booleans from 1/0', () => {
    const values = [1.5, 2, 1, -3, 0, 0];
    const expected = [
      { income: 1.5, debt: 2, owns_home: true },
      { income: -3, debt: 0, owns_home: false },
    ];
    const plain = parse(tensor([2, 3], values, undefined));
    expect(plain.form).toBe('tensor');
    expect(seldonApplicants(plain, numeric)).toEqual(expected);
    // With names, the columns are read by them, in whatever order they come.
    const named = parse({
      ...tensor([2, 3], [1, 1.5, 2, 0, -3, 0], ['owns_home', 'income', 'debt']),
      meta: { puid: 'p' },
    });
    expect(named.puid).toBe('p');
    expect(seldonApplicants(named, numeric)).toEqual(expected);
    // A number a boolean does not read is left for the service to name (data.tensor.values[k] (owns_home)).
    expect(seldonApplicants(parse(tensor([1, 3], [1, 2, 7])), numeric)).toEqual([
      { income: 1, debt: 2, owns_home: 7 },
    ]);
  });

  it('reads "names": [] as no names, as a Seldon transformer without feature names sends it', () => {
    // Seldon's Python wrapper answers a TRANSFORMER's request with "names": [] when it has no feature names, and
    // Seldon's protobuf holds an empty repeated field as none: the next unit (this model) gets "names": [].
    const row = names.map((n) => sample[n]);
    expect(seldonApplicants(parse({ data: { names: [], ndarray: [row] } }), schema)).toEqual([sample]);
    expect(seldonApplicants(parse(tensor([1, 3], [1.5, 2, 1], [])), numeric)).toEqual([
      { income: 1.5, debt: 2, owns_home: true },
    ]);
  });

  it('reads a tensor\'s "NaN" or null as a missing value, and refuses an infinity naming where it is', () => {
    // Seldon's protobuf JSON writes a double's NaN as "NaN" (SeldonClient sends numpy's NaN so), and has no null;
    // ndarray's null is taken too. Either is missing: imputed for an optional feature, named for a required one.
    expect(seldonApplicants(parse(tensor([2, 3], [1.5, 'NaN', 1, null, 0, 'NaN'])), numeric)).toEqual([
      { income: 1.5, debt: null, owns_home: true },
      { income: null, debt: 0, owns_home: null },
    ]);
    const refused = problems(() =>
      seldonApplicants(parse(tensor([2, 3], [1, 'Infinity', 1, '-Infinity', 0, 'x'])), numeric),
    );
    expect(refused).toEqual([
      expect.objectContaining({ field: 'data.tensor.values[1]', code: 'not_finite' }),
      expect.objectContaining({ field: 'data.tensor.values[3]', code: 'not_finite' }),
      expect.objectContaining({ field: 'data.tensor.values[5]', code: 'wrong_type' }),
    ]);
    expect(refused[0]!.message).toContain('"NaN" or null for a missing value');
    expect(refused[2]!.message).toContain('"NaN" or null for a missing value');
  });

  it('checks a tensor against its shape, the names and the model, naming where', () => {
    const read = (body: unknown) => problems(() => seldonApplicants(parse(body), numeric));
    const at = (body: unknown) => read(body).map((p) => p.field);
    expect(at(tensor([6], [1, 2, 1, 3, 4, 0]))).toEqual(['data.tensor.shape']);
    expect(at(tensor([0, 3], []))).toEqual(['data.tensor.shape']);
    expect(read(tensor([MAX_APPLICANTS_PER_CALL + 1, 3], []))[0]!.message).toBe(
      `holds ${MAX_APPLICANTS_PER_CALL + 1} rows, more than ${MAX_APPLICANTS_PER_CALL} in one request`,
    );
    expect(read(tensor([2, 3], [1, 2, 1]))).toEqual([
      expect.objectContaining({
        field: 'data.tensor.values',
        message: 'holds 3 values, but shape [2, 3] needs 6',
      }),
    ]);
    expect(at(tensor([2, 3], [1, 2, 1, '3', [4], true]))).toEqual([
      'data.tensor.values[3]',
      'data.tensor.values[4]',
      'data.tensor.values[5]',
    ]);
    expect(read(tensor([1, 3], [1, 'x', 1]))[0]!.message).toBe(
      'must be a number (a tensor holds numbers only; "NaN" or null for a missing value), got "x"',
    );
    // f against the model's features (without names) or the names.
    expect(read(tensor([2, 2], [1, 2, 3, 4]))).toEqual([
      expect.objectContaining({
        field: 'data.tensor.shape',
        message:
          "is [2, 2], but without data.names a row holds the model's 3 features in this order: income, debt, owns_home",
      }),
    ]);
    expect(read(tensor([1, 2], [1, 2], ['income', 'debt', 'owns_home']))).toEqual([
      expect.objectContaining({ field: 'data.tensor.shape', message: 'is [1, 2], but names lists 3' }),
    ]);
    expect(at(tensor([1, 3], [1, 2, 1], ['income', 'debt', 'shoe']))).toEqual([
      'data.names[2]',
      'data.names',
    ]);
    // The tensor's own shape is checked as a Seldon message's: numbers only, no other keys.
    expect(fields(() => parse(tensor([2, 'x'], [])))).toEqual(['data.tensor.shape[1]']);
    expect(fields(() => parse(tensor([1, 3], 'x')))).toEqual(['data.tensor.values']);
    expect(fields(() => parse({ data: { tensor: { shape: [1, 1], values: [1], dtype: 'x' } } }))).toEqual([
      'data.tensor.dtype',
    ]);
  });

  it('renames the service’s problems to where they are in the request', async () => {
    const failing = (fields: string[]) => async () => {
      throw new InputError(fields.map((field) => ({ field, code: 'wrong_type' as const, message: 'bad' })));
    };
    const named = async (req: SeldonRequest, count: number, given: string[]) => {
      try {
        await namingRequestFields(req, count, failing(given));
      } catch (e) {
        return (e as InputError).problems.map((p) => p.field);
      }
      return [];
    };
    expect(await named({ form: 'ndarray' }, 1, ['Amount'])).toEqual(['data.ndarray[0].Amount']);
    expect(await named({ form: 'ndarray' }, 3, ['[2].Amount'])).toEqual(['data.ndarray[2].Amount']);
    // A tensor's by the value's index in `values` (row·f + column, the columns in the order of names).
    expect(await named({ form: 'tensor', names: ['income', 'debt'] }, 1, ['debt'])).toEqual([
      'data.tensor.values[1] (debt)',
    ]);
    expect(
      await named({ form: 'tensor', names: ['debt', 'income'] }, 3, ['[2].debt', '[1]', '[0].x']),
    ).toEqual(['data.tensor.values[4] (debt)', 'data.tensor row 1', 'data.tensor row 0 (x)']);
    expect(await named({ form: 'jsonData' }, 1, ['Amount'])).toEqual(['jsonData.Amount']);
    expect(await named({ form: 'jsonData.applicants' }, 2, ['[1].Home'])).toEqual([
      'jsonData.applicants[1].Home',
    ]);
    expect(await named({ form: 'jsonData.list' }, 2, ['[1].Home'])).toEqual(['jsonData[1].Home']);
    expect(await named({ form: 'jsonData.list' }, 1, ['Home'])).toEqual(['jsonData[0].Home']);
    expect(await named({ form: 'list' }, 1, ['Home'])).toEqual(['[0].Home']);
    await expect(namingRequestFields({ form: 'list' }, 1, async () => 7)).resolves.toBe(7);
  });
});

describe('Seldon predictions', () => {
  it('answers a sigmoid classifier as [P(negative), P(positive)] named by its classes', () => {
    const output: OutputSpec = {
      kind: 'sigmoid',
      classes: ['bad', 'good'],
      explain_class: 'good',
      threshold: 0.5,
    };
    expect(predictionNames(output, 1)).toEqual(['bad', 'good']);
    expect(predictionRows(output, [[0.75], [0.5]])).toEqual([
      [0.25, 0.75],
      [0.5, 0.5],
    ]);
  });

  it('answers a tensor with a tensor [n, k] of the same columns, every other form with an ndarray', () => {
    const output = OUTPUTS.sigmoid as OutputSpec;
    const predictions = [[0.75], [0.5], [0.125]];
    expect(predictionData('tensor', output, predictions)).toEqual({
      names: ['declined', 'approved'],
      tensor: { shape: [3, 2], values: [0.25, 0.75, 0.5, 0.5, 0.875, 0.125] },
    });
    expect(predictionData('ndarray', output, predictions)).toEqual({
      names: ['declined', 'approved'],
      ndarray: predictionRows(output, predictions),
    });
    expect(predictionData('tensor', { kind: 'regression' }, [[3], [4]])).toEqual({
      names: ['prediction'],
      tensor: { shape: [2, 1], values: [3, 4] },
    });
  });

  it('lists the tensor among the metadata’s inputs and outputs only for a model a tensor can carry', () => {
    const model = { id: 'm', version: '1', sha256: 'abc' };
    const forNumbers = seldonModelMetadata(model, numeric, 'cpu');
    expect(forNumbers.inputs.map((i) => i.messagetype)).toEqual(['ndarray', 'jsonData', 'tensor']);
    expect(forNumbers.inputs[2]).toEqual({
      messagetype: 'tensor',
      schema: { names: ['income', 'debt', 'owns_home'], shape: [3] },
    });
    expect(forNumbers.outputs).toEqual([
      { messagetype: 'ndarray', schema: { names: ['declined', 'approved'], shape: [2] } },
      { messagetype: 'tensor', schema: { names: ['declined', 'approved'], shape: [2] } },
    ]);
    const forDemo = seldonModelMetadata(model, schema, 'cpu');
    expect(forDemo.inputs.map((i) => i.messagetype)).toEqual(['ndarray', 'jsonData']);
    expect(forDemo.outputs.map((o) => o.messagetype)).toEqual(['ndarray']);
  });

  it('names softmax columns by class and regression outputs generically', () => {
    expect(predictionNames({ kind: 'softmax', classes: ['a', 'b', 'c'] }, 3)).toEqual(['a', 'b', 'c']);
    expect(predictionRows({ kind: 'softmax', classes: ['a', 'b'] }, [[0.1, 0.9]])).toEqual([[0.1, 0.9]]);
    expect(predictionNames({ kind: 'regression' }, 1)).toEqual(['prediction']);
    expect(predictionNames({ kind: 'regression' }, 2)).toEqual(['output_0', 'output_1']);
  });
});
