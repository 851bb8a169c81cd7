// The export formats' records, written by export.ts and read back by verify-export.ts. Every format holds
// the same two kinds of record: entries (the chained record plus prev_hash and entry_hash) and, last, the
// signed checkpoint over the exported head. Described in docs/audit.md.
import { canonicalJson } from '../canonical-json.js';
import type { ExportCheckpoint } from './checkpoint.js';
import { RECORD_FIELDS, type AuditRecord } from './entry.js';
import { ENTRY_HASH, PREV_HASH, type EntryRow } from './store.js';

export const EXPORT_FORMATS = ['jsonl', 'csv', 'es-bulk'] as const;
export type AuditExportFormat = (typeof EXPORT_FORMATS)[number];

/** Elasticsearch indices; both match the index template in docs/elasticsearch/audit-index-template.json. */
export const ES_ENTRY_INDEX = 'branchlens-audit-entries';
export const ES_CHECKPOINT_INDEX = 'branchlens-audit-checkpoints';

export const SIGNATURE_ALG = 'Ed25519';

/** An entry as exported: the chained record plus its links. */
export interface ExportedEntry {
  record: AuditRecord;
  prevHash: string;
  entryHash: string;
}

const FIELD_PREFIXES = RECORD_FIELDS.map(([field]) => `,${JSON.stringify(field)}:`);

/** `{"record":"entry",<extra>,"seq":…,…,"prev_hash":…,"entry_hash":…}` from a stored row, JSON columns spliced in. */
export function entryJson(row: EntryRow, extra = ''): string {
  let out = `{"record":"entry"${extra}`;
  for (let i = 0; i < RECORD_FIELDS.length; i++) {
    const v = row[i];
    out += FIELD_PREFIXES[i]!;
    out += v === null ? 'null' : RECORD_FIELDS[i]![1] === 'json' ? (v as string) : JSON.stringify(v);
  }
  return `${out},"prev_hash":"${row[PREV_HASH] as string}","entry_hash":"${row[ENTRY_HASH] as string}"}`;
}

/** The members of each record, in the order the exporter writes them; verification refuses any other. */
export const ENTRY_FIELDS: readonly string[] = [
  'record',
  ...RECORD_FIELDS.map(([f]) => f),
  'prev_hash',
  'entry_hash',
];
/** Elasticsearch entries also carry the key id, right after `record`. */
export const ES_ENTRY_FIELDS: readonly string[] = ['record', 'key_id', ...ENTRY_FIELDS.slice(1)];

/** The first member of `o` that `fields` does not define. */
export function unknownField(o: object, fields: readonly string[]): string | undefined {
  return Object.keys(o).find((k) => !fields.includes(k));
}

export function checkpointObject(c: ExportCheckpoint) {
  return {
    record: 'checkpoint' as const,
    seq: c.seq,
    entry_hash: c.entryHash,
    count: c.count,
    first_seq: c.firstSeq,
    first_prev_hash: c.firstPrevHash,
    created_at: c.createdAt,
    key_id: c.keyId,
    alg: SIGNATURE_ALG,
    signature: c.signature,
  };
}

/**
 * An entry's action: its `_id` is its entry_hash, which is unique along a chain and stays the same whichever key
 * signs the export, so re-importing an entry (after the key was replaced, too) answers 409 instead of indexing it
 * twice.
 */
export function esEntryAction(entryHash: string): string {
  return JSON.stringify({ create: { _index: ES_ENTRY_INDEX, _id: entryHash } });
}

/** The action exports wrote before the `_id` was the entry_hash (`<key_id>-<seq>`); still verified. */
export function esEarlierEntryAction(keyId: string, seq: number): string {
  return JSON.stringify({ create: { _index: ES_ENTRY_INDEX, _id: `${keyId}-${seq}` } });
}

export function esCheckpointLines(c: ExportCheckpoint): string {
  // The seal's range is in its id: a full export and a --since export ending at the same head are two seals.
  const action = {
    create: { _index: ES_CHECKPOINT_INDEX, _id: `${c.keyId}-checkpoint-${c.firstSeq}-${c.seq}` },
  };
  // `timestamp` lets one date filter cover both indices.
  return `${JSON.stringify(action)}\n${JSON.stringify({ ...checkpointObject(c), timestamp: c.createdAt })}\n`;
}

export const CSV_COLUMNS = [
  'record',
  ...RECORD_FIELDS.map(([f]) => f),
  'prev_hash',
  'entry_hash',
  'count',
  'first_seq',
  'first_prev_hash',
  'created_at',
  'key_id',
  'alg',
  'signature',
] as const;

