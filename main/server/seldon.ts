// Seldon Core's v1 protocol on top of the service: requests carry applicants as {data: {names?, ndarray}},
// {data: {names?, tensor: {shape: [n, f], values}}}, {jsonData: applicant | {applicants: [...]} | [...]} or a bare
// list of applicant objects; predictions come back as a SeldonMessage {data: {names, ndarray}, meta}, or
// {data: {names, tensor}, meta} when asked in a tensor (Seldon answers in the form it was asked). Without names, a
// row holds the model's features in the schema's order (Seldon clients often leave names out). A tensor holds
// numbers only, so it is taken only for a model whose features all read from numbers (no categorical feature).
// Pure functions of the request and the model's schema.
import { z } from 'zod';
import { booleanFromInput, type BundleSchema, type Feature, type OutputSpec } from '../../shared/bundle.js';
import { MAX_APPLICANTS_PER_CALL } from '../../shared/contract.js';
import { describeValue, InputError, isInputError, type Problem } from '../../shared/problems.js';

/**
 * Seldon's v1 endpoints take no query parameters: explain options are the service's settings (or the app API's
 * `options`). A parameter such as `?n_steps=100` is refused rather than silently ignored.
 */
export const seldonQuerySchema = z.record(z.string(), z.unknown()).superRefine((query, ctx) => {
  for (const key of Object.keys(query)) {
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message:
        'is not an option of the Seldon endpoints: explain options are the settings (updateSettings), or use /api/app/explain with "options"',
    });
  }
});

const applicant = z.record(z.string(), z.unknown());
const applicantList = z
  .array(applicant, { error: 'must be an object of feature name → value' })
  .min(1, 'holds no applicants')
  .max(MAX_APPLICANTS_PER_CALL, `holds more than ${MAX_APPLICANTS_PER_CALL} applicants`);

