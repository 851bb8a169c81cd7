// The batch in progress, kept outside the page so that it carries on (and is still there) when the officer looks
// at another page. The file is parsed in chunks and the answers arrive in chunks; listeners hear about it at most
// every 100 ms, so a 10,000-row file never keeps the UI thread busy.
import Papa from 'papaparse';
import type { Api, ApiError } from '../../../../shared/contract.js';
import type { BundleSchema } from '../../../../shared/bundle.js';
import type { ExplainOptionsInput } from '../../../../shared/explain-options.js';
import {
  checkRows,
  columnReport,
  headerIsText,
  headerMatcher,
  malformedRows,
  noFeatureColumns,
  repeatedFeatures,
  type BadRow,
  type ColumnReport,
  type GoodRow,
} from './csv-rows.js';
import { excelSeparatorLine } from '../../../../shared/csv-text.js';
import { csvEncoding, type CsvEncoding } from './file-encoding.js';
import { runChunks } from './run-chunks.js';
import { resultRows, type ResultRow } from './results.js';

/**
 * Why a file is refused as a whole, kept as what is wrong rather than as a sentence, so that the page words it in
 * the language of the moment (and again when the officer switches it). `detail`: the browser's own words, when
 * it could not read the file at all.
 */
export type FileRefusal =
  | { kind: 'notCsv'; detail?: string }
  /** Nothing in it but white space (0 bytes, say, or a byte-order mark alone). */
  | { kind: 'emptyFile' }
  | { kind: 'noRows' }
  | { kind: 'noFeatureColumns' }
  /** Required features with no column, by name. */
  | { kind: 'missingRequiredColumns'; features: string[] }
  | { kind: 'repeatedColumns'; repeated: { feature: string; columns: string[] }[] };

/** `interrupted`: the service could not be reached; the rows not yet explained are in `pending`. */
export type BatchPhase =
  'idle' | 'parsing' | 'ready' | 'running' | 'done' | 'cancelled' | 'interrupted' | 'failed';

export interface BatchState {
  phase: BatchPhase;
  fileName: string | null;
  /** What the file was read as (csvEncoding), once its first bytes are read. */
  encoding: CsvEncoding | null;
  columns: ColumnReport | null;
  good: GoodRow[];
  bad: BadRow[];
  results: ResultRow[];
  /** Answered rows (explained or failed). */
  answered: number;
  approved: number;
  declined: number;
  failed: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** A problem with the file as a whole (not CSV, no rows). */
  fileError: FileRefusal | null;
  /** The good rows not yet explained when a run stopped (cancelled, or the service unreachable), in file order. */
  pending: GoodRow[];
  /** Why the last run stopped early, when the service could not be reached. */
  unreachable: ApiError | null;
  /** Bumped on every change: the page's memo key. */
  version: number;
}

const EMPTY: BatchState = {
  phase: 'idle',
  fileName: null,
  encoding: null,
  columns: null,
  good: [],
  bad: [],
  results: [],
  answered: 0,
  approved: 0,
  declined: 0,
  failed: 0,
  startedAt: null,
  finishedAt: null,
  fileError: null,
  pending: [],
  unreachable: null,
  version: 0,
};

export const BATCH_CHUNK_SIZE = 100;
export const BATCH_CONCURRENCY = 2;

/** The text papaparse parses and hands over at a time: ~230 rows, parsed and checked in 3–20 ms (cold first). */
export const READ_CHUNK_CHARS = 16 * 1024;

/**
 * Gives the page its turn (input, a render) before the caller goes on. Not setTimeout(0): timers nested five deep
 * wait 4 ms at least, which a file read in 20 chunks would spend idle.
 */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.addEventListener(
      'message',
      () => {
        port1.close();
        resolve();
      },
      { once: true },
    );
    port1.start();
    port2.postMessage(null);
  });
}

/**
 * The separator papaparse guesses for `text` when told none: from its first chunk, as its chunked parse would.
 * The guess costs more than parsing the chunk (a wrong candidate reads all of it, a quoted cell at a time), so
 * it is a task of its own and the parse is told the answer.
 */
function guessedDelimiter(text: string): string {
  return Papa.parse(text.slice(0, READ_CHUNK_CHARS), { preview: 1, skipEmptyLines: false }).meta.delimiter;
}

export class BatchStore {
  private state: BatchState = EMPTY;
  private listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private cancelled = false;
  private generation = 0;