/** A checkpoint's fields: the CSV's checkpoint columns, after the seq and head hash it shares with entries. */
export const CHECKPOINT_FIELDS: readonly string[] = [
  'record',
  'seq',
  'entry_hash',
  ...CSV_COLUMNS.slice(CSV_COLUMNS.indexOf('count')),
];
export const ES_CHECKPOINT_FIELDS: readonly string[] = [...CHECKPOINT_FIELDS, 'timestamp'];

function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** An entry row's CSV cells, unquoted: JSON columns keep their canonical text, null is an empty cell. */
export function entryCsvValues(row: EntryRow): string[] {
  const cells: string[] = ['entry'];
  for (let i = 0; i < RECORD_FIELDS.length; i++) cells.push(row[i] === null ? '' : String(row[i]));
  cells.push(row[PREV_HASH] as string, row[ENTRY_HASH] as string);
  for (let i = RECORD_FIELDS.length + 3; i < CSV_COLUMNS.length; i++) cells.push('');
  return cells;
}

/** An entry row as a CSV line. */
export function entryCsv(row: EntryRow): string {
  return entryCsvValues(row).map(csvCell).join(',');
}

export function checkpointCsvValues(c: ExportCheckpoint): string[] {
  const o = checkpointObject(c) as Record<string, string | number | undefined>;
  return CSV_COLUMNS.map((col) => (o[col] === undefined ? '' : String(o[col])));
}

export function checkpointCsv(c: ExportCheckpoint): string {
  return checkpointCsvValues(c).map(csvCell).join(',');
}

const TYPE_NAMES = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  json: 'a JSON object or array',
} as const;

function typeProblem(field: string, type: keyof typeof TYPE_NAMES, v: unknown): string | undefined {
  const fits =
    v === null
      ? type !== 'int'
      : type === 'int'
        ? Number.isSafeInteger(v)
        : type === 'number'
          ? typeof v === 'number'
          : type === 'string'
            ? typeof v === 'string'
            : typeof v === 'object';
  return fits ? undefined : `"${field}" is not ${TYPE_NAMES[type]}`;
}

/** Reads a record back from an exported object whose JSON fields are values (JSONL, Elasticsearch). */
export function recordFromJson(o: Record<string, unknown>): AuditRecord | string {
  const record: Record<string, unknown> = {};
  for (const [field, type] of RECORD_FIELDS) {
    if (!(field in o)) return `the entry has no "${field}"`;
    const problem = typeProblem(field, type, o[field]);
    if (problem) return problem;
    record[field] = o[field];
  }
  return record as unknown as AuditRecord;
}

/** Reads a record back from a CSV row (cells as strings; empty means null). */
export function recordFromCsv(o: Record<string, string>): AuditRecord | string {
  const record: Record<string, unknown> = {};
  for (const [field, type] of RECORD_FIELDS) {
    const cell = o[field];
    if (cell === undefined) return `the row has no "${field}" column`;
    if (cell === '') {
      record[field] = null;
    } else if (type === 'json') {
      try {
        record[field] = JSON.parse(cell) as unknown;
      } catch {
        return `"${field}" is not JSON`;
      }
    } else if (type === 'string') {
      record[field] = cell;
    } else {
      const n = Number(cell);
      if (!Number.isFinite(n)) return `"${field}" is not a number`;
      record[field] = n;
    }
    const problem = typeProblem(field, type, record[field]);
    if (problem) return problem;
  }
  return record as unknown as AuditRecord;
}

/**
 * The stored row an entry read back from an export was written from: JSON fields as their canonical text.
 * Writing it again (entryJson, entryCsv) gives the exporter's text, so anything else in a file is refused.
 * Throws for a value RFC 8785 refuses (a lone surrogate).
 */
export function entryRow(e: ExportedEntry): EntryRow {
  const row: EntryRow = RECORD_FIELDS.map(([field, type]) => {
    const v = e.record[field];
    return v === null || type !== 'json' ? (v as string | number | null) : canonicalJson(v);
  });
  row.push(e.prevHash, e.entryHash);
  return row;
}

/** A record field's value as entryJson writes it. */
export function fieldJson(field: string, v: unknown): string {
  const json = RECORD_FIELDS.some(([f, type]) => f === field && type === 'json');
  return v !== null && json ? canonicalJson(v) : JSON.stringify(v);
}