const seldonRequestMeta = z
  .object({
    puid: z.string().max(200).optional(),
    tags: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

// Seldon's Tensor: the values of an [n, f] matrix, row after row (checked against the shape with the model's
// schema, so that a model a tensor cannot carry says so first).
const seldonTensor = z
  .object({
    shape: z.array(z.number().int().min(0), {
      error: "must be the tensor's dimensions: [rows, features]",
    }),
    values: z.array(z.unknown(), { error: 'must be an array of numbers, row after row' }),
  })
  .strict();
type SeldonTensor = z.infer<typeof seldonTensor>;

/**
 * A SeldonMessage's `status` (protobuf's Status: code, info, reason, status), which a request may carry: a
 * unit's answer passed on as the next request does. It says nothing about the applicants: read and ignored.
 */
const seldonStatusField = z
  .record(z.string(), z.unknown(), {
    error: 'must be a Seldon Status object ({"code", "info", "reason", "status"}), or left out',
  })
  .optional();

const seldonMessage = z
  .object({
    data: z
      .object({
        names: z.array(z.string(), { error: 'must list the feature names, one per column' }).optional(),
        ndarray: z
          .array(z.array(z.unknown(), { error: 'must be a row: an array of values in the order of names' }), {
            error: 'must be an array of rows',
          })
          .min(1, 'holds no rows')
          .max(MAX_APPLICANTS_PER_CALL, `holds more than ${MAX_APPLICANTS_PER_CALL} rows`)
          .optional(),
        tensor: seldonTensor.optional(),
      })
      .strict()
      .optional(),
    // An applicant, {"applicants": [...]}, or a list of applicants (SeldonClient's json_data=[...]): read below.
    jsonData: z.unknown().optional(),
    meta: seldonRequestMeta.optional(),
    status: seldonStatusField,
  })
  .strict();

/**
 * Seldon's forms this server does not take (strData, binData, tftensor), as one problem naming the form, rather
 * than zod's "unrecognized key" beside a missing ndarray.
 */
function unsupportedSeldonForm(body: unknown): { path: PropertyKey[]; message: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const has = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);
  for (const key of ['strData', 'binData']) {
    if (has(body, key)) return { path: [key], message: `is not accepted: ${ONE_OF}` };
  }
  const data = (body as { data?: unknown }).data;
  if (typeof data === 'object' && data !== null && has(data, 'tftensor')) {
    return {
      path: ['data', 'tftensor'],
      message:
        'is not accepted: send the rows as data.ndarray, or as data.tensor {"shape": [n, f], "values": [...]}',
    };
  }
  return null;
}

export type SeldonForm = 'ndarray' | 'tensor' | 'jsonData' | 'jsonData.applicants' | 'jsonData.list' | 'list';

export interface SeldonRequest {
  form: SeldonForm;
  /** ndarray and tensor: the column names (when given), and the rows or the tensor; other forms: the applicants. */
  names?: string[];
  rows?: unknown[][];
  tensor?: SeldonTensor;
  applicants?: Record<string, unknown>[];
  puid?: string;
  /** meta.tags, answered back beside the model's own (see seldonMeta). */
  tags?: Record<string, unknown>;
}

const ONE_OF =
  'send {"data": {"names": [...], "ndarray": [[...]]}}, {"jsonData": {...}} or a list of applicant objects';
const JSON_DATA_FORMS =
  'must be an applicant object ({"Amount": 1500, ...}), {"applicants": [...]} or a list of applicant objects';

/** The body of a Seldon request, validated for shape (names and a tensor are checked with the model afterwards). */
export const seldonRequestSchema = z.unknown().transform((body, ctx): SeldonRequest => {
  const fail = (
    issues: readonly { path: PropertyKey[]; message: string; code?: string; keys?: string[] }[],
    prefix: PropertyKey[] = [],
  ) => {
    for (const i of issues) {
      const path = [...prefix, ...i.path];
      // An unknown key stays zod's own issue, so that problemsFromZod names it by itself, as on every route.
      if (i.code === 'unrecognized_keys' && i.keys) {
        ctx.addIssue({ code: 'unrecognized_keys', keys: i.keys, path, message: i.message });
      } else ctx.addIssue({ code: 'custom', path, message: i.message });
    }
    return z.NEVER;
  };
  if (Array.isArray(body)) {
    const list = applicantList.safeParse(body);
    return list.success ? { form: 'list', applicants: list.data } : fail(list.error.issues);
  }
  if (body === null || body === undefined) return fail([{ path: [], message: `is empty: ${ONE_OF}` }]);
  const unsupported = unsupportedSeldonForm(body);
  if (unsupported) return fail([unsupported]);
  const parsed = seldonMessage.safeParse(body);
  if (!parsed.success) return fail(parsed.error.issues);
  const { data, jsonData, meta } = parsed.data;
  // The meta answered back (seldonMeta).
  const echoed = {
    ...(meta?.puid !== undefined ? { puid: meta.puid } : {}),
    ...(meta?.tags !== undefined ? { tags: meta.tags } : {}),
  };
  if ((data === undefined) === (jsonData === undefined)) {
    return fail([{ path: [], message: `must hold exactly one of data and jsonData: ${ONE_OF}` }]);
  }
  if (data) {
    // "names": [] is no names: Seldon's protobuf holds an empty repeated field as none, and Seldon's Python wrapper
    // sends one from a TRANSFORMER without feature names to the unit after it (this model).
    const names = data.names !== undefined && data.names.length > 0 ? { names: data.names } : {};
    if (data.ndarray !== undefined && data.tensor !== undefined) {
      return fail([{ path: ['data'], message: 'must hold one of ndarray and tensor, not both' }]);
    }
    if (data.tensor !== undefined) return { form: 'tensor', ...names, tensor: data.tensor, ...echoed };
    if (data.ndarray === undefined) {
      return fail([
        {
          path: ['data', 'ndarray'],
          message:
            'is missing: send the rows as data.ndarray (or, for a model whose features are all numbers, data.tensor)',
        },
      ]);
    }
    return { form: 'ndarray', ...names, rows: data.ndarray, ...echoed };
  }
  // jsonData may hold any JSON in Seldon's protocol: a list is a batch, as SeldonClient sends json_data=[...].
  if (Array.isArray(jsonData)) {
    const list = applicantList.safeParse(jsonData);
    return list.success
      ? { form: 'jsonData.list', applicants: list.data, ...echoed }
      : fail(list.error.issues, ['jsonData']);
  }
  if (typeof jsonData !== 'object' || jsonData === null) {
    return fail([{ path: ['jsonData'], message: JSON_DATA_FORMS }]);
  }
  const json = jsonData as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(json, 'applicants') && !Array.isArray(json.applicants)) {
    return fail([{ path: ['jsonData', 'applicants'], message: 'must be a list of applicant objects' }]);
  }
  if (Object.prototype.hasOwnProperty.call(json, 'applicants')) {
    const beside = Object.keys(json).filter((key) => key !== 'applicants');
    if (beside.length) {
      return fail(
        beside.map((key) => ({
          path: ['jsonData', key],
          message: 'is not expected beside "applicants": send {"applicants": [...]} alone, or one applicant',
        })),
      );
    }
    const list = applicantList.safeParse(json.applicants);
    return list.success
      ? { form: 'jsonData.applicants', applicants: list.data, ...echoed }
      : fail(list.error.issues, ['jsonData', 'applicants']);
  }
  return { form: 'jsonData', applicants: [json], ...echoed };
});

