// One audit entry: what a caller hands in, the record the chain hashes, and the hash rule itself:
// entry_hash = SHA-256(prev_hash as 64 hex chars ‖ RFC 8785 canonical JSON of the record).
import { canonicalJson as jcs } from '../canonical-json.js';
import { createHmac, hash } from 'node:crypto';
import { z } from 'zod';
import { CACHE_LEVELS, type CacheLevel } from '../../../shared/explanation.js';

export const AUDIT_KINDS = [
  'explain',
  'model_import',
  'model_activate',
  'model_rollback',
  'settings_change',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** The prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface MaskedAttribution {
  /** The feature's name, or its keyed pseudonym when the feature is sensitive (masked by the caller). */
  feature: string;
  attribution: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX64_MESSAGE = 'must be 64 lowercase hex characters';
const hex64 = z.string().regex(HEX64, HEX64_MESSAGE);
const name = z.string().min(1);
const jsonObject = z.record(z.string(), z.json());

/** What a caller appends. Explain-specific fields stay null for the other kinds, which carry `details`. */
export const auditEntryInputSchema = z
  .object({
    kind: z.enum(AUDIT_KINDS),
    model: z.object({ id: name, version: name, sha256: name }).strict().nullish(),
    explainer: z.object({ version: name, params: jsonObject }).strict().nullish(),
    /** inputHash(key, rawInput): a keyed HMAC, so the log never holds the applicant's data. */
    inputHash: hex64.nullish(),
    prediction: z.number().nullish(),
    /** Only feature and attribution are kept: a raw value passed along by mistake is dropped. */
    topAttributions: z.array(z.object({ feature: name, attribution: z.number() })).nullish(),
    cache: z.enum(CACHE_LEVELS).nullish(),
    latencyMs: z.number().nonnegative().nullish(),
    watermark: hex64.nullish(),
    documentId: name.nullish(),
    details: jsonObject.nullish(),
  })
  .strict();

export interface AuditEntryInput {
  kind: AuditKind;
  model?: { id: string; version: string; sha256: string } | null;
  explainer?: { version: string; params: JsonObject } | null;
  inputHash?: string | null;
  prediction?: number | null;
  topAttributions?: readonly MaskedAttribution[] | null;
  cache?: CacheLevel | null;
  latencyMs?: number | null;
  watermark?: string | null;
  documentId?: string | null;
  details?: JsonObject | null;
}

/** The record the chain hashes: every field present, null when it does not apply. */
export interface AuditRecord {
  seq: number;
  timestamp: string;
  kind: string;
  model_id: string | null;
  model_version: string | null;
  model_sha256: string | null;
  explainer_version: string | null;
  explainer_params: JsonObject | null;
  input_hash: string | null;
  prediction: number | null;
  top_attributions: MaskedAttribution[] | null;
  cache_level: string | null;
  latency_ms: number | null;
  watermark: string | null;
  document_id: string | null;
  details: JsonObject | null;
}

type FieldType = 'int' | 'number' | 'string' | 'json';

/** The record's fields in table-column order, with how each is stored (json: canonical JSON text). */
export const RECORD_FIELDS = [
  ['seq', 'int'],
  ['timestamp', 'string'],
  ['kind', 'string'],
  ['model_id', 'string'],
  ['model_version', 'string'],
  ['model_sha256', 'string'],
  ['explainer_version', 'string'],
  ['explainer_params', 'json'],
  ['input_hash', 'string'],
  ['prediction', 'number'],
  ['top_attributions', 'json'],
  ['cache_level', 'string'],
  ['latency_ms', 'number'],
  ['watermark', 'string'],
  ['document_id', 'string'],
  ['details', 'json'],
] as const satisfies readonly (readonly [keyof AuditRecord, FieldType])[];

export type RecordField = (typeof RECORD_FIELDS)[number][0];
/** A record as stored: RECORD_FIELDS values in order, json fields as their canonical text. */
export type StoredRecord = (string | number | null)[];

const LONE_SURROGATE = /\p{Surrogate}/u;

export class AuditEntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditEntryError';
  }
}

/** Throws AuditEntryError unless `value` is a SHA-256 in lowercase hex (the entry's `field`). */
export function checkHex64(field: string, value: string): void {
  if (!HEX64.test(value)) throw new AuditEntryError(`audit entry field ${field}: ${HEX64_MESSAGE}`);
}

/**
 * RFC 8785 refuses lone surrogates; refusing them while an entry is prepared keeps a bad entry out of its
 * group's transaction.
 */
export function refuseLoneSurrogates(stored: StoredRecord): void {
  for (const v of stored) {
    if (typeof v === 'string' && LONE_SURROGATE.test(v)) {
      throw new AuditEntryError('an audit entry holds a lone surrogate');
    }
  }
}

function canonicalJson(value: unknown): string {
  if (value === undefined) throw new AuditEntryError('an audit entry cannot hash an undefined value');
  try {
    return jcs(value);
  } catch (e) {
    throw new AuditEntryError(`an audit entry holds a value RFC 8785 refuses: ${(e as Error).message}`);
  }
}

