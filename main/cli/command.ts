// The shape of a CLI command, and the shared parsing helpers that turn bad flags into named problems.
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError, wholeNumber } from '../../shared/problems.js';
import { checkDataDir, DataDirError, ensureDataDir, resolveDataDir } from '../core/data-dir.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  /** One or two words: "explain", "audit verify". */
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The option every command that touches the data dir accepts. */
export const DATA_OPTION = { data: { type: 'string' } } as const;

/** parseArgs, with unknown options and missing values reported as InputError naming the flag. */
export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    const msg = (e as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1] ?? 'arguments';
    throw new InputError([
      { field: flag, code: 'invalid', message: msg.replace(/\. To specify a positional.*$/s, '') },
    ]);
  }
  // A flag given twice would silently take its last value (`--export a --export b` checked only b): refuse it.
  const seen = new Map<string, number>();
  for (const t of parsed.tokens) {
    if (t.kind === 'option') seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  }
  const twice = [...seen].filter(([name, n]) => n > 1 && !options[name]?.multiple);
  if (twice.length) {
    throw new InputError(
      twice.map(([name, n]) => ({
        field: `--${name}`,
        code: 'invalid' as const,
        message: `is given ${n} times; give it once`,
      })),
    );
  }
  const { tokens: _tokens, ...rest } = parsed;
  return rest;
}

/**
 * Where the data folder came from, in resolveDataDir's order: the flag, then the variable, else null (the
 * default). Problems and notes about the folder name it.
 */
export function dataDirSource(
  values: { data?: unknown },
  env: NodeJS.ProcessEnv,
): '--data' | '$BRANCHLENS_DATA' | null {
  if (typeof values.data === 'string') return '--data';
  return env.BRANCHLENS_DATA !== undefined ? '$BRANCHLENS_DATA' : null;
}

/**
 * The data folder from --data, $BRANCHLENS_DATA or the default, created if missing (unless `create` is false,
 * for readers). A folder that cannot be created or written is an InputError naming where it came from. A
 * folder created here is said on stderr: a mistyped --data starts a new installation, with an audit log and
 * keys of its own, and the officer must be able to tell.
 */
export function dataDirFrom(values: { data?: unknown }, io: CliIo, { create = true } = {}): string {
  const from = dataDirSource(values, io.env);
  // An unset variable in a script (`--data "$DIR"`) must not fall through to the desktop's own audit log.
  const given = from === '--data' ? values.data : from ? io.env.BRANCHLENS_DATA : undefined;
  if (typeof given === 'string' && given.trim() === '') {
    throw new InputError([
      {
        field: from!,
        code: 'missing',
        message:
          from === '--data'
            ? 'is empty: name the data folder (leave --data out for the default one)'
            : 'is empty: name the data folder, or unset it for the default one',
      },
    ]);
  }
  let dir: string | undefined;
  try {
    dir = resolveDataDir(typeof values.data === 'string' ? values.data : undefined, io.env);
    if (!create) return checkDataDir(dir);
    const existed = existsSync(dir);
    ensureDataDir(dir);
    if (!existed) {
      io.stderr.write(
        from
          ? `note: ${dir} did not exist: it now holds a new installation, with its own audit log and keys. If you meant an existing one, check ${from}.\n`
          : `note: first run: the data folder (audit log, keys, models) is ${dir}\n`,
      );
    }
    return dir;
  } catch (e) {
    if (!(e instanceof DataDirError)) throw e;
    const hint = from ? '' : ' (the default data folder; choose another with --data DIR)';
    throw new InputError([
      { field: from ?? '--data', code: 'invalid', message: `cannot use ${dir ?? e.dir}${hint}: ${e.reason}` },
    ]);
  }
}

/** A whole number from a flag, or an InputError naming the flag. */
export function intFlag(flag: string, raw: string | undefined, fallback: number, min = 0): number {
  return raw === undefined ? fallback : wholeNumber(`--${flag}`, raw, min);
}

/** A piece of a stream as bytes: a stream in text mode (standard input in a test) gives strings. */
export function asBuffer(piece: unknown): Buffer {
  return typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
}

export async function readAllBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(asBuffer(c));
  return Buffer.concat(chunks);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return (await readAllBytes(stream)).toString('utf8');
}

/** Streams whose failed writes are reported by the writer, and the first error each emitted. */
const guarded = new WeakMap<NodeJS.WritableStream, { error?: Error }>();

/**
 * Keeps a failed write on `stream` (a closed pipe, a full disk) from crashing the process: a stream emits
 * 'error' after the write's callback, and may again on a later write, and with no listener left Node throws it
 * with a stack. The first error is kept for writeOut. main() guards standard output and error once per run.
 */
export function guardOutput(stream: NodeJS.WritableStream): { error?: Error } {
  let state = guarded.get(stream);
  if (!state) {
    const s: { error?: Error } = {};
    stream.on('error', (e: Error) => {
      s.error ??= e;
    });
    guarded.set(stream, s);
    state = s;
  }
  return state;
}

/** A write to standard output that failed: exit 1, with this one line. */
export class OutputError extends Error {
  constructor(cause: Error) {
    super(`cannot write standard output: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`, {
      cause,
    });
    this.name = 'OutputError';
  }
}

/**
 * Writes `text` (or bytes) to standard output and waits until it is written: a closed pipe or a full disk is an
 * OutputError (exit 1, saying so), never a crash, nor a truncated file under exit 0. Every command writes its
 * standard output through here.
 */
export function writeOut(io: CliIo, text: string | Uint8Array): Promise<void> {
  const state = guardOutput(io.stdout);
  if (state.error) return Promise.reject(new OutputError(state.error));
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (e?: Error | null) => {
      if (settled) return;
      settled = true;
      io.stdout.off('error', done);
      if (e) reject(new OutputError(e));
      else resolve();
    };
    io.stdout.on('error', done);
    io.stdout.write(text, done);
  });
}

/** Documents per write when an array is written in parts (a batch of 100,000 would be one huge string). */
const ITEMS_PER_WRITE = 512;

/**
 * Writes JSON to standard output, indented by two spaces, and waits until it is written (see writeOut). A long
 * array goes out in parts, byte for byte as JSON.stringify(value, null, 2) would write it.
 */
export async function writeJson(io: CliIo, value: unknown): Promise<void> {
  if (!Array.isArray(value) || value.length <= ITEMS_PER_WRITE) {
    return writeOut(io, JSON.stringify(value, null, 2) + '\n');
  }
  for (let at = 0; at < value.length; at += ITEMS_PER_WRITE) {
    const last = at + ITEMS_PER_WRITE >= value.length;
    await writeOut(io, jsonArrayValues(value.slice(at, at + ITEMS_PER_WRITE), { first: at === 0, last }));
  }
}

/**
 * Consecutive values of a JSON array as JSON.stringify(array, null, 2) + '\n' spells them: the `first` part opens
 * the array, the `last` closes it and ends the line, and the parts written in order are the whole array byte for
 * byte. The part's values are stringified together, in one call.
 */
export function jsonArrayValues(
  values: readonly unknown[],
  { first, last }: { first: boolean; last: boolean },
): string {
  if (values.length === 0) return first && last ? '[]\n' : '';
  // "[\n" + each value indented by two + "\n]": the values' lines as the whole array has them.
  const inner = JSON.stringify(values, null, 2).slice(2, -2);
  return `${first ? '[\n' : ',\n'}${inner}${last ? '\n]\n' : ''}`;
}
