// `branchlens audit show DOCUMENT-ID | --seq N`: one decision in the audit log, found as the Audit page finds it
// (the same core query, auditPage): by the document id on a printout, whole or its first 8 hex digits, or by its
// entry No. The data folder is only read, and what is printed is what the entry stores: sensitive features under
// their pseudonyms, never their names or values.
import { auditQuerySchema, type AuditEntryView } from '../../../shared/contract.js';
import { localIso } from '../../../shared/local-time.js';
import { InputError, wholeNumber } from '../../../shared/problems.js';
import { auditPage } from '../../core/audit/query.js';
import { openReadable, type ReadableDb } from '../../core/db/open.js';
import { DATA_OPTION, dataDirFrom, parseFlags, writeJson, writeOut, type Command } from '../command.js';
import { problem, requireInstallation } from './audit.js';

/** The positional argument, as problems name it (the usage's word for it). */
const DOCUMENT_FIELD = 'DOCUMENT-ID';

/** The contract's fields as this command's arguments name them, for the contract's own messages. */
const FIELDS: Record<string, string> = { document_id: DOCUMENT_FIELD, seq: '--seq' };

/** The entries one page of the lookup reads: a document served many times (cache hits) takes several. */
const PAGE = 500;

type Lookup = { document_id: string } | { seq: number };

/** The lookup the arguments ask for, checked by the contract's schema as the HTTP API checks it. */
function lookupFrom(positionals: string[], seq: string | undefined): Lookup {
  if (positionals.length > 1) {
    throw problem(DOCUMENT_FIELD, `give one document id, got ${positionals.length}`);
  }
  const [documentId] = positionals;
  if (documentId !== undefined && seq !== undefined) {
    throw problem('--seq', 'looks an entry up by its No.: give a document id or --seq, not both');
  }
  if (documentId === undefined && seq === undefined) {
    throw problem(
      DOCUMENT_FIELD,
      'give the document id from the printout (whole, or its first 8 hex digits), or --seq N for an entry No.',
      'missing',
    );
  }
  const parsed = auditQuerySchema.safeParse(
    seq !== undefined ? { seq: wholeNumber('--seq', seq, 1) } : { document_id: documentId },
  );
  if (!parsed.success) {
    throw new InputError(
      parsed.error.issues.map((i) => ({
        field: FIELDS[String(i.path[0])] ?? DOCUMENT_FIELD,
        code: 'invalid' as const,
        message: i.message,
      })),
    );
  }
  const q = parsed.data;
  return q.seq !== undefined ? { seq: q.seq } : { document_id: q.document_id! };
}

/** Every entry the lookup finds, newest first: all the pages auditPage gives for it. */
function lookUp(db: ReadableDb, lookup: Lookup): AuditEntryView[] {
  const entries: AuditEntryView[] = [];
  let before: number | null = null;
  do {
    const page = auditPage(db, { ...lookup, limit: PAGE, ...(before ? { before_seq: before } : {}) });
    entries.push(...page.entries);
    before = page.next_before_seq;
  } while (before !== null);
  return entries;
}

/** The problem for a lookup that found nothing: which field, and what the log holds instead. */
function notFound(db: ReadableDb, lookup: Lookup, raw: string): InputError {
  if ('document_id' in lookup) {
    // A whole id is a UUID: 32 hex digits and 4 dashes as stored; anything shorter is the start of one.
    const whole = lookup.document_id.length === 36;
    return problem(
      DOCUMENT_FIELD,
      `no entry has a document id ${whole ? '' : 'starting '}${raw.trim()}: check it against the printout, ` +
        'and that --data is the branch’s data folder',
    );
  }
  const head = auditPage(db, { limit: 1 }).entries[0];
  return problem(
    '--seq',
    head
      ? `no entry #${lookup.seq}: the log's entries are #1–#${head.seq}`
      : `no entry #${lookup.seq}: the log has no entries yet`,
  );
}

/**
 * A prefix that starts more than one document's id (8 digits: about one lookup in 4,000 on a log of a million)
 * is not one decision: the candidates are named, each with its entries, and the officer gives more of the id.
 */
