// Verifies an export offline, with only the branch's public key: every entry's own hash, every link, and
// the signed checkpoint the export ends with, which must be the last exported entry. Hashes are recomputed
// with RFC 8785 canonicalization of the parsed record (canonicalRecord), independently of the writer's spliced rows.
// Each record must also read exactly as export-format.ts writes it: what the hashes and the signature do not
// cover (a field the format does not define, a repeated key, a number spelled another way, an Elasticsearch
// action or `timestamp`, a blank or whitespace line, bytes that are not UTF-8, a gzip comment or data after the
// gzip stream) would otherwise travel with an "intact" file. The seal's signature is judged before anything that
// takes its fields at their word. The file is read line by line, so memory is bounded by its longest line and an
// export of any size verifies.
import { parse as parseCsv } from 'csv-parse/sync';
import type { KeyObject } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';
import { auditPublicKey, checkSignature, type ExportCheckpoint } from './checkpoint.js';
import { canonicalRecord, chainHash, GENESIS_HASH } from './entry.js';
import {
  CHECKPOINT_FIELDS,
  checkpointCsv,
  checkpointCsvValues,
  checkpointObject,
  CSV_COLUMNS,
  ENTRY_FIELDS,
  entryCsv,
  entryCsvValues,
  entryJson,
  entryRow,
  ES_CHECKPOINT_FIELDS,
  ES_CHECKPOINT_INDEX,
  ES_ENTRY_FIELDS,
  esCheckpointLines,
  esEarlierEntryAction,
  esEntryAction,
  fieldJson,
  recordFromCsv,
  recordFromJson,
  unknownField,
  type AuditExportFormat,
  type ExportedEntry,
} from './export-format.js';
import type { EntryRow } from './store.js';
import type { AuditBreakKind } from './verify.js';

export type ExportBreakKind = AuditBreakKind | 'malformed' | 'unsigned';

export interface ExportBreak {
  /** The entry concerned, when the break is about one. */
  seq: number | null;
  kind: ExportBreakKind;
  message: string;
}

export interface ExportVerification {
  ok: boolean;
  format: AuditExportFormat | null;
  entries: number;
  firstSeq: number | null;
  /** The last entry the file holds: the head of the log, or the end of a date range (the seal does not say which). */
  head: { seq: number; entryHash: string } | null;
  /** The first and the last entry's timestamps, which show the range an export covers (null with no entries). */
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  checkpoint: ExportCheckpoint | null;
  /** With `options.hashAt`: the entry_hash of the entry at that seq, when the file holds it. */
  hashAt?: { seq: number; entryHash: string };
  break?: ExportBreak;
}

export interface VerifyExportOptions {
  /** Keep the entry_hash at this seq (exportContinuity compares two exports of one log there). */
  hashAt?: number;
}

/** A limit of this tool rather than a fault of the export: the file is not judged either way. */
export class ExportTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportTooLargeError';
  }
}

/** An export's lines are entries of a few KiB; a longer line is not read (V8 strings end near 512 MiB). */
export const MAX_LINE_CHARS = 256 * 1024 * 1024;
/** verifyExport gunzips in memory up to this; verifyExportStream streams and has no such limit. */
export const MAX_IN_MEMORY_BYTES = 1024 * 1024 * 1024;
/** CSV records parsed per csv-parse call: one call per record would cost more than the rest of verification. */
const CSV_BATCH = 1000;
const CHUNK = 1024 * 1024;

class Malformed extends Error {}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Malformed(`${what} is not a string`);
  return v;
}

function num(v: unknown, what: string): number {
  const n = typeof v === 'string' && v !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new Malformed(`${what} is not a whole number`);
  return n;
}

function checkpointFrom(o: Record<string, unknown>, where: string): ExportCheckpoint {
  if (o.alg !== 'Ed25519')
    throw new Malformed(`${where}: the checkpoint's algorithm is ${String(o.alg)}, not Ed25519`);
  return {
    seq: num(o.seq, `${where}: the checkpoint seq`),
    entryHash: str(o.entry_hash, `${where}: the checkpoint entry_hash`),
    count: num(o.count, `${where}: the checkpoint count`),
    firstSeq: num(o.first_seq, `${where}: the checkpoint first_seq`),
    firstPrevHash: str(o.first_prev_hash, `${where}: the checkpoint first_prev_hash`),
    createdAt: str(o.created_at, `${where}: the checkpoint created_at`),
    keyId: str(o.key_id, `${where}: the checkpoint key_id`),
    signature: str(o.signature, `${where}: the checkpoint signature`),
  };
}

function entryFrom(o: Record<string, unknown>, csv: boolean, where: string): ExportedEntry {
  const record = csv ? recordFromCsv(o as Record<string, string>) : recordFromJson(o);
  if (typeof record === 'string') throw new Malformed(`${where}: ${record}`);
  return {
    record,
    prevHash: str(o.prev_hash, `${where}: prev_hash`),
    entryHash: str(o.entry_hash, `${where}: entry_hash`),
  };
}

function rowOf(e: ExportedEntry, where: string): EntryRow {
  try {
    return entryRow(e);
  } catch {
    throw new Malformed(`${where}: the entry holds a value RFC 8785 refuses`);
  }
}

function refuseUnknownField(o: object, fields: readonly string[], what: string, where: string): void {
  const extra = unknownField(o, fields);
  if (extra !== undefined) {
    throw new Malformed(`${where}: the ${what} has a field the format does not define: "${extra}"`);
  }
}

function jsonLine(line: string, where: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new Malformed(`${where} is not JSON`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new Malformed(`${where} is not a JSON object`);
  return o as Record<string, unknown>;
}

const shown = (s: unknown) => {
  const text = typeof s === 'string' && s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return text === undefined ? 'nothing' : JSON.stringify(text);
};

/**
 * Names the first member of a JSON line that differs from the exporter's text for `values` (members in the
 * order `fields` lists them): a repeated key, a field out of place, a value spelled another way.
 */
function notAsExported(
  where: string,
  line: string,
  values: Record<string, unknown>,
  fields: readonly string[],
): Malformed {
  let prefix = '';
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    prefix += `${i === 0 ? '{' : ','}${JSON.stringify(field)}:${fieldJson(field, values[field])}`;
    if (!line.startsWith(prefix + (i === fields.length - 1 ? '}' : ','))) {
      return new Malformed(
        `${where}: "${field}" is not written as the export writes it (a repeated key, a field out of place, or a value spelled another way)`,
      );
    }
  }
  return new Malformed(`${where} is not written as the export writes it (text after the record)`);
}

