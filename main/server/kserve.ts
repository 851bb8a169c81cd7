// KServe's data planes on top of the service, so that BranchLens runs behind KServe (or any client of these
// protocols) as it does behind Seldon Core:
// - V1: POST /v1/models/<name>:predict and :explain with {"instances": [...]}, each instance an applicant object
//   or a row of the model's features in the schema's order;
// - the Open Inference Protocol (V2, also spoken by Seldon Core 2 / MLServer and Triton): POST
//   /v2/models/<name>/infer with tensors, either one input per feature (named after it, shape [N] or [N, 1]:
//   MLServer's pandas form, which carries a categorical feature's string as BYTES) or one input of shape [N, F]
//   holding the features in the schema's order.
// Pure functions of the request and the model's schema; the routes are in ./routes/kserve.ts.
import { z } from 'zod';
import type { BundleSchema, Feature, OutputSpec } from '../../shared/bundle.js';
import { MAX_APPLICANTS_PER_CALL } from '../../shared/contract.js';
import { InputError, isInputError, type Problem } from '../../shared/problems.js';
import { outputColumns } from './seldon.js';

/**
 * The names KServe gives a model: its InferenceService's, which KServe's webhook holds to a DNS-1035 label
 * (`[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters) and builds the model's paths and status URL from
 * (`/v1/models/<name>:predict`, `/v2/models/<name>/infer`).
 */
const KSERVE_MODEL_NAME = /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/;
const KSERVE_MODEL_NAME_MAX = 63;

/** Why `name` cannot be a name KServe gives the model (`serve --model-name`), or null when it can. */
export function kserveModelNameProblem(name: string): string | null {
  if (name === '') return "is empty: give the InferenceService's name (e.g. branchlens), or leave it out";
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  if (name.length > KSERVE_MODEL_NAME_MAX) {
    return `${shown} has ${name.length} characters: a KServe model name (the InferenceService's) has at most ${KSERVE_MODEL_NAME_MAX}`;
  }
  if (!KSERVE_MODEL_NAME.test(name)) {
    return (
      `${shown} is not a KServe model name: lower-case letters, digits and "-", starting with a letter and ` +
      "ending with a letter or digit, as the InferenceService's name (e.g. branchlens)"
    );
  }
  return null;
}

/** The tensor datatypes of the Open Inference Protocol. */
export const V2_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type V2Datatype = (typeof V2_DATATYPES)[number];

const parameters = z.record(z.string(), z.unknown());

const v2Input = z
  .object({
    name: z.string().min(1, 'must name the input: a feature of the model, or any name for an [N, F] input'),
    shape: z
      .array(z.number().int().min(0), { error: 'must be an array of non-negative whole numbers' })
      .min(1, 'must have at least one dimension'),
    datatype: z.enum(V2_DATATYPES, { error: `must be one of ${V2_DATATYPES.join(', ')}` }),
    parameters: parameters.nullish(),
    data: z.array(z.unknown(), {
      error: 'must be an array of the tensor values (flat or nested, row-major)',
    }),
  })
  .strict();

// Optional members may also be null: clients built on pydantic (KServe's InferRequest) send None as null.
export const v2InferRequestSchema = z
  .object({
    id: z.string().max(200).nullish(),
    // KServe's Python client repeats the path's model in the body; the path decides which model answers.
    model_name: z.string().nullish(),
    model_version: z.string().nullish(),
    parameters: parameters.nullish(),
    inputs: z.array(v2Input, { error: 'must be an array of input tensors' }).min(1, 'holds no inputs'),
    outputs: z
      .array(z.object({ name: z.string(), parameters: parameters.nullish() }).strict(), {
        error: 'must be an array of {"name": ...}',
      })
      .nullish(),
  })
  .strict();
export type V2InferRequest = z.infer<typeof v2InferRequestSchema>;

export const v1RequestSchema = z
  .object({
    instances: z
      .array(
        z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())], {
          error: 'must be an applicant object, or a row of the features in the schema order',
        }),
        { error: 'must be an array of instances' },
      )
      .min(1, 'holds no instances')
      .max(MAX_APPLICANTS_PER_CALL, `holds more than ${MAX_APPLICANTS_PER_CALL} instances`),
  })
  .strict();
export type V1Request = z.infer<typeof v1RequestSchema>;

