// The batch's answers as table rows (the file's own reference cells, decision, probability, strongest factor, first
// adverse factor), how the table sorts and filters them, and the CSV / JSONL exports. Pure.
import Papa from 'papaparse';
import type { Locale } from '../../../../shared/bundle.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import { formatScore } from '../../lib/format.js';
import type { Problem } from '../../../../shared/problems.js';
import type { ItemOutcome } from './run-chunks.js';

export interface ResultRow {
  line: number;
  /**
   * The row's cells in the file's columns that are not features (GoodRow.kept: a customer number, a name), which
   * tie the answer to the customer once the table is sorted or filtered. Never part of the document.
   */
  kept: readonly string[];
  doc: ExplanationDocument | null;
  /** null: no decision (a failed row, or a model without a threshold). */
  approved: boolean | null;
  score: number | null;
  /**
   * The strongest factor's label, in the document's language; '' when it is masked, which the page words in its
   * own language of the moment (topLabel), as it words a masked feature everywhere else.
   */
  top: string;
  topMasked: boolean;
  /** The strongest factor's feature: its keyed pseudonym when masked ('' for a failed row). */
  topFeature: string;
  topValue: number;
  /** The first adverse factor: the reason that lowered the approval probability most (approved or not). */
  reason: string;
  latencyMs: number | null;
  error: unknown;
  problems: Problem[] | null;
  /** Lower-cased text the filter searches (a masked factor's wording is not in it: see filterAndSort). */
  haystack: string;
}

/** `kept`: the kept cells of the row on a line (none by default). */
export function resultRows(
  outcomes: readonly ItemOutcome[],
  kept: (line: number) => readonly string[] = () => [],
): ResultRow[] {
  return outcomes.map((o) => {
    const cells = kept(o.line);
    if (!o.ok) {
      return {
        line: o.line,
        kept: cells,
        doc: null,
        approved: null,
        score: null,
        top: '',
        topMasked: false,
        topFeature: '',
        topValue: 0,
        reason: '',
        latencyMs: null,
        error: o.error,
        problems: o.problems ?? null,
        haystack: cells.join(' ').toLowerCase(),
      };
    }
    const doc = o.doc;
    let strongest = doc.attributions[0];
    for (const a of doc.attributions)
      if (!strongest || Math.abs(a.attribution) > Math.abs(strongest.attribution)) strongest = a;
    const topMasked = strongest?.masked === true;
    const top = strongest && !topMasked ? (strongest.label ?? strongest.feature) : '';
    const reason = doc.reasons[0]?.description ?? '';
    return {
      line: o.line,
      kept: cells,
      doc,
      approved: doc.decision ? doc.decision.approved : null,
      score: doc.score,
      top,
      topMasked,
      topFeature: strongest?.feature ?? '',
      topValue: strongest?.attribution ?? 0,
      reason,
      latencyMs: doc.meta.latency_ms,
      error: null,
      problems: null,
      haystack:
        `${cells.join(' ')} ${top} ${reason} ${doc.reasons.map((r) => r.label ?? '').join(' ')}`.toLowerCase(),
    };
  });
}

/**
 * How the page names a masked feature now, by its pseudonym: its wording for a masked feature, in the page's
 * language of the moment, told apart from the others (maskedFeatureLabels).
 */
export type MaskedLabel = (pseudonym: string) => string;

/** The strongest factor as the table shows it: a masked one in the words the page gives (`maskedLabel`). */
export function topLabel(
  row: Pick<ResultRow, 'top' | 'topMasked' | 'topFeature'>,
  maskedLabel: MaskedLabel,
): string {
  return row.topMasked ? maskedLabel(row.topFeature) : row.top;
}

/** Every masked feature the rows' documents show (their pseudonyms), for the page to name them apart. */
export function maskedPseudonyms(rows: readonly ResultRow[]): Set<string> {
  const names = new Set<string>();
  for (const r of rows) for (const a of r.doc?.attributions ?? []) if (a.masked) names.add(a.feature);
  return names;
}