function csvNotAsExported(where: string, cells: readonly string[], expected: readonly string[]): Malformed {
  const i = expected.findIndex((v, i) => cells[i] !== v);
  return new Malformed(
    i === -1
      ? `${where}: the cells are quoted otherwise than the export quotes them`
      : `${where}: the "${CSV_COLUMNS[i]}" cell holds ${shown(cells[i])}, where the export writes ${shown(expected[i])}`,
  );
}

/** What is wrong with an Elasticsearch action line that is not `expected`. */
function actionProblem(action: Record<string, unknown>, expected: string): string {
  const want = (JSON.parse(expected) as { create: { _index: string; _id: string } }).create;
  const ops = Object.keys(action);
  if (!ops.includes('create')) return `the action is ${ops.map((op) => `"${op}"`).join(', ')}, not "create"`;
  const other = ops.find((op) => op !== 'create');
  if (other !== undefined) return `the action has "${other}" besides "create"`;
  const target = action.create;
  if (typeof target !== 'object' || target === null || Array.isArray(target))
    return 'the "create" action is not an object';
  const extra = unknownField(target, ['_index', '_id']);
  if (extra !== undefined) return `the action has "${extra}", which the export does not write`;
  const { _index, _id } = target as { _index?: unknown; _id?: unknown };
  if (_index !== want._index) return `the action is on ${shown(_index)}, not "${want._index}"`;
  if (_id !== want._id) return `the action's _id is ${shown(_id)}, not "${want._id}"`;
  return 'the action is not written as the export writes it';
}

const outOfOrder = (found: number, expected: number): ExportBreak => ({
  seq: expected,
  kind: 'out_of_order',
  message: `entry ${found} stands where entry ${expected} belongs`,
});

const missing = (seq: number): ExportBreak => ({ seq, kind: 'missing', message: `entry ${seq} is missing` });

function hashBreak(e: ExportedEntry): ExportBreak | undefined {
  const { seq } = e.record;
  let canonical: string;
  try {
    canonical = canonicalRecord(e.record);
  } catch {
    return { seq, kind: 'edited', message: `entry ${seq} holds a value that cannot be canonicalized` };
  }
  if (chainHash(e.prevHash, canonical) !== e.entryHash) {
    return { seq, kind: 'edited', message: `entry ${seq} was edited: its content does not match its hash` };
  }
  return undefined;
}

/**
 * Follows the chain entry by entry in constant memory, and keeps the first break in it. Where the range starts
 * and ends is judged once the seal, which comes last, is read.
 */
class ChainFollower {
  count = 0;
  first: { seq: number; prevHash: string } | null = null;
  last: { seq: number; entryHash: string } | null = null;
  firstTimestamp: string | null = null;
  lastTimestamp: string | null = null;
  /** The line the last entry is on. */
  private lastAt = 0;
  /** The seq whose entry_hash is kept, and what it was. */
  keepSeq: number | undefined;
  kept: { seq: number; entryHash: string } | undefined;
  private minSeq = Infinity;
  private found: ExportBreak | undefined;
  /** An entry that did not come where expected: missing, unless it turns up later (then out of order). */
  private gap: { expected: number; found: number } | undefined;

  /** Follows the entry `e`, read on line `at`. */
  add(e: ExportedEntry, at: number): void {
    const { seq } = e.record;
    const before = this.last;
    const beforeAt = this.lastAt;
    this.count++;
    this.minSeq = Math.min(this.minSeq, seq);
    this.last = { seq, entryHash: e.entryHash };
    this.lastAt = at;
    this.firstTimestamp ??= e.record.timestamp;
    this.lastTimestamp = e.record.timestamp;
    if (seq === this.keepSeq) this.kept = { seq, entryHash: e.entryHash };
    if (this.gap) {
      if (seq === this.gap.expected) {
        this.found = outOfOrder(this.gap.found, this.gap.expected);
        this.gap = undefined;
      }
      return;
    }
    if (this.found) return;
    if (!before) {
      this.first = { seq, prevHash: e.prevHash };
    } else if (seq > before.seq + 1) {
      this.gap = { expected: before.seq + 1, found: seq };
      return;
    } else if (seq === before.seq && e.entryHash === before.entryHash) {
      // A row copied (a paste, a spreadsheet's fill) rather than entries moved: said as such.
      this.found = {
        seq,
        kind: 'out_of_order',
        message: `entry ${seq} appears twice (lines ${beforeAt} and ${at})`,
      };
      return;
    } else if (seq !== before.seq + 1) {
      this.found = outOfOrder(seq, before.seq + 1);
      return;
    } else if (e.prevHash !== before.entryHash) {
      this.found = { seq, kind: 'broken_link', message: `entry ${seq} does not link to the entry before it` };
      return;
    }
    this.found = hashBreak(e);
  }

  /** The first break, in the order of the chain, given the seal. */
  judge(c: ExportCheckpoint): ExportBreak | undefined {
    return this.startBreak(c) ?? this.found ?? (this.gap && missing(this.gap.expected)) ?? this.endBreak(c);
  }

  private startBreak(c: ExportCheckpoint): ExportBreak | undefined {
    if (!this.first) return undefined;
    const { seq, prevHash } = this.first;
    if (seq !== c.firstSeq) {
      return seq > c.firstSeq && this.minSeq > c.firstSeq ? missing(c.firstSeq) : outOfOrder(seq, c.firstSeq);
    }
    if (prevHash !== c.firstPrevHash) {
      return { seq, kind: 'broken_link', message: `entry ${seq} does not link to the entry before it` };
    }
    return undefined;
  }