function ambiguity(entries: readonly AuditEntryView[], raw: string): InputError | undefined {
  const byDocument = new Map<string, number[]>();
  for (const e of entries) byDocument.set(e.document_id!, [...(byDocument.get(e.document_id!) ?? []), e.seq]);
  if (byDocument.size < 2) return undefined;
  const candidates = [...byDocument].map(
    ([id, seqs]) => `${id} (entr${seqs.length === 1 ? 'y' : 'ies'} ${seqs.map((s) => `#${s}`).join(', ')})`,
  );
  return problem(
    DOCUMENT_FIELD,
    `${raw.trim()} starts the ids of ${byDocument.size} documents: ${candidates.join('; ')}. ` +
      'Give more of the id (the whole id is on the printout), or --seq N for one entry',
  );
}

/** An entry for a person: one labelled line per stored value (none for an empty one), times in local time. */
export function entryText(e: AuditEntryView): string {
  const lines: [string, string | null][] = [
    ['time', localIso(new Date(e.timestamp))],
    ['kind', e.kind],
    ['model', e.model_id === null ? null : `${e.model_id}@${e.model_version ?? ''}`],
    ['model sha256', e.model_sha256],
    ['explainer', e.explainer_version],
    ['document', e.document_id],
    ['score', e.prediction === null ? null : String(e.prediction)],
    ['decision', decisionText(e.details)],
    ['cache', e.cache_level === null ? null : `${e.cache_level}, ${latencyText(e.latency_ms)}`],
    ['input hash (HMAC)', e.input_hash],
    ['watermark', e.watermark],
    ['previous hash', e.prev_hash],
    ['entry hash', e.entry_hash],
  ];
  const out = [`entry #${e.seq}`];
  for (const [label, value] of lines) if (value !== null) out.push(`  ${label.padEnd(18)} ${value}`);
  // The attributions as recorded: a sensitive feature is there under its pseudonym, and is printed so.
  if (e.top_attributions?.length) {
    out.push('  top attributions (as recorded: sensitive features under their pseudonyms)');
    const width = Math.max(...e.top_attributions.map((a) => a.feature.length));
    for (const a of e.top_attributions) {
      out.push(`    ${a.feature.padEnd(width)}  ${a.attribution > 0 ? '+' : ''}${a.attribution}`);
    }
  }
  if (e.explainer_params) out.push(`  explainer params   ${JSON.stringify(e.explainer_params)}`);
  // A model change's `previous` and `reason`, a settings change's `changes` (an explain's decision is above).
  if (e.details && Object.keys(e.details).length > 0 && e.kind !== 'explain')
    out.push(`  details            ${JSON.stringify(e.details)}`);
  return out.join('\n') + '\n';
}

/** A latency to a hundredth of a millisecond (the JSON keeps it whole). */
function latencyText(ms: number | null): string {
  return ms === null ? 'latency not recorded' : `${ms.toFixed(2)} ms`;
}

function decisionText(details: AuditEntryView['details']): string | null {
  const d = details?.decision as { approved?: boolean; label?: string; threshold?: number } | undefined;
  if (!d) return null;
  return `${d.approved ? 'approved' : 'declined'} (class "${d.label}", threshold ${d.threshold})`;
}

export const auditShowCommand: Command = {
  name: 'audit show',
  summary:
    'Show the audit entry of one decision, by the document id on its printout (whole, or its first 8 hex digits) or by its entry No. (--seq N)',
  usage: 'branchlens audit show DOCUMENT-ID | --seq N [--json] [--data DIR]',
  async run(argv, io) {
    const { values, positionals } = parseFlags(
      argv,
      { ...DATA_OPTION, seq: { type: 'string' }, json: { type: 'boolean' } },
      true,
    );
    const lookup = lookupFrom(positionals, values.seq);
    const raw = positionals[0] ?? values.seq!;
    // Read-only, as `audit public-key` reads: a folder holding no installation is a bad --data, created nowhere.
    const dataDir = dataDirFrom(values, io, { create: false });
    requireInstallation(dataDir, values, io, 'whose audit log to read');
    const db = openReadable(dataDir);
    let entries: AuditEntryView[];
    try {
      entries = lookUp(db, lookup);
      if (entries.length === 0) throw notFound(db, lookup, raw);
    } finally {
      db.close();
    }
    const several = ambiguity(entries, raw);
    if (several) throw several;
    if (values.json) {
      await writeJson(io, entries);
      return 0;
    }
    // A cache hit serves the same document again: each serving has an entry of its own.
    const servings =
      entries.length > 1
        ? `${entries.length} entries: every serving of document ${entries[0]!.document_id}, newest first\n\n`
        : '';
    await writeOut(io, servings + entries.map(entryText).join('\n'));
    return 0;
  },
};
