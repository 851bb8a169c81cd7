// The app's API contract: every method the UI can call, with its request schema. One table serves the HTTP
// transport (POST /api/app/<method>), Electron's IPC (channel "branchlens:<method>") and the renderer's Api.
import { z } from 'zod';
import { LOCALES, type BundleSchema, type Manifest } from './bundle.js';
import { explainRequestOptionsSchema, IG_METHOD_NAMES } from './explain-options.js';
import type { ExplanationDocument } from './explanation.js';
import type { Problem } from './problems.js';
import type { MonitoringSeries, MonitoringSnapshot } from './monitoring.js';

/** The largest batch one explain call accepts (the batch page streams larger files in chunks). */
export const MAX_APPLICANTS_PER_CALL = 1000;

const applicant = z.record(z.string(), z.unknown());
const empty = z.object({}).strict();

export const THEMES = ['light', 'dark'] as const;
export const AUDIT_EXPORT_FORMATS = ['jsonl', 'csv', 'es-bulk'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** Each audit export format's media type and file extension (gzip adds `.gz` and application/gzip). */
export const AUDIT_EXPORT_FILES: Record<AuditExportFormat, { type: string; extension: string }> = {
  jsonl: { type: 'application/x-ndjson', extension: 'jsonl' },
  csv: { type: 'text/csv', extension: 'csv' },
  'es-bulk': { type: 'application/x-ndjson', extension: 'ndjson' },
};

/** An export's file extension without the dot: `jsonl`, or `jsonl.gz` when gzipped. */
export function auditExportExtension(format: AuditExportFormat, gzip: boolean): string {
  return `${AUDIT_EXPORT_FILES[format].extension}${gzip ? '.gz' : ''}`;
}

/**
 * The most export bytes the auditExport method returns inside its JSON answer. A larger export is refused
 * with a problem saying how to get it: streamed as a file (GET /api/app/auditExport, the desktop app's save
 * dialog, `branchlens audit export --out`), or in a narrower range.
 */
export const MAX_INLINE_EXPORT_BYTES = 32 * 1024 * 1024;

/**
 * The points one monitoringSeries answer carries at most, by default and when asked: a range holding more
 * stored snapshots is thinned evenly over time (a year of hourly snapshots is 8,760, 36 MB of JSON).
 */
export const DEFAULT_SERIES_POINTS = 500;
export const MAX_SERIES_POINTS = 1000;

export const settingsSchema = z
  .object({
    locale: z.enum(LOCALES),
    top_k: z.number().int().min(0).max(100),
    method: z.enum(IG_METHOD_NAMES),
    n_steps: z.number().int().min(1).max(1000),
    theme: z.enum(THEMES),
  })
  .strict();
export type Settings = z.infer<typeof settingsSchema>;
export const DEFAULT_SETTINGS: Settings = {
  locale: 'zh-CN',
  top_k: 5,
  method: 'gausslegendre',
  n_steps: 50,
  theme: 'light',
};

/**
 * The hex digits a document id lookup needs at least: the result panel shows a document's first 8 (its id is a
 * UUID, which the printed report shows whole). Fewer would match thousands of a large log's documents.
 */
export const MIN_DOCUMENT_ID_DIGITS = 8;
/** A UUID's hex digits, and where its dashes go (8-4-4-4-12). */
const UUID_DIGITS = 32;
const UUID_DASHES_AFTER = [8, 12, 16, 20];

export type DocumentIdProblem = 'not_hex' | 'too_short' | 'too_long';

/** What is wrong with `raw` as a document id or the start of one (spaces around it allowed), or null. */
export function documentIdProblem(raw: string): DocumentIdProblem | null {
  const text = raw.trim();
  if (!/^[0-9a-fA-F-]*$/.test(text)) return 'not_hex';
  const digits = text.replace(/-/g, '').length;
  if (digits < MIN_DOCUMENT_ID_DIGITS) return 'too_short';
  return digits > UUID_DIGITS ? 'too_long' : null;
}

/**
 * A document id or its start as stored (documentIdProblem null): lower case, dashes where a UUID has them, so
 * that "3F2A1B9C1234" finds "3f2a1b9c-1234-…" as the officer read it off a printout, dashes or not.
 */
export function canonicalDocumentId(raw: string): string {
  const digits = raw.trim().replace(/-/g, '').toLowerCase();
  let out = '';
  for (let i = 0; i < digits.length; i++) out += (UUID_DASHES_AFTER.includes(i) ? '-' : '') + digits[i];
  return out;
}

const DOCUMENT_ID_MESSAGES: Record<DocumentIdProblem, string> = {
  not_hex: 'must be a document id: hex digits 0-9 and a-f, dashes allowed',
  too_short: `must have at least ${MIN_DOCUMENT_ID_DIGITS} hex digits (the first ${MIN_DOCUMENT_ID_DIGITS} of a document id, as the result shows it)`,
  too_long: `must have at most ${UUID_DIGITS} hex digits (a document id is a UUID)`,
};

const documentIdQuery = z
  .string()
  .max(100, 'must be a document id (a UUID) or its first 8 hex digits')
  .superRefine((raw, ctx) => {
    const problem = documentIdProblem(raw);
    if (problem) ctx.addIssue({ code: 'custom', message: DOCUMENT_ID_MESSAGES[problem] });
  })
  .transform(canonicalDocumentId);

export const auditQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    model_version: z.string().min(1).max(100).optional(),
    decision: z.enum(['approved', 'declined']).optional(),
    kind: z
      .enum(['explain', 'model_import', 'model_activate', 'model_rollback', 'settings_change'])
      .optional(),
    /**
     * The entries of one document (every serving of it: a cache hit serves the same document again), by its id
     * or the start of it, at least 8 hex digits: all documents whose id starts so.
     */
    document_id: documentIdQuery.optional(),
    /** The entry with this seq (the list's 序号 / Seq column). */
    seq: z
      .number('must be a whole number (an entry’s seq)')
      .int('must be a whole number (an entry’s seq)')
      .positive('must be 1 or more (seqs start at 1)')
      .optional(),
    /** Entries with seq below this (newest first paging). */
    before_seq: z.number().int().positive().optional(),
    limit: z.number().int().min(1).max(500).default(50),
  })
  .strict();