  private endBreak(c: ExportCheckpoint): ExportBreak | undefined {
    const expectedSeq = this.last ? this.last.seq + 1 : c.firstSeq;
    const expectedPrev = this.last ? this.last.entryHash : c.firstPrevHash;
    if (expectedSeq <= c.seq) {
      return {
        seq: expectedSeq,
        kind: 'truncated',
        message: `the export ends before entry ${expectedSeq}, but is signed up to ${c.seq}`,
      };
    }
    if (expectedSeq > c.seq + 1) {
      return {
        seq: c.seq + 1,
        kind: 'unsigned',
        message: `entries after ${c.seq} are not covered by the signature`,
      };
    }
    if (expectedPrev !== c.entryHash) {
      // Every entry matched its own hash and link: one was changed with all the hashes after it recomputed, so
      // the signed head is the first place it shows, and the change may be anywhere in the range.
      const from = this.first?.seq ?? c.firstSeq;
      return {
        seq: c.seq,
        kind: 'checkpoint_mismatch',
        message: `the exported chain does not end in the signed head: an entry ${from === c.seq ? `#${c.seq}` : `in #${from}–#${c.seq}`} was changed (or removed, or added) and the hashes of the entries after it recomputed, so each entry still matches its own hash and only the signed head shows it; the change may be in any entry of that range, not only #${c.seq}`,
      };
    }
    return undefined;
  }
}

function countQuotes(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) n++;
  return n;
}

const withoutCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

/** The cells of one CSV line, or undefined when it does not parse as one record. */
function csvCells(line: string): string[] | undefined {
  try {
    const rows = parseCsv(line, { relax_column_count: true }) as string[][];
    return rows.length === 1 ? rows[0] : undefined;
  } catch {
    return undefined;
  }
}

const isCsvColumn = (cell: string) => (CSV_COLUMNS as readonly string[]).includes(cell);

