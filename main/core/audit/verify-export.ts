// Verifies an export offline, with only the branch's public key: every entry's own hash, every link, and
// the signed checkpoint the export ends with, which must be the last exported entry. Hashes are recomputed
// with RFC 8785 canonicalization of the parsed record (canonicalRecord), independently of the writer's spliced rows.
import { parse as parseCsv } from 'csv-parse/sync';
import type { KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { auditPublicKey, checkSignature, type ExportCheckpoint } from './checkpoint.js';
import { canonicalRecord, chainHash, GENESIS_HASH } from './entry.js';
import {
  ES_CHECKPOINT_INDEX,
  ES_ENTRY_INDEX,
  recordFromCsv,
  recordFromJson,
  type AuditExportFormat,
  type ExportedEntry,
} from './export-format.js';
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
  head: { seq: number; entryHash: string } | null;
  checkpoint: ExportCheckpoint | null;
  break?: ExportBreak;
}

interface Parsed {
  format: AuditExportFormat;
  entries: ExportedEntry[];
  checkpoint: ExportCheckpoint | null;
}

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

function checkpointFrom(o: Record<string, unknown>): ExportCheckpoint {
  if (o.alg !== 'Ed25519') throw new Malformed(`the checkpoint's algorithm is ${String(o.alg)}, not Ed25519`);
  return {
    seq: num(o.seq, 'the checkpoint seq'),
    entryHash: str(o.entry_hash, 'the checkpoint entry_hash'),
    count: num(o.count, 'the checkpoint count'),
    firstSeq: num(o.first_seq, 'the checkpoint first_seq'),
    firstPrevHash: str(o.first_prev_hash, 'the checkpoint first_prev_hash'),
    createdAt: str(o.created_at, 'the checkpoint created_at'),
    keyId: str(o.key_id, 'the checkpoint key_id'),
    signature: str(o.signature, 'the checkpoint signature'),
  };
}

function entryFrom(
  o: Record<string, string> | Record<string, unknown>,
  csv: boolean,
  where: string,
): ExportedEntry {
  const record = csv ? recordFromCsv(o as Record<string, string>) : recordFromJson(o);
  if (typeof record === 'string') throw new Malformed(`${where}: ${record}`);
  return {
    record,
    prevHash: str(o.prev_hash, `${where}: prev_hash`),
    entryHash: str(o.entry_hash, `${where}: entry_hash`),
  };
}

/** Sorts records into entries and the one checkpoint, which must come last. */
function collect(format: AuditExportFormat, records: Iterable<[Record<string, unknown>, string]>): Parsed {
  const entries: ExportedEntry[] = [];
  let checkpoint: ExportCheckpoint | null = null;
  for (const [o, where] of records) {
    if (checkpoint) throw new Malformed(`${where}: a record follows the checkpoint, which must come last`);
    if (o.record === 'entry') entries.push(entryFrom(o, format === 'csv', where));
    else if (o.record === 'checkpoint') checkpoint = checkpointFrom(o);
    else throw new Malformed(`${where}: unknown record type ${JSON.stringify(o.record)}`);
  }
  return { format, entries, checkpoint };
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

function* jsonlRecords(lines: string[]): Generator<[Record<string, unknown>, string]> {
  for (let i = 0; i < lines.length; i++) yield [jsonLine(lines[i]!, `line ${i + 1}`), `line ${i + 1}`];
}

function* esRecords(lines: string[]): Generator<[Record<string, unknown>, string]> {
  if (lines.length % 2 !== 0)
    throw new Malformed('an Elasticsearch bulk file has an action line before each document');
  for (let i = 0; i < lines.length; i += 2) {
    const action = jsonLine(lines[i]!, `line ${i + 1}`);
    const target = (action.create ?? action.index) as { _index?: unknown } | undefined;
    const doc = jsonLine(lines[i + 1]!, `line ${i + 2}`);
    const expected = doc.record === 'checkpoint' ? ES_CHECKPOINT_INDEX : ES_ENTRY_INDEX;
    if (target?._index !== expected) throw new Malformed(`line ${i + 1}: expected an action on ${expected}`);
    yield [doc, `line ${i + 2}`];
  }
}

function* csvRecords(text: string): Generator<[Record<string, unknown>, string]> {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  } catch (e) {
    throw new Malformed(`the CSV does not parse: ${(e as Error).message}`);
  }
  for (let i = 0; i < rows.length; i++) yield [rows[i]!, `CSV row ${i + 2}`];
}

