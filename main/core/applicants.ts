// Applicants as they arrive in files: a JSON object, a JSON array of objects, or CSV with a header row.
import { createHash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { parse as csvParser, type CsvError, type Parser } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import type { BundleSchema } from '../../shared/bundle.js';
import { excelSeparatorLine, markedEncoding } from '../../shared/csv-text.js';
import { InputError, isInputError, shortened, type Problem } from '../../shared/problems.js';
import { describeRepeatedKey, repeatedKeys } from './json-keys.js';

export interface ParsedApplicants {
  applicants: Record<string, unknown>[];
  /** True for a single JSON object (answered with one document, not an array). */
  single: boolean;
  /** CSV cells are text: read them with `numbersFromText` (shared/bundle.ts) before sending them as JSON. */
  format: 'json' | 'csv';
  /** CSV: the line of the file each applicant's row starts on (1 is the header's), for naming its problems. */
  lines?: number[];
  /** CSV: the header's columns, checked once against the model by csvHeaderProblems rather than on every row. */
  header?: CsvHeader;
}

/**
 * A CSV file's header: the line it is on, each named column with its place (1-based) in the file's rows, and the
 * separator its cells are read by.
 */
export interface CsvHeader {
  line: number;
  columns: { name: string; column: number }[];
  /** `,`, `;` or a tab: a comma-separated file's number cells may be grouped ("12,000"; see numbersFromText). */
  delimiter: string;
}

/** Reads JSON or CSV text; `source` names the file in errors. */
export function parseApplicants(text: string, source = 'input'): ParsedApplicants {
  const unmarked = text.replace(/^\uFEFF/, '');
  const trimmed = unmarked.trim();
  if (trimmed === '') throw new InputError([{ field: source, code: 'missing', message: 'is empty' }]);
  if (isJsonText(trimmed)) return parseJson(trimmed, source);
  refuseJsonScalar(trimmed, source);
  // CSV is read as the file gives it (less its BOM, which holds no line break): the blank lines before the header
  // are skipped like any other, and every line csv-parse names is the file's.
  return { ...parseCsv(unmarked, source), single: false, format: 'csv' };
}

/** Whether `label` names an encoding this Node can decode (a WHATWG label: utf-8, gb18030, gbk, utf-16le…). */
export function isKnownEncoding(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

/**
 * An applicants file's text from its bytes: in the encoding its byte-order mark announces (UTF-8, UTF-16 LE or
 * BE), else in `encoding` (a label isKnownEncoding accepts), else in UTF-8. Bytes that are not text in that
 * encoding are an InputError naming `source` and the line they are on, never text with "�" in it: a file that
 * Excel on Chinese Windows saved as "CSV (逗号分隔)" is GB18030, and read as UTF-8 its 租房 would be
 * refused as an unknown category "�ⷿ". `encodingFlag` is how the caller lets a user name the encoding.
 */
export function decodeApplicantText(
  bytes: Uint8Array,
  source: string,
  { encoding, encodingFlag }: { encoding?: string; encodingFlag?: string } = {},
): string {
  return decodeText(bytes, source, {
    ...(encoding !== undefined ? { encoding } : {}),
    ...(encodingFlag !== undefined ? { encodingFlag } : {}),
    notUtf8: applicantsAdvice(encodingFlag),
  });
}

/** What a message that an applicants file is not UTF-8 advises. */
function applicantsAdvice(encodingFlag: string | undefined): string {
  return (
    '(a file Excel saved as "CSV" on Chinese Windows is GB18030). ' +
    `Save it as "CSV UTF-8 (逗号分隔)"${encodingFlag ? `, or give its encoding: ${encodingFlag} gb18030` : ''}`
  );
}

/**
 * A document's text from its bytes (`verify`): UTF-8, or UTF-16 or UTF-8 as its byte-order mark says (Windows
 * PowerShell 5's `>` saves UTF-16 LE with one), as decodeApplicantText reads applicants; other bytes are an
 * InputError naming `source`, never a document whose "�" then fails its watermark.
 */
export function decodeDocumentText(bytes: Uint8Array, source: string): string {
  return decodeText(bytes, source, {
    notUtf8: '(explain writes documents as UTF-8: check the file it wrote)',
  });
}

function decodeText(
  bytes: Uint8Array,
  source: string,
  { encoding, encodingFlag, notUtf8 }: { encoding?: string; encodingFlag?: string; notUtf8: string },
): string {
  const bom = markedEncoding(bytes);
  const label = bom ?? encoding ?? 'utf-8';
  // NUL is valid UTF-8, but no text file holds it: UTF-16 saved without its mark does, in every other byte, and
  // read as UTF-8 it became one-cell rows ("has 1 cell where the header has 11 columns").
  if (!bom && encoding === undefined) refuseNul(bytes, source, encodingFlag);
  // The decoder drops the mark of its own encoding.
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch {
    const lossy = new TextDecoder(label).decode(bytes);
    const at = lossy.indexOf('\uFFFD');
    const line = lossy.slice(0, Math.max(0, at)).split(/\r\n|\n|\r/).length;
    throw new InputError([notTextProblem(source, { label, bom, encoding, encodingFlag, notUtf8 }, line)]);
  }
}

interface Decoding {
  /** The encoding the text is read in: its byte-order mark's, else the one given, else UTF-8. */
  label: string;
  bom: string | undefined;
  encoding: string | undefined;
  encodingFlag: string | undefined;
  notUtf8: string;
}

/** Bytes on `line` that are not text in the encoding they are read in, as decodeText words it. */
function notTextProblem(
  source: string,
  { label, bom, encoding, encodingFlag, notUtf8 }: Decoding,
  line: number,
): Problem {
  const name = new TextDecoder(label).encoding;
  const given = bom ? `its byte-order mark says ${name}` : encoding ? `read as ${name}` : '';
  const message =
    bom || encoding
      ? `is not ${name} text (${given}): line ${line} holds bytes that are not${encoding && encodingFlag && !bom ? `; check ${encodingFlag}` : ''}`
      : `is not UTF-8 text: line ${line} holds bytes that are not ${notUtf8}`;
  return { field: source, code: 'invalid', message };
}

/** Bytes scanned for NUL (read as UTF-8): the line of the first, and the zeros on even and odd offsets of the first 64 KiB. */
interface NulScan {
  line: number;
  even: number;
  odd: number;
}

/** How much of a file's start says whether its zeros are UTF-16's, and which. */
const NUL_SAMPLE = 64 * 1024;

/**
 * Refuses bytes holding NUL (read as UTF-8), naming the UTF-16 they look like: its ASCII characters are a zero
 * byte after (LE) or before (BE) each, so the zeros fall on odd or on even offsets.
 */
function refuseNul(bytes: Uint8Array, source: string, encodingFlag: string | undefined): void {
  const first = bytes.indexOf(0);
  if (first < 0) return;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < Math.min(bytes.length, NUL_SAMPLE); i++) {
    if (bytes[i] === 0) {
      if (i % 2 === 0) even++;
      else odd++;
    }
  }
  const line = bytes.subarray(0, first).filter((b) => b === 0x0a).length + 1;
  throw new InputError([nulProblem(source, encodingFlag, { line, even, odd })]);
}

function nulProblem(source: string, encodingFlag: string | undefined, { line, even, odd }: NulScan): Problem {
  const utf16 = odd > 4 * even ? 'utf-16le' : even > 4 * odd ? 'utf-16be' : undefined;
  const give = (what: string) =>
    encodingFlag ? `give its encoding: ${encodingFlag} ${what}` : 'save it as UTF-8';
  const message = utf16
    ? `is not UTF-8 text: every other byte is zero, as in UTF-16 text saved without its byte-order mark; ${give(utf16)}`
    : `is not UTF-8 text: line ${line} holds NUL bytes ` +
      `(no text file does; if it is UTF-16, ${give('utf-16le')}${encodingFlag ? ' or utf-16be' : ''})`;
  return { field: source, code: 'invalid', message };
}

/** Whether `text` is read as JSON (an object or an array) rather than CSV: how parseApplicants tells them apart. */
export function isJsonText(text: string): boolean {
  return /^[{[]/.test(text.replace(/^\uFEFF/, '').trimStart());
}

/**
 * CSV row problems named by the file's line: `[3].Time` becomes `line 5, Time` and `[3]` `line 5`. A file of
 * one row answers with unprefixed problems (`Time`): those naming one of `names` (the model's features, the
 * row's columns) or the whole applicant are put on its line too, but not the request's own (`target`,
 * `n_steps`, `layer`…, refused as `invalid`, which no applicant's value is), even when a column has that name.
 * Other problems stay as they are. The cell a row's problem quotes is cut short and escaped (quotedValues).
 */
export function problemsAtLines(
  problems: readonly Problem[],
  lines: readonly number[],
  names: ReadonlySet<string>,
  /** The rows of the file, when `lines` are those of some of them (`[k]` is then `lines[k]`'s row). */
  rows = lines.length,
): Problem[] {
  return problems.map((p) => {
    // `[0].` is a column with no name: it is named as such, not taken for the whole row.
    const row = /^\[(\d+)\](?:\.(.*))?$/s.exec(p.field);
    if (row) {
      const line = lines[Number(row[1])];
      if (line === undefined) return p;
      const column = row[2] === undefined ? '' : `, ${row[2] === '' ? 'the column with no name' : row[2]}`;
      return quotedValues({ ...p, field: `line ${line}${column}` });
    }
    if (rows !== 1 || p.code === 'invalid') return p;
    if (p.field === 'input') return quotedValues({ ...p, field: `line ${lines[0]}` });
    return names.has(p.field) ? quotedValues({ ...p, field: `line ${lines[0]}, ${p.field}` }) : p;
  });
}

/**
 * `value` as a problem quotes it, on one line: in double quotes, its line breaks, tabs and other control
 * characters (and quotes) escaped as JSON escapes them, and a long one cut as an HTTP answer cuts it
 * (shortened: its first 64 characters, an ellipsis and its length): a 2 MB cell is named, not printed.
 */
export function quoted(value: string): string {
  return JSON.stringify(shortened(value));
}

/**
 * A row's problem with the value its message quotes (`got "…"`, which the engine words in full: a category, a
 * quoted line break) made one short line by quoted(), so that every problem stays one line of the report. A
 * caller's key that the field names (`Colour`, `[3].Colour`, `line 5, Colour`) is cut and escaped alike.
 */
export function quotedValues(p: Problem): Problem {
  const field = shortKey(p.field);
  // Greedy: the value runs to the last quote of the message, whatever quotes it holds itself.
  const m = /^(.*?got (?:the text )?)"([\s\S]*)"([^"]*)$/s.exec(p.message);
  if (!m) return { ...p, field, message: escapedControls(p.message) };
  const [, before, value, after] = m;
  return { ...p, field, message: `${escapedControls(before!)}${quoted(value!)}${escapedControls(after!)}` };
}

/** A field with the key it names (after `[3].` or `line 5, `) shortened and escaped, as quoted() does a value. */
function shortKey(field: string): string {
  const [, place, key] = /^(\[\d+\]\.|line \d+, )?([\s\S]*)$/.exec(field)!;
  return `${place ?? ''}${escapedControls(shortened(key!))}`;
}

/** `text` with its control characters (a line break…) as JSON escapes them: `\n`. */
function escapedControls(text: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what is escaped
  return text.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * A CSV header's problems with the model, said once for the file rather than on every row: each column that is
 * no feature of the model (`line 1, column 3 "seniority": is not a feature of this model (did you mean
 * "Seniority"?)`), and each feature the model requires that no column gives. `unknown` and `absent` are those
 * columns and features, whose problems rowProblemsBesideHeader then drops from the rows'.
 */
export function csvHeaderProblems(
  schema: Pick<BundleSchema, 'features'>,
  header: CsvHeader,
): { problems: Problem[]; unknown: Set<string>; absent: Set<string> } {
  const features = schema.features.map((f) => f.name);
  const known = new Set(features);
  const given = new Set(header.columns.map((c) => c.name));
  const problems: Problem[] = [];
  const unknown = new Set<string>();
  const suggested = new Set<string>();
  for (const { name, column } of header.columns) {
    if (known.has(name)) continue;
    unknown.add(name);
    // A feature no column gives, spelled as this column is but for case (or spaces around it): what was meant.
    const meant = features.find((f) => !given.has(f) && f.toLowerCase() === name.trim().toLowerCase());
    if (meant !== undefined) suggested.add(meant);
    problems.push({
      field: `line ${header.line}, column ${column} ${quoted(name)}`,
      code: 'unknown_feature',
      message: `is not a feature of this model (${meant !== undefined ? `did you mean ${quoted(meant)}?` : `expected one of: ${features.join(', ')}`})`,
    });
  }
  const absent = new Set(schema.features.filter((f) => f.required && !given.has(f.name)).map((f) => f.name));
  for (const name of absent) {
    if (suggested.has(name)) continue; // named already, as what a column meant
    problems.push({
      field: `line ${header.line}`,
      code: 'missing',
      message: `has no column ${quoted(name)}, a feature the model requires`,
    });
  }
  return { problems, unknown, absent };
}

/**
 * The rows' problems (Preprocessor.encodeAll's, `[i].Name`, or unprefixed for a one-row file) less what the
 * header's problems already say once: a required feature no column gives, and a row that gives none of the
 * model's features because no column does.
 */
export function rowProblemsBesideHeader(
  problems: readonly Problem[],
  header: { absent: ReadonlySet<string>; namesNone: boolean },
): Problem[] {
  return problems.filter((p) => {
    if (p.code !== 'missing') return true;
    const row = /^\[\d+\](?:\.(.*))?$/s.exec(p.field);
    const feature = row ? row[1] : p.field;
    if (feature === undefined) return !header.namesNone; // the whole row: "gives none of the model's features"
    return !header.absent.has(feature);
  });
}

/** `42`, `null`, `true` or `"text"` is JSON, not a CSV header without rows: say what JSON is expected. */
function refuseJsonScalar(text: string, source: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return;
  }
  const got = value === null ? 'null' : `a ${typeof value} (${shortened(text)})`;
  throw new InputError([
    {
      field: source,
      code: 'wrong_type',
      message: `must be a JSON object (one applicant) or an array of them, got ${got}`,
    },
  ]);
}

function parseJson(text: string, source: string): ParsedApplicants {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError([
      { field: source, code: 'invalid', message: `is not valid JSON: ${(e as Error).message}` },
    ]);
  }
  const repeated = repeatedKeys(text);
  if (repeated.length) {
    throw new InputError(
      repeated.map((r) => ({
        field: r.path ? `${source}${r.path.startsWith('[') ? '' : '.'}${r.path}` : source,
        code: 'invalid' as const,
        message: describeRepeatedKey(r),
      })),
    );
  }
  const single = !Array.isArray(value);
  const list = single ? [value] : (value as unknown[]);
  const problems: Problem[] = list.flatMap((item, i) =>
    item === null || typeof item !== 'object' || Array.isArray(item)
      ? [
          {
            field: single ? source : `${source}[${i}]`,
            code: 'wrong_type' as const,
            message: 'must be an object of feature name → value',
          },
        ]
      : [],
  );
  if (list.length === 0)
    problems.push({ field: source, code: 'missing', message: 'holds no applicants (empty array)' });
  if (problems.length) throw new InputError(problems);
  return { applicants: list as Record<string, unknown>[], single, format: 'json' };
}

interface CsvRecord {
  record: string[];
  info: { bytes: number };
}

/**
 * The separator of a CSV file, and how many characters of it come before the header: Excel's `sep=X` line
 * when the file starts with one; else the comma, unless the header has none outside quotes but has semicolons
 * (Excel's "CSV" where the decimal mark is a comma) or tabs (Excel's "Unicode text"). csv-parse takes the
 * separator it is given, and guesses none.
 */
function csvSeparator(text: string): { delimiter: string; skip: number } {
  const sep = excelSeparatorLine(text);
  if (sep) return { delimiter: sep.delimiter, skip: sep.length };
  const header = (/^[ \t]*\S[^\r\n]*/m.exec(text)?.[0] ?? '').replace(/"(?:[^"]|"")*"/g, '');
  const delimiter = [',', ';', '\t'].find((d) => header.includes(d)) ?? ',';
  return { delimiter, skip: 0 };
}

/**
 * What ends a CSV record: CRLF, LF or a lone CR, each wherever it is, as lineIndex counts lines. csv-parse would
 * take the first line's ending for the only one, and a file one tool wrote with CRLF and another appended to with
 * LF would have its appended rows run together ("has 21 cells where the header has 11 columns"). A line break
 * inside a quoted cell is the cell's, whichever it is; RFC 4180 has an unquoted cell hold none.
 */
const RECORD_DELIMITERS = ['\r\n', '\n', '\r'];

function parseCsv(
  text: string,
  source: string,
): { applicants: Record<string, unknown>[]; lines: number[]; header: CsvHeader } {
  // Each row starts where the one before it ended (csv-parse counts bytes, which a quoted line break inside a
  // cell cannot confuse), at its first character that is not blank: skipped empty lines come before it.
  const bytes = Buffer.from(text, 'utf8');
  const lineAt = lineIndex(bytes);
  const { delimiter, skip } = csvSeparator(text);
  // csv-parse reads what follows a `sep=` line; its byte counts are moved back to the file's.
  const skipped = Buffer.byteLength(text.slice(0, skip), 'utf8');
  const lineAfter = (end: number) => {
    let at = end + skipped;
    while (at < bytes.length && isBlank(bytes[at]!)) at++;
    return lineAt(at);
  };
  let read = 0; // where the last record read ended
  let records: CsvRecord[];
  try {
    records = parse(text.slice(skip), {
      delimiter,
      record_delimiter: RECORD_DELIMITERS,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      info: true,
      // A row with too many or too few cells is named below by the line it starts on, with every other one.
      relax_column_count: true,
      on_record: (record, context) => {
        read = context.bytes;
        return record;
      },
    }) as unknown as CsvRecord[];
  } catch (e) {
    // A quote never closed, text after a closing one: csv-parse stops in the row after the last it read, which
    // is named by the line it starts on. The line csv-parse names itself is dropped: it counts a CRLF inside a
    // quoted cell as two.
    const inRow = String((e as { code?: unknown }).code).startsWith('CSV_');
    const message = `is not valid CSV: ${(e as Error).message.replace(/ (?:at|on) line \d+/g, '')}`;
    throw new InputError([{ field: inRow ? `line ${lineAfter(read)}` : source, code: 'invalid', message }]);
  }
  const [headerRecord, ...bodyRecords] = records;
  const header = headerRecord?.record;
  const headerLine = lineAfter(0);
  // A row whose every cell is empty (`,,,,,,`: what Excel leaves of the rows it cleared) is a blank line: skipped.
  const rows = bodyRecords
    .map(({ record: cells }, k) => ({ cells, line: lineAfter(records[k]!.info.bytes) }))
    .filter(({ cells }) => cells.some((c) => c !== ''));
  if (!header || rows.length === 0)
    throw new InputError([{ field: source, code: 'missing', message: 'has a header but no rows' }]);
  // A column with no name is Excel's trailing separator (`Price,`) when none of its cells holds anything: no
  // column at all. One whose cells hold values must be named: whose values they are would be a guess.
  const { dropped, problems } = headerColumns(
    header,
    source,
    headerLine,
    (i) => rows.find(({ cells }) => (cells[i] ?? '') !== '')?.line,
  );
  // A cell too many or too few: which column each cell belongs to would be a guess. A row may leave out the
  // empty cells of the separators the header ends with.
  let trailing = 0;
  while (dropped.has(header.length - 1 - trailing)) trailing++;
  for (const { cells, line } of rows) {
    if (cells.length <= header.length && cells.length >= header.length - trailing) continue;
    problems.push({
      field: `line ${line}`,
      code: 'invalid',
      message: `has ${cells.length} cell${cells.length === 1 ? '' : 's'} where the header has ${header.length - trailing} columns`,
    });
  }
  if (problems.length) throw new InputError(problems);
  const columns = header.flatMap((name, i) => (dropped.has(i) ? [] : [{ name, column: i + 1 }]));
  // CSV has no types: every cell is a string, empty means missing; the schema decides how to read it.
  // Object.fromEntries makes own properties only, so a "__proto__" column is just an unknown feature.
  const applicants = rows.map(({ cells }) =>
    Object.fromEntries(columns.map(({ name, column }) => [name, cells[column - 1] ?? ''])),
  );
  return { applicants, lines: rows.map((r) => r.line), header: { line: headerLine, columns, delimiter } };
}

function isBlank(byte: number): boolean {
  return byte === 0x0a || byte === 0x0d || byte === 0x20 || byte === 0x09;
}

/** The 1-based line of a byte offset in `bytes` (CRLF, LF and a lone CR each end a line). */
function lineIndex(bytes: Uint8Array): (offset: number) => number {
  const starts: number[] = [0];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) starts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/**
 * What a CSV header's columns say, whether its rows are held (parseApplicants) or streamed (scanCsv): the unnamed
 * columns dropped, those no cell fills (Excel's trailing separator, `Price,`, is no column at all), and the
 * problems of the rest. An unnamed column with values must be named (whose values they are would be a guess), and
 * so must a column named twice (which one counts would be a guess). `valuedAt(i)`: the first line whose cell i
 * holds a value, if any.
 */
function headerColumns(
  header: readonly string[],
  source: string,
  headerLine: number,
  valuedAt: (column: number) => number | undefined,
): { dropped: Set<number>; problems: Problem[] } {
  const dropped = new Set<number>();
  const problems: Problem[] = [];
  header.forEach((name, i) => {
    if (name !== '') return;
    const line = valuedAt(i);
    if (line === undefined) dropped.add(i);
    else {
      problems.push({
        field: `line ${headerLine}, column ${i + 1}`,
        code: 'invalid',
        message: `has no name, but line ${line} has a value in it: name the column, or delete it`,
      });
    }
  });
  header.forEach((name, i) => {
    if (name === '' || header.indexOf(name) === i) return;
    problems.push({
      field: source,
      code: 'invalid',
      message: `column ${i + 1} of the header repeats ${quoted(name)}`,
    });
  });
  return { dropped, problems };
}

/** The most problems of a file kept to be listed (as many as the CLI lists): the others are counted. */
export const PROBLEMS_KEPT = 100;

/**
 * An InputError that lists the first problems found and counts the others (`omitted`), found but not kept: a
 * file of 200,000 bad rows is checked as it is read, not held in memory to list a hundred of its problems.
 */
export class CountedInputError extends InputError {
  constructor(
    problems: Problem[],
    readonly omitted: number,
  ) {
    super(problems);
  }
}

/** Problems found one at a time: the first `keep` kept, the others counted. */
export class ProblemList {
  readonly kept: Problem[] = [];
  omitted = 0;
  constructor(private readonly keep = PROBLEMS_KEPT) {}

  add(p: Problem): void {
    if (this.kept.length < this.keep) this.kept.push(p);
    else this.omitted++;
  }

  get size(): number {
    return this.kept.length + this.omitted;
  }

  /** The problems as the error to throw, `before` them the problems said first (a header's, a flag's). */
  error(before: readonly Problem[] = []): InputError {
    const problems = [...before, ...this.kept];
    return this.omitted ? new CountedInputError(problems, this.omitted) : new InputError(problems);
  }
}

/** The most of a file's start read to tell JSON from CSV, or to find its header's separator. */
const HEAD_LIMIT = 1 << 20;

/**
 * What the bytes a file starts with say it holds: JSON (its first character that is not blank opens an object
 * or an array: read whole, by parseApplicants) or CSV (read as a stream, by scanCsv and csvApplicants), as
 * parseApplicants tells them apart; `undefined` while they are too few to say (`final`: there are no more).
 */
export function applicantsFormat(
  head: Uint8Array,
  final: boolean,
  encoding?: string,
): 'json' | 'csv' | undefined {
  if (head.length < 3 && !final) return undefined; // a byte-order mark may be cut short
  const text = new TextDecoder(markedEncoding(head) ?? encoding ?? 'utf-8').decode(head);
  const at = text.search(/\S/);
  if (at < 0) return final || head.length > HEAD_LIMIT ? 'csv' : undefined;
  // The last character may be a cut one's start.
  if (!final && at === text.length - 1 && text[at] === '\uFFFD') return undefined;
  return isJsonText(text) ? 'json' : 'csv';
}

/**
 * Bytes decoded as they arrive, checked as decodeText checks them all at once: a file read as a stream is
 * refused with the same problem, on the same line. Once the bytes are known to be refused no more text is
 * given (NUL bytes are still looked for, which decodeText says first); `end` throws the problem.
 */
class TextStream {
  private start: Buffer[] = [];
  private decoding?: Decoding;
  private lossy?: InstanceType<typeof TextDecoder>;
  private fatal?: InstanceType<typeof TextDecoder>;
  private notText = false;
  /** The line of the first U+FFFD of the text, which decodeText names when the bytes are not all text. */
  private replaced?: number;
  private line = 1;
  private last = '';
  /** While NUL bytes are looked for (UTF-8 assumed, no encoding given): the line feeds before the first. */
  private nul?: NulScan & { scanned: number; feeds: number; found: boolean };

  constructor(
    private readonly source: string,
    private readonly opts: { encoding?: string; encodingFlag?: string; notUtf8: string },
  ) {}

  private get refused(): boolean {
    return this.notText || this.nul?.found === true;
  }

  push(bytes: Buffer): string {
    if (this.decoding) return this.decode(bytes, false);
    this.start.push(bytes);
    return this.start.reduce((n, b) => n + b.length, 0) < 3 ? '' : this.begin(false);
  }

  /** The text of the last bytes, or the problem of them all. */
  end(): string {
    const text = this.decoding ? this.decode(undefined, true) : this.begin(true);
    if (this.nul?.found) throw new InputError([nulProblem(this.source, this.opts.encodingFlag, this.nul)]);
    if (this.notText) {
      throw new InputError([notTextProblem(this.source, this.decoding!, this.replaced ?? 1)]);
    }
    return text;
  }

  private begin(final: boolean): string {
    const first = Buffer.concat(this.start);
    this.start = [];
    const { encoding, encodingFlag, notUtf8 } = this.opts;
    const bom = markedEncoding(first);
    const label = bom ?? encoding ?? 'utf-8';
    this.decoding = { label, bom, encoding, encodingFlag, notUtf8 };
    if (!bom && encoding === undefined) {
      this.nul = { line: 0, even: 0, odd: 0, scanned: 0, feeds: 0, found: false };
    }
    this.lossy = new TextDecoder(label);
    this.fatal = new TextDecoder(label, { fatal: true });
    return this.decode(first, final);
  }

  private decode(bytes: Buffer | undefined, final: boolean): string {
    if (bytes && this.nul) this.scanNul(bytes);
    if (this.refused && this.replaced !== undefined) return '';
    if (!this.notText) {
      try {
        this.fatal!.decode(bytes, { stream: !final });
      } catch {
        this.notText = true;
      }
    }
    const text = this.lossy!.decode(bytes, { stream: !final });
    const at = this.replaced === undefined ? text.indexOf('\uFFFD') : -1;
    if (at >= 0) this.replaced = this.line + lineBreaks(text.slice(0, at), this.last);
    this.line += lineBreaks(text, this.last);
    if (text !== '') this.last = text[text.length - 1]!;
    return this.refused ? '' : text;
  }

  private scanNul(bytes: Buffer): void {
    const nul = this.nul!;
    if (!nul.found) {
      const at = bytes.indexOf(0);
      nul.feeds += countByte(at < 0 ? bytes : bytes.subarray(0, at), 0x0a);
      if (at >= 0) {
        nul.found = true;
        nul.line = nul.feeds + 1;
      }
    }
    for (let i = 0; i < bytes.length && nul.scanned + i < NUL_SAMPLE; i++) {
      if (bytes[i] === 0) {
        if ((nul.scanned + i) % 2 === 0) nul.even++;
        else nul.odd++;
      }
    }
    nul.scanned += bytes.length;
  }
}

/** The line breaks in `text` (CRLF, LF and a lone CR), `before` the character before it. */
function lineBreaks(text: string, before: string): number {
  let n = 0;
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) n++;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    if ((i === 0 ? before : text[i - 1]) !== '\r') n++;
  }
  return n;
}

function countByte(bytes: Buffer, byte: number): number {
  let n = 0;
  for (let i = bytes.indexOf(byte); i >= 0; i = bytes.indexOf(byte, i + 1)) n++;
  return n;
}

/**
 * The lines of text read as a stream, as lineIndex numbers them: bytes are added as they are read and dropped
 * once passed, and the offsets asked about never go back.
 */
class LineCursor {
  private pieces: Buffer[] = [];
  /** The offset of pieces[0]'s first byte, of the cursor's, the cursor's line and the byte before it. */
  private first = 0;
  private at = 0;
  private line = 1;
  private before = -1;

  add(bytes: Buffer): void {
    if (bytes.length) this.pieces.push(bytes);
  }

  /**
   * The line of the first byte at or after `offset` that is not blank: where a row that follows `offset`
   * starts (csv-parse counts bytes, which a quoted line break inside a cell cannot confuse). Past the bytes
   * added, the line they end on.
   */
  lineAfter(offset: number): number {
    this.advance(offset);
    let { line, before } = this;
    let at = this.at - this.first;
    for (const piece of this.pieces) {
      for (; at < piece.length; at++) {
        const byte = piece[at]!;
        if (!isBlank(byte)) return line;
        // A CR, and an LF after anything but a CR, end a line: as lineIndex counts them.
        if (byte === 0x0d || (byte === 0x0a && before !== 0x0d)) line++;
        before = byte;
      }
      at -= piece.length;
    }
    return line;
  }

  private advance(offset: number): void {
    while (this.at < offset && this.pieces.length) {
      const piece = this.pieces[0]!;
      const end = Math.min(piece.length, offset - this.first);
      for (let i = this.at - this.first; i < end; i++) {
        const byte = piece[i]!;
        if (byte === 0x0d || (byte === 0x0a && this.before !== 0x0d)) this.line++;
        this.before = byte;
      }
      this.at = this.first + end;
      if (end === piece.length) {
        this.pieces.shift();
        this.first += piece.length;
      }
    }
  }
}

/** A record of a CSV file read as a stream: its cells, and the line it starts on. */
interface CsvLine {
  cells: string[];
  line: number;
}

/** What reading a CSV file found besides its records: the sha256 of its bytes, once they are all read. */
interface CsvReading {
  sha256?: string;
  /** The separator the file's cells were read by, once its header is read. */
  delimiter?: string;
  /** Given each piece of the file's bytes as it is read, before it is decoded (a copy being made). */
  onBytes?: (bytes: Buffer) => Promise<void>;
}

/** How much of a file's text is kept to see whether it is one JSON value (`42`, `"text"`) rather than CSV. */
const SCALAR_LIMIT = 64 * 1024;

/**
 * The records of a CSV file as it is read: its header's, then each row's that has a cell with something in it
 * (a row of empty cells is a blank line), with the line of the file each starts on. The file is refused as
 * parseApplicants refuses it, by the same problem: bytes that are not text first (the records of the text
 * before them may have been given), then a file of blanks, one JSON value, and text that is not CSV. What else a
 * file must be (a row per record, named columns) is for its reader to check.
 */
async function* csvRecords(
  bytes: AsyncIterable<Buffer>,
  source: string,
  { encoding, encodingFlag }: { encoding?: string; encodingFlag?: string },
  reading: CsvReading,
): AsyncGenerator<CsvLine, void, undefined> {
  const text = new TextStream(source, {
    ...(encoding !== undefined ? { encoding } : {}),
    ...(encodingFlag !== undefined ? { encodingFlag } : {}),
    notUtf8: applicantsAdvice(encodingFlag),
  });
  const hash = createHash('sha256');
  const cursor = new LineCursor();
  let head: string | undefined = ''; // the text until the header's separator is known
  let scalar: string | undefined = ''; // the text while it is short enough to be one JSON value
  let blank = true;
  let marked = false;
  let parser: Parser | undefined;
  let skipped = 0; // the bytes of Excel's `sep=` line, which csv-parse does not read
  let read = 0; // where the last record read ended, in csv-parse's count
  let header = true;
  let failure: Problem | undefined;
  const records: CsvLine[] = [];

  const refuse = (e: unknown) => {
    // A quote never closed, text after a closing one: csv-parse stops in the row after the last it read,
    // which is named by the line it starts on. The line csv-parse names itself is dropped: it counts a CRLF
    // inside a quoted cell as two.
    const inRow = String((e as Partial<CsvError>).code).startsWith('CSV_');
    const message = `is not valid CSV: ${(e as Error).message.replace(/ (?:at|on) line \d+/g, '')}`;
    failure = {
      field: inRow ? `line ${cursor.lineAfter(read + skipped)}` : source,
      code: 'invalid',
      message,
    };
  };
  const write = async (buf: Buffer) => {
    if (buf.length === 0 || failure) return;
    const error = await new Promise<Error | null | undefined>((done) => parser!.write(buf, done));
    if (error) refuse(error);
  };
  /** The next piece of the text to csv-parse, once the header's line is whole: its separator is known then. */
  const feed = async (piece: string, final: boolean) => {
    if (failure) return;
    if (piece !== '') {
      if (!marked) {
        marked = true;
        piece = piece.replace(/^\uFEFF/, '');
      }
      if (blank && /\S/.test(piece)) blank = false;
      if (scalar !== undefined) {
        scalar = scalar.length + piece.length > SCALAR_LIMIT ? undefined : scalar + piece;
      }
    }
    if (head === undefined) {
      const buf = Buffer.from(piece, 'utf8');
      cursor.add(buf);
      return write(buf);
    }
    head += piece;
    const line = /^[ \t]*\S[^\r\n]*/m.exec(head);
    const whole = line !== null && line.index + line[0].length < head.length;
    if (!final && !whole && head.length <= HEAD_LIMIT) return;
    const all = head;
    head = undefined;
    // CSV is read as the file gives it (less its BOM, which holds no line break): the blank lines before the
    // header are skipped like any other, and every line csv-parse names is the file's. It reads what follows
    // a `sep=` line; its byte counts are moved on by the line's.
    const { delimiter, skip } = csvSeparator(all);
    reading.delimiter = delimiter;
    skipped = Buffer.byteLength(all.slice(0, skip), 'utf8');
    parser = csvParser({
      delimiter,
      record_delimiter: RECORD_DELIMITERS,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      // A row with too many or too few cells is named by the line it starts on, with every other one.
      relax_column_count: true,
      // Each record is taken here, where the bytes it ends at are known, and none is kept by the stream.
      on_record: (cells: string[], context) => {
        const end = read;
        read = context.bytes;
        if (header) {
          header = false;
          records.push({ cells, line: cursor.lineAfter(skipped) });
        } else if (cells.some((c) => c !== '')) {
          records.push({ cells, line: cursor.lineAfter(end + skipped) });
        }
        return null;
      },
    });
    parser.on('error', () => undefined); // each write's failure, and the end's, is taken where it is awaited
    parser.resume();
    cursor.add(Buffer.from(all, 'utf8'));
    return write(Buffer.from(all.slice(skip), 'utf8'));
  };

  for await (const chunk of bytes) {
    hash.update(chunk);
    await reading.onBytes?.(chunk);
    await feed(text.push(chunk), false);
    yield* records.splice(0);
  }
  await feed(text.end(), true);
  if (parser && !failure) {
    parser.end();
    await finished(parser).catch(refuse);
  }
  yield* records.splice(0);
  reading.sha256 = hash.digest('hex');
  if (blank) throw new InputError([{ field: source, code: 'missing', message: 'is empty' }]);
  if (scalar !== undefined) refuseJsonScalar(scalar.trim(), source);
  if (failure) throw new InputError([failure]);
}

/** How a CSV file scanCsv read is laid out, for csvApplicants to read it again as it was then. */
export interface CsvLayout {
  /** The columns the file's rows are read by (a column with no name and no value is none). */
  header: CsvHeader;
  /** The header's cells as the file gives them. */
  cells: readonly string[];
  /** The rows holding something: one applicant each. */
  rows: number;
  /** The sha256 of the file's bytes. */
  sha256: string;
}

/** How a CSV file is decoded: see decodeApplicantText. */
export interface CsvDecoding {
  encoding?: string;
  encodingFlag?: string;
}

/**
 * Reads a CSV file through (`read` gives its bytes, from the start, each time it is called) and refuses it as
 * parseApplicants would refuse its text, by the same problems; but a file of many bad rows is refused with the
 * first PROBLEMS_KEPT of them and the count of the others (a CountedInputError), and nothing of its rows is
 * kept: memory does not grow with the file. What the file's rows hold is not checked here (csvApplicants reads
 * them, and the model checks them). A file whose header ends in columns with no name is read twice when
 * its rows' cells do not match it: whether such a column is one is known once every row is read.
 */
export async function scanCsv(
  read: () => AsyncIterable<Buffer>,
  source: string,
  decoding: CsvDecoding = {},
  keep = PROBLEMS_KEPT,
): Promise<CsvLayout> {
  const first = await scanCsvOnce(read(), source, decoding, keep);
  if ('layout' in first) return first.layout;
  const again = await scanCsvOnce(read(), source, decoding, keep, first.trailing);
  if ('layout' in again) return again.layout;
  throw new Error(`${source} changed while it was read`); // the second reading knows what the first did not
}

async function scanCsvOnce(
  bytes: AsyncIterable<Buffer>,
  source: string,
  decoding: CsvDecoding,
  keep: number,
  knownTrailing?: number,
): Promise<{ layout: CsvLayout } | { trailing: number }> {
  const reading: CsvReading = {};
  let header: string[] | undefined;
  let headerLine = 0;
  let unnamed: number[] = [];
  let ending = 0; // the columns with no name the header ends with
  const valued = new Map<number, number>(); // a column with no name: the first line with a value in it
  let rows = 0;
  const counts = new ProblemList(keep);
  let unsure = false; // a row's cells do not match a header that ends in columns with no name
  for await (const { cells, line } of csvRecords(bytes, source, decoding, reading)) {
    if (!header) {
      header = cells;
      headerLine = line;
      unnamed = header.flatMap((name, i) => (name === '' ? [i] : []));
      while (header[header.length - 1 - ending] === '' && ending < header.length) ending++;
      continue;
    }
    rows++;
    for (const i of unnamed) if (!valued.has(i) && (cells[i] ?? '') !== '') valued.set(i, line);
    // A cell too many or too few: which column each cell belongs to would be a guess. A row may leave out the
    // empty cells of the separators the header ends with.
    if (cells.length === header.length) continue;
    if (knownTrailing === undefined && ending > 0) {
      unsure = true; // said once every row is read, and whether those columns are columns is known
      continue;
    }
    const trailing = knownTrailing ?? 0;
    if (cells.length <= header.length && cells.length >= header.length - trailing) continue;
    counts.add({
      field: `line ${line}`,
      code: 'invalid',
      message: `has ${cells.length} cell${cells.length === 1 ? '' : 's'} where the header has ${header.length - trailing} columns`,
    });
  }
  if (!header || rows === 0)
    throw new InputError([{ field: source, code: 'missing', message: 'has a header but no rows' }]);
  // A column with no name is Excel's trailing separator (`Price,`) when none of its cells holds anything: no
  // column at all. One whose cells hold values must be named: whose values they are would be a guess.
  const { dropped, problems } = headerColumns(header, source, headerLine, (i) => valued.get(i));
  let trailing = 0;
  while (dropped.has(header.length - 1 - trailing)) trailing++;
  if (unsure) return { trailing };
  if (problems.length || counts.size) throw counts.error(problems);
  const columns = header.flatMap((name, i) => (dropped.has(i) ? [] : [{ name, column: i + 1 }]));
  return {
    layout: {
      header: { line: headerLine, columns, delimiter: reading.delimiter ?? ',' },
      cells: header,
      rows,
      sha256: reading.sha256!,
    },
  };
}

/** One row of a CSV file as an applicant (CSV has no types: every cell is a string, empty means missing). */
export interface CsvApplicant {
  applicant: Record<string, string>;
  /** The line of the file the row starts on. */
  line: number;
}

/**
 * The rows of a CSV file scanCsv read, in order, as applicants with the line each starts on. `changed` is
 * the error thrown when the file is not what scanCsv read (its header, its rows, its bytes' sha256), which is
 * known for sure only once the last row is given; a file that cannot be read throws as `bytes` does.
 * `onBytes` is given each piece of the bytes as they are read (to copy them).
 */
export async function* csvApplicants(
  bytes: AsyncIterable<Buffer>,
  layout: CsvLayout,
  {
    source,
    decoding = {},
    changed,
    onBytes,
  }: {
    source: string;
    decoding?: CsvDecoding;
    changed: () => Error;
    onBytes?: (bytes: Buffer) => Promise<void>;
  },
): AsyncGenerator<CsvApplicant, void, undefined> {
  let unreadable = false;
  const watched = async function* () {
    try {
      yield* bytes;
    } catch (e) {
      unreadable = true;
      throw e;
    }
  };
  const reading: CsvReading = onBytes ? { onBytes } : {};
  let rows = -1;
  try {
    for await (const { cells, line } of csvRecords(watched(), source, decoding, reading)) {
      if (rows++ < 0) {
        if (cells.length !== layout.cells.length || cells.some((c, i) => c !== layout.cells[i]))
          throw changed();
        continue;
      }
      if (rows > layout.rows) throw changed();
      // Object.fromEntries makes own properties only, so a "__proto__" column is just an unknown feature.
      yield {
        applicant: Object.fromEntries(
          layout.header.columns.map(({ name, column }) => [name, cells[column - 1] ?? '']),
        ),
        line,
      };
    }
  } catch (e) {
    // The file scanCsv read was CSV: one that is not (any more) has changed.
    throw isInputError(e) && !unreadable ? changed() : e;
  }
  if (rows !== layout.rows || reading.sha256 !== layout.sha256) throw changed();
}

/** Whether every applicant names only features of `schema` and gives each it requires. */
export function takesApplicants(
  schema: BundleSchema,
  applicants: readonly Record<string, unknown>[],
): boolean {
  const names = new Set(schema.features.map((f) => f.name));
  const required = schema.features.filter((f) => f.required).map((f) => f.name);
  return applicants.every(
    (a) => Object.keys(a).every((k) => names.has(k)) && required.every((k) => a[k] !== undefined),
  );
}
