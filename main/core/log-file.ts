// The desktop app's own log: a file under the OS's logs folder, where support finds what the console would have
// shown (a packaged app on Windows has no console). One line per record, stamped; an error's stack follows on
// indented lines. Rotated by size, a few files kept. Writing it never fails the app: a log that cannot be
// written is skipped, and the caller still prints to the console.
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogFileOptions {
  /** The folder (Electron: app.getPath('logs')); created when missing. */
  dir: string;
  /** Default branchlens.log; rotated files are name.1 (newest) to name.<keep>. */
  name?: string;
  /** Rotate before a record would take the file past this size. Default 5 MiB. */
  maxBytes?: number;
  /** Rotated files kept beside the current one. Default 3. */
  keep?: number;
  now?: () => Date;
}

export class LogFile {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #now: () => Date;
  #size: number | undefined;

  constructor(opts: LogFileOptions) {
    this.path = join(opts.dir, opts.name ?? 'branchlens.log');
    this.#maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
    this.#keep = Math.max(0, opts.keep ?? 3);
    this.#now = opts.now ?? (() => new Date());
    try {
      mkdirSync(opts.dir, { recursive: true });
    } catch {
      // write() reports nothing either: the console still has it.
    }
  }

  /** Appends one record; returns whether it was written. */
  write(level: LogLevel, message: string, error?: unknown): boolean {
    const detail =
      error === undefined ? '' : error instanceof Error ? (error.stack ?? String(error)) : inspect(error);
    const text = [message, detail].filter(Boolean).join('\n');
    const [first = '', ...rest] = text.split(/\r?\n/);
    const record =
      `${this.#now().toISOString()} ${level.toUpperCase().padEnd(5)} ${first}\n` +
      rest.map((l) => `    ${l}\n`).join('');
    const bytes = Buffer.byteLength(record);
    try {
      this.#size ??= statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
      if (this.#size > 0 && this.#size + bytes > this.#maxBytes) {
        try {
          this.#rotate();
        } catch {
          // A log file held open elsewhere cannot be renamed on Windows (a viewer, an antivirus scan): the record
          // goes on the end of the current file, past the bound, rather than nowhere; the next record tries again.
        }
      }
      appendFileSync(this.path, record, { mode: 0o600 });
      this.#size += bytes;
      return true;
    } catch {
      this.#size = undefined;
      return false;
    }
  }

  #rotate(): void {
    rmSync(`${this.path}.${this.#keep}`, { force: true });
    for (let i = this.#keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch {
        // not there yet
      }
    }
    if (this.#keep > 0) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.#size = 0;
  }
}

/** What Logger prints to (the console). */
export type LogConsole = Pick<Console, 'log' | 'warn' | 'error'>;

/**
 * Prints to the console, as before, and keeps the same record in a LogFile: the file is made on the first
 * record (`file` is asked then, e.g. once Electron knows its logs folder) and skipped if it cannot be had.
 */
export class Logger {
  #file: LogFile | null | undefined;

  constructor(
    private readonly file: () => LogFile,
    private readonly out: LogConsole = console,
  ) {}

  /** Where the records go (null when no log file could be had). */
  get path(): string | null {
    return this.#open()?.path ?? null;
  }

  info(message: string): void {
    this.out.log(`BranchLens: ${message}`);
    this.#open()?.write('info', message);
  }

  warn(message: string, error?: unknown): void {
    if (error === undefined) this.out.warn(`BranchLens: warning: ${message}`);
    else this.out.warn(`BranchLens: warning: ${message}`, error);
    this.#open()?.write('warn', message, error);
  }

  error(message: string, error?: unknown): void {
    if (error === undefined) this.out.error(`BranchLens: ${message}`);
    else this.out.error(`BranchLens: ${message}`, error);
    this.#open()?.write('error', message, error);
  }

  /** The file alone, for what the console shows already (Node prints its own process warnings). */
  fileOnly(level: LogLevel, message: string, error?: unknown): void {
    this.#open()?.write(level, message, error);
  }

  #open(): LogFile | null {
    if (this.#file === undefined) {
      try {
        this.#file = this.file();
      } catch {
        this.#file = null;
      }
    }
    return this.#file;
  }
}
