// KServe V2's [N, F] form and Seldon's data.tensor end to end, on a server whose active model is all-numeric
// (tiny: income, debt), and the nesting rules for V2 tensor data.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nestingProblem } from '../../../main/server/kserve.js';
import { removeDir, tempDir } from '../cli/helpers.js';
import { installTinyModel } from '../core/registry/tiny-bundle.js';
import { startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
let work: string;

beforeAll(async () => {
  work = tempDir('branchlens-kserve-numeric-');
  const dataDir = join(work, 'data');
  await installTinyModel(dataDir, join(work, 'tiny-bundle'));
  t = await startTestServer({ dataDir });
});
afterAll(async () => {
  await t?.close();
  removeDir(work);
});

/** The same applicants through Seldon's endpoint: [P(declined), P(approved)] per row. */
async function seldonRows(rows: { income: number; debt: number }[]): Promise<number[][]> {
  const r = await t.call('POST', '/api/v1.0/predictions', rows);
  expect(r.status, r.text).toBe(200);
  return r.json.data.ndarray;
}

describe('V2 infer with one [N, F] input', () => {
  const rows = [
    { income: 1.5, debt: -0.5 },
    { income: -2, debt: 0.25 },
    { income: 0, debt: 3 },
  ];
  const expected = async () => (await seldonRows(rows)).flat();

  it('reads flat data row-major, features in schema order, whatever the input is named', async () => {
    const r = await t.call('POST', '/v2/models/tiny/infer', {
      inputs: [
        { name: 'input-0', shape: [3, 2], datatype: 'FP32', data: rows.flatMap((a) => [a.income, a.debt]) },
      ],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ model_name: 'tiny', model_version: '1.0.0' });
    const [out] = r.json.outputs;
    expect(out).toMatchObject({ name: 'predict_proba', shape: [3, 2] });
    expect(JSON.parse(out.parameters.classes)).toEqual(['declined', 'approved']);
    expect(out.data).toEqual(await expected());
    // Rows differ, so a reading by column (debt, income) would give other numbers.
    expect(out.data[1]).not.toBeCloseTo(out.data[3], 6);
  });

  it('reads nested data that follows the shape the same', async () => {
    const r = await t.call('POST', '/v2/models/tiny/infer', {
      inputs: [{ name: 'x', shape: [3, 2], datatype: 'FP64', data: rows.map((a) => [a.income, a.debt]) }],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json.outputs[0].data).toEqual(await expected());
  });

  it('refuses nested data that does not follow the shape, naming where', async () => {
    // Six values, as [3, 2] needs, but nested as [2, 3].
    const r = await t.call('POST', '/v2/models/tiny/infer', {
      inputs: [
        {
          name: 'x',
          shape: [3, 2],
          datatype: 'FP64',
          data: [
            [1, 2, 3],
            [4, 5, 6],
          ],
        },
      ],
    });
    expect(r.status, r.text).toBe(400);
    expect(r.json.problems.map((p: { field: string }) => p.field)).toEqual(['inputs[0].data']);
    expect(r.json.error).toContain('dimension 0');
  });

  it('names each bad value with its feature, by its place in the row', async () => {
    const r = await t.call('POST', '/v2/models/tiny/infer', {
      // A BYTES tensor holds strings, but income and debt are numbers: each element is named with its feature.
      inputs: [{ name: 'x', shape: [2, 2], datatype: 'BYTES', data: ['1', '2', '3', 'lots'] }],
    });
    expect(r.status, r.text).toBe(400);
    expect(r.json.problems.map((p: { field: string }) => p.field)).toEqual([
      'inputs[0].data[0] (income)',
      'inputs[0].data[1] (debt)',
      'inputs[0].data[2] (income)',
      'inputs[0].data[3] (debt)',
    ]);
  });
});

describe('Seldon data.tensor', () => {
  const rows = [
    { income: 1.5, debt: -0.5 },
    { income: -2, debt: 0.25 },
    { income: 0, debt: 3 },
  ];
  const values = rows.flatMap((a) => [a.income, a.debt]);

  it('predicts from a tensor, answering a tensor [n, 2] of [P(declined), P(approved)]', async () => {
    const expected = (await seldonRows(rows)).flat();
    for (const path of ['/api/v1.0/predictions', '/predict']) {
      const r = await t.call('POST', path, {
        data: { names: ['income', 'debt'], tensor: { shape: [3, 2], values } },
        meta: { puid: 'p-7' },
      });
      expect(r.status, r.text).toBe(200);
      expect(r.json.data).toEqual({
        names: ['declined', 'approved'],
        tensor: { shape: [3, 2], values: expected },
      });
      expect(r.json.meta).toMatchObject({ puid: 'p-7', tags: { model_id: 'tiny' } });
    }
    // Without names, as SeldonClient sends it: the schema's order.
    const plain = await t.call('POST', '/api/v1.0/predictions', {
      data: { tensor: { shape: [3, 2], values } },
    });
    expect(plain.status, plain.text).toBe(200);
    expect(plain.json.data.tensor.values).toEqual(expected);
    // Names in another order read the columns by them.
    const swapped = await t.call('POST', '/api/v1.0/predictions', {
      data: {
        names: ['debt', 'income'],
        tensor: { shape: [3, 2], values: rows.flatMap((a) => [a.debt, a.income]) },
      },
    });
    expect(swapped.json.data.tensor.values).toEqual(expected);
  });

  it('reads "NaN" or null in a tensor as a missing value, imputed as in an ndarray', async () => {
    // SeldonClient sends numpy's NaN as "NaN" (protobuf's JSON for a double); tiny's features are optional.
    const fromNdarray = await t.call('POST', '/api/v1.0/predictions', {
      data: {
        ndarray: [
          [1.5, null],
          [null, 0.25],
        ],
      },
    });
    expect(fromNdarray.status, fromNdarray.text).toBe(200);
    const r = await t.call('POST', '/api/v1.0/predictions', {
      data: { tensor: { shape: [2, 2], values: [1.5, 'NaN', null, 0.25] } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json.data.tensor.values).toEqual(fromNdarray.json.data.ndarray.flat());
    const infinite = await t.call('POST', '/api/v1.0/predictions', {
      data: { tensor: { shape: [1, 2], values: [1, 'Infinity'] } },
    });
    expect(infinite.status, infinite.text).toBe(400);
    expect(infinite.json.jsonData.problems).toEqual([
      expect.objectContaining({ field: 'data.tensor.values[1]', code: 'not_finite' }),
    ]);
  });

  it('takes "names": [] as no names, as a Seldon transformer before this model sends it', async () => {
    for (const data of [
      { names: [], tensor: { shape: [3, 2], values } },
      { names: [], ndarray: rows.map((a) => [a.income, a.debt]) },
    ]) {
      const r = await t.call('POST', '/predict', { data, meta: {} });
      expect(r.status, r.text).toBe(200);
      expect(Object.values(r.json.data)[1]).toBeDefined();
    }
  });

  it('answers the request’s meta.tags back beside the model’s, as Seldon’s model servers do', async () => {
    const meta = { puid: 'p-9', tags: { branch: '0421', model_id: 'spoofed', score_run: 3 } };
    const predicted = await t.call('POST', '/api/v1.0/predictions', { jsonData: rows[0], meta });
    expect(predicted.status, predicted.text).toBe(200);
    const explained = await t.call('POST', '/api/v1.0/explain', { jsonData: rows[0], meta });
    expect(explained.status, explained.text).toBe(200);
    for (const r of [predicted, explained]) {
      // The model's own tags win over the caller's: they say which model answered.
      expect(r.json.meta).toEqual({
        puid: 'p-9',
        tags: expect.objectContaining({
          branch: '0421',
          score_run: 3,
          model_id: 'tiny',
          model_version: '1.0.0',
        }),
      });
    }
  });

  it('explains a tensor with the documents the other forms get', async () => {
    const r = await t.call('POST', '/api/v1.0/explain', { data: { tensor: { shape: [3, 2], values } } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.documents).toHaveLength(3);
    const fromJson = await t.call('POST', '/api/v1.0/explain', { jsonData: { applicants: rows } });
    expect(r.json.documents.map((d: { attributions: unknown }) => d.attributions)).toEqual(
      fromJson.json.documents.map((d: { attributions: unknown }) => d.attributions),
    );
    expect(r.json.meta.tags.model_id).toBe('tiny');
  });

  it('names a bad shape, value or feature value where it is in the tensor', async () => {
    const fields = async (body: unknown) => {
      const r = await t.call('POST', '/api/v1.0/predictions', body);
      expect(r.status, r.text).toBe(400);
      expect(r.json.status).toMatchObject({ code: 400, status: 'FAILURE' });
      return r.json.jsonData.problems.map((p: { field: string }) => p.field);
    };
    expect(await fields({ data: { tensor: { shape: [2, 3], values: [1, 2, 3, 4, 5, 6] } } })).toEqual([
      'data.tensor.shape',
    ]);
    expect(await fields({ data: { tensor: { shape: [3, 2], values: values.slice(1) } } })).toEqual([
      'data.tensor.values',
    ]);
    expect(await fields({ data: { tensor: { shape: [1, 2], values: [1, 'two'] } } })).toEqual([
      'data.tensor.values[1]',
    ]);
  });

  it('names a value the model refuses by its index in the tensor’s values, with its feature', async () => {
    const fields = async (body: unknown) => {
      const r = await t.call('POST', '/api/v1.0/predictions', body);
      expect(r.status, r.text).toBe(400);
      return r.json.jsonData.problems.map((p: { field: string }) => p.field);
    };
    // Past float32 once scaled: values[3] is row 1's debt, as the V2 [N, F] form names inputs[0].data[3] (debt).
    expect(await fields({ data: { tensor: { shape: [2, 2], values: [1, 2, 3, 1e39] } } })).toEqual([
      'data.tensor.values[3] (debt)',
    ]);
    // The columns in the order of names: debt first.
    expect(
      await fields({
        data: { names: ['debt', 'income'], tensor: { shape: [2, 2], values: [1, 2, 1e39, 4] } },
      }),
    ).toEqual(['data.tensor.values[2] (debt)']);
    expect(await fields({ data: { tensor: { shape: [1, 2], values: [1e39, 0] } } })).toEqual([
      'data.tensor.values[0] (income)',
    ]);
  });

  it('lists the tensor among GET /metadata’s inputs and outputs', async () => {
    const r = await t.call('GET', '/metadata');
    expect(r.status, r.text).toBe(200);
    expect(r.json.inputs.map((i: { messagetype: string }) => i.messagetype)).toEqual([
      'ndarray',
      'jsonData',
      'tensor',
    ]);
    expect(r.json.inputs[2].schema).toEqual({ names: ['income', 'debt'], shape: [2] });
    expect(r.json.outputs.map((o: { messagetype: string }) => o.messagetype)).toEqual(['ndarray', 'tensor']);
  });
});

describe('nestingProblem', () => {
  it('accepts flat data and data nested as the shape says', () => {
    expect(nestingProblem([1, 2, 3, 4], [2, 2])).toBeNull();
    expect(
      nestingProblem(
        [
          [1, 2],
          [3, 4],
        ],
        [2, 2],
      ),
    ).toBeNull();
    expect(nestingProblem([[[1]], [[2]]], [2, 1, 1])).toBeNull();
  });

  it('names the first place nested data departs from the shape', () => {
    expect(nestingProblem([[1, 2], [3]], [2, 2])).toEqual({
      at: 'data[1]',
      message: 'holds 1 items, but dimension 1 of shape [2, 2] is 2',
    });
    expect(nestingProblem([[1, 2], 3, 4], [2, 2])?.at).toBe('data');
    expect(nestingProblem([[1], 2], [2, 1])).toEqual({
      at: 'data[1]',
      message: 'is a single value, but shape [2, 1] needs a list of 1 here',
    });
    expect(nestingProblem([[[1]], [[2]]], [2, 1])).toEqual({
      at: 'data[0][0]',
      message: 'is a list, but shape [2, 1] has only 2 dimensions',
    });
  });
});
