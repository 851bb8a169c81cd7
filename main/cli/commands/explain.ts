// `branchlens explain`: explains one applicant, a JSON array or a CSV batch; documents go to stdout as JSON.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, isInputError, type Problem } from '../../../shared/problems.js';
import { numbersFromText, type BundleSchema } from '../../../shared/bundle.js';
import { minSteps } from '../../../shared/explain-options.js';
import {
  applicantsFormat,
  csvApplicants,
  csvHeaderProblems,
  decodeApplicantText,
  isJsonText,
  isKnownEncoding,
  parseApplicants,
  ProblemList,
  problemsAtLines,
  quotedValues,
  rowProblemsBesideHeader,
  scanCsv,
  takesApplicants,
  type CsvApplicant,
  type CsvLayout,
  type ParsedApplicants,
} from '../../core/applicants.js';
import { Preprocessor } from '../../core/preprocess.js';
import { resolveTarget } from '../../core/engine.js';
import { BACKENDS, type BackendName } from '../../core/tf/backend.js';
import { tensorflowInstalled } from '../../core/tf/installed.js';
import { samplesDir } from '../../core/paths.js';
import { bundleFolderArg, openService, serviceOptionsFromEnv } from '../service.js';
import {
  printOnceComplete,
  SpoolError,
  withPrivateSpoolFile,
  withSpoolFile,
  type SpoolFile,
} from '../spool.js';
import { checkExplainOptions, countFlag, problemsByFlag } from './explain-flags.js';
import {
  asBuffer,
  DATA_OPTION,
  dataDirFrom,
  intFlag,
  jsonArrayValues,
  parseFlags,
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

/** A file --input names that cannot be read: refused naming it. */
function cannotRead(path: string, e: unknown): InputError {
  return new InputError([
    {
      field: '--input',
      code: 'missing',
      message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    },
  ]);
}

/** The bytes of the file at `path`, as they are read. */
async function* fileBytes(path: string): AsyncGenerator<Buffer, void, undefined> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) yield chunk as Buffer;
  } catch (e) {
    throw cannotRead(path, e);
  }
}

/**
 * The applicants --input (or the built-in sample) gives: JSON, read whole and parsed as parseApplicants reads
 * it; or CSV, read as a stream. Standard input (`-`) that is CSV, or a pipe named by its path, is left to be
 * copied to a private file (`stdin`: its bytes read so far, the iterator of the rest, and what it is called),
 * since a stream cannot be read twice.
 */
type Source =
  | { format: 'json'; parsed: ParsedApplicants }
  | { format: 'csv'; path: string }
  | { format: 'csv'; stdin: { head: Buffer; rest: AsyncIterator<unknown>; name: string } };

/** A source read as often as needed: JSON parsed, a CSV file, or the private copy of standard input's CSV. */
type Rereadable = Exclude<Source, { stdin: unknown }> | { format: 'csv'; copy: string; name: string };

/**
 * Whether the file at `path` gives its bytes only once: a pipe named by its path (`--input /dev/stdin` in a
 * pipeline, bash's `--input <(iconv …)`), which opened again gives what is left of it, or nothing. It is read
 * as standard input is. One that cannot be looked at is left to the reading to name.
 */