export type AuditQuery = z.input<typeof auditQuerySchema>;

/** Request schemas by method. The response types are in ApiResponses below. */
/** An export's range: `until`, when given with `since`, must come after it (the method and the GET download). */
export function untilAfterSince(r: { since?: string | undefined; until?: string | undefined }): boolean {
  return !r.since || !r.until || Date.parse(r.until) > Date.parse(r.since);
}
export const UNTIL_AFTER_SINCE = { path: ['until'], message: 'must be after since' };

export const API_REQUESTS = {
  health: empty,
  getModel: empty,
  explain: z
    .object({
      applicants: z.array(applicant).min(1).max(MAX_APPLICANTS_PER_CALL),
      options: explainRequestOptionsSchema.optional(),
    })
    .strict(),
  predict: z.object({ applicants: z.array(applicant).min(1).max(MAX_APPLICANTS_PER_CALL) }).strict(),
  verifyDocument: z.object({ document: z.unknown() }).strict(),
  listModels: empty,
  importModel: z.object({ path: z.string().min(1).max(4096) }).strict(),
  activateModel: z.object({ ref: z.string().min(1).max(200) }).strict(),
  rollbackModel: empty,
  auditPage: auditQuerySchema,
  auditEntry: z.object({ seq: z.number().int().positive() }).strict(),
  auditVerify: empty,
  auditVerifyProgress: empty,
  auditExport: z
    .object({
      format: z.enum(AUDIT_EXPORT_FORMATS),
      since: z.iso.datetime({ offset: true }).optional(),
      /** A closed range: the export ends at the last entry stamped before `until`, and its seal signs that entry. */
      until: z.iso.datetime({ offset: true }).optional(),
      gzip: z.boolean().default(false),
    })
    .strict()
    .refine(untilAfterSince, UNTIL_AFTER_SINCE),
  auditPublicKey: empty,
  monitoring: empty,
  monitoringSeries: z
    .object({
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }).optional(),
      /** At most this many points: a range holding more stored snapshots is thinned, one summary per time bucket. */
      max_points: z.number().int().min(2).max(MAX_SERIES_POINTS).default(DEFAULT_SERIES_POINTS),
    })
    .strict()
    // Reversed bounds would answer an empty series, read as "no data" rather than as the mistake it is.
    .refine((r) => !r.from || !r.to || Date.parse(r.to) >= Date.parse(r.from), {
      path: ['to'],
      message: 'must not be before from',
    }),
  getSettings: empty,
  updateSettings: settingsSchema.partial().strict(),
} as const;

