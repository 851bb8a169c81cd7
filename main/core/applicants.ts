// Applicants as they arrive in files: a JSON object, a JSON array of objects, or CSV with a header row.
import { parse } from 'csv-parse/sync';
import type { BundleSchema } from '../../shared/bundle.js';
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
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJson(trimmed, source);
  refuseJsonScalar(trimmed, source);
  // Lines are counted in the file as given: the blank lines trimmed off its start count too.
  const leadingLines = lineBreaks(unmarked.slice(0, unmarked.length - unmarked.trimStart().length));
  return { ...parseCsv(trimmed, source, leadingLines), single: false, format: 'csv' };
}

/** How many line breaks `text` holds: CRLF, LF and a lone CR each count once. */
function lineBreaks(text: string): number {
  return text.match(/\r\n|\n|\r/g)?.length ?? 0;
}

/**
 * CSV row problems named by the file's line: `[3].Time` becomes `line 5, Time` and `[3]` `line 5`. A file of
 * one row answers with unprefixed problems (`Time`): those naming one of `names` (the model's features, the
 * row's columns) or the whole applicant are put on its line too. Other problems stay as they are.
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
    if (lines.length !== 1) return p;
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

function parseCsv(
  text: string,
  source: string,
  leadingLines: number,
): { applicants: Record<string, unknown>[]; lines: number[] } {
  let records: { record: string[]; info: { bytes: number } }[];
  try {
    records = parse(text, {
      skip_empty_lines: true,
      trim: true,
      bom: true,
      info: true,
    }) as unknown as typeof records;
  } catch (e) {
    throw new InputError([
      { field: source, code: 'invalid', message: `is not valid CSV: ${(e as Error).message}` },
    ]);
  }
  const [headerRecord, ...bodyRecords] = records;
  const header = headerRecord?.record;
  if (!header || bodyRecords.length === 0)
    throw new InputError([{ field: source, code: 'missing', message: 'has a header but no rows' }]);
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
  if (problems.length) throw new InputError(problems);
  // Each row starts where the one before it ended (csv-parse counts bytes, which a quoted line break inside a
  // cell cannot confuse), at its first character that is not blank: skipped empty lines come before it.
  const bytes = Buffer.from(text, 'utf8');
  const lineAt = lineIndex(bytes);
  const lines = bodyRecords.map((_, k) => {
    let at = records[k]!.info.bytes;
    while (at < bytes.length && isBlank(bytes[at]!)) at++;
    return leadingLines + lineAt(at);
  });
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
