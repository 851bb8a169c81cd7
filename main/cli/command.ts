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
  if (typeof values.data === 'string' && values.data) return '--data';
  return env.BRANCHLENS_DATA ? '$BRANCHLENS_DATA' : null;
}

/**
 * The data folder from --data, $BRANCHLENS_DATA or the default, created if missing (unless `create` is false,
 * for readers). A folder that cannot be created or written is an InputError naming where it came from. A
 * folder created here is said on stderr: a mistyped --data starts a new installation, with an audit log and
 * keys of its own, and the officer must be able to tell.
 */
export function dataDirFrom(values: { data?: unknown }, io: CliIo, { create = true } = {}): string {
  const dir = resolveDataDir(typeof values.data === 'string' ? values.data : undefined, io.env);
  const from = dataDirSource(values, io.env);
  try {
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
      { field: from ?? '--data', code: 'invalid', message: `cannot use ${dir}${hint}: ${e.reason}` },
    ]);
  }
}

/** A whole number from a flag, or an InputError naming the flag. */
export function intFlag(flag: string, raw: string | undefined, fallback: number, min = 0): number {
  return raw === undefined ? fallback : wholeNumber(`--${flag}`, raw, min);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Writes JSON to standard output and waits until it is written: a full disk or a closed pipe is an error (exit
 * 1, saying so), not a truncated file under exit 0.
 */
export function writeJson(io: CliIo, value: unknown): Promise<void> {
  const text = JSON.stringify(value, null, 2) + '\n';
  return new Promise((resolve, reject) => {
    const failed = (e: Error) => {
      io.stdout.off('error', failed);
      reject(new Error(`cannot write standard output: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    };
    io.stdout.once('error', failed);
    io.stdout.write(text, (e) => {
      if (e) return failed(e);
      io.stdout.off('error', failed);
      resolve();
    });
  });
}
