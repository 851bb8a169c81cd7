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
  const bom = markedEncoding(bytes);
  const label = bom ?? encoding ?? 'utf-8';
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
        : `is not UTF-8 text: line ${line} holds bytes that are not (a file Excel saved as "CSV" on Chinese Windows is GB18030). ` +
          `Save it as "CSV UTF-8 (逗号分隔)"${encodingFlag ? `, or give its encoding: ${encodingFlag} gb18030` : ''}`;
    throw new InputError([{ field: source, code: 'invalid', message }]);
  }
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
 * Other problems stay as they are.
 */
export function problemsAtLines(
  problems: readonly Problem[],
  lines: readonly number[],
  names: ReadonlySet<string>,
): Problem[] {
  return problems.map((p) => {
    const row = /^\[(\d+)\](?:\.(.+))?$/.exec(p.field);
    if (row) {
      const line = lines[Number(row[1])];
      if (line === undefined) return p;
      return { ...p, field: row[2] ? `line ${line}, ${row[2]}` : `line ${line}` };
    }
    if (lines.length !== 1 || p.code === 'invalid') return p;
    if (p.field === 'input') return { ...p, field: `line ${lines[0]}` };
    return names.has(p.field) ? { ...p, field: `line ${lines[0]}, ${p.field}` } : p;
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

function parseCsv(text: string, source: string): { applicants: Record<string, unknown>[]; lines: number[] } {
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
  if (!header || bodyRecords.length === 0)
    throw new InputError([{ field: source, code: 'missing', message: 'has a header but no rows' }]);
  const lines = bodyRecords.map((_, k) => lineAfter(records[k]!.info.bytes));
  // One value per feature: with a column named twice, which one counts would be a guess.
  const problems: Problem[] = header.flatMap((name, i) =>
    header.indexOf(name) < i
      ? [
          {
            field: source,
            code: 'invalid' as const,
            message: `column ${i + 1} of the header repeats "${name}"`,
          },
        ]
      : [],
  );
  // A cell too many or too few: which column each cell belongs to would be a guess.
  bodyRecords.forEach(({ record: cells }, k) => {
    if (cells.length === header.length) return;
    problems.push({
      field: `line ${lines[k]!}`,
      code: 'invalid',
      message: `has ${cells.length} cell${cells.length === 1 ? '' : 's'} where the header has ${header.length} columns`,
    });
  });
  if (problems.length) throw new InputError(problems);
  // CSV has no types: every cell is a string, empty means missing; the schema decides how to read it.
  // Object.fromEntries makes own properties only, so a "__proto__" column is just an unknown feature.
  const applicants = bodyRecords.map(({ record: cells }) =>
    Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])),
  );
  return { applicants, lines };
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
