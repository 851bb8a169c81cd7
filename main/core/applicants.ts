// Applicants as they arrive in files: a JSON object, a JSON array of objects, or CSV with a header row.
import { parse } from 'csv-parse/sync';
import { InputError, type Problem } from '../../shared/problems.js';
import { describeRepeatedKey, repeatedKeys } from './json-keys.js';

export interface ParsedApplicants {
  applicants: Record<string, unknown>[];
  /** True for a single JSON object (answered with one document, not an array). */
  single: boolean;
  /** CSV cells are text: read them with `numbersFromText` (shared/bundle.ts) before sending them as JSON. */
  format: 'json' | 'csv';
}

/** Reads JSON or CSV text; `source` names the file in errors. */
export function parseApplicants(text: string, source = 'input'): ParsedApplicants {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') throw new InputError([{ field: source, code: 'missing', message: 'is empty' }]);
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJson(trimmed, source);
  refuseJsonScalar(trimmed, source);
  return { applicants: parseCsv(trimmed, source), single: false, format: 'csv' };
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

function parseCsv(text: string, source: string): Record<string, unknown>[] {
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (e) {
    throw new InputError([
      { field: source, code: 'invalid', message: `is not valid CSV: ${(e as Error).message}` },
    ]);
  }
  const [header, ...body] = rows;
  if (!header || body.length === 0)
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
  // CSV has no types: every cell is a string, empty means missing; the schema decides how to read it.
  // Object.fromEntries makes own properties only, so a "__proto__" column is just an unknown feature.
  return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])));
}
