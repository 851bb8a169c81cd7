// The batch's answers as table rows (decision, probability, strongest factor, first reason), how the table sorts
// and filters them, and the CSV / JSONL exports. Pure.
import Papa from 'papaparse';
import type { Locale } from '../../../../shared/bundle.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import { formatScore } from '../../lib/format.js';
import type { Problem } from '../../../../shared/problems.js';
import type { ItemOutcome } from './run-chunks.js';

export interface ResultRow {
  line: number;
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
  /** The first principal reason against approval. */
  reason: string;
  latencyMs: number | null;
  error: unknown;
  problems: Problem[] | null;
  /** Lower-cased text the filter searches (a masked factor's wording is not in it: see filterAndSort). */
  haystack: string;
}

export function resultRows(outcomes: readonly ItemOutcome[]): ResultRow[] {
  return outcomes.map((o) => {
    if (!o.ok) {
      return {
        line: o.line,
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
        haystack: '',
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
      haystack: `${top} ${reason} ${doc.reasons.map((r) => r.label ?? '').join(' ')}`.toLowerCase(),
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

export type SortKey = 'line' | 'decision' | 'score' | 'top' | 'latency';
export type SortDir = 'asc' | 'desc';
export type DecisionFilter = 'all' | 'approved' | 'declined' | 'failed';

function decisionRank(r: ResultRow): number {
  return r.doc === null ? 2 : r.approved === false ? 1 : 0;
}

const COMPARE: Record<SortKey, (a: ResultRow, b: ResultRow, maskedLabel: MaskedLabel) => number> = {
  line: (a, b) => a.line - b.line,
  decision: (a, b) => decisionRank(a) - decisionRank(b),
  score: (a, b) => (a.score ?? -1) - (b.score ?? -1),
  top: (a, b, masked) => topLabel(a, masked).localeCompare(topLabel(b, masked)),
  latency: (a, b) => (a.latencyMs ?? -1) - (b.latencyMs ?? -1),
};

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
  const compare = COMPARE[sort.key];
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

/** One line per explained row, in file order. Masked features stay masked: only the documents are used. */
export function resultsCsv(rows: readonly ResultRow[]): string {
  const data = rows
    .filter((r) => r.doc !== null)
    .sort((a, b) => a.line - b.line)
    .map((r) => {
      const d = r.doc!;
      return {
        line: r.line,
        document_id: d.id,
        decision: d.decision ? (d.decision.approved ? 'approved' : 'declined') : '',
        score: d.score,
        threshold: d.decision?.threshold ?? '',
        top_attributions: d.attributions
          .map((a) => `${a.masked ? a.feature : (a.label ?? a.feature)}: ${a.attribution.toFixed(4)}`)
          .join('; '),
        rest_sum: d.rest_sum,
        reasons: d.reasons.map((x) => x.description).join('; '),
        model: `${d.model.id}@${d.model.version}`,
        locale: d.meta.locale,
        cache: d.meta.cache,
        latency_ms: d.meta.latency_ms,
        watermark: d._meta.watermark,
      };
    });
  // A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
  return '\uFEFF' + Papa.unparse(data, CSV_OPTIONS) + '\r\n';
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

/** The rows that could not be explained, with what was wrong, to fix and send again. */
export function problemsCsv(rows: readonly { line: number; field: string; message: string }[]): string {
  return (
    '\uFEFF' + Papa.unparse(rows as { line: number; field: string; message: string }[], CSV_OPTIONS) + '\r\n'
  );
}
