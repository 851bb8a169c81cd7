// A CSV batch checked row by row against the model's schema, with the form's rules (lib/validate.ts): columns
// that are not features are set aside once for the whole file (Status, Age, Marital… in a head-office extract;
// a customer number and name in a branch's) and kept beside each row's answer, never sent; missing
// optional feature columns are imputed like empty cells, and each bad row is listed with its problems while the
// good rows go on to be explained. A file with no feature column at all, or with no column for a required
// feature, is refused. Pure, so it runs under test in Node.
import { numbersFromText, type BundleSchema } from '../../../../shared/bundle.js';
import {
  validateApplicant,
  WHOLE_APPLICANT,
  type CleanValue,
  type FieldProblem,
} from '../../lib/validate.js';

export interface GoodRow {
  /** The row's line in the file, the header being line 1 (as a spreadsheet numbers it). */
  line: number;
  /** The feature values: the only part of the row sent to the service (run-chunks.ts). */
  applicant: Record<string, CleanValue>;
  /**
   * The row's cells in the columns that are not features (ColumnReport.ignored, in that order), as written: a
   * customer number or name that ties the answer to the customer in the results and the CSV export. Kept in the
   * page, never sent, so never in the audit log.
   */
  kept: string[];
}

export interface BadRow {
  line: number;
  problems: FieldProblem[];
  /**
   * The row's cells in the columns that are not features, as GoodRow.kept: which customer the problem is with.
   * Empty for a row with the wrong number of cells, whose cells cannot be told to belong to their columns.
   */
  kept: string[];
}

export interface ColumnReport {
  /** Columns that are not features of the model: not sent, but kept beside each row's answer (GoodRow.kept). */
  ignored: string[];
  /** Optional features with no column: every row gets the schema's default. */
  missing: string[];
  /** Required features with no column: every row would be refused for each, so the file is (see batch-store). */
  missingRequired: string[];
}

/** Control codes (other than tab, line ends) and replacement marks: no CSV header holds them. */
function notText(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0xfffd) return true;
  }
  return false;
}

/** A header as written, without a byte-order mark or surrounding spaces. */
function cleanHeader(text: string): string {
  return text.replace(/^\uFEFF/, '').trim();
}

function headerKey(text: string): string {
  return cleanHeader(text).toLowerCase();
}

/**
 * The feature a column stands for: its name or its label in either language, ignoring case and surrounding
 * spaces (a branch's own extract may say `seniority` or `工龄`). The header itself when it names no feature.
 */
export function headerMatcher(schema: Pick<BundleSchema, 'features'>): (header: string) => string {
  const byKey = new Map<string, string>();
  // Names first, so that a name wins over another feature's label.
  for (const f of schema.features) byKey.set(headerKey(f.name), f.name);
  for (const f of schema.features) {
    for (const label of Object.values(f.label)) {
      const key = headerKey(label);
      if (key !== '' && !byKey.has(key)) byKey.set(key, f.name);
    }
  }
  return (header) => byKey.get(headerKey(header)) ?? cleanHeader(header);
}

/**
 * Features that more than one column stands for (`Seniority` and `工龄`, or `Amount` twice): which column
 * counts would be a guess, so such a file is refused. Each with the columns as the file names them.
 */
export function repeatedFeatures(
  header: readonly string[],
  feature: (header: string) => string,
  schema: Pick<BundleSchema, 'features'>,
): { feature: string; columns: string[] }[] {
  const names = new Set(schema.features.map((f) => f.name));
  const byFeature = new Map<string, string[]>();
  for (const h of header) {
    const name = feature(h);
    if (!names.has(name)) continue;
    byFeature.set(name, [...(byFeature.get(name) ?? []), cleanHeader(h)]);
  }
  return [...byFeature]
    .filter(([, columns]) => columns.length > 1)
    .map(([name, columns]) => ({ feature: name, columns }));
}

/**
 * Whether a header row is text at all: a binary file read as CSV (an .xlsx, a UTF-16 or GBK export) gives
 * control codes or replacement marks.
 */
export function headerIsText(header: readonly string[]): boolean {
  return header.every((h) => !notText(h));
}

/** The columns set aside, for a notice: at most `max`, each cut to 40 characters. */
export function shownColumns(columns: readonly string[], max = 12): { shown: string[]; more: number } {
  return {
    shown: columns.slice(0, max).map((c) => (c.length > 40 ? c.slice(0, 40) + '…' : c)),
    more: Math.max(0, columns.length - max),
  };
}

/** `header` as already mapped by headerMatcher (the features' canonical names). */
export function columnReport(
  schema: Pick<BundleSchema, 'features'>,
  header: readonly string[],
): ColumnReport {
  const names = new Set(schema.features.map((f) => f.name));
  const given = new Set(header);
  const absent = schema.features.filter((f) => !given.has(f.name));
  return {
    ignored: header.filter((h) => !names.has(h) && h !== ''),
    missing: absent.filter((f) => !f.required).map((f) => f.name),
    missingRequired: absent.filter((f) => f.required).map((f) => f.name),
  };
}

/** No column of the file is a feature of the model: every row would be the reference applicant. */
export function noFeatureColumns(schema: Pick<BundleSchema, 'features'>, columns: ColumnReport): boolean {
  return columns.missing.length + columns.missingRequired.length === schema.features.length;
}

/**
 * Checks parsed rows (objects keyed by header). `firstLine` is the file line of rows[0]; `delimiter` the file's
 * separator (numbersFromText reads grouped numbers in a comma-separated file only). Rows that the CSV
 * parser itself flagged (a wrong number of cells) come in `malformed` by index and are listed as bad, except
 * empty lines, which are skipped. A row of the right width whose feature cells are all empty (`,,,`, or only
 * ignored columns filled in) is bad, as the applicant problem WHOLE_APPLICANT `missing` (validateApplicant):
 * the service would refuse it. Every parsed row counts as one line, so the parser must not drop any. `kept`: the
 * columns that are not features (ColumnReport.ignored), whose cells each row keeps as written.
 */
export function checkRows(
  schema: Pick<BundleSchema, 'features'>,
  rows: readonly Record<string, unknown>[],
  firstLine: number,
  malformed: ReadonlyMap<number, string> = new Map(),
  delimiter = ',',
  kept: readonly string[] = [],
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
      bad.push({
        line,
        problems: [{ field: WHOLE_APPLICANT, code: 'invalid', given: parserProblem }],
        kept: [],
      });
      continue;
    }
    const row = rows[i]!;
    const raw: Record<string, unknown> = {};
    for (const name of names) {
      if (Object.prototype.hasOwnProperty.call(row, name)) raw[name] = row[name];
    }
    // Cells are read as the CLI reads them (numbersFromText): in a comma-separated file, "12,000" is the number
    // Excel saved formatted with a thousands separator.
    const checked = validateApplicant(schema, numbersFromText(schema, raw, delimiter));
    const cells = kept.map((c) => cellText(row[c]));
    if (checked.problems.length > 0) bad.push({ line, problems: checked.problems, kept: cells });
    else good.push({ line, applicant: checked.values, kept: cells });
  }
  return { good, bad };
}

/** A kept cell as the file writes it ('' for none). */
function cellText(cell: unknown): string {
  return typeof cell === 'string' ? cell : cell === undefined || cell === null ? '' : String(cell);
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
