// Applicants as they arrive in files: a JSON object, a JSON array of objects, or CSV with a header row.
import { parse } from 'csv-parse/sync';
import type { BundleSchema } from '../../shared/bundle.js';
import { excelSeparatorLine, markedEncoding } from '../../shared/csv-text.js';
import { InputError, type Problem } from '../../shared/problems.js';
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

/** A CSV file's header: the line it is on, and each named column with its place (1-based) in the file's rows. */
export interface CsvHeader {
  line: number;
  columns: { name: string; column: number }[];
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
    notUtf8:
      '(a file Excel saved as "CSV" on Chinese Windows is GB18030). ' +
      `Save it as "CSV UTF-8 (逗号分隔)"${encodingFlag ? `, or give its encoding: ${encodingFlag} gb18030` : ''}`,
  });
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
    const name = new TextDecoder(label).encoding;
    const given = bom ? `its byte-order mark says ${name}` : encoding ? `read as ${name}` : '';
    const message =
      bom || encoding
        ? `is not ${name} text (${given}): line ${line} holds bytes that are not${encoding && encodingFlag && !bom ? `; check ${encodingFlag}` : ''}`
        : `is not UTF-8 text: line ${line} holds bytes that are not ${notUtf8}`;
    throw new InputError([{ field: source, code: 'invalid', message }]);
  }
}

/**
 * Refuses bytes holding NUL (read as UTF-8), naming the UTF-16 they look like: its ASCII characters are a zero
 * byte after (LE) or before (BE) each, so the zeros fall on odd or on even offsets.
 */
function refuseNul(bytes: Uint8Array, source: string, encodingFlag: string | undefined): void {
  const first = bytes.indexOf(0);
  if (first < 0) return;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < Math.min(bytes.length, 64 * 1024); i++) {
    if (bytes[i] === 0) {
      if (i % 2 === 0) even++;
      else odd++;
    }
  }
  const utf16 = odd > 4 * even ? 'utf-16le' : even > 4 * odd ? 'utf-16be' : undefined;
  const give = (what: string) =>
    encodingFlag ? `give its encoding: ${encodingFlag} ${what}` : 'save it as UTF-8';
  const message = utf16
    ? `is not UTF-8 text: every other byte is zero, as in UTF-16 text saved without its byte-order mark; ${give(utf16)}`
    : `is not UTF-8 text: line ${bytes.subarray(0, first).filter((b) => b === 0x0a).length + 1} holds NUL bytes ` +
      `(no text file does; if it is UTF-16, ${give('utf-16le')}${encodingFlag ? ' or utf-16be' : ''})`;
  throw new InputError([{ field: source, code: 'invalid', message }]);
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
    if (lines.length !== 1 || p.code === 'invalid') return p;
    if (p.field === 'input') return quotedValues({ ...p, field: `line ${lines[0]}` });
    return names.has(p.field) ? quotedValues({ ...p, field: `line ${lines[0]}, ${p.field}` }) : p;
  });
}

/** The most characters of a value a problem quotes: a 2 MB cell is named, not printed. */
const QUOTED_LENGTH = 40;

/**
 * `value` as a problem quotes it, on one line: in double quotes, its line breaks, tabs and other control
 * characters (and quotes) escaped as JSON escapes them, and cut to its first 40 characters and "…".
 */
export function quoted(value: string): string {
  let cut = value.length > QUOTED_LENGTH ? value.slice(0, QUOTED_LENGTH) : value;
  // Not half a character: a cut between the two halves of a surrogate pair would print as an escape.
  if (cut !== value && /[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut === value ? JSON.stringify(value) : `${JSON.stringify(cut).slice(0, -1)}…"`;
}

/**
 * A row's problem with the value its message quotes (`got "…"`, which the engine words in full: a category, a
 * quoted line break) made one short line by quoted(), so that every problem stays one line of the report.
 */
export function quotedValues(p: Problem): Problem {
  // Greedy: the value runs to the last quote of the message, whatever quotes it holds itself.
  const m = /^(.*?got (?:the text )?)"([\s\S]*)"([^"]*)$/s.exec(p.message);
  if (!m) return { ...p, message: escapedControls(p.message) };
  const [, before, value, after] = m;
  return { ...p, message: `${escapedControls(before!)}${quoted(value!)}${escapedControls(after!)}` };
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
  const got =
    value === null ? 'null' : `a ${typeof value} (${text.length > 40 ? text.slice(0, 40) + '…' : text})`;
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
  const unnamed = header.flatMap((name, i) => (name === '' ? [i] : []));
  const dropped = new Set(unnamed.filter((i) => rows.every(({ cells }) => (cells[i] ?? '') === '')));
  const problems: Problem[] = unnamed
    .filter((i) => !dropped.has(i))
    .map((i) => ({
      field: `line ${headerLine}, column ${i + 1}`,
      code: 'invalid' as const,
      message: `has no name, but line ${rows.find(({ cells }) => (cells[i] ?? '') !== '')!.line} has a value in it: name the column, or delete it`,
    }));
  // One value per feature: with a column named twice, which one counts would be a guess.
  header.forEach((name, i) => {
    if (name === '' || header.indexOf(name) === i) return;
    problems.push({
      field: source,
      code: 'invalid',
      message: `column ${i + 1} of the header repeats ${quoted(name)}`,
    });
  });
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
  return { applicants, lines: rows.map((r) => r.line), header: { line: headerLine, columns } };
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
