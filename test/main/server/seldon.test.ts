import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../main/core/bundle/load.js';
import {
  namingRequestFields,
  predictionNames,
  predictionRows,
  seldonApplicants,
  seldonRequestSchema,
  type SeldonRequest,
} from '../../../main/server/seldon.js';
import type { OutputSpec } from '../../../shared/bundle.js';
import { InputError, problemsFromZod } from '../../../shared/problems.js';
import { DEMO_BUNDLE, readSample } from '../cli/helpers.js';

const schema = readBundle(DEMO_BUNDLE).schema;
const sample = readSample<Record<string, unknown>>('sample-1.json');
const names = schema.features.map((f) => f.name);

function parse(body: unknown): SeldonRequest {
  const r = seldonRequestSchema.safeParse(body);
  if (!r.success) throw new InputError(problemsFromZod(r.error));
  return r.data;
}

function fields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    return (e as InputError).problems.map((p) => p.field);
  }
  throw new Error('expected problems');
}

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
    expect(fields(() => parse({ data: { names, tensor: { shape: [1, 1], values: [1] } } }))).toEqual([
      'data.tensor',
    ]);
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

  it('names softmax columns by class and regression outputs generically', () => {
    expect(predictionNames({ kind: 'softmax', classes: ['a', 'b', 'c'] }, 3)).toEqual(['a', 'b', 'c']);
    expect(predictionRows({ kind: 'softmax', classes: ['a', 'b'] }, [[0.1, 0.9]])).toEqual([[0.1, 0.9]]);
    expect(predictionNames({ kind: 'regression' }, 1)).toEqual(['prediction']);
    expect(predictionNames({ kind: 'regression' }, 2)).toEqual(['output_0', 'output_1']);
  });
});