/** Applicants read from a request, and where each applicant's feature was in it (for naming problems). */
export interface ReadApplicants {
  applicants: Record<string, unknown>[];
  /** The request's field that held applicant `row`'s `feature`. */
  fieldOf(row: number, feature: string): string;
  /** The request's field for a problem with a whole applicant. */
  rowField(row: number): string;
}

const features = (schema: BundleSchema) => schema.features.map((f) => f.name);

/** V1 instances as applicants: objects are applicants, arrays are rows in the schema's order. */
export function v1Applicants(req: V1Request, schema: BundleSchema): ReadApplicants {
  const names = features(schema);
  const problems: Problem[] = [];
  const applicants = req.instances.map((instance, i) => {
    if (!Array.isArray(instance)) return instance as Record<string, unknown>;
    if (instance.length !== names.length) {
      problems.push({
        field: `instances[${i}]`,
        code: 'invalid',
        message: `holds ${instance.length} values, but a row holds the model's ${names.length} features in this order: ${names.join(', ')}`,
      });
    }
    return Object.fromEntries(names.map((name, j) => [name, instance[j]]));
  });
  if (problems.length) throw new InputError(problems);
  return {
    applicants,
    fieldOf: (row, feature) => {
      const j = names.indexOf(feature);
      return Array.isArray(req.instances[row]) && j >= 0
        ? `instances[${row}][${j}] (${feature})`
        : `instances[${row}].${feature}`;
    },
    rowField: (row) => `instances[${row}]`,
  };
}

/** Nested tensor data, flattened in row-major order. */
function flatten(data: unknown[]): unknown[] {
  return data.some(Array.isArray) ? (data as unknown[]).flat(Infinity) : data;
}

/** Why `value` cannot be an element of a `datatype` tensor, or null when it can. */
function elementProblem(datatype: V2Datatype, value: unknown): string | null {
  switch (datatype) {
    case 'BOOL':
      return typeof value === 'boolean' ? null : 'must be true or false (datatype BOOL)';
    case 'BYTES':
      return typeof value === 'string' ? null : 'must be a string (datatype BYTES)';
    case 'FP16':
    case 'FP32':
    case 'FP64':
      return typeof value === 'number' ? null : `must be a number (datatype ${datatype})`;
    default: {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return `must be a whole number (datatype ${datatype})`;
      }
      const [min, max] = INTEGER_RANGES[datatype];
      return value < min || value > max ? `must be between ${min} and ${max} (datatype ${datatype})` : null;
    }
  }
}

/** The values each integer datatype holds (64-bit ones as far as a JSON number is exact). */
const INTEGER_RANGES: Record<
  Exclude<V2Datatype, 'BOOL' | 'BYTES' | 'FP16' | 'FP32' | 'FP64'>,
  [number, number]
> = {
  INT8: [-(2 ** 7), 2 ** 7 - 1],
  INT16: [-(2 ** 15), 2 ** 15 - 1],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 2 ** 8 - 1],
  UINT16: [0, 2 ** 16 - 1],
  UINT32: [0, 2 ** 32 - 1],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Where nested `data` departs from `shape` (`at`, e.g. `data[1]`, and why), or null when it follows it. Flat data
 * (no lists inside) is checked by its count alone; nested data must nest exactly as the shape says, row-major.
 */
export function nestingProblem(data: unknown[], shape: number[]): { at: string; message: string } | null {
  if (!data.some(Array.isArray)) return null;
  const dims = `shape [${shape.join(', ')}]`;
  const walk = (level: unknown, depth: number, at: string): { at: string; message: string } | null => {
    const inner = depth < shape.length;
    if (Array.isArray(level) !== inner) {
      const message = inner
        ? `is a single value, but ${dims} needs a list of ${shape[depth]} here`
        : `is a list, but ${dims} has only ${shape.length} dimension${shape.length === 1 ? '' : 's'}`;
      return { at, message };
    }
    if (!inner) return null;
    const list = level as unknown[];
    if (list.length !== shape[depth]) {
      return {
        at,
        message: `holds ${list.length} items, but dimension ${depth} of ${dims} is ${shape[depth]}`,
      };
    }
    for (let i = 0; i < list.length; i++) {
      const problem = walk(list[i], depth + 1, `${at}[${i}]`);
      if (problem) return problem;
    }
    return null;
  };
  return walk(data, 0, 'data');
}

