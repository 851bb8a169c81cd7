// `branchlens explain`: explains one applicant, a JSON array or a CSV batch; documents go to stdout as JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, isInputError, type Problem } from '../../../shared/problems.js';
import { numbersFromText } from '../../../shared/bundle.js';
import { minSteps } from '../../../shared/explain-options.js';
import {
  csvHeaderProblems,
  decodeApplicantText,
  isJsonText,
  isKnownEncoding,
  parseApplicants,
  problemsAtLines,
  quotedValues,
  rowProblemsBesideHeader,
  takesApplicants,
} from '../../core/applicants.js';
import { Preprocessor } from '../../core/preprocess.js';
import { resolveTarget } from '../../core/engine.js';
import { BACKENDS, type BackendName } from '../../core/tf/backend.js';
import { tensorflowInstalled } from '../../core/tf/installed.js';
import { samplesDir } from '../../core/paths.js';
import { bundleFolderArg, openService, serviceOptionsFromEnv } from '../service.js';
import { printOnceComplete } from '../spool.js';
import { checkExplainOptions, countFlag, problemsByFlag } from './explain-flags.js';
import {
  DATA_OPTION,
  dataDirFrom,
  intFlag,
  jsonArrayValues,
  parseFlags,
  readAllBytes,
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
  encoding: { type: 'string' },
} as const;

export const USAGE =
  'branchlens explain [--model DIR] [--input FILE|-] [--method M] [--steps N] [--internal-batch-size N] [--target T] ' +
  '[--baseline FILE|schema|zeros] [--layer NAME|INDEX [--layer-inputs]] [--backend tensorflow|wasm|cpu] [--detail] ' +
  '[--locale zh-CN|en] [--top-k K] [--encoding E] [--data DIR]';

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

/**
 * `--model DIR`, checked before the data folder is opened (see bundleFolderArg). An empty path would be no
 * folder to the service, which would then serve the active model instead.
 */
export function modelDirFlag(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return bundleFolderArg(
    '--model',
    raw,
    'name a model bundle folder (leave --model out for the active model)',
  );
}

/** A flag naming a file, refused when empty (a script's unset variable) rather than read as no file. */
function fileFlag(flag: string, raw: string | undefined, what: string): string | undefined {
  if (raw === undefined || raw.trim() !== '') return raw;
  throw new InputError([{ field: flag, code: 'missing', message: `is empty: ${what}` }]);
}