function parseExport(text: string): Parsed {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Malformed('the export is empty');
  if (lines[0]!.startsWith('record,')) return collect('csv', csvRecords(text));
  const first = jsonLine(lines[0]!, 'line 1');
  if ('create' in first || 'index' in first) return collect('es-bulk', esRecords(lines));
  return collect('jsonl', jsonlRecords(lines));
}

function chainBreak(entries: readonly ExportedEntry[], c: ExportCheckpoint): ExportBreak | undefined {
  let expectedSeq = c.firstSeq;
  let expectedPrev = c.firstPrevHash;
  for (const e of entries) {
    const seq = e.record.seq;
    if (seq !== expectedSeq) {
      return typeof seq === 'number' && seq > expectedSeq
        ? { seq: expectedSeq, kind: 'missing', message: `entry ${expectedSeq} is missing` }
        : {
            seq: expectedSeq,
            kind: 'out_of_order',
            message: `entry ${String(seq)} stands where entry ${expectedSeq} belongs`,
          };
    }
    if (e.prevHash !== expectedPrev) {
      return { seq, kind: 'broken_link', message: `entry ${seq} does not link to the entry before it` };
    }
    let canonical: string;
    try {
      canonical = canonicalRecord(e.record);
    } catch {
      return { seq, kind: 'edited', message: `entry ${seq} holds a value that cannot be canonicalized` };
    }
    if (chainHash(e.prevHash, canonical) !== e.entryHash) {
      return { seq, kind: 'edited', message: `entry ${seq} was edited: its content does not match its hash` };
    }
    expectedSeq = seq + 1;
    expectedPrev = e.entryHash;
  }
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
    return {
      seq: c.seq,
      kind: 'checkpoint_mismatch',
      message: `the exported chain does not end in the signed head`,
    };
  }
  return undefined;
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

/** Verifies an export (gzipped or not, any format) with the branch's public key (PEM or KeyObject). */
export function verifyExport(fileBytes: Uint8Array, publicKey: KeyObject | string): ExportVerification {
  const key = auditPublicKey(publicKey);
  const bytes = Buffer.from(fileBytes.buffer, fileBytes.byteOffset, fileBytes.byteLength);
  const result: ExportVerification = {
    ok: false,
    format: null,
    entries: 0,
    firstSeq: null,
    head: null,
    checkpoint: null,
  };
  let parsed: Parsed;
  try {
    const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
    parsed = parseExport(text);
  } catch (e) {
    const message = e instanceof Malformed ? e.message : `the export cannot be read: ${(e as Error).message}`;
    return { ...result, break: { seq: null, kind: 'malformed', message } };
  }
  const { entries, checkpoint } = parsed;
  const last = entries.at(-1);
  Object.assign(result, {
    format: parsed.format,
    entries: entries.length,
    firstSeq: entries[0]?.record.seq ?? null,
    head: last ? { seq: last.record.seq, entryHash: last.entryHash } : null,
    checkpoint,
  });
  if (!checkpoint) {
    return {
      ...result,
      break: { seq: null, kind: 'unsigned', message: 'the export has no signed checkpoint' },
    };
  }
  const found =
    sealBreak(checkpoint) ??
    chainBreak(entries, checkpoint) ??
    (checkSignature(checkpoint, key) === 'valid'
      ? undefined
      : {
          seq: checkpoint.seq,
          kind: 'bad_signature' as const,
          message:
            checkpoint.keyId === key.id
              ? 'the checkpoint signature is forged'
              : `the export is signed by key ${checkpoint.keyId}, not the given public key (${key.id})`,
        });
  return found ? { ...result, break: found } : { ...result, ok: true };
}