/**
 * The approval probability as the table shows it, beside the decision taken against the document's threshold:
 * never rounded onto or across it (a decline at 0.4997 reads 49.9 %, not 50.0 %).
 */
export function scoreText(locale: Locale, row: Pick<ResultRow, 'score' | 'doc'>): string {
  return row.score === null ? '—' : formatScore(locale, row.score, row.doc?.decision?.threshold);
}

/** `kept:0`: the first of the file's kept columns (ResultRow.kept), and so on. */
export type SortKey = 'line' | 'decision' | 'score' | 'top' | 'latency' | `kept:${number}`;
export type SortDir = 'asc' | 'desc';
export type DecisionFilter = 'all' | 'approved' | 'declined' | 'failed';

function decisionRank(r: ResultRow): number {
  return r.doc === null ? 2 : r.approved === false ? 1 : 0;
}

type Compare = (a: ResultRow, b: ResultRow, maskedLabel: MaskedLabel) => number;

const COMPARE: Record<Exclude<SortKey, `kept:${number}`>, Compare> = {
  line: (a, b) => a.line - b.line,
  decision: (a, b) => decisionRank(a) - decisionRank(b),
  score: (a, b) => (a.score ?? -1) - (b.score ?? -1),
  top: (a, b, masked) => topLabel(a, masked).localeCompare(topLabel(b, masked)),
  latency: (a, b) => (a.latencyMs ?? -1) - (b.latencyMs ?? -1),
};

/** Customer numbers sort as a person reads them: C2 before C10. */
const keptOrder = new Intl.Collator(undefined, { numeric: true });

function comparer(key: SortKey): Compare {
  if (!key.startsWith('kept:')) return COMPARE[key as keyof typeof COMPARE];
  const i = Number(key.slice('kept:'.length));
  return (a, b) => keptOrder.compare(a.kept[i] ?? '', b.kept[i] ?? '');
}

/**
 * `maskedLabel`: how the page words a masked feature now; a masked strongest factor sorts and is found by it, in
 * whichever language the page has switched to since the batch ran.
 */
export function filterAndSort(
  rows: readonly ResultRow[],
  filter: { decision: DecisionFilter; text: string },
  sort: { key: SortKey; dir: SortDir },
  maskedLabel: MaskedLabel,
): ResultRow[] {
  const text = filter.text.trim().toLowerCase();
  const maskedFound = (r: ResultRow) =>
    r.topMasked && text !== '' && maskedLabel(r.topFeature).toLowerCase().includes(text);
  const kept = rows.filter((r) => {
    switch (filter.decision) {
      case 'approved':
        if (r.approved !== true) return false;
        break;
      case 'declined':
        if (r.approved !== false) return false;
        break;
      case 'failed':
        if (r.doc !== null) return false;
        break;
      case 'all':
        break;
    }
    return text === '' || r.haystack.includes(text) || maskedFound(r) || String(r.line) === text;
  });
  const compare = comparer(sort.key);
  const sign = sort.dir === 'asc' ? 1 : -1;
  return kept.sort((a, b) => sign * compare(a, b, maskedLabel) || a.line - b.line);
}

/**
 * Text cells that a spreadsheet would run as a formula (OWASP's CSV injection: `=`, `+`, `-`, `@`, tab, CR first)
 * get a leading `'`: labels and reason wordings come from the model bundle, and compliance opens these files in
 * Excel. Numbers stay numbers (Papa leaves them alone); unlike Papa's own pattern, a cell of several lines counts.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const CSV_OPTIONS = { newline: '\r\n', escapeFormulae: FORMULA_START };

/** The export's own columns, after `line` and the file's kept columns. */
const RESULT_COLUMNS = [
  'document_id',
  'decision',
  'score',
  'threshold',
  'top_attributions',
  'rest_sum',
  'reasons',
  'model',
  'locale',
  'cache',
  'latency_ms',
  'watermark',
] as const;