/** The file or standard input (`-`) --input names, decoded as decodeApplicantText says (see --encoding). */
async function readSource(path: string, io: CliIo, encoding: string | undefined): Promise<string> {
  let bytes: Buffer;
  if (path === '-') bytes = await readAllBytes(io.stdin);
  else {
    try {
      bytes = readFileSync(path);
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
  return decodeApplicantText(bytes, '--input', {
    ...(encoding !== undefined ? { encoding } : {}),
    encodingFlag: '--encoding',
  });
}

function encodingFlag(raw: string | undefined): string | undefined {
  if (raw === undefined || isKnownEncoding(raw)) return raw;
  throw new InputError([
    {
      field: '--encoding',
      code: 'invalid',
      message: `"${raw}" is not an encoding this installation can read (e.g. utf-8, gb18030, gbk, big5, utf-16le)`,
    },
  ]);
}

function baselineFrom(raw: string | undefined): unknown {
  if (raw === undefined || raw === 'schema' || raw === 'zeros') return raw ?? 'schema';
  let bytes: Buffer;
  try {
    bytes = readFileSync(raw);
  } catch {
    throw new InputError([
      {
        field: '--baseline',
        code: 'missing',
        message: `must be "schema", "zeros" or a JSON file; cannot read ${raw}`,
      },
    ]);
  }
  const text = decodeApplicantText(bytes, '--baseline');
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

/**
 * Applicants per service.explain call. The service refuses a call beyond its queue (4,096 applicants waiting for
 * an engine) as busy, which a CLI batch, its only caller, would be forever: a file is explained in calls this
 * size, one after another.
 */
export const EXPLAIN_CHUNK = 1024;

/** `branchlens explain`, explaining a batch `chunkSize` applicants at a time (tests make it small). */
export function explainCommandWith({ chunkSize = EXPLAIN_CHUNK }: { chunkSize?: number } = {}): Command {
  return {
    name: 'explain',
    summary:
      "Explain applicants with Integrated Gradients (default: the active model, and the demo model's first sample applicant).",
    usage: USAGE,
    run: (argv, io) => runExplain(argv, io, Math.max(1, chunkSize)),
  };
}

export const explainCommand: Command = explainCommandWith();

async function runExplain(argv: string[], io: CliIo, chunkSize: number): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  // Without --locale, the stored setting (as top-K, method and steps): the language the branch chose.
  const locale = values.locale;
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
    values.layer === undefined ? undefined : /^\d+$/.test(values.layer) ? Number(values.layer) : values.layer;
  // --steps and --internal-batch-size as any whole number: the options schema (checkExplainOptions) says which
  // are too few or too many, with the method's own least for --steps.
  const options = {
    ...(values.method !== undefined ? { method: values.method } : {}),
    ...(values.steps !== undefined
      ? { n_steps: countFlag('--steps', values.steps, minSteps(values.method ?? 'gausslegendre')) }
      : {}),
    ...(values['internal-batch-size'] !== undefined
      ? { internal_batch_size: countFlag('--internal-batch-size', values['internal-batch-size'], 1) }
      : {}),
    // As typed: the engine reads text naming a class as that class (classes may be named "1" and "2"), and other
    // digits as an index.
    ...(values.target !== undefined ? { target: values.target } : {}),
    baseline: baselineFrom(
      fileFlag(
        '--baseline',
        values.baseline,
        'give "schema", "zeros" or a JSON file (leave --baseline out for "schema")',
      ),
    ),
    ...(layer !== undefined ? { layer, attribute_to_layer_inputs: values['layer-inputs'] ?? false } : {}),
    ...(values['top-k'] !== undefined ? { top_k: intFlag('top-k', values['top-k'], 0, 0) } : {}),
    ...(locale !== undefined ? { locale } : {}),
    detail: values.detail ?? false,
  };
  // Before the data folder is opened (or created): a mistyped flag leaves nothing behind.
  checkExplainOptions(options, {
    method: values.method,
    n_steps: values.steps,
    internal_batch_size: values['internal-batch-size'],
    target: values.target,
    layer: values.layer,
    top_k: values['top-k'],
    locale,
  });
  const encoding = encodingFlag(values.encoding);
  const modelDir = modelDirFlag(values.model);
  const backend = parseBackend(values.backend);
  const fromEnv = serviceOptionsFromEnv(io.env);
  const input = fileFlag('--input', values.input, 'name a JSON or CSV file, or - for standard input');
  const source = input ?? join(samplesDir(), 'sample-1.json');
  const { applicants, single, format, lines, header } = parseApplicants(
    await readSource(source, io, encoding),
    input === undefined ? source : '--input',
  );
  const service = await openService({
    ...fromEnv,
    dataDir: dataDirFrom(values, io),
    ...(modelDir !== undefined ? { modelDir } : {}),
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
    const rows = format === 'csv' ? applicants.map((row) => numbersFromText(schema, row)) : applicants;
    // Every row is checked before the first is explained, with the class --target names and the --baseline
    // applicant: a bad row anywhere refuses the whole file, and nothing is decided or audited. A CSV row is
    // found by its line in the file, not by its place in an array.
    const problems: Problem[] = [];
    const preprocessor = new Preprocessor(schema);
    try {
      resolveTarget(schema, options.target);
    } catch (e) {
      if (!isInputError(e)) throw e;
      problems.push(...problemsByFlag(e.problems));
    }
    if (typeof options.baseline === 'object') {
      // The engine reads a baseline as it reads its own (a bundle's, which may give numbers as text): one from
      // the officer is held to --input's rules, so `"Amount": "1500"` is refused here as it is there.
      try {
        preprocessor.encode(options.baseline, 'baseline.', 'caller');
      } catch (e) {
        if (!isInputError(e)) throw e;
        problems.push(...problemsByFlag(e.problems).map(quotedValues));
      }
    }
    // A CSV header's mistake (a column in lower case) is said once, not on every row of the file.
    const headerCheck = header ? csvHeaderProblems(schema, header) : undefined;
    if (headerCheck) problems.push(...headerCheck.problems);
    try {
      preprocessor.encodeAll(
        headerCheck?.unknown.size ? rows.map((row) => withoutKeys(row, headerCheck.unknown)) : rows,
        'caller',
      );
    } catch (e) {
      if (!isInputError(e)) throw e;
      const names = new Set([...schema.features.map((f) => f.name), ...Object.keys(applicants[0] ?? {})]);
      const rowProblems = headerCheck
        ? rowProblemsBesideHeader(e.problems, {
            absent: headerCheck.absent,
            namesNone: header!.columns.every((c) => headerCheck.unknown.has(c.name)),
          })
        : e.problems;
      // One at a time: a batch of 200,000 bad cells would overflow the stack as push's arguments.
      for (const p of lines ? problemsAtLines(rowProblems, lines, names) : rowProblems.map(quotedValues)) {
        problems.push(p);
      }
    }
    if (problems.length) throw new InputError(problems);
    // Each call's documents go to a spool file as they come, and standard output gets them once every applicant
    // is decided: a batch that fails leaves no partial output, and memory holds one call's documents.
    await printOnceComplete(io, service.dataDir, async (append) => {
      for (let at = 0; at < rows.length; at += chunkSize) {
        let texts: string[];
        try {
          texts = await service.explainJson(rows.slice(at, at + chunkSize), options);
        } catch (e) {
          throw chunkFailure(e, at, rows.length, lines);
        }
        const docs = texts.map((text) => JSON.parse(text) as unknown);
        try {
          await append(
            single
              ? JSON.stringify(docs[0], null, 2) + '\n'
              : jsonArrayValues(docs, { first: at === 0, last: at + chunkSize >= rows.length }),
          );
        } catch (e) {
          throw chunkFailure(e, at + docs.length, rows.length, lines);
        }
      }
    });
    return 0;
  } finally {
    await service.close();
  }
}

/** `row` less the columns in `keys`. */
function withoutKeys(row: Record<string, unknown>, keys: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !keys.has(k)));
}

/**
 * A failed explain call of the batch's applicants from `done` on, as the error to report: the request's problems
 * named by flag (the rows were checked before), and when earlier calls succeeded, how many applicants were
 * already decided and audited, though not printed.
 */
function chunkFailure(e: unknown, done: number, total: number, lines: readonly number[] | undefined): Error {
  const already =
    done > 0
      ? `${done} of the ${total} applicants were already decided and audited before this failure; their documents were not printed`
      : '';
  if (isInputError(e)) {
    // Rows' problems would name their place in this call ([j], or `applicant` in a call of one, as the engine names
    // a row whose explanation overflowed): put them back at their place in the file.
    const atFile = e.problems.map((p) => {
      if (p.field === 'applicant' && total > 1) return { ...p, field: `[${done}]` };
      const row = /^\[(\d+)\](.*)$/.exec(p.field);
      return row ? { ...p, field: `[${done + Number(row[1])}]${row[2]}` } : p;
    });
    const named = problemsByFlag(lines ? problemsAtLines(atFile, lines, new Set()) : atFile);
    return new InputError(
      already ? [...named, { field: '--input', code: 'invalid', message: already }] : named,
    );
  }
  if (!already) return e as Error;
  const err = e as Error;
  return new Error(`${err.message} (${already})`, { cause: err });
}
