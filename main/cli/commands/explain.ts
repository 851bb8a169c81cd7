// `branchlens explain`: explains one applicant, a JSON array or a CSV batch; documents go to stdout as JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, isInputError } from '../../../shared/problems.js';
import { LOCALES, numbersFromText } from '../../../shared/bundle.js';
import { isJsonText, parseApplicants, problemsAtLines, takesApplicants } from '../../core/applicants.js';
import { BACKENDS, type BackendName } from '../../core/tf/backend.js';
import { tensorflowInstalled } from '../../core/tf/installed.js';
import { samplesDir } from '../../core/paths.js';
import { openService } from '../service.js';
import {
  DATA_OPTION,
  dataDirFrom,
  intFlag,
  parseFlags,
  readAll,
  writeJson,
  type CliIo,
  type Command,
} from '../command.js';

const OPTIONS = {
  ...DATA_OPTION,
  model: { type: 'string' },
  input: { type: 'string' },
  method: { type: 'string' },
  steps: { type: 'string' },
  'internal-batch-size': { type: 'string' },
  target: { type: 'string' },
  baseline: { type: 'string' },
  layer: { type: 'string' },
  'layer-inputs': { type: 'boolean' },
  backend: { type: 'string' },
  detail: { type: 'boolean' },
  locale: { type: 'string' },
  'top-k': { type: 'string' },
} as const;

export const USAGE =
  'branchlens explain [--model DIR] [--input FILE|-] [--method M] [--steps N] [--internal-batch-size N] [--target T] ' +
  '[--baseline FILE|schema|zeros] [--layer NAME|INDEX [--layer-inputs]] [--backend tensorflow|wasm|cpu] [--detail] ' +
  '[--locale zh-CN|en] [--top-k K] [--data DIR]';

export function parseBackend(raw: string | undefined): BackendName | undefined {
  if (raw === undefined) return undefined;
  if (!(BACKENDS as readonly string[]).includes(raw)) {
    throw new InputError([
      { field: '--backend', code: 'invalid', message: `must be one of ${BACKENDS.join(', ')}, got "${raw}"` },
    ]);
  }
  if (raw === 'tensorflow' && !tensorflowInstalled()) {
    throw new InputError([
      {
        field: '--backend',
        code: 'invalid',
        message:
          '"tensorflow" needs @tensorflow/tfjs-node, which is not installed here (its install downloads ' +
          'libtensorflow, which fails offline): use wasm or cpu, or leave --backend out',
      },
    ]);
  }
  return raw as BackendName;
}

async function readSource(path: string, io: CliIo): Promise<string> {
  if (path === '-') return readAll(io.stdin);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError([
      {
        field: '--input',
        code: 'missing',
        message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      },
    ]);
  }
}

function baselineFrom(raw: string | undefined): unknown {
  if (raw === undefined || raw === 'schema' || raw === 'zeros') return raw ?? 'schema';
  let text: string;
  try {
    text = readFileSync(raw, 'utf8');
  } catch {
    throw new InputError([
      {
        field: '--baseline',
        code: 'missing',
        message: `must be "schema", "zeros" or a JSON file; cannot read ${raw}`,
      },
    ]);
  }
  // One applicant as JSON: a CSV file is a batch's form, whose rows' problems would name lines without saying
  // which file they are in.
  if (!isJsonText(text))
    throw new InputError([
      {
        field: '--baseline',
        code: 'invalid',
        message: `must be "schema", "zeros" or a JSON file holding one applicant object; ${raw} holds no JSON object`,
      },
    ]);
  const parsed = parseApplicants(text, '--baseline');
  if (!parsed.single)
    throw new InputError([
      { field: '--baseline', code: 'invalid', message: 'must hold one applicant object' },
    ]);
  return parsed.applicants[0];
}

export const explainCommand: Command = {
  name: 'explain',
  summary: 'Explain applicants with Integrated Gradients (default: the demo model and its first sample).',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseFlags(argv, OPTIONS);
    // Without --locale, the stored setting (as top-K, method and steps): the language the branch chose.
    const locale = values.locale;
    if (locale !== undefined && !(LOCALES as readonly string[]).includes(locale)) {
      throw new InputError([
        {
          field: '--locale',
          code: 'invalid',
          message: `must be one of ${LOCALES.join(', ')}, got "${locale}"`,
        },
      ]);
    }
    if (values['layer-inputs'] && values.layer === undefined) {
      throw new InputError([
        {
          field: '--layer-inputs',
          code: 'invalid',
          message: 'needs --layer: it attributes to the inputs of the layer --layer names',
        },
      ]);
    }
    const layer =
      values.layer === undefined
        ? undefined
        : /^\d+$/.test(values.layer)
          ? Number(values.layer)
          : values.layer;
    const options = {
      ...(values.method !== undefined ? { method: values.method } : {}),
      ...(values.steps !== undefined ? { n_steps: intFlag('steps', values.steps, 0, 1) } : {}),
      ...(values['internal-batch-size'] !== undefined
        ? { internal_batch_size: intFlag('internal-batch-size', values['internal-batch-size'], 0, 1) }
        : {}),
      ...(values.target !== undefined
        ? { target: /^\d+$/.test(values.target) ? Number(values.target) : values.target }
        : {}),
      baseline: baselineFrom(values.baseline),
      ...(layer !== undefined ? { layer, attribute_to_layer_inputs: values['layer-inputs'] ?? false } : {}),
      ...(values['top-k'] !== undefined ? { top_k: intFlag('top-k', values['top-k'], 0, 0) } : {}),
      ...(locale !== undefined ? { locale } : {}),
      detail: values.detail ?? false,
    };
    const source = values.input ?? join(samplesDir(), 'sample-1.json');
    const { applicants, single, format, lines } = parseApplicants(
      await readSource(source, io),
      values.input === undefined ? source : '--input',
    );
    const backend = parseBackend(values.backend);
    const service = await openService({
      dataDir: dataDirFrom(values, io),
      ...(values.model !== undefined ? { modelDir: values.model } : {}),
      ...(backend ? { backend } : {}),
    });
    try {
      const schema = service.schema;
      if (values.input === undefined && !takesApplicants(schema, applicants)) {
        // The built-in sample is the demo model's: a branch's own model needs its own applicant.
        throw new InputError([
          {
            field: '--input',
            code: 'missing',
            message: `is needed for ${service.model.id}@${service.model.version}: the built-in sample applicant is the demo model's (give --input FILE, JSON or CSV, or - for standard input)`,
          },
        ]);
      }
      let docs;
      try {
        docs = await service.explain(
          format === 'csv' ? applicants.map((row) => numbersFromText(schema, row)) : applicants,
          options,
        );
      } catch (e) {
        if (!lines || !isInputError(e)) throw e;
        // A CSV row is found by its line in the file, not by its place in an array.
        const names = new Set([...schema.features.map((f) => f.name), ...Object.keys(applicants[0] ?? {})]);
        throw new InputError(problemsAtLines(e.problems, lines, names));
      }
      await writeJson(io, single ? docs[0] : docs);
      return 0;
    } finally {
      await service.close();
    }
  },
};
