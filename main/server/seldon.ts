// Seldon Core's v1 protocol on top of the service: requests carry applicants as {data: {names?, ndarray}},
// {jsonData: applicant | {applicants: [...]} | [...]} or a bare list of applicant objects; predictions come back as a
// SeldonMessage {data: {names, ndarray}, meta}. Without names, a row holds the model's features in the schema's
// order (Seldon clients often leave names out). A tensor cannot carry a categorical feature's string, so only
// ndarray is read. Pure functions of the request and the model's schema.
import { z } from 'zod';
import type { BundleSchema, Feature, OutputSpec } from '../../shared/bundle.js';
import { MAX_APPLICANTS_PER_CALL } from '../../shared/contract.js';
import { InputError, isInputError, type Problem } from '../../shared/problems.js';

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
          .max(MAX_APPLICANTS_PER_CALL, `holds more than ${MAX_APPLICANTS_PER_CALL} rows`),
      })
      .strict()
      .optional(),
    // An applicant, {"applicants": [...]}, or a list of applicants (SeldonClient's json_data=[...]): read below.
    jsonData: z.unknown().optional(),
    meta: seldonRequestMeta.optional(),
  })
  .strict();

/**
 * Seldon's forms this server does not take (tensor, strData, binData), as one problem naming the form, rather
 * than zod's "unrecognized key" beside a missing ndarray.
 */
function unsupportedSeldonForm(body: unknown): { path: PropertyKey[]; message: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const has = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);
  for (const key of ['strData', 'binData']) {
    if (has(body, key)) return { path: [key], message: `is not accepted: ${ONE_OF}` };
  }
  const data = (body as { data?: unknown }).data;
  if (typeof data === 'object' && data !== null && has(data, 'tensor') && !has(data, 'ndarray')) {
    return {
      path: ['data', 'tensor'],
      message:
        'is not accepted: send the rows as data.ndarray (a tensor holds numbers only, and categorical features are strings)',
    };
  }
  return null;
}

export type SeldonForm = 'ndarray' | 'jsonData' | 'jsonData.applicants' | 'jsonData.list' | 'list';

export interface SeldonRequest {
  form: SeldonForm;
  /** ndarray: the column names (when given) and the rows; other forms: the applicants. */
  names?: string[];
  rows?: unknown[][];
  applicants?: Record<string, unknown>[];
  puid?: string;
}

const ONE_OF =
  'send {"data": {"names": [...], "ndarray": [[...]]}}, {"jsonData": {...}} or a list of applicant objects';
const JSON_DATA_FORMS =
  'must be an applicant object ({"Amount": 1500, ...}), {"applicants": [...]} or a list of applicant objects';

/** The body of a Seldon request, validated for shape (names are checked against the model afterwards). */
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
  const puid = meta?.puid !== undefined ? { puid: meta.puid } : {};
  if ((data === undefined) === (jsonData === undefined)) {
    return fail([{ path: [], message: `must hold exactly one of data and jsonData: ${ONE_OF}` }]);
  }
  if (data) {
    const names = data.names !== undefined ? { names: data.names } : {};
    return { form: 'ndarray', ...names, rows: data.ndarray, ...puid };
  }
  // jsonData may hold any JSON in Seldon's protocol: a list is a batch, as SeldonClient sends json_data=[...].
  if (Array.isArray(jsonData)) {
    const list = applicantList.safeParse(jsonData);
    return list.success
      ? { form: 'jsonData.list', applicants: list.data, ...puid }
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
      ? { form: 'jsonData.applicants', applicants: list.data, ...puid }
      : fail(list.error.issues, ['jsonData', 'applicants']);
  }
  return { form: 'jsonData', applicants: [json], ...puid };
});

/**
 * The rows of an ndarray as applicants. With names, they must be exactly the model's features (in any order);
 * without, each row holds the features in the schema's order.
 */
function rowsAsApplicants(
  given: string[] | undefined,
  rows: unknown[][],
  schema: BundleSchema,
): Record<string, unknown>[] {
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
  rows.forEach((row, i) => {
    if (row.length !== names.length) {
      problems.push({
        field: `data.ndarray[${i}]`,
        code: 'invalid',
        message: `holds ${row.length} values, but ${width}`,
      });
    }
  });
  if (problems.length) throw new InputError(problems);
  return rows.map((row) => Object.fromEntries(names.map((name, j) => [name, row[j]])));
}

export function seldonApplicants(req: SeldonRequest, schema: BundleSchema): Record<string, unknown>[] {
  return req.form === 'ndarray' ? rowsAsApplicants(req.names, req.rows!, schema) : req.applicants!;
}

/** A problem the service found in applicant i (`[i].Amount`, or `Amount` for one), named as the request did. */
function requestField(form: SeldonForm, field: string, single: boolean): string {
  const indexed = field.startsWith('[') ? field : single ? `[0].${field}` : `.${field}`;
  switch (form) {
    case 'ndarray':
      return `data.ndarray${indexed}`;
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

/** Runs `fn`, renaming the fields of any problems it reports to where they are in the Seldon request. */
export async function namingRequestFields<T>(
  req: SeldonRequest,
  count: number,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isInputError(e)) throw e;
    throw new InputError(
      e.problems.map((p) => ({ ...p, field: requestField(req.form, p.field, count === 1) })),
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

export interface SeldonMeta {
  puid?: string;
  tags: Record<string, string>;
}

export function seldonMeta(
  model: { id: string; version: string; sha256: string },
  backend: string,
  puid?: string,
): SeldonMeta {
  return {
    ...(puid !== undefined ? { puid } : {}),
    tags: { model_id: model.id, model_version: model.version, model_sha256: model.sha256, backend },
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
 * take, the ndarray they answer, and the model's identity in `custom` (strings only).
 */
export function seldonModelMetadata(
  model: { id: string; version: string; sha256: string },
  schema: BundleSchema,
  backend: string,
) {
  const names = schema.features.map((f) => f.name);
  const outputs = outputColumns(schema.output);
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
    ],
    outputs: [{ messagetype: 'ndarray', schema: { names: outputs, shape: [outputs.length] } }],
    custom: { model_sha256: model.sha256, backend },
  };
}