/** A first line that is meant as the CSV header, however it was saved: its cells include a column of the format. */
function looksLikeCsvHeader(line: string): boolean {
  if (line.startsWith('{') || line.startsWith('[')) return false;
  const cells = csvCells(line) ?? line.split(',').map((c) => c.replace(/"/g, ''));
  return cells.length > 1 && cells.some((c) => isCsvColumn(c.trim()));
}

/** The separators a spreadsheet may re-save a CSV with, as a message names them. */
const OTHER_SEPARATORS: [string, string][] = [
  [';', "';'"],
  ['\t', 'tabs'],
  ['|', "'|'"],
];

/**
 * What a spreadsheet made of the header line when it re-saved the export (the exporter writes it comma-separated
 * and alone on line 1), or undefined.
 */
function resavedCsv(line: string): string | undefined {
  if (/^sep=.?$/i.test(line)) {
    return `Excel's "${line}" line, which a spreadsheet writes when it re-saves a CSV; the export starts with its header`;
  }
  if (line.startsWith('{') || line.startsWith('[') || looksLikeCsvHeader(line)) return undefined;
  for (const [separator, name] of OTHER_SEPARATORS) {
    const cells = line.split(separator).map((c) => c.replace(/"/g, '').trim());
    if (cells.length > 1 && cells.some(isCsvColumn)) {
      return `a CSV separated by ${name} (a spreadsheet re-saved it); the export is comma-separated`;
    }
  }
  return undefined;
}

/** A date as spreadsheets write one (28/11/2026 10:27, 11/28/2026 10:27:24 AM), or its serial number. */
const SPREADSHEET_DATE =
  /^(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}( \d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?( ?[AP]M)?)?|\d+([.,]\d+)?)$/i;

/**
 * What a spreadsheet is known to make of each kind of cell the exporter spells one way: the cause, when `v` (not
 * the exporter's spelling) reads as such. A cell altered otherwise is left to the hashes and the signature.
 */
const SPREADSHEET_REWRITES = {
  hash: (v: string) =>
    /^[0-9a-f]{64}$/.test(v)
      ? undefined
      : /^0+$/.test(v)
        ? 'a spreadsheet turned 000…0 into the number 0'
        : /^[\d.]+(E[+-]?\d+)?$/i.test(v)
          ? 'a spreadsheet turned the hash into a number'
          : undefined,
  // #NAME? and the like are what Excel saves for a formula it cannot compute (LibreOffice: Err:508).
  signature: (v: string) =>
    /^#[A-Z0-9/]+[?!]?$/.test(v) || /^Err:\d+$/.test(v)
      ? 'a spreadsheet read the signature, which may start with "+", as a formula'
      : undefined,
  time: (v: string) => (SPREADSHEET_DATE.test(v) ? 'a spreadsheet rewrote the date-time' : undefined),
} as const;

const SPELLINGS = {
  hash: 'a SHA-256 in 64 lowercase hex characters',
  signature: 'the base64 of a 64-byte Ed25519 signature',
  time: 'an ISO 8601 date-time (2025-03-01T09:30:00.000Z)',
} as const;

/** The cells of each record kind a spreadsheet may rewrite, which the hashes or the signature cover. */
const SPREADSHEET_CELLS: Record<'entry' | 'checkpoint', [string, keyof typeof SPELLINGS][]> = {
  entry: [
    ['timestamp', 'time'],
    ['prev_hash', 'hash'],
    ['entry_hash', 'hash'],
  ],
  checkpoint: [
    ['entry_hash', 'hash'],
    ['first_prev_hash', 'hash'],
    ['created_at', 'time'],
    ['signature', 'signature'],
  ],
};

/**
 * Refuses a CSV cell a spreadsheet rewrote when the file was opened and saved (64 zeros saved as 0, a signature
 * read as a formula), naming the column and the cause: such a file is not reported as an edited log or a forged
 * seal, which is what its hashes and signature would say.
 */
function refuseSpreadsheetCells(
  o: Record<string, string>,
  record: 'entry' | 'checkpoint',
  where: string,
): void {
  for (const [column, kind] of SPREADSHEET_CELLS[record]) {
    const v = o[column]!;
    const cause = SPREADSHEET_REWRITES[kind](v);
    if (cause === undefined) continue;
    throw new Malformed(
      `${where}: the "${column}" cell holds ${shown(v)}, where the export writes ${SPELLINGS[kind]}: ${cause}; verify the file as received, not a copy opened and saved in a spreadsheet`,
    );
  }
}

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** A line the exporter never writes: blank, or only whitespace (Unicode's too). */
function blankLine(text: string, at: number): Malformed {
  const kinds = [...new Set(text)];
  const which = kinds.slice(0, 5).map(codePoint).join(' ') + (kinds.length > 5 ? ' …' : '');
  return new Malformed(
    `line ${at} is blank${text === '' ? '' : ` (only whitespace: ${which})`}, and the export has no blank lines`,
  );
}

type EsIds = 'entry_hash' | 'key_seq';

/** The operations of Elasticsearch's _bulk API, which name an action line. */
const ES_ACTIONS = ['create', 'index', 'update', 'delete'];

/** The refusal of a record that is neither an entry nor a checkpoint. */
function unknownRecord(where: string, o: Record<string, unknown>): Malformed {
  return new Malformed(
    'record' in o
      ? `${where}: unknown record type ${JSON.stringify(o.record)}`
      : `${where}: the object has no "record" member (an entry or a checkpoint)`,
  );
}

/**
 * Reads an export's text as it arrives (write, then end) into the chain and the seal. Throws Malformed at the
 * first line that is not as the exporter writes it. What is wrong with the seal's own record (its action, its
 * spelling) is kept in `sealProblem` instead: the seal's signature is judged first (see judged), so that a forged
 * seal is reported as such rather than by what its forged fields make of the rest.
 */
class ExportReader {
  format: AuditExportFormat | null = null;
  readonly chain = new ChainFollower();
  checkpoint: ExportCheckpoint | null = null;
  /** The line the seal (the checkpoint record) is on. */
  checkpointAt = 0;
  /** What differs from the exporter's text in the seal's record, given its fields. */
  sealProblem: string | null = null;
  private started = false;
  /** The line read so far, in pieces: joined once it ends, rather than copied at every chunk. */
  private partial: string[] = [];
  private partialLength = 0;
  private lineNo = 0;
  private esAction: { o: Record<string, unknown>; text: string; at: number } | null = null;
  private esKeyId: { value: string; at: number } | null = null;
  /** How the entries' Elasticsearch `_id`s are made: by entry_hash, or `<key_id>-<seq>` as earlier exports did. */
  private esIds: { kind: EsIds; at: number } | null = null;
  private csvRecord: { text: string; at: number; quotes: number } | null = null;
  private csvBatch: { text: string; at: number }[] = [];

  /** The number of the line being read. */
  get lineInProgress(): number {
    return this.lineNo + 1;
  }

  write(text: string): void {
    if (text === '') return;
    if (!this.started) {
      this.started = true;
      // Excel's "CSV UTF-8" starts the file with a byte-order mark; the exporter never writes one.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const rest = text.slice(start, nl);
      const line = this.partial.length === 0 ? rest : this.partial.join('') + rest;
      this.partial = [];
      this.partialLength = 0;
      this.line(line);
      start = nl + 1;
    }
    if (start < text.length) {
      this.partial.push(text.slice(start));
      this.partialLength += text.length - start;
      if (this.partialLength > MAX_LINE_CHARS) this.tooLong(this.lineNo + 1);
    }
  }

  end(): void {
    const endsWithNewline = this.partial.length === 0;
    if (!endsWithNewline) this.line(this.partial.join(''));
    this.partial = [];
    if (this.format === 'csv') {
      if (this.csvRecord) throw new Malformed(`line ${this.csvRecord.at}: a quoted cell is not closed`);
      this.flushCsv();
    }
    if (this.format === null) throw new Malformed('the export is empty');
    if (this.format === 'es-bulk') {
      if (this.esAction) throw new Malformed(`line ${this.esAction.at}: the action has no document after it`);
      if (!endsWithNewline) {
        throw new Malformed(
          'the file does not end with a newline, which the Elasticsearch _bulk API requires',
        );
      }
    }
  }

  private tooLong(at: number): never {
    throw new ExportTooLargeError(
      `line ${at} is longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB, too long to verify (an export's lines are entries of a few KiB)`,
    );
  }

  private line(raw: string): void {
    const at = ++this.lineNo;
    // A quoted CSV cell may run over several lines, blank ones too: they are its text, compared with the rest.
    if (this.csvRecord) return this.csvLine(raw, at);
    // Every format may end its lines in CRLF (Notepad, Windows tools); nothing else is allowed around a record.
    const text = withoutCr(raw);
    if (text.trim() === '') throw blankLine(text, at);
    switch (this.format) {
      case 'es-bulk':
        return this.esLine(text, at);
      case 'csv':
        return this.csvLine(raw, at);
      case 'jsonl':
        return this.jsonlLine(text, at);
      case null:
        return this.firstLine(text, at);
    }
  }

  private firstLine(text: string, at: number): void {
    const resaved = resavedCsv(text);
    if (resaved) throw new Malformed(`line ${at}: ${resaved}: verify the file as received`);
    if (looksLikeCsvHeader(text)) {
      this.format = 'csv';
      return this.csvHeader(text, at);
    }
    const o = jsonLine(text, `line ${at}`);
    if ('create' in o || 'index' in o) {
      this.format = 'es-bulk';
      return this.esLine(text, at);
    }
    this.format = 'jsonl';
    this.jsonlLine(text, at);
  }

  private refuseAfterCheckpoint(where: string): void {
    if (this.checkpoint)
      throw new Malformed(`${where}: a record follows the checkpoint, which must come last`);
  }

  /** The seal, read: its signature, then whether its record reads as written (`problem`), are judged at the end. */
  private seal(c: ExportCheckpoint, at: number, problem: () => string | null): void {
    this.checkpoint = c;
    this.checkpointAt = at;
    this.sealProblem = problem();
  }

  private jsonEntry(text: string, o: Record<string, unknown>, where: string, keyId?: string): ExportedEntry {
    const fields = keyId === undefined ? ENTRY_FIELDS : ES_ENTRY_FIELDS;
    refuseUnknownField(o, fields, 'entry', where);
    const e = entryFrom(o, false, where);
    const row = rowOf(e, where);
    const extra = keyId === undefined ? '' : `,"key_id":${JSON.stringify(keyId)}`;
    if (text !== entryJson(row, extra)) throw notAsExported(where, text, o, fields);
    return e;
  }

  private jsonlLine(text: string, at: number): void {
    const where = `line ${at}`;
    const o = jsonLine(text, where);
    this.refuseAfterCheckpoint(where);
    if (o.record === 'entry') {
      this.chain.add(this.jsonEntry(text, o, where), at);
    } else if (o.record === 'checkpoint') {
      refuseUnknownField(o, CHECKPOINT_FIELDS, 'checkpoint', where);
      const c = checkpointFrom(o, where);
      this.seal(c, at, () =>
        text === JSON.stringify(checkpointObject(c))
          ? null
          : notAsExported(where, text, checkpointObject(c), CHECKPOINT_FIELDS).message,
      );
    } else {
      throw unknownRecord(where, o);
    }
  }

  private esLine(text: string, at: number): void {
    const where = `line ${at}`;
    const o = jsonLine(text, where);
    const action = this.esAction;
    if (!action) {
      this.refuseAfterCheckpoint(where);
      // Documents and actions alternate: a line lost or moved puts one where the other belongs, said as such.
      if ('record' in o) {
        throw new Malformed(
          `${where}: a document where an action line belongs (each document follows its action line)`,
        );
      }
      this.esAction = { o, text, at };
      return;
    }
    this.esAction = null;
    if (!('record' in o) && Object.keys(o).some((k) => ES_ACTIONS.includes(k))) {
      throw new Malformed(
        `${where}: an action line where the document of line ${action.at}’s action belongs (a document is missing)`,
      );
    }
    if (o.record === 'entry') {
      refuseUnknownField(o, ES_ENTRY_FIELDS, 'entry', where);
      if (!('key_id' in o)) throw new Malformed(`${where}: the entry has no "key_id"`);
      const keyId = str(o.key_id, `${where}: key_id`);
      if (this.esKeyId && keyId !== this.esKeyId.value) {
        throw new Malformed(
          `${where}: the entry's key_id ${shown(keyId)} is not that of the entries before it (${shown(this.esKeyId.value)})`,
        );
      }
      this.esKeyId ??= { value: keyId, at };
      const e = this.jsonEntry(text, o, where, keyId);
      this.esEntryId(action, e, keyId);
      this.chain.add(e, at);
    } else if (o.record === 'checkpoint') {
      refuseUnknownField(o, ES_CHECKPOINT_FIELDS, 'checkpoint', where);
      const c = checkpointFrom(o, where);
      this.seal(c, at, () => {
        const [expectedAction, expectedDoc] = esCheckpointLines(c).split('\n') as [string, string];
        // Exports written before the seal's _id carried its range (<key>-checkpoint-<seq>) are still read.
        const earlierAction = JSON.stringify({
          create: { _index: ES_CHECKPOINT_INDEX, _id: `${c.keyId}-checkpoint-${c.seq}` },
        });
        if (action.text !== expectedAction && action.text !== earlierAction) {
          return `line ${action.at}: ${actionProblem(action.o, expectedAction)}`;
        }
        if (text !== expectedDoc) {
          const values = { ...checkpointObject(c), timestamp: c.createdAt };
          return notAsExported(where, text, values, ES_CHECKPOINT_FIELDS).message;
        }
        if (this.esKeyId && this.esKeyId.value !== c.keyId) {
          return `line ${this.esKeyId.at}: the entries carry key_id ${shown(this.esKeyId.value)}, but the checkpoint is signed by key ${shown(c.keyId)}`;
        }
        return null;
      });
    } else {
      throw unknownRecord(where, o);
    }
  }

  /**
   * An entry's action must be the exporter's: `_id` its entry_hash, or `<key_id>-<seq>` in an export written before
   * that; one or the other throughout the file.
   */
  private esEntryId(
    action: { o: Record<string, unknown>; text: string; at: number },
    e: ExportedEntry,
    keyId: string,
  ) {
    const byHash = esEntryAction(e.entryHash);
    const earlier = esEarlierEntryAction(keyId, e.record.seq);
    const kind: EsIds | null =
      action.text === byHash ? 'entry_hash' : action.text === earlier ? 'key_seq' : null;
    if (kind === null) {
      const expected = this.esIds?.kind === 'key_seq' ? earlier : byHash;
      throw new Malformed(`line ${action.at}: ${actionProblem(action.o, expected)}`);
    }
    if (this.esIds && kind !== this.esIds.kind) {
      const how = (k: EsIds) => (k === 'entry_hash' ? 'its entry_hash' : '<key_id>-<seq>');
      throw new Malformed(
        `line ${action.at}: the action's _id is ${how(kind)}, but line ${this.esIds.at}'s is ${how(this.esIds.kind)}: an export makes every entry's _id the same way`,
      );
    }
    this.esIds ??= { kind, at: action.at };
  }

  private csvHeader(header: string, at: number): void {
    if (header === CSV_COLUMNS.join(',')) return;
    const problem = (what: string) =>
      new Malformed(`line ${at}: the CSV header is not as the exporter writes it: ${what}`);
    const cells = csvCells(header);
    if (!cells) throw problem('it does not parse as CSV');
    const extra = cells.find((c) => !isCsvColumn(c));
    if (extra !== undefined) throw problem(`it has a column the format does not define: ${shown(extra)}`);
    const absent = CSV_COLUMNS.find((c) => !cells.includes(c));
    if (absent !== undefined) throw problem(`it has no "${absent}" column`);
    const repeated = cells.find((c, i) => cells.indexOf(c) !== i);
    if (repeated !== undefined) throw problem(`the "${repeated}" column comes twice`);
    const moved = CSV_COLUMNS.findIndex((c, i) => cells[i] !== c);
    if (moved !== -1) {
      throw problem(
        `its columns are in another order: "${cells[moved]}" stands where "${CSV_COLUMNS[moved]}" belongs (the export writes its ${CSV_COLUMNS.length} columns in a fixed order)`,
      );
    }
    throw problem(
      'its column names are quoted (as a spreadsheet that quotes every cell saves them); the export writes them bare',
    );
  }

  /** Gathers lines into records (a quoted cell may hold a newline), then parses them a batch at a time. */
  private csvLine(text: string, at: number): void {
    let record = this.csvRecord;
    if (record) {
      record.text += '\n' + text;
      record.quotes += countQuotes(text);
    } else {
      record = { text, at, quotes: countQuotes(text) };
    }
    if (record.text.length > MAX_LINE_CHARS) this.tooLong(record.at);
    if (record.quotes % 2 !== 0) {
      this.csvRecord = record;
      return;
    }
    this.csvRecord = null;
    this.csvBatch.push({ text: withoutCr(record.text), at: record.at });
    if (this.csvBatch.length >= CSV_BATCH) this.flushCsv();
  }

  private flushCsv(): void {
    const batch = this.csvBatch;
    this.csvBatch = [];
    if (batch.length === 0) return;
    const parse = (text: string) =>
      parseCsv(text, { relax_column_count: true, record_delimiter: '\n' }) as string[][];
    let rows: string[][] | undefined;
    try {
      rows = parse(batch.map((r) => r.text).join('\n'));
    } catch {
      rows = undefined;
    }
    if (rows?.length !== batch.length) {
      // Find the record at fault.
      rows = batch.map(({ text, at }) => {
        try {
          const parsed = parse(text);
          if (parsed.length === 1) return parsed[0]!;
        } catch (e) {
          throw new Malformed(`line ${at}: the CSV does not parse: ${(e as Error).message}`);
        }
        throw new Malformed(`line ${at}: the CSV does not parse as one record`);
      });
    }
    for (let i = 0; i < batch.length; i++) this.csvRow(rows[i]!, batch[i]!.text, batch[i]!.at);
  }

  private csvRow(cells: string[], text: string, at: number): void {
    const where = `line ${at}`;
    if (cells.every((c) => c === '')) {
      throw new Malformed(
        `${where}: an empty row (only commas)${this.checkpoint ? ' after the checkpoint, which the export ends with' : ', which the export never writes'}: a spreadsheet left it; verify the file as received`,
      );
    }
    this.refuseAfterCheckpoint(where);
    if (cells.length !== CSV_COLUMNS.length) {
      throw new Malformed(`${where} has ${cells.length} cells, where the header has ${CSV_COLUMNS.length}`);
    }
    const o = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, cells[i]!])) as Record<string, string>;
    // Before the hashes and the signature are checked, which would take a spreadsheet's rewrite for a forgery.
    if (o.record === 'entry' || o.record === 'checkpoint') refuseSpreadsheetCells(o, o.record, where);
    if (o.record === 'entry') {
      const e = entryFrom(o, true, where);
      const row = rowOf(e, where);
      if (text !== entryCsv(row)) throw csvNotAsExported(where, cells, entryCsvValues(row));
      this.chain.add(e, at);
    } else if (o.record === 'checkpoint') {
      const c = checkpointFrom(o, where);
      this.seal(c, at, () =>
        text === checkpointCsv(c) ? null : csvNotAsExported(where, cells, checkpointCsvValues(c)).message,
      );
    } else if (text === CSV_COLUMNS.join(',')) {
      // Two exports pasted into one file, or a header copied along with rows.
      throw new Malformed(`${where}: a second header row`);
    } else {
      throw unknownRecord(where, o);
    }
  }
}

function sealBreak(c: ExportCheckpoint): ExportBreak | undefined {
  if (c.count !== c.seq) {
    return {
      seq: c.seq,
      kind: 'checkpoint_mismatch',
      message: `the checkpoint counts ${c.count} entries at seq ${c.seq}`,
    };
  }
  if (c.firstSeq < 1 || c.firstSeq > c.seq + 1 || (c.firstSeq === 1 && c.firstPrevHash !== GENESIS_HASH)) {
    return {
      seq: c.firstSeq,
      kind: 'broken_link',
      message: 'the exported range does not start on the chain',
    };
  }
  return undefined;
}

/** The seal's signature, judged before anything that relies on the seal's fields. */
function signatureBreak(
  c: ExportCheckpoint,
  at: number,
  key: ReturnType<typeof auditPublicKey>,
): ExportBreak | undefined {
  switch (checkSignature(c, key)) {
    case 'valid':
      return undefined;
    case 'wrong_key':
      return {
        seq: null,
        kind: 'bad_signature',
        message: `line ${at}: the seal is signed by key ${c.keyId}, not by the given public key ${key.id} (another installation's export, or the seal's key_id was changed)`,
      };
    case 'bad_signature':
      return {
        seq: null,
        kind: 'bad_signature',
        message: `line ${at}: the seal's signature does not verify with the given public key ${key.id}: the signature, or the range and head it signs (seq, count, entry_hash, first_seq, first_prev_hash, created_at), were changed`,
      };
  }
}

const UNREAD: ExportVerification = {
  ok: false,
  format: null,
  entries: 0,
  firstSeq: null,
  head: null,
  firstTimestamp: null,
  lastTimestamp: null,
  checkpoint: null,
};

/** A file that could not be read to its end; a tool limit is thrown on, as it says nothing of the file. */
function unread(e: unknown): ExportVerification {
  if (e instanceof ExportTooLargeError) throw e;
  const message = e instanceof Malformed ? e.message : `the export cannot be read: ${(e as Error).message}`;
  return { ...UNREAD, break: { seq: null, kind: 'malformed', message } };
}

function judged(reader: ExportReader, key: ReturnType<typeof auditPublicKey>): ExportVerification {
  const { chain, checkpoint } = reader;
  const result: ExportVerification = {
    ok: false,
    format: reader.format,
    entries: chain.count,
    firstSeq: chain.first?.seq ?? null,
    head: chain.last,
    firstTimestamp: chain.firstTimestamp,
    lastTimestamp: chain.lastTimestamp,
    checkpoint,
    ...(chain.kept ? { hashAt: chain.kept } : {}),
  };
  if (!checkpoint) {
    return {
      ...result,
      break: { seq: null, kind: 'unsigned', message: 'the export has no signed checkpoint' },
    };
  }
  // The signature first: a forged seal's fields would otherwise be taken at their word, and the entries blamed.
  const found =
    signatureBreak(checkpoint, reader.checkpointAt, key) ??
    (reader.sealProblem === null
      ? undefined
      : { seq: null, kind: 'malformed' as const, message: reader.sealProblem }) ??
    sealBreak(checkpoint) ??
    chain.judge(checkpoint);
  return found ? { ...result, break: found } : { ...result, ok: true };
}

const EMPTY = Buffer.alloc(0);

/** The bytes of a character cut off at the end of `bytes` (its first bytes), if any. */
function cutCharacter(bytes: Uint8Array): Uint8Array {
  for (let i = 1; i <= Math.min(3, bytes.length); i++) {
    const b = bytes[bytes.length - i]!;
    if ((b & 0xc0) === 0x80) continue;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > i ? bytes.subarray(bytes.length - i) : EMPTY;
  }
  return EMPTY;
}

const decodes = (bytes: Uint8Array, stream: boolean) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream });
    return true;
  } catch {
    return false;
  }
};