/**
 * The kept columns' headers in an export: as the file names them, except one that an export column (`columns`)
 * already has (a head-office `score`, say), which becomes `file_score`, so that no reader takes one for the other.
 */
export function keptHeaders(
  kept: readonly string[],
  columns: readonly string[] = ['line', ...RESULT_COLUMNS],
): string[] {
  const taken = new Set<string>(columns);
  return kept.map((name) => {
    let header = name;
    while (taken.has(header.toLowerCase())) header = `file_${header}`;
    taken.add(header.toLowerCase());
    return header;
  });
}

/**
 * One line per explained row, in file order: its line, its cells of the file's kept columns (`kept`, their
 * headers as the file names them), then the answer. Masked features stay masked: a masked feature is named as
 * the page names it (`maskedLabel`, "敏感特征（已脱敏） #3b96"), never by a name; the JSONL gives its pseudonym whole.
 */
export function resultsCsv(
  rows: readonly ResultRow[],
  { kept, maskedLabel }: { kept: readonly string[]; maskedLabel: MaskedLabel },
): string {
  const data = rows
    .filter((r) => r.doc !== null)
    .sort((a, b) => a.line - b.line)
    .map((r) => {
      const d = r.doc!;
      const answer: Record<(typeof RESULT_COLUMNS)[number], unknown> = {
        document_id: d.id,
        decision: d.decision ? (d.decision.approved ? 'approved' : 'declined') : '',
        score: d.score,
        threshold: d.decision?.threshold ?? '',
        top_attributions: d.attributions
          .map((a) => {
            const name = a.masked ? maskedLabel(a.feature) : (a.label ?? a.feature);
            return `${name}: ${a.attribution.toFixed(4)}`;
          })
          .join('; '),
        rest_sum: d.rest_sum,
        reasons: d.reasons.map((x) => x.description).join('; '),
        model: `${d.model.id}@${d.model.version}`,
        locale: d.meta.locale,
        cache: d.meta.cache,
        latency_ms: d.meta.latency_ms,
        watermark: d._meta.watermark,
      };
      // The kept cells are text as the file wrote them (CSV_OPTIONS neutralises one that starts like a formula).
      return [r.line, ...kept.map((_, i) => r.kept[i] ?? ''), ...RESULT_COLUMNS.map((c) => answer[c])];
    });
  const fields = ['line', ...keptHeaders(kept), ...RESULT_COLUMNS];
  // A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
  return '\uFEFF' + Papa.unparse({ fields, data }, CSV_OPTIONS) + '\r\n';
}

/** The signed documents, one per line, in file order: each verifies with `branchlens verify`. */
export function resultsJsonl(rows: readonly ResultRow[]): string {
  return rows
    .filter((r) => r.doc !== null)
    .sort((a, b) => a.line - b.line)
    .map((r) => JSON.stringify(r.doc))
    .join('\n')
    .concat('\n');
}

const PROBLEM_COLUMNS = ['line', 'field', 'message'] as const;

/**
 * The rows that could not be explained, with what was wrong, to fix and send again: a line per problem, with the
 * row's cells of the file's kept columns (`kept`, their headers as the file names them: a customer number, a
 * name) after its line, as the results CSV has them, so that the officer knows whose application to correct.
 */
export function problemsCsv(
  rows: readonly { line: number; kept: readonly string[]; field: string; message: string }[],
  kept: readonly string[] = [],
): string {
  const fields = ['line', ...keptHeaders(kept, PROBLEM_COLUMNS), 'field', 'message'];
  const data = rows.map((r) => [r.line, ...kept.map((_, i) => r.kept[i] ?? ''), r.field, r.message]);
  return '\uFEFF' + Papa.unparse({ fields, data }, CSV_OPTIONS) + '\r\n';
}