/** The fields of a SeldonMessage, as protobuf's JSON names them: what a Feedback's messages may hold. */
const feedbackMessage = z
  .object(
    {
      status: seldonStatusField,
      meta: seldonRequestMeta.optional(),
      data: z.record(z.string(), z.unknown(), { error: 'must be a Seldon data object' }).optional(),
      jsonData: z.unknown().optional(),
      strData: z.string({ error: 'must be text' }).optional(),
      binData: z.string({ error: 'must be base64 text' }).optional(),
    },
    { error: 'must be a SeldonMessage object ({"data": …}, {"jsonData": …}, "meta", …), or left out' },
  )
  .strict();

/**
 * Seldon's Feedback message (prediction.proto): the request, the answer it got, a reward and the truth, each
 * optional. Nothing of it is read but the reward (counted in the metrics) and the meta answered back.
 */
export const seldonFeedbackSchema = z
  .object(
    {
      request: feedbackMessage.optional(),
      response: feedbackMessage.optional(),
      reward: z
        .number({ error: 'must be a number (a finite one), or left out' })
        .refine(Number.isFinite, 'must be finite')
        .optional(),
      truth: feedbackMessage.optional(),
    },
    { error: 'must be a Seldon Feedback object ({"request", "response", "reward", "truth"}, each optional)' },
  )
  .strict();
export type SeldonFeedback = z.infer<typeof seldonFeedbackSchema>;

/**
 * What a feedback answers back in its meta, as Seldon's wrapper answers it from the feedback's request: the
 * request's puid (else the response's, which the prediction answered) and the request's tags.
 */
export function feedbackEcho(feedback: SeldonFeedback): Pick<SeldonRequest, 'puid' | 'tags'> {
  const puid = feedback.request?.meta?.puid ?? feedback.response?.meta?.puid;
  const tags = feedback.request?.meta?.tags;
  return { ...(puid !== undefined ? { puid } : {}), ...(tags !== undefined ? { tags } : {}) };
}

/**
 * A tensor's values as rows, checked against its shape: two dimensions [n, f] with n from 1 to the row cap (as
 * an ndarray's), n·f values, numbers only. A missing value is "NaN", as Seldon's protobuf JSON writes a double's
 * NaN (SeldonClient sends numpy's NaN so), or null, as in an ndarray: read as null, for the service to impute or
 * name. Whether f matches the names or the model's features is checked by rowsAsApplicants.
 */
