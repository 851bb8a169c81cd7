// A CSV batch checked row by row against the model's schema, with the form's rules (lib/validate.ts): columns
// that are not features are set aside once for the whole file (a head-office extract may carry Status, Age,
// Marital…), missing feature columns are imputed like empty cells, and each bad row is listed with its
// problems while the good rows go on to be explained. Pure, so it runs under test in Node.
import type { BundleSchema } from '../../../../shared/bundle.js';
import { validateApplicant, type CleanValue, type FieldProblem } from '../../lib/validate.js';

export interface GoodRow {
  /** The row's line in the file, the header being line 1 (as a spreadsheet numbers it). */
  line: number;
  applicant: Record<string, CleanValue>;
}

export interface BadRow {
  line: number;
  problems: FieldProblem[];
}

export interface ColumnReport {
  /** Columns that are not features of the model: not sent. */
  ignored: string[];
  /** Features with no column: every row gets the schema's default (or a problem, when required). */
  missing: string[];
}

export function columnReport(
  schema: Pick<BundleSchema, 'features'>,
  header: readonly string[],
): ColumnReport {
  const names = new Set(schema.features.map((f) => f.name));
  const given = new Set(header);
  return {
    ignored: header.filter((h) => !names.has(h) && h !== ''),
    missing: schema.features.filter((f) => !given.has(f.name)).map((f) => f.name),
  };
}

/**
 * Checks parsed rows (objects keyed by header). `firstLine` is the file line of rows[0]. Rows that the CSV
 * parser itself flagged (a wrong number of cells) come in `malformed` by index and are listed as bad, except
 * empty lines, which are skipped. Every parsed row counts as one line, so the parser must not drop any.
 */
export function checkRows(
  schema: Pick<BundleSchema, 'features'>,
  rows: readonly Record<string, unknown>[],
  firstLine: number,
  malformed: ReadonlyMap<number, string> = new Map(),
): { good: GoodRow[]; bad: BadRow[] } {
  const names = schema.features.map((f) => f.name);
  const good: GoodRow[] = [];
  const bad: BadRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    const line = firstLine + i;
    const parserProblem = malformed.get(i);
    // An empty line (the parser's short row of nothing) is skipped, but still counted as a line of the file.
    if (parserProblem !== undefined && Object.values(rows[i]!).every((v) => v === undefined || v === ''))
      continue;
    if (parserProblem !== undefined) {
      bad.push({ line, problems: [{ field: '*', code: 'invalid', given: parserProblem }] });
      continue;
    }
    const row = rows[i]!;
    const raw: Record<string, unknown> = {};
    for (const name of names) {
      if (Object.prototype.hasOwnProperty.call(row, name)) raw[name] = row[name];
    }
    const checked = validateApplicant(schema, raw);
    if (checked.problems.length > 0) bad.push({ line, problems: checked.problems });
    else good.push({ line, applicant: checked.values });
  }
  return { good, bad };
}

/** The parser's row errors (a wrong number of cells) by index within a chunk; the parser counts rows across chunks. */
export function malformedRows(
  errors: readonly { row?: number | null; code: string; message: string }[],
  rowsBefore: number,
): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of errors) {
    if (e.row === undefined || e.row === null) continue;
    if (e.code === 'TooFewFields' || e.code === 'TooManyFields') out.set(e.row - rowsBefore, e.message);
  }
  return out;
}