/** The elements of input k, flattened and checked against its shape and datatype; problems are collected. */
function tensorData(input: V2InferRequest['inputs'][number], k: number, problems: Problem[]): unknown[] {
  const nesting = nestingProblem(input.data, input.shape);
  if (nesting) {
    problems.push({
      field: `inputs[${k}].${nesting.at}`,
      code: 'invalid',
      message: `${nesting.message} (nested data must follow the shape, row-major)`,
    });
    return [];
  }
  const data = flatten(input.data);
  const expected = product(input.shape);
  if (data.length !== expected) {
    problems.push({
      field: `inputs[${k}].data`,
      code: 'invalid',
      message: `holds ${data.length} values, but shape [${input.shape.join(', ')}] needs ${expected}`,
    });
    return data;
  }
  const bad = data.findIndex((v) => elementProblem(input.datatype, v) !== null);
  if (bad >= 0) {
    problems.push({
      field: `inputs[${k}].data[${bad}]`,
      code: 'wrong_type',
      message: elementProblem(input.datatype, data[bad])!,
    });
  }
  return data;
}

/** The datatype a feature is sent as. */
export function featureDatatype(f: Feature): V2Datatype {
  if (f.type === 'categorical') return 'BYTES';
  if (f.type === 'boolean') return 'BOOL';
  return f.integer ? 'INT64' : 'FP64';
}

function rowsOf(count: number, maxRows = MAX_APPLICANTS_PER_CALL): Problem | null {
  if (count === 0)
    return { field: 'inputs[0].shape', code: 'missing', message: 'holds no applicants (N is 0)' };
  if (count > maxRows) {
    return {
      field: 'inputs[0].shape',
      code: 'out_of_range',
      message: `holds ${count} applicants, more than ${maxRows} in one request`,
    };
  }
  return null;
}

/** The value that occurs most often in `values` (one of them when tied); 0 for none. */
function mostCommon(values: readonly number[]): number {
  const counts = new Map<number, number>();
  let best = values[0] ?? 0;
  for (const v of values) {
    const count = (counts.get(v) ?? 0) + 1;
    counts.set(v, count);
    if (count > (counts.get(best) ?? 0)) best = v;
  }
  return best;
}

/** The applicants of a V2 inference request: one input per feature, or one [N, F] input in the schema's order. */
export function v2Applicants(req: V2InferRequest, schema: BundleSchema): ReadApplicants {
  const names = features(schema);
  const known = new Set(names);
  const problems: Problem[] = [];
  const byFeature = req.inputs.every((input) => known.has(input.name));

  if (!byFeature && req.inputs.length === 1 && req.inputs[0]!.shape.length === 2) {
    const [input] = req.inputs as [V2InferRequest['inputs'][number]];
    const [rows, width] = input.shape as [number, number];
    if (width !== names.length) {
      problems.push({
        field: 'inputs[0].shape',
        code: 'invalid',
        message: `is [${rows}, ${width}], but an [N, F] input holds the model's ${names.length} features in this order: ${names.join(', ')}`,
      });
    }
    const tooMany = rowsOf(rows);
    if (tooMany) problems.push(tooMany);
    const data = problems.length ? [] : tensorData(input, 0, problems);
    if (problems.length) throw new InputError(problems);
    const applicants = Array.from({ length: rows }, (_, i) =>
      Object.fromEntries(names.map((name, j) => [name, data[i * width + j]])),
    );
    return {
      applicants,
      fieldOf: (row, feature) =>
        names.includes(feature)
          ? `inputs[0].data[${row * width + names.indexOf(feature)}] (${feature})`
          : `inputs[0] row ${row} (${feature})`,
      rowField: (row) => `inputs[0] row ${row}`,
    };
  }

  if (!byFeature) {
    req.inputs.forEach((input, k) => {
      if (!known.has(input.name)) {
        problems.push({
          field: `inputs[${k}].name`,
          code: 'unknown_feature',
          message: `"${input.name}" is not a feature of this model: name each input after a feature (${names.join(', ')}), or send one input of shape [N, ${names.length}] with the features in that order`,
        });
      }
    });
    throw new InputError(problems);
  }

  const seen = new Map<string, number>();
  // N is the row count most inputs agree on, so that one input with another N is the one named.
  const rows = mostCommon(req.inputs.map((input) => input.shape[0] ?? 0));
  const columns = req.inputs.map((input, k) => {
    if (seen.has(input.name)) {
      problems.push({ field: `inputs[${k}].name`, code: 'invalid', message: `repeats "${input.name}"` });
    }
    seen.set(input.name, k);
    const [n = 0, ...rest] = input.shape;
    if (rest.length > 1 || (rest.length === 1 && rest[0] !== 1)) {
      problems.push({
        field: `inputs[${k}].shape`,
        code: 'invalid',
        message: `is [${input.shape.join(', ')}], but a feature's input is one column: [N] or [N, 1]`,
      });
      return [];
    }
    if (n !== rows) {
      problems.push({
        field: `inputs[${k}].shape`,
        code: 'invalid',
        message: `has ${n} rows, but the other inputs have ${rows}: every feature's input must have the same N`,
      });
    }
    return tensorData(input, k, problems);
  });
  const tooMany = rowsOf(rows);
  if (tooMany) problems.push(tooMany);
  if (problems.length) throw new InputError(problems);
  // A required feature without an input is one problem naming that input, where the service would name it once
  // per row; checked, as the service would, once the inputs given are sound.
  for (const f of schema.features) {
    if (!f.required || seen.has(f.name)) continue;
    problems.push({
      field: `inputs (${f.name})`,
      code: 'missing',
      message: `is required: send an input named "${f.name}" of shape [N] or [N, 1], datatype ${featureDatatype(f)}`,
    });
  }
  if (problems.length) throw new InputError(problems);
  const applicants = Array.from({ length: rows }, (_, i) =>
    Object.fromEntries(req.inputs.map((input, k) => [input.name, columns[k]![i]])),
  );
  return {
    applicants,
    fieldOf: (row, feature) =>
      seen.has(feature) ? `inputs[${seen.get(feature)}].data[${row}]` : `inputs (${feature}, row ${row})`,
    rowField: (row) => `inputs, row ${row}`,
  };
}