/**
 * Decodes an export's bytes into the reader as UTF-8, strictly: a byte that is not UTF-8 text is refused, naming
 * its line, instead of becoming U+FFFD and making the entry read as edited.
 */
class Utf8Feed {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** The first bytes of a character the last chunk cut off. */
  private cut: Uint8Array = EMPTY;
  /** The text's first bytes, until there are two: gzip's magic bytes there mean a file gzipped twice. */
  private start: Buffer | null = EMPTY;

  constructor(private readonly reader: ExportReader) {}

  write(bytes: Uint8Array): void {
    if (this.start) this.refuseGzipInGzip(bytes);
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      this.notText(bytes, true);
    }
    this.cut = cutCharacter(bytes.length >= 3 ? bytes : Buffer.concat([this.cut, bytes]));
    this.reader.write(text);
  }

  end(): void {
    let text: string;
    try {
      text = this.decoder.decode();
    } catch {
      this.notText(EMPTY, false);
    }
    this.reader.write(text);
    this.reader.end();
  }

  /**
   * A plain file starting with gzip's magic bytes is read as gzip, so text starting with them is a gzip stream
   * inside the one just read: said as such, rather than as a line that is not UTF-8 text.
   */
  private refuseGzipInGzip(bytes: Uint8Array): void {
    this.start = Buffer.concat([this.start!, bytes.subarray(0, 2)]);
    if (this.start.length < 2) return;
    const twice = isGzip(this.start);
    this.start = null;
    if (twice) {
      throw new Malformed(
        'the file is gzip inside gzip (it was compressed twice): decompress it once more (gunzip) and verify what comes out',
      );
    }
  }

  /**
   * Reads the lines of `bytes` before the one that is not UTF-8 (a newline byte is never part of a character),
   * so that an earlier fault is reported first, then refuses that line.
   */
  private notText(bytes: Uint8Array, stream: boolean): never {
    let start = 0;
    let line = this.reader.lineInProgress;
    for (;;) {
      const nl = bytes.indexOf(0x0a, start);
      const last = nl === -1;
      const piece = Buffer.concat([
        start === 0 ? this.cut : EMPTY,
        bytes.subarray(start, last ? bytes.length : nl),
      ]);
      if (!decodes(piece, last && stream) || last) break;
      line++;
      start = nl + 1;
    }
    if (start > 0) {
      this.reader.write(new TextDecoder('utf-8').decode(Buffer.concat([this.cut, bytes.subarray(0, start)])));
    }
    throw new Malformed(`line ${line} is not UTF-8 text`);
  }
}