function tensorRows({ shape, values }: SeldonTensor): (number | null)[][] {
  const invalid = (field: string, message: string) => new InputError([{ field, code: 'invalid', message }]);
  if (shape.length !== 2) {
    throw invalid(
      'data.tensor.shape',
      `is [${shape.join(', ')}], but a tensor of applicants has two dimensions: [rows, features]`,
    );
  }
  const [n, f] = shape as [number, number];
  if (n === 0) throw invalid('data.tensor.shape', 'holds no rows (n is 0)');
  if (n > MAX_APPLICANTS_PER_CALL) {
    throw invalid(
      'data.tensor.shape',
      `holds ${n} rows, more than ${MAX_APPLICANTS_PER_CALL} in one request`,
    );
  }
  if (values.length !== n * f) {
    throw invalid(
      'data.tensor.values',
      `holds ${values.length} values, but shape [${n}, ${f}] needs ${n * f}`,
    );
  }
  const missing = '"NaN" or null for a missing value';
  const problems: Problem[] = [];
  const numbers = values.map((v, k): number | null => {
    if (typeof v === 'number') return v;
    if (v === null || v === 'NaN') return null;
    const field = `data.tensor.values[${k}]`;
    if (v === 'Infinity' || v === '-Infinity') {
      problems.push({
        field,
        code: 'not_finite',
        message: `is ${v}: a tensor's values must be finite (${missing})`,
      });
    } else {
      problems.push({
        field,
        code: 'wrong_type',
        message: `must be a number (a tensor holds numbers only; ${missing}), got ${describeValue(v)}`,
      });
    }
    return null;
  });
  if (problems.length) throw new InputError(problems);
  return Array.from({ length: n }, (_, i) => numbers.slice(i * f, (i + 1) * f));
}

/**
 * Why a tensor cannot carry feature `f` (a tensor holds numbers only), or null when it can: a numeric feature is a
 * number, a boolean one 1/0 when its true/false values read them so (booleanFromInput); a category is text.
 */
export function tensorFeatureProblem(f: Feature): string | null {
  switch (f.type) {
    case 'numeric':
      return null;
    case 'boolean':
      return booleanFromInput(f, 1) === true && booleanFromInput(f, 0) === false
        ? null
        : `${f.name} is boolean, read from ${[...f.true_values, ...f.false_values].join(', ')}, which do not take 1 and 0: a tensor holds numbers only; send data.ndarray`;
    case 'categorical':
      return `${f.name} is categorical: a tensor holds numbers only; send data.ndarray`;
  }
}

/**
 * The rows of an ndarray or a tensor as applicants. With names, they must be exactly the model's features (in any
 * order); without, each row holds the features in the schema's order.
 */
function rowsAsApplicants(
  req: SeldonRequest & { form: 'ndarray' | 'tensor' },
  schema: BundleSchema,
): Record<string, unknown>[] {
  const { form, names: given, tensor } = req;
  let rows = req.rows ?? [];
  if (form === 'tensor') {
    const refused = schema.features.flatMap((f): Problem[] => {
      const message = tensorFeatureProblem(f);
      return message ? [{ field: 'data.tensor', code: 'invalid', message }] : [];
    });
    if (refused.length) throw new InputError(refused);
    rows = tensorRows(tensor!);
  }
  const features = schema.features.map((f) => f.name);
  const names = given ?? features;
  const known = new Set(features);
  const problems: Problem[] = [];
  const seen = new Set<string>();
  names.forEach((name, j) => {
    if (!known.has(name)) {
      problems.push({
        field: `data.names[${j}]`,
        code: 'unknown_feature',
        message: `"${name}" is not a feature of this model (expected: ${features.join(', ')})`,
      });
    } else if (seen.has(name)) {
      problems.push({ field: `data.names[${j}]`, code: 'invalid', message: `repeats "${name}"` });
    }
    seen.add(name);
  });
  const missing = features.filter((f) => !seen.has(f));
  if (missing.length) {
    problems.push({
      field: 'data.names',
      code: 'missing',
      message: `lacks the model's features ${missing.join(', ')} (names must list every feature once)`,
    });
  }
  const width = given
    ? `names lists ${names.length}`
    : `without data.names a row holds the model's ${names.length} features in this order: ${names.join(', ')}`;
  if (form === 'tensor') {
    // Every row of a tensor is f wide: one problem for its shape.
    const f = rows[0]!.length;
    if (f !== names.length) {
      problems.push({
        field: 'data.tensor.shape',
        code: 'invalid',
        message: `is [${rows.length}, ${f}], but ${width}`,
      });
    }
  } else {
    rows.forEach((row, i) => {
      if (row.length !== names.length) {
        problems.push({
          field: `data.ndarray[${i}]`,
          code: 'invalid',
          message: `holds ${row.length} values, but ${width}`,
        });
      }
    });
  }
  if (problems.length) throw new InputError(problems);
  const byName = new Map(schema.features.map((f) => [f.name, f]));
  return rows.map((row) =>
    Object.fromEntries(
      names.map((name, j) => {
        const f = byName.get(name)!;
        // A tensor's 1/0 for a boolean feature as true/false; any other number stays, for the service to name.
        const value =
          form === 'tensor' && f.type === 'boolean' ? (booleanFromInput(f, row[j]) ?? row[j]) : row[j];
        return [name, value];
      }),
    ),
  );
}