/**
 * Runs `fn` on the applicants, renaming the fields of any problems the service reports (`[i].Amount`, or
 * `Amount` for a single applicant) to where they were in the request.
 */
export async function namingFields<T>(read: ReadApplicants, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isInputError(e)) throw e;
    const single = read.applicants.length === 1;
    const rename = (field: string): string => {
      const m = /^\[(\d+)\](?:\.(.+))?$/.exec(field);
      if (m) return m[2] === undefined ? read.rowField(Number(m[1])) : read.fieldOf(Number(m[1]), m[2]);
      if (single && field !== 'applicants')
        return field === 'input' ? read.rowField(0) : read.fieldOf(0, field);
      return field;
    };
    throw new InputError(e.problems.map((p) => ({ ...p, field: rename(p.field) })));
  }
}

/**
 * A list as a V2 parameter. The protocol's parameter values are a string, a number or a boolean only (KServe's and
 * MLServer's clients refuse anything else), so a list travels as its JSON text: `"[\"bad\",\"good\"]"`.
 */
export function v2ListParameter(items: readonly string[]): string {
  return JSON.stringify(items);
}

/** The one output tensor: class probabilities (predict_proba) for a classifier, the value for a regression. */
export function v2Output(output: OutputSpec): { name: string; width: number; classes?: string[] } {
  if (output.kind === 'regression') return { name: 'predict', width: 1 };
  const classes = outputColumns(output);
  return { name: 'predict_proba', width: classes.length, classes };
}

/** Checks the request's `outputs` (when it names any) against the one output this model has. */
export function checkRequestedOutputs(req: V2InferRequest, output: OutputSpec): void {
  const { name } = v2Output(output);
  const problems = (req.outputs ?? []).flatMap((o, k): Problem[] =>
    o.name === name
      ? []
      : [
          {
            field: `outputs[${k}].name`,
            code: 'invalid',
            message: `"${o.name}" is not an output of this model (it has one: "${name}")`,
          },
        ],
  );
  if (problems.length) throw new InputError(problems);
}

/** The model's V2 metadata, under `name` (the one it was asked by): its inputs (one per feature) and its output. */
export function v2ModelMetadata(
  model: { id: string; version: string; sha256: string },
  schema: BundleSchema,
  backend: string,
  name = model.id,
) {
  const out = v2Output(schema.output);
  return {
    name,
    versions: [model.version],
    platform: 'branchlens',
    inputs: schema.features.map((f) => ({
      name: f.name,
      datatype: featureDatatype(f),
      shape: [-1],
      ...(f.type === 'categorical' ? { parameters: { categories: v2ListParameter(f.categories) } } : {}),
    })),
    outputs: [
      {
        name: out.name,
        datatype: 'FP64',
        shape: [-1, out.width],
        ...(out.classes ? { parameters: { classes: v2ListParameter(out.classes) } } : {}),
      },
    ],
    parameters: { sha256: model.sha256, backend },
  };
}
