// The export formats' records, written by export.ts and read back by verify-export.ts. Every format holds
// the same two kinds of record: entries (the chained record plus prev_hash and entry_hash) and, last, the
// signed checkpoint over the exported head. Described in docs/audit.md.
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

export function esEntryAction(keyId: string, seq: number): string {
  return JSON.stringify({ create: { _index: ES_ENTRY_INDEX, _id: `${keyId}-${seq}` } });
}

export function esCheckpointLines(c: ExportCheckpoint): string {
  const action = { create: { _index: ES_CHECKPOINT_INDEX, _id: `${c.keyId}-checkpoint-${c.seq}` } };
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

function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** An entry row as a CSV line; JSON columns keep their canonical text, null is an empty cell. */
export function entryCsv(row: EntryRow): string {
  const cells: string[] = ['entry'];
  for (let i = 0; i < RECORD_FIELDS.length; i++) cells.push(csvCell(row[i] as string | number | null));
  cells.push(row[PREV_HASH] as string, row[ENTRY_HASH] as string);
  for (let i = RECORD_FIELDS.length + 3; i < CSV_COLUMNS.length; i++) cells.push('');
  return cells.join(',');
}

export function checkpointCsv(c: ExportCheckpoint): string {
  const o = checkpointObject(c);
  return CSV_COLUMNS.map((col) => csvCell((o as Record<string, string | number | undefined>)[col])).join(',');
}

/** Reads a record back from an exported object whose JSON fields are values (JSONL, Elasticsearch). */
export function recordFromJson(o: Record<string, unknown>): AuditRecord | string {
  const record: Record<string, unknown> = {};
  for (const [field] of RECORD_FIELDS) {
    if (!(field in o)) return `the entry has no "${field}"`;
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
  }
  return record as unknown as AuditRecord;
}