  /** `pageTurn`: how reading a file lets the page have its turns (a test records them). */
  constructor(private readonly pageTurn: () => Promise<void> = yieldToPage) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): BatchState => this.state;

  /** Mutations of arrays are made in place; a new state object tells React that something changed. */
  private change(patch: Partial<BatchState>, now = false): void {
    this.state = { ...this.state, ...patch, version: this.state.version + 1 };
    if (now) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.emit();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.emit();
      }, 100);
    }
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  reset(): void {
    this.cancelled = true;
    this.generation++;
    this.state = { ...EMPTY, version: this.state.version + 1 };
    this.emit();
  }

  /**
   * Parses and checks a CSV file (16 KiB at a time, the page live between them) in the encoding its bytes show
   * (csvEncoding: a byte-order mark's, else UTF-8, else GB18030), after Excel's `sep=;` line if it starts with one. Columns are
   * matched to features by name or label (headerMatcher); a file that is not text, has no feature column, lacks a
   * column for a required feature (every row would be refused for it) or has two columns for one feature, is
   * refused as a whole.
   */
  async load(file: File, schema: BundleSchema): Promise<void> {
    this.reset();
    const generation = this.generation;
    const good: GoodRow[] = [];
    const bad: BadRow[] = [];
    let columns: ColumnReport | null = null;
    const feature = headerMatcher(schema);
    /** The header as the file writes it (the parser renames a repeated mapped name, e.g. Seniority_1). */
    const rawHeader: string[] = [];
    this.change({ phase: 'parsing', fileName: file.name, good, bad }, true);
    // The whole file is decoded at once: papaparse's own reading decodes each 16 KiB slice alone, which breaks a
    // character cut by a slice's end into U+FFFD.
    let text: string;
    let encoding: CsvEncoding;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      encoding = csvEncoding(bytes);
      text = new TextDecoder(encoding).decode(bytes);
    } catch (e) {
      if (generation === this.generation)
        this.change({ phase: 'failed', fileError: { kind: 'notCsv', detail: (e as Error).message } }, true);
      return;
    }
    if (generation !== this.generation) return;
    // Papaparse finds no header in an empty text, which would read as "not a CSV file" (the decoder has already
    // dropped a byte-order mark).
    if (text.trim() === '') {
      this.change({ phase: 'failed', fileError: { kind: 'emptyFile' } }, true);
      return;
    }
    // Every line ends in LF: papaparse takes the first line's ending for the only one, so a file one tool wrote
    // with CRLF and another appended to with LF would have its appended rows run together ("Too many fields"),
    // and the other way round keep a CR in each last cell. A line break inside a quoted cell becomes an LF, which
    // no feature's value can hold either way (the CLI reads CRLF, LF and CR alike too).
    text = text.replace(/\r\n?/g, '\n');
    const sep = excelSeparatorLine(text);
    if (sep) text = text.slice(sep.length);
    // Rows are numbered as in a spreadsheet: the header is line 1, or line 2 after a `sep=` line.
    let nextLine = sep ? 3 : 2;
    this.change({ encoding }, true);
    // Decoding, guessing the separator and parsing the first chunk are each a task: together they kept the UI
    // thread busy for over 50 ms on a 4,454-row file.
    await this.pageTurn();
    if (generation !== this.generation) return;
    const delimiter = sep ? sep.delimiter : guessedDelimiter(text);
    await this.pageTurn();
    if (generation !== this.generation) return;
    return new Promise((resolve) => {
      Papa.parse<Record<string, string>>(text, {
        delimiter,
        header: true,
        // Empty lines are kept (and skipped by checkRows), so that every row knows its line in the file.
        skipEmptyLines: false,
        transformHeader: (header: string, index: number) => {
          rawHeader[index] = header;
          return feature(header);
        },
        // A chunk at a time, the page taking its turn between them.
        chunkSize: READ_CHUNK_CHARS,
        chunk: (results: Papa.ParseResult<Record<string, string>>, parser: Papa.Parser) => {
          const began = performance.now();
          if (generation !== this.generation) {
            parser.abort();
            return;
          }
          if (!columns) {
            const header = results.meta.fields ?? [];
            const report = columnReport(schema, header);
            const repeated = repeatedFeatures(rawHeader, feature, schema);
            const refusal: FileRefusal | null =
              header.length === 0 || !headerIsText(header)
                ? { kind: 'notCsv' }
                : noFeatureColumns(schema, report)
                  ? { kind: 'noFeatureColumns' }
                  : report.missingRequired.length > 0
                    ? { kind: 'missingRequiredColumns', features: report.missingRequired }
                    : repeated.length > 0
                      ? { kind: 'repeatedColumns', repeated }
                      : null;
            if (refusal !== null) {
              this.change({ phase: 'failed', fileError: refusal, columns: null }, true);
              parser.abort();
              return;
            }
            columns = report;
          }
          const malformed = malformedRows(results.errors, nextLine - 2);
          const checked = checkRows(
            schema,
            results.data,
            nextLine,
            malformed,
            results.meta.delimiter,
            columns.ignored,
          );
          nextLine += results.data.length;
          for (const g of checked.good) good.push(g);
          for (const b of checked.bad) bad.push(b);
          this.change({ columns });
          performance.measure('branchlens:batch-read', { start: began });
          // The text is parsed chunk by chunk only if the page gets its turn between them.
          parser.pause();
          void this.pageTurn().then(() => parser.resume());
        },
        complete: () => {
          if (generation !== this.generation) return resolve();
          if (this.state.phase === 'failed') return resolve();
          if (good.length + bad.length === 0) {
            this.change({ phase: 'failed', fileError: { kind: 'noRows' }, columns: null }, true);
          } else {
            this.change({ phase: 'ready', columns }, true);
          }
          resolve();
        },
      });
    });
  }

  /** Explains the good rows (all of them again); resolves when done, cancelled or the service is unreachable. */
  async run(api: Pick<Api, 'explain'>, options: Partial<ExplainOptionsInput>): Promise<void> {
    const phase = this.state.phase;
    if (phase !== 'ready' && phase !== 'cancelled' && phase !== 'done' && phase !== 'interrupted') return;
    this.change(
      {
        results: [],
        answered: 0,
        approved: 0,
        declined: 0,
        failed: 0,
        startedAt: performance.now(),
        finishedAt: null,
      },
      true,
    );
    await this.send(api, this.state.good, options);
  }

  /**
   * Explains only the rows a stopped run left unexplained (`pending`), keeping the answers already received;
   * resolves as run() does.
   */
  async resume(api: Pick<Api, 'explain'>, options: Partial<ExplainOptionsInput>): Promise<void> {
    const { phase, pending, startedAt, finishedAt } = this.state;
    if ((phase !== 'cancelled' && phase !== 'interrupted') || pending.length === 0) return;
    // The time spent stopped is not the batch's: the rate stays that of the service.
    const spent = startedAt !== null && finishedAt !== null ? finishedAt - startedAt : 0;
    this.change({ startedAt: performance.now() - spent, finishedAt: null }, true);
    await this.send(api, pending, options);
  }

  /** Sends `rows`, adding their answers to the results and counts already there. */
  private async send(
    api: Pick<Api, 'explain'>,
    rows: readonly GoodRow[],
    options: Partial<ExplainOptionsInput>,
  ): Promise<void> {
    const generation = this.generation;
    this.cancelled = false;
    const results: ResultRow[] = [...this.state.results];
    // Each answer beside the row's own cells of the columns not sent (a customer number), by its line.
    const kept = new Map(rows.map((r) => [r.line, r.kept]));
    let { approved, declined, failed } = this.state;
    this.change({ phase: 'running', results, pending: [], unreachable: null }, true);
    const { unreachable, unanswered } = await runChunks(api, rows, options, {
      chunkSize: BATCH_CHUNK_SIZE,
      concurrency: BATCH_CONCURRENCY,
      isCancelled: () => this.cancelled || generation !== this.generation,
      onOutcomes: (outcomes) => {
        if (generation !== this.generation) return;
        const began = performance.now();
        for (const row of resultRows(outcomes, (line) => kept.get(line) ?? [])) {
          results.push(row);
          if (row.doc === null) failed++;
          else if (row.approved === true) approved++;
          else if (row.approved === false) declined++;
        }
        this.change({ answered: results.length, approved, declined, failed });
        performance.measure('branchlens:batch-answers', { start: began });
      },
    });
    if (generation !== this.generation) return;
    const left = new Set(unanswered.map((r) => r.line));
    const pending = rows.filter((r) => left.has(r.line));
    const phase = pending.length === 0 ? 'done' : unreachable ? 'interrupted' : 'cancelled';
    this.change({ phase, pending, unreachable, finishedAt: performance.now() }, true);
  }

  cancel(): void {
    if (this.state.phase === 'running') this.cancelled = true;
  }
}

export const batchStore = new BatchStore();