export function seldonApplicants(req: SeldonRequest, schema: BundleSchema): Record<string, unknown>[] {
  return req.form === 'ndarray' || req.form === 'tensor'
    ? rowsAsApplicants(req as SeldonRequest & { form: 'ndarray' | 'tensor' }, schema)
    : req.applicants!;
}

/**
 * Where applicant i's `feature` is in a tensor: `data.tensor.values[k] (feature)`, k = i·f + j, j its column in
 * `columns` (the names, or the model's features), as V2's [N, F] input names `inputs[0].data[k] (feature)`.
 * A problem with a whole row, or with a name that is no column, is `data.tensor row i`.
 */
function tensorField(indexed: string, columns: readonly string[]): string {
  const m = /^\[(\d+)\](?:\.(.+))?$/.exec(indexed);
  if (!m) return `data.tensor${indexed}`;
  const [row, feature] = [Number(m[1]), m[2]];
  const j = feature === undefined ? -1 : columns.indexOf(feature);
  if (j >= 0) return `data.tensor.values[${row * columns.length + j}] (${feature})`;
  return `data.tensor row ${row}${feature === undefined ? '' : ` (${feature})`}`;
}

/** A problem the service found in applicant i (`[i].Amount`, or `Amount` for one), named as the request did. */
function requestField(
  req: SeldonRequest,
  field: string,
  single: boolean,
  columns: readonly string[],
): string {
  const indexed = field.startsWith('[') ? field : single ? `[0].${field}` : `.${field}`;
  switch (req.form) {
    case 'ndarray':
      return `data.ndarray${indexed}`;
    case 'tensor':
      return tensorField(indexed, req.names ?? columns);
    case 'jsonData':
      return field.startsWith('[') ? `jsonData${field.replace(/^\[0\]/, '')}` : `jsonData.${field}`;
    case 'jsonData.applicants':
      return `jsonData.applicants${indexed}`;
    case 'jsonData.list':
      return `jsonData${indexed}`;
    case 'list':
      return indexed.replace(/^\./, '');
  }
}

/**
 * Runs `fn`, renaming the fields of any problems it reports to where they are in the Seldon request; `schema` is
 * the model the request was read for (a tensor without names holds its features in its order).
 */
export async function namingRequestFields<T>(
  req: SeldonRequest,
  count: number,
  fn: () => Promise<T>,
  schema?: BundleSchema,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isInputError(e)) throw e;
    const columns = schema?.features.map((f) => f.name) ?? [];
    throw new InputError(
      e.problems.map((p) => ({ ...p, field: requestField(req, p.field, count === 1, columns) })),
      undefined,
    );
  }
}

/** Column names of the predictions: a classifier's classes (a sigmoid's as [negative, positive]). */
export function predictionNames(output: OutputSpec, width: number): string[] {
  if (output.kind === 'sigmoid' && width === 1) return [...output.classes];
  if (output.kind === 'softmax' && output.classes.length === width) return [...output.classes];
  if (width === 1) return ['prediction'];
  return Array.from({ length: width }, (_, i) => `output_${i}`);
}

/** The columns of the answered predictions (predictionRows'): a sigmoid's [negative, positive], a softmax's classes. */
export function outputColumns(output: OutputSpec): string[] {
  return predictionNames(output, output.kind === 'softmax' ? output.classes.length : 1);
}

/** Predictions as Seldon's ndarray: a sigmoid's P(positive) becomes [P(negative), P(positive)] (predict_proba). */
export function predictionRows(output: OutputSpec, predictions: number[][]): number[][] {
  if (output.kind !== 'sigmoid') return predictions;
  return predictions.map((row) => (row.length === 1 ? [1 - row[0]!, row[0]!] : row));
}

/**
 * The predictions as a SeldonMessage's data, in the form they were asked in, as Seldon's own servers answer: a
 * tensor {shape: [n, k], values} for a tensor, an ndarray for every other form.
 */