function readOnce(path: string): boolean {
  try {
    return !statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Reads as much of `source` as says what it holds (see applicantsFormat), and a JSON file whole. */
async function openSource(
  source: string,
  name: string,
  io: CliIo,
  decoding: { encoding?: string; encodingFlag: string },
): Promise<Source> {
  const { encoding } = decoding;
  const chunks: Buffer[] = [];
  const once = source === '-' || readOnce(source);
  const stream = source === '-' ? io.stdin : createReadStream(source, { highWaterMark: 64 * 1024 });
  const rest = stream[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  let format: 'json' | 'csv' | undefined;
  try {
    while (format === undefined) {
      const next = await rest.next();
      if (!next.done) chunks.push(asBuffer(next.value));
      format = applicantsFormat(Buffer.concat(chunks), next.done === true, encoding);
    }
  } catch (e) {
    if (source !== '-') await rest.return?.();
    throw source === '-' ? e : cannotRead(source, e);
  }
  // A file is opened again to be read; a pipe is read on from here.
  if (!once) await rest.return?.();
  if (format === 'csv') {
    const name = source === '-' ? 'standard input' : source;
    return once ? { format, stdin: { head: Buffer.concat(chunks), rest, name } } : { format, path: source };
  }
  let bytes: Buffer;
  if (once) {
    try {
      for (let next = await rest.next(); !next.done; next = await rest.next()) {
        chunks.push(asBuffer(next.value));
      }
    } catch (e) {
      throw source === '-' ? e : cannotRead(source, e);
    }
    bytes = Buffer.concat(chunks);
  } else {
    try {
      bytes = readFileSync(source);
    } catch (e) {
      throw cannotRead(source, e);
    }
  }
  return { format, parsed: parseApplicants(decodeApplicantText(bytes, '--input', decoding), name) };
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
  const decoding = { ...(encoding !== undefined ? { encoding } : {}), encodingFlag: '--encoding' };
  const opened = await openSource(source, input === undefined ? source : '--input', io, decoding);
  // A CSV file is read through before the data folder is opened, as a JSON file is parsed: one that is not CSV,
  // or whose rows do not match its header, leaves nothing behind. Its rows are not kept: they are read again to
  // be checked against the model, then again to be explained, and memory does not grow with the file.
  const explainFrom = async (from: Rereadable): Promise<number> => {
    const scanned =
      from.format === 'csv'
        ? await scanCsv(() => fileBytes('copy' in from ? from.copy : from.path), '--input', decoding)
        : undefined;
    const service = await openService({
      ...fromEnv,
      dataDir: dataDirFrom(values, io),
      ...(modelDir !== undefined ? { modelDir } : {}),
      ...(backend ? { backend } : {}),
    });
    try {
      const schema = service.schema;
      // Every row is checked before the first is explained, with the class --target names and the --baseline
      // applicant: a bad row anywhere refuses the whole file, and nothing is decided or audited.
      const problems = requestProblems(schema, options);
      const explain = (chunks: AsyncIterable<Chunk>, total: number, single: boolean) =>
        explainChunks(io, service, options, chunks, total, single);
      if (from.format === 'json') {
        const { applicants, single } = from.parsed;
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
        try {
          new Preprocessor(schema).encodeAll(applicants, 'caller');
        } catch (e) {
          if (!isInputError(e)) throw e;
          // One at a time: a batch of 200,000 bad values would overflow the stack as push's arguments.
          for (const p of e.problems) problems.push(quotedValues(p));
        }
        if (problems.length) throw new InputError(problems);
        await explain(jsonChunks(applicants, chunkSize), applicants.length, single);
        return 0;
      }
      // The rows are checked, then explained, from a copy of this run's own (0600): what is explained is what was
      // checked, whatever becomes of the file meanwhile. A file is copied to the data folder's tmp/ as its rows are
      // checked; standard input was copied before the data folder was opened, and is read from that copy.
      const name = 'copy' in from ? from.name : from.path;
      const explainCsv = async (
        copy: string,
        original?: string,
        append?: (bytes: Buffer) => Promise<void>,
      ) => {
        const checked = csvApplicants(fileBytes(original ?? copy), scanned!, {
          source: '--input',
          decoding,
          ...(append !== undefined ? { onBytes: append } : {}),
          changed: () =>
            new InputError([
              {
                field: '--input',
                code: 'invalid',
                message: `${name} changed while it was read (once to check every row, then again to explain them): nothing was decided; run again once nothing is writing to it`,
              },
            ]),
        });
        const rowProblems = await csvRowProblems(schema, scanned!, checked);
        if (problems.length || rowProblems.size) throw rowProblems.error(problems);
        const rows = csvApplicants(fileBytes(copy), scanned!, {
          source: '--input',
          decoding,
          changed: () => new Error(`${copy} changed while its rows were explained`),
        });
        await explain(csvChunks(schema, scanned!, rows, chunkSize), scanned!.rows, false);
      };
      if ('copy' in from) await explainCsv(from.copy);
      else {
        const path = from.path;
        await withSpoolFile(io, service.dataDir, 'csv', (copy) => explainCsv(copy.path, path, copyTo(copy)));
      }
      return 0;
    } finally {
      await service.close();
    }
  };
  if (!('stdin' in opened)) return explainFrom(opened);
  // Standard input (or a pipe) gives its bytes once: a CSV batch's are copied first, outside the data folder, and
  // read through from the copy as a file is, so that an input that is refused leaves nothing behind either (a
  // mistyped --data would have created an installation). Memory does not grow with it.
  return withPrivateSpoolFile(io, 'csv', async (copy) => {
    const append = copyTo(copy);
    await append(opened.stdin.head);
    for (let next = await opened.stdin.rest.next(); !next.done; next = await opened.stdin.rest.next()) {
      await append(asBuffer(next.value));
    }
    return explainFrom({ format: 'csv', copy: copy.path, name: opened.stdin.name });
  });
}

/** Applicants of one explain call, and for a CSV file the line of each. */
interface Chunk {
  rows: Record<string, unknown>[];
  lines?: number[];
}

async function* jsonChunks(
  applicants: readonly Record<string, unknown>[],
  size: number,
): AsyncGenerator<Chunk, void, undefined> {
  for (let at = 0; at < applicants.length; at += size) yield { rows: applicants.slice(at, at + size) };
}

/** A CSV file's rows, `size` at a time, their cells read as the numbers they spell (see numbersFromText). */
async function* csvChunks(
  schema: BundleSchema,
  layout: CsvLayout,
  rows: AsyncIterable<CsvApplicant>,
  size: number,
): AsyncGenerator<Chunk, void, undefined> {
  let chunk: Required<Chunk> = { rows: [], lines: [] };
  for await (const { applicant, line } of rows) {
    chunk.rows.push(numbersFromText(schema, applicant, layout.header.delimiter));
    chunk.lines.push(line);
    if (chunk.rows.length < size) continue;
    yield chunk;
    chunk = { rows: [], lines: [] };
  }
  if (chunk.rows.length) yield chunk;
}

/** Appends to a spool file: an input's copy. */
function copyTo({ path, handle }: SpoolFile): (bytes: Buffer) => Promise<void> {
  return async (bytes) => {
    try {
      await handle.writeFile(bytes);
    } catch (e) {
      throw new SpoolError(path, 'write', e, {}, 'csv');
    }
  };
}

/** The problems of the request itself: the class --target names, and the --baseline applicant. */
function requestProblems(schema: BundleSchema, options: { target?: string; baseline: unknown }): Problem[] {
  const problems: Problem[] = [];
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
      new Preprocessor(schema).encode(options.baseline, 'baseline.', 'caller');
    } catch (e) {
      if (!isInputError(e)) throw e;
      problems.push(...problemsByFlag(e.problems).map(quotedValues));
    }
  }
  return problems;
}

/**
 * The problems of a CSV file's header and rows with the model, each row's found by the line it starts on in the
 * file. A header's mistake (a column in lower case) is said once, not on every row of the file; the rows'
 * problems are counted past the first ones (ProblemList), not kept.
 */
async function csvRowProblems(
  schema: BundleSchema,
  layout: CsvLayout,
  rows: AsyncIterable<CsvApplicant>,
): Promise<ProblemList> {
  const preprocessor = new Preprocessor(schema);
  const header = csvHeaderProblems(schema, layout.header);
  const besideHeader = {
    absent: header.absent,
    namesNone: layout.header.columns.every((c) => header.unknown.has(c.name)),
  };
  const problems = new ProblemList();
  for (const p of header.problems) problems.add(p);
  for await (const { applicant, line } of rows) {
    const row = numbersFromText(schema, applicant, layout.header.delimiter);
    try {
      // Each row as the first of a file of many: its problems are named `[0].Time`, then by its line.
      preprocessor.encode(header.unknown.size ? withoutKeys(row, header.unknown) : row, '[0].', 'caller');
    } catch (e) {
      if (!isInputError(e)) throw e;
      const named = problemsAtLines(rowProblemsBesideHeader(e.problems, besideHeader), [line], new Set(), 2);
      for (const p of named) problems.add(p);
    }
  }
  return problems;
}

/**
 * Explains the batch's applicants one call (`chunks`' each) after another, and prints their documents once every
 * applicant is decided: each call's go to a spool file as they come, so that a batch that fails leaves no
 * partial output, and memory holds one call's documents.
 */
async function explainChunks(
  io: CliIo,
  service: Awaited<ReturnType<typeof openService>>,
  options: Parameters<Awaited<ReturnType<typeof openService>>['explainJson']>[1],
  chunks: AsyncIterable<Chunk>,
  total: number,
  single: boolean,
): Promise<void> {
  await printOnceComplete(io, service.dataDir, async (append) => {
    const calls = chunks[Symbol.asyncIterator]();
    try {
      for (let at = 0; ;) {
        let next: IteratorResult<Chunk>;
        try {
          next = await calls.next();
        } catch (e) {
          throw chunkFailure(e, at, total, undefined);
        }
        if (next.done) return;
        const { rows, lines } = next.value;
        let texts: string[];
        try {
          texts = await service.explainJson(rows, options);
        } catch (e) {
          throw chunkFailure(e, at, total, lines);
        }
        const docs = texts.map((text) => JSON.parse(text) as unknown);
        try {
          await append(
            single
              ? JSON.stringify(docs[0], null, 2) + '\n'
              : jsonArrayValues(docs, { first: at === 0, last: at + rows.length >= total }),
          );
        } catch (e) {
          throw chunkFailure(e, at + docs.length, total, lines);
        }
        at += rows.length;
      }
    } finally {
      // A batch that failed stops reading its rows: the file they are read from is closed before it is removed.
      await calls.return?.();
    }
  });
}

/** `row` less the columns in `keys`. */
function withoutKeys(row: Record<string, unknown>, keys: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !keys.has(k)));
}