const isGzip = (bytes: Uint8Array) => bytes[0] === 0x1f && bytes[1] === 0x8b;

const GZIP_FHCRC = 2;
const GZIP_FEXTRA = 4;
const GZIP_FNAME = 8;
const GZIP_FCOMMENT = 16;
/** The longest file name a gzip header may hold (gzip stores the file's name, without its folder). */
const MAX_GZIP_NAME = 1024;

/**
 * The length of the gzip header at the start of `bytes`, or undefined while `bytes` does not hold all of it. The
 * exporter writes a bare header; `gzip FILE` adds the file's name, which is allowed. Anything else a header can
 * carry (a comment, an extra field) is refused: it would travel unchecked with an intact export.
 */
function gzipHeaderLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 10) return undefined;
  if (bytes[2] !== 8) throw new Malformed('the gzip header names a compression method other than deflate');
  const flags = bytes[3]!;
  const other =
    flags & GZIP_FCOMMENT
      ? 'a comment (FCOMMENT)'
      : flags & GZIP_FEXTRA
        ? 'an extra field (FEXTRA)'
        : flags & GZIP_FHCRC
          ? 'a header checksum (FHCRC)'
          : flags & 0xe0
            ? 'reserved flags set'
            : undefined;
  if (other) {
    throw new Malformed(`the gzip header has ${other}, which neither the exporter nor gzip writes`);
  }
  if (!(flags & GZIP_FNAME)) return 10;
  const end = bytes.subarray(10, 10 + MAX_GZIP_NAME + 1).indexOf(0);
  if (end !== -1) return 10 + end + 1;
  if (bytes.length > 10 + MAX_GZIP_NAME) {
    throw new Malformed(`the gzip header's file name is longer than ${MAX_GZIP_NAME} bytes`);
  }
  return undefined;
}