export function predictionData(
  form: SeldonForm,
  output: OutputSpec,
  predictions: number[][],
):
  | { names: string[]; ndarray: number[][] }
  | { names: string[]; tensor: { shape: [number, number]; values: number[] } } {
  const names = predictionNames(output, predictions[0]?.length ?? 1);
  const rows = predictionRows(output, predictions);
  if (form !== 'tensor') return { names, ndarray: rows };
  return { names, tensor: { shape: [rows.length, rows[0]?.length ?? names.length], values: rows.flat() } };
}

export interface SeldonMeta {
  puid?: string;
  tags: Record<string, unknown>;
}

/**
 * The answer's meta: the request's puid, and its tags with the model's over them, as Seldon's own model servers
 * answer (seldon_core's construct_response), so that tags set by the caller or a unit before this one in the
 * graph reach the caller.
 */
export function seldonMeta(
  model: { id: string; version: string; sha256: string },
  backend: string,
  asked: Pick<SeldonRequest, 'puid' | 'tags'> = {},
): SeldonMeta {
  return {
    ...(asked.puid !== undefined ? { puid: asked.puid } : {}),
    tags: {
      ...asked.tags,
      model_id: model.id,
      model_version: model.version,
      model_sha256: model.sha256,
      backend,
    },
  };
}

/** A feature's value as JSON Schema: what a jsonData applicant may hold for it. */
function featureJsonSchema(f: Feature): Record<string, unknown> {
  switch (f.type) {
    case 'categorical':
      return { type: 'string', enum: [...f.categories] };
    case 'boolean':
      return { type: 'boolean' };
    case 'numeric':
      return {
        type: f.integer ? 'integer' : 'number',
        ...(f.range?.min !== undefined ? { minimum: f.range.min } : {}),
        ...(f.range?.max !== undefined ? { maximum: f.range.max } : {}),
      };
  }
}

/**
 * The model's metadata as a Seldon Core v1 model serves it on GET /metadata (seldon_core/metadata.py's schema),
 * which Seldon's executor answers /api/v1.0/metadata/<model> with: the ndarray and jsonData inputs the endpoints
 * take (and the tensor, for a model a tensor can carry), the ndarray they answer (and the tensor), and the model's
 * identity in `custom` (strings only).
 */
export function seldonModelMetadata(
  model: { id: string; version: string; sha256: string },
  schema: BundleSchema,
  backend: string,
) {
  const names = schema.features.map((f) => f.name);
  const outputs = outputColumns(schema.output);
  const tensor = schema.features.every((f) => tensorFeatureProblem(f) === null);
  // An optional feature may be left out or sent as null (both are imputed).
  const applicant = {
    type: 'object',
    properties: Object.fromEntries(
      schema.features.map((f) => [
        f.name,
        f.required ? featureJsonSchema(f) : { anyOf: [featureJsonSchema(f), { type: 'null' }] },
      ]),
    ),
    required: schema.features.filter((f) => f.required).map((f) => f.name),
    additionalProperties: false,
  };
  return {
    name: model.id,
    versions: [model.version],
    platform: 'branchlens',
    inputs: [
      { messagetype: 'ndarray', schema: { names, shape: [names.length] } },
      {
        messagetype: 'jsonData',
        // One applicant, {"applicants": [...]} or a list of applicants for several.
        schema: {
          oneOf: [
            applicant,
            { type: 'array', items: applicant, minItems: 1, maxItems: MAX_APPLICANTS_PER_CALL },
            {
              type: 'object',
              properties: {
                applicants: {
                  type: 'array',
                  items: applicant,
                  minItems: 1,
                  maxItems: MAX_APPLICANTS_PER_CALL,
                },
              },
              required: ['applicants'],
              additionalProperties: false,
            },
          ],
        },
      },
      // Listed after the others, which keep their places whatever the model.
      ...(tensor ? [{ messagetype: 'tensor', schema: { names, shape: [names.length] } }] : []),
    ],
    outputs: [
      { messagetype: 'ndarray', schema: { names: outputs, shape: [outputs.length] } },
      ...(tensor ? [{ messagetype: 'tensor', schema: { names: outputs, shape: [outputs.length] } }] : []),
    ],
    custom: { model_sha256: model.sha256, backend },
  };
}