/**
 * A failed explain call of the batch's applicants from `done` on, as the error to report: the request's problems
 * named by flag (the rows were checked before), and when earlier calls succeeded, how many applicants were
 * already decided and audited, though not printed. `lines`: the call's rows' lines in a CSV file.
 */
function chunkFailure(e: unknown, done: number, total: number, lines: readonly number[] | undefined): Error {
  const already =
    done > 0
      ? `${done} of the ${total} applicants were already decided and audited before this failure; their documents were not printed`
      : '';
  if (isInputError(e)) {
    // Rows' problems name their place in this call ([j], or `applicant` in a call of one, as the engine names
    // a row whose explanation overflowed): put them back at their line in the file, or their place in the array.
    const inCall = e.problems.map((p) => (p.field === 'applicant' && total > 1 ? { ...p, field: '[0]' } : p));
    const atFile = lines
      ? problemsAtLines(inCall, lines, new Set(), total)
      : inCall.map((p) => {
          const row = /^\[(\d+)\](.*)$/.exec(p.field);
          return row ? { ...p, field: `[${done + Number(row[1])}]${row[2]}` } : p;
        });
    const named = problemsByFlag(atFile);
    return new InputError(
      already ? [...named, { field: '--input', code: 'invalid', message: already }] : named,
    );
  }
  if (!already) return e as Error;
  const err = e as Error;
  return new Error(`${err.message} (${already})`, { cause: err });
}