/** Checks the gzip trailer (CRC-32 and length of the text) at the start of `rest`, and that nothing follows it. */
function gzipTrailer(rest: Buffer, crc: number, length: number): void {
  if (rest.length < 8) throw new Malformed('the gzip stream is cut short: it ends before its checksum');
  if (rest.readUInt32LE(0) !== crc >>> 0 || rest.readUInt32LE(4) !== length % 2 ** 32) {
    throw new Malformed(
      "the gzip stream's checksum does not match its content: the file was changed or damaged after it was compressed",
    );
  }
  if (rest.length > 8) throw afterGzip(rest.subarray(8));
}

function afterGzip(more: Buffer): Malformed {
  return new Malformed(
    isGzip(more)
      ? 'the file holds a second gzip stream after the first, which the exporter never writes (it compresses an export whole, as one)'
      : `the file goes on after the end of its gzip stream (the next byte is 0x${more[0]!.toString(16).padStart(2, '0')}), which the exporter never writes`,
  );
}

/** A zlib error as a verdict on the file. */
function gzipError(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code.startsWith('Z_')
    ? new Malformed(`the gzip stream does not decompress: ${(e as Error).message}`)
    : e;
}

function gunzipInMemory(bytes: Buffer): Buffer {
  const header = gzipHeaderLength(bytes);
  if (header === undefined) throw new Malformed('the gzip stream is cut short: it ends in its header');
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    inflated = inflateRawSync(bytes.subarray(header), {
      maxOutputLength: MAX_IN_MEMORY_BYTES,
      info: true,
    } as Parameters<typeof inflateRawSync>[1]) as unknown as typeof inflated;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw gzipError(e);
    throw new ExportTooLargeError(
      `the export decompresses to more than ${MAX_IN_MEMORY_BYTES / 1024 ** 3} GiB, too large to verify in memory: verify it as a stream (verifyExportStream, as \`branchlens audit verify --export FILE\` does)`,
    );
  }
  // The engine counts the compressed bytes it used: the trailer, and nothing else, comes after them.
  const rest = bytes.subarray(header + inflated.engine.bytesWritten);
  gzipTrailer(rest, crc32(inflated.buffer), inflated.buffer.length);
  return inflated.buffer;
}