export type ApiMethod = keyof typeof API_REQUESTS;
export const API_METHODS = Object.keys(API_REQUESTS) as ApiMethod[];
export type ApiRequest<M extends ApiMethod> = z.input<(typeof API_REQUESTS)[M]>;

export interface ModelRef {
  id: string;
  version: string;
  sha256: string;
}

export interface InstalledModelView extends ModelRef {
  ref: string;
  installedAt: string;
  active: boolean;
  manifest: Manifest;
}

export interface AuditEntryView {
  seq: number;
  timestamp: string;
  kind: string;
  model_id: string | null;
  model_version: string | null;
  model_sha256: string | null;
  explainer_version: string | null;
  explainer_params: Record<string, unknown> | null;
  input_hash: string | null;
  prediction: number | null;
  top_attributions: { feature: string; attribution: number }[] | null;
  cache_level: string | null;
  latency_ms: number | null;
  watermark: string | null;
  document_id: string | null;
  details: Record<string, unknown> | null;
  entry_hash: string;
  prev_hash: string;
}

/** How an audit chain can break, as `branchlens audit verify` and `auditVerify` name the first break. */
export const AUDIT_BREAK_KINDS = [
  /** An entry's content no longer matches its own hash. */
  'edited',
  /** A seq is missing from the chain. */
  'missing',
  /** An entry sits at the wrong seq: its predecessor is elsewhere in the chain. */
  'out_of_order',
  /** An entry does not link to the one before it (that one, or the link, was rewritten). */
  'broken_link',
  /** The chain no longer reaches a checkpoint's seq: its tail was cut off. */
  'truncated',
  /** The chain at a checkpoint's seq differs from what was signed: entries before it were rewritten. */
  'checkpoint_mismatch',
  /** A checkpoint's signature does not verify, or it was signed by another key. */
  'bad_signature',
  /**
   * Entries left unsigned where BranchLens always signs a checkpoint (every 1,000 entries, and 10 minutes of
   * entries): a checkpoint was removed, so that the entries it covered could be rewritten.
   */
  'checkpoint_missing',
] as const;
export type AuditBreakKind = (typeof AUDIT_BREAK_KINDS)[number];

/**
 * Why a document's watermark does not verify, as `verifyDocument` names it: each kind with the params its wording
 * fills in, so that a UI words it in its own language. Its `reason` stays the English for the CLI and API clients.
 * `path`: where in the document, as `attributions[1].attribution` (a key as `meta."\ud800"`).
 */
export const WATERMARK_FAILURES = {
  not_an_object: [],
  watermark_missing: [],
  /** `fields`: the members of `_meta` besides alg, key_id and watermark, quoted, comma-separated. */
  meta_unsigned: ['fields'],
  /** `_meta.alg` is missing or no string. */
  alg_missing: [],
  /** `alg`: the alg the document names, quoted. */
  alg_unsupported: ['alg'],
  /** `_meta.key_id` is missing or no string. */
  key_id_missing: [],
  /** `key_id`: the key the document names; `installation_key_id`: this installation's. */
  other_key: ['key_id', 'installation_key_id'],
  /** `value`: what JSON.parse read the number as (`Infinity`, `-Infinity`). */
  number_beyond_double: ['path', 'value'],
  string_lone_surrogate: ['path'],
  key_lone_surrogate: ['path'],
  /** `detail`: the canonicaliser's own words (English), for what the kinds above do not name. */
  not_canonical: ['detail'],
  changed: [],
} as const satisfies Record<string, readonly string[]>;
export type WatermarkFailureKind = keyof typeof WATERMARK_FAILURES;

/** A document that does not verify: why, in English (`reason`), and as a kind with its params. */
export interface WatermarkFailure {
  ok: false;
  reason: string;
  kind: WatermarkFailureKind;
  params: Readonly<Record<string, string>>;
}