/**
 * An entry checked and laid out for the chain, still waiting for its seq: RECORD_FIELDS values after seq, json
 * fields as canonical text. Plain values only, so it crosses to the writer thread cheaply.
 */
export interface PreparedEntry {
  stored: StoredRecord;
}

/** Where a field sits in PreparedEntry.stored. */
function storedIndex(field: RecordField): number {
  return RECORD_FIELDS.findIndex(([f]) => f === field) - 1;
}
const AT = {
  timestamp: storedIndex('timestamp'),
  input_hash: storedIndex('input_hash'),
  cache_level: storedIndex('cache_level'),
  latency_ms: storedIndex('latency_ms'),
  watermark: storedIndex('watermark'),
  model_sha256: storedIndex('model_sha256'),
};

/** The timestamp an entry was prepared with. */
export function preparedTimestamp(entry: PreparedEntry): string {
  return entry.stored[AT.timestamp] as string;
}

/** The model an entry was prepared under (sha256 of its manifest), or null. */
export function preparedModelSha256(entry: PreparedEntry): string | null {
  return entry.stored[AT.model_sha256] as string | null;
}

/** What a cache hit changes in its answer's entry. */
export interface EntryRestamp {
  inputHash: string;
  cache: CacheLevel;
  latencyMs: number;
  watermark: string;
}

/**
 * A prepared explain entry again for another answer of the same document (a cache hit): its input hash, cache
 * level, latency and watermark, stamped `at`. The changed fields are checked as prepareEntry checks them.
 */
export function restampEntry(entry: PreparedEntry, patch: EntryRestamp, at: Date): PreparedEntry {
  checkHex64('inputHash', patch.inputHash);
  checkHex64('watermark', patch.watermark);
  if (!CACHE_LEVELS.includes(patch.cache))
    throw new AuditEntryError('audit entry field cache: not a cache level');
  if (!(patch.latencyMs >= 0) || !Number.isFinite(patch.latencyMs)) {
    throw new AuditEntryError('audit entry field latencyMs: must be a finite number ≥ 0');
  }
  const stored = entry.stored.slice();
  stored[AT.timestamp] = at.toISOString();
  stored[AT.input_hash] = patch.inputHash;
  stored[AT.cache_level] = patch.cache;
  stored[AT.latency_ms] = patch.latencyMs;
  stored[AT.watermark] = patch.watermark;
  return { stored };
}

/** Checks an entry and lays it out as a record stamped `at`. Throws AuditEntryError naming the bad field. */
export function prepareEntry(input: AuditEntryInput, at: Date): PreparedEntry {
  const parsed = auditEntryInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AuditEntryError(`audit entry field ${issue.path.join('.') || '(entry)'}: ${issue.message}`);
  }
  const e = parsed.data;
  const record: Omit<AuditRecord, 'seq'> = {
    timestamp: at.toISOString(),
    kind: e.kind,
    model_id: e.model?.id ?? null,
    model_version: e.model?.version ?? null,
    model_sha256: e.model?.sha256 ?? null,
    explainer_version: e.explainer?.version ?? null,
    explainer_params: (e.explainer?.params as JsonObject | undefined) ?? null,
    input_hash: e.inputHash ?? null,
    prediction: e.prediction ?? null,
    top_attributions: e.topAttributions ?? null,
    cache_level: e.cache ?? null,
    latency_ms: e.latencyMs ?? null,
    watermark: e.watermark ?? null,
    document_id: e.documentId ?? null,
    details: (e.details as JsonObject | undefined) ?? null,
  };
  const stored: StoredRecord = [];
  for (const [field, type] of RECORD_FIELDS) {
    if (field === 'seq') continue;
    const value = record[field];
    stored.push(type === 'json' && value !== null ? canonicalJson(value) : (value as string | number | null));
  }
  refuseLoneSurrogates(stored);
  return { stored };
}

/** The RFC 8785 canonical JSON of a record: what the chain hashes. */
export function canonicalRecord(record: AuditRecord): string {
  return canonicalJson(record);
}

const SORTED = RECORD_FIELDS.map(([field, type], index) => ({ field, type, index })).sort((a, b) =>
  a.field < b.field ? -1 : 1,
);
const PREFIXES = SORTED.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f.field)}:`);

/**
 * canonicalRecord for a stored row, without parsing its JSON columns: the keys are spliced in RFC 8785
 * order and the JSON columns are already canonical text. Verification uses it to reach 100k entries/s;
 * a test holds it equal to canonicalRecord.
 */
export function canonicalStored(row: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < SORTED.length; i++) {
    const f = SORTED[i]!;
    const v = row[f.index];
    out += PREFIXES[i]!;
    out += v === null || v === undefined ? 'null' : f.type === 'json' ? (v as string) : JSON.stringify(v);
  }
  return out + '}';
}

/** SHA-256(prev_hash hex ‖ canonical record), in hex. */
export function chainHash(prevHashHex: string, canonical: string): string {
  return hash('sha256', prevHashHex + canonical, 'hex');
}

/** The keyed input hash for the `inputHash` field: HMAC-SHA256 (hex) over the canonical JSON of the raw input. */
export function inputHash(key: Buffer, rawInput: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(rawInput), 'utf8').digest('hex');
}
