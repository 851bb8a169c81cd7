// Repeated log lines, bounded: with the disk full every request fails alike, and a line per failure (plus Node's
// warning per failed cache write) would write megabytes of the same words to a disk that has no room left. The
// first of a kind is written in full; the rest are counted and said in one summary line per interval.
import { storageFailure } from '../core/db/open.js';

/** How long the repeats of a line are counted before their summary is written. */
export const REPEAT_INTERVAL_MS = 60_000;

export interface RepeatLimiterOptions {
  intervalMs?: number;
  /** For tests: the timers (default setTimeout/clearTimeout, unref'd so that they never keep a process alive). */
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  now?: () => number;
}

/** Writes a summary of `count` repeats, counted over the last `seconds`. */
export type SummaryWriter = (count: number, seconds: number) => void;

interface Window {
  repeats: number;
  summary: SummaryWriter;
  timer: unknown;
  openedAt: number;
}

/** The words of a repeat count: "… 3,260 more like this in the last 60 s". */
export function repeatsLine(count: number, seconds: number): string {
  return `… ${count.toLocaleString('en-US')} more like this in the last ${seconds} s`;
}

/**
 * The key of a line for telling repeats apart: numbers left out, since a repeat may differ only in them (the bytes
 * still free, a sequence number).
 */
export function repeatKey(text: string): string {
  return text.replace(/\d+/g, '#');
}

/**
 * Lets the first line of a kind through, then counts its repeats: at the end of each interval that had any, one
 * summary line; an interval without any ends the window, and the next line of that kind is written in full again.
 */
export class RepeatLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #intervalMs: number;
  readonly #setTimer: (run: () => void, ms: number) => unknown;
  readonly #clearTimer: (timer: unknown) => void;
  readonly #now: () => number;

  constructor(opts: RepeatLimiterOptions = {}) {
    this.#intervalMs = opts.intervalMs ?? REPEAT_INTERVAL_MS;
    this.#setTimer = opts.setTimer ?? ((run, ms) => setTimeout(run, ms).unref());
    this.#clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Whether the line of kind `key` is to be written now (the first of its window). When not, it is counted, and
   * `summary` (the latest given: its words are the latest line's) writes the count at the end of the window.
   */
  admit(key: string, summary: SummaryWriter): boolean {
    const open = this.#windows.get(key);
    if (open) {
      open.repeats++;
      open.summary = summary;
      return false;
    }
    this.#open(key, summary);
    return true;
  }

  #open(key: string, summary: SummaryWriter): void {
    const window: Window = { repeats: 0, summary, timer: undefined, openedAt: this.#now() };
    window.timer = this.#setTimer(() => this.#end(key, window), this.#intervalMs);
    this.#windows.set(key, window);
  }

  #end(key: string, window: Window): void {
    this.#windows.delete(key);
    if (window.repeats === 0) return;
    this.#say(window);
    // Still repeating: the next summary comes at the end of the next interval, not a line in full.
    this.#open(key, window.summary);
  }

  /** Writes the counts not yet said (for as long as they were counted) and stops the timers: at close. */
  close(): void {
    for (const window of this.#windows.values()) {
      this.#clearTimer(window.timer);
      if (window.repeats > 0) this.#say(window);
    }
    this.#windows.clear();
  }

  #say(window: Window): void {
    window.summary(window.repeats, Math.max(1, Math.round((this.#now() - window.openedAt) / 1000)));
  }
}

/** `warning` again, its message saying how many more like it were left out. */
function repeatedWarning(warning: Error, count: number, seconds: number): Error {
  const code = (warning as NodeJS.ErrnoException).code;
  return Object.assign(new Error(`${warning.message} ${repeatsLine(count, seconds)}`), {
    name: warning.name,
    ...(code !== undefined ? { code } : {}),
  });
}

/**
 * Puts the process's warning printers (Node's own, which writes each warning to stderr, unless --no-warnings)
 * behind `limiter`: a warning is printed as before the first time, its repeats as one line per interval. Returns
 * what puts them back.
 */
export function limitWarnings(limiter: RepeatLimiter, target: NodeJS.EventEmitter = process): () => void {
  const printers = target.listeners('warning') as ((warning: Error) => void)[];
  const print = (warning: Error) => printers.forEach((p) => p.call(target, warning));
  const limited = (warning: Error) => {
    const summary: SummaryWriter = (count, seconds) => print(repeatedWarning(warning, count, seconds));
    if (limiter.admit(repeatKey(`${warning.name}: ${warning.message}`), summary)) print(warning);
  };
  for (const p of printers) target.off('warning', p);
  target.on('warning', limited);
  return () => {
    target.off('warning', limited);
    for (const p of printers) target.on('warning', p);
  };
}

/** The part of a logger logFailure writes to (pino's and Fastify's). */
export interface ErrorLog {
  error(fields: object, msg: string): void;
}

/**
 * Logs a failure worth logging (worthLogging): an internal error in full, with its stack, for it is a bug; a
 * storage failure as the sentence that says what is wrong (a full disk is no bug, and its stack says nothing
 * more), its repeats counted by `limiter` rather than written each.
 */
export function logFailure(
  log: ErrorLog,
  limiter: RepeatLimiter,
  e: unknown,
  msg: string,
  fields: object = {},
): void {
  const storage = storageFailure(e);
  if (storage === undefined) {
    log.error({ err: e, ...fields }, msg);
    return;
  }
  const line = `${msg}: ${storage}`;
  const code = (e as { code?: unknown } | null)?.code;
  const summary: SummaryWriter = (count, seconds) =>
    log.error(fields, `${line} ${repeatsLine(count, seconds)}`);
  if (limiter.admit(repeatKey(line), summary)) {
    log.error({ ...fields, ...(typeof code === 'string' ? { code } : {}) }, line);
  }
}