export interface AuditVerifyView {
  ok: boolean;
  entries: number;
  checkpoints: number;
  head: { seq: number; hash: string } | null;
  /** `message`: the verifier's English sentence, with the specifics (the entries removed, the checkpoint's date). */
  break?: { seq: number; kind: AuditBreakKind; message: string };
  /**
   * Key ids of earlier keys of this installation (its key file was lost and a new one made) that signed
   * checkpoints: those were checked against the chain, their signatures can be checked only with those keys.
   */
  other_key_ids?: string[];
}

/**
 * How far the audit verification now running has got (`auditVerify` runs one at a time: a call while one runs
 * is answered with that run's result). `done` of `total` entries walked, reported every 4,096; `total` is the
 * head's seq when the run began.
 */
export type AuditVerifyProgressView =
  { running: false } | { running: true; done: number; total: number; elapsed_ms: number };

export interface HealthView {
  status: 'ok' | 'degraded';
  model: ModelRef;
  backend: string;
  /** `full`: an answer's audit entry found the disk full, and it still is (every explain is refused meanwhile). */
  database: 'ok' | 'error' | 'full';
  /** Why the status is degraded, when a sentence can say it (a full disk). */
  problem?: string;
  queue_depth: number;
  workers: number;
  uptime_s: number;
}

/** What each method answers. */
export interface ApiResponses {
  health: HealthView;
  getModel: { model: ModelRef; schema: BundleSchema; manifest: Manifest; backend: string };
  explain: { documents: ExplanationDocument[] };
  predict: { model: ModelRef; predictions: number[][] };
  /** `kind`, `params`: see WATERMARK_FAILURES; a UI that does not know a kind (a newer server's) shows `reason`. */
  verifyDocument: { ok: true } | WatermarkFailure;
  listModels: { models: InstalledModelView[] };
  importModel: { status: string; message: string; model: ModelRef; activated: boolean };
  activateModel: { changed: boolean; message: string; model: ModelRef };
  rollbackModel: { changed: boolean; message: string; model: ModelRef };
  auditPage: { entries: AuditEntryView[]; next_before_seq: number | null };
  auditEntry: { entry: AuditEntryView };
  auditVerify: AuditVerifyView;
  auditVerifyProgress: AuditVerifyProgressView;
  auditExport: {
    filename: string;
    content_type: string;
    encoding: 'utf8' | 'base64';
    content: string;
    entries: number;
  };
  auditPublicKey: { pem: string; key_id: string };
  monitoring: { snapshot: MonitoringSnapshot };
  /**
   * `stored`: the snapshots stored in [from, to]; `thinned`: more than max_points were, and `series` has one point
   * per `bucket_ms` (whole hours from the epoch; null when not thinned) summarising its snapshots, each measure at
   * its worst (latency quantiles, drift, stability: the largest) and counts summed; the point's `summary` says how
   * many it stands for (docs/monitoring.md).
   */
  monitoringSeries: { series: MonitoringSeries; stored: number; thinned: boolean; bucket_ms: number | null };
  getSettings: Settings;
  updateSettings: Settings;
}

/** The one interface the renderer codes against; HTTP and IPC both implement it. */
export type Api = { [M in ApiMethod]: (request: ApiRequest<M>) => Promise<ApiResponses[M]> };

/** How a transport reports a failed call: problems for bad input (4xx), busy (503), or an error. */
export type ApiErrorBody =
  /** `problems_omitted`: how many problems beyond the listed ones an HTTP answer left out (it lists 100 at most). */
  | { error: 'invalid_request'; message: string; problems: Problem[]; problems_omitted?: number }
  | { error: 'busy'; message: string; retry_after_s: number }
  | { error: 'not_found'; message: string }
  /** The audit log fails verification, so it is not exported (409): `seq` is the first entry that fails. */
  | { error: 'audit_broken'; message: string; seq: number }
  | { error: 'unauthorized'; message: string }
  /** The database cannot be written now (a full or failing disk, the writer stopped): 503, nothing decided. */
  | { error: 'storage'; message: string }
  | { error: 'internal'; message: string };

export class ApiError extends Error {
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
  }
}