/**
 * Verifies an export held in memory (gzipped or not, any format) with the branch's public key (PEM or
 * KeyObject). Throws ExportTooLargeError past MAX_IN_MEMORY_BYTES of gunzipped text or MAX_LINE_CHARS in a line.
 */
export function verifyExport(
  fileBytes: Uint8Array,
  publicKey: KeyObject | string,
  options: VerifyExportOptions = {},
): ExportVerification {
  const key = auditPublicKey(publicKey);
  const reader = new ExportReader();
  reader.chain.keepSeq = options.hashAt;
  try {
    let bytes = Buffer.from(fileBytes.buffer, fileBytes.byteOffset, fileBytes.byteLength);
    if (isGzip(bytes)) bytes = gunzipInMemory(bytes);
    const text = new Utf8Feed(reader);
    for (let at = 0; at < bytes.length; at += CHUNK) text.write(bytes.subarray(at, at + CHUNK));
    text.end();
  } catch (e) {
    return unread(e);
  }
  return judged(reader, key);
}

const asBuffer = (chunk: Uint8Array | string) =>
  typeof chunk === 'string'
    ? Buffer.from(chunk)
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/** Compressed bytes inflated at a time: bounds what one step can expand to (deflate's ratio is at most ~1:1032). */
const INFLATE_SLICE = 16 * 1024;

/**
 * Gunzips one gzip stream (`first`, then what `next` gives) as it arrives, and refuses what the exporter would not
 * write: a header with more than the file's name, a wrong checksum, anything after the stream (padding, a second
 * gzip stream). The deflate data is inflated raw, so that where it ends, and what follows, is known.
 */
async function* gunzipped(first: Buffer, next: () => Promise<Buffer | undefined>): AsyncGenerator<Buffer> {
  let pending = first;
  let header: number | undefined;
  while ((header = gzipHeaderLength(pending)) === undefined) {
    const chunk = await next();
    if (chunk === undefined) throw new Malformed('the gzip stream is cut short: it ends in its header');
    pending = Buffer.concat([pending, chunk]);
  }
  const inflate = createInflateRaw();
  let output: Buffer[] = [];
  let failure: Error | undefined;
  let failed: ((e: Error) => void) | undefined;
  inflate.on('data', (d: Buffer) => output.push(d));
  // On a data error zlib emits 'error' and never calls the write's callback.
  inflate.on('error', (e) => {
    failure = e;
    failed?.(e);
  });
  const write = (slice: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      failed = reject;
      inflate.write(slice, () => resolve());
    });
  let crc = 0;
  let length = 0;
  const take = () => {
    const taken = output;
    output = [];
    for (const d of taken) {
      crc = crc32(d, crc);
      length += d.length;
    }
    return taken;
  };
  /** What follows the deflate data, once it has ended. */
  let rest: Buffer | undefined;
  try {
    let fed = 0;
    for (
      let chunk: Buffer | undefined = pending.subarray(header);
      chunk !== undefined;
      chunk = await next()
    ) {
      for (let at = 0; at < chunk.length && rest === undefined; at += INFLATE_SLICE) {
        const slice = chunk.subarray(at, at + INFLATE_SLICE);
        await write(slice);
        fed += slice.length;
        yield* take();
        // Bytes written but not used: the deflate data ended in this slice.
        if (inflate.bytesWritten < fed)
          rest = chunk.subarray(at + slice.length - (fed - inflate.bytesWritten));
      }
      if (rest !== undefined) break;
    }
    inflate.end();
    await finished(inflate);
    if (failure) throw failure;
    yield* take();
  } catch (e) {
    throw gzipError(e);
  } finally {
    inflate.destroy();
  }
  // The trailer, and two bytes more if there are any: enough to tell a second gzip stream from other data.
  rest ??= EMPTY;
  for (let chunk; rest.length < 10 && (chunk = await next()) !== undefined;)
    rest = Buffer.concat([rest, chunk]);
  gzipTrailer(rest, crc, length);
}

/** The source's bytes, gunzipped as they arrive when they start with gzip's magic bytes (`found.gzip`). */
async function* decompressed(
  source: AsyncIterable<Uint8Array | string>,
  found: { gzip: boolean },
): AsyncGenerator<Buffer> {
  const chunks = source[Symbol.asyncIterator]();
  const next = async () => {
    const r = await chunks.next();
    return r.done ? undefined : asBuffer(r.value);
  };
  try {
    let head = Buffer.alloc(0);
    let chunk: Buffer | undefined;
    while (head.length < 2 && (chunk = await next()) !== undefined) head = Buffer.concat([head, chunk]);
    if (!isGzip(head)) {
      yield head;
      while ((chunk = await next()) !== undefined) yield chunk;
      return;
    }
    found.gzip = true;
    yield* gunzipped(head, next);
  } finally {
    await chunks.return?.();
  }
}

/**
 * Verifies an export as it is read from `source` (a file or stdin stream; gzipped or not, any format), in memory
 * bounded by its longest line. Throws ExportTooLargeError for a line over MAX_LINE_CHARS.
 */
export async function verifyExportStream(
  source: AsyncIterable<Uint8Array | string>,
  publicKey: KeyObject | string,
  options: VerifyExportOptions = {},
): Promise<ExportVerification> {
  const key = auditPublicKey(publicKey);
  const reader = new ExportReader();
  reader.chain.keepSeq = options.hashAt;
  const found = { gzip: false };
  /** The text's first fault. A gzipped file is still read to its end: damage (its checksum) explains the fault. */
  let fault: Malformed | undefined;
  try {
    const text = new Utf8Feed(reader);
    for await (const chunk of decompressed(source, found)) {
      if (fault) continue;
      try {
        text.write(chunk);
      } catch (e) {
        if (!(e instanceof Malformed) || !found.gzip) throw e;
        fault = e;
      }
    }
    if (!fault) text.end();
  } catch (e) {
    return unread(e);
  }
  // As verifyExport, which checks the gzip checksum before it reads the text.
  if (fault) return unread(fault);
  return judged(reader, key);
}
