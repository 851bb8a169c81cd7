// The contract's methods on top of the service: one dispatch table for HTTP and IPC alike. Requests are
// validated here (the edge), failures become ApiErrorBody with the status a transport should use.
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import {
  API_REQUESTS,
  AUDIT_EXPORT_FILES,
  auditExportExtension,
  MAX_INLINE_EXPORT_BYTES,
  type ApiErrorBody,
  type ApiMethod,
  type ApiResponses,
} from '../../shared/contract.js';
import { InputError, isInputError, problemsFromZod } from '../../shared/problems.js';
import { BusyError } from './microbatch.js';
import { NotFoundError, type BranchLensService } from './service.js';
import { AuditBrokenError, AuditEntryError } from './audit/index.js';
import { storageFailure, withFreeSpaceOnFailure } from './db/open.js';

type Handlers = { [M in ApiMethod]: (req: z.output<(typeof API_REQUESTS)[M]>) => Promise<ApiResponses[M]> };

/**
 * The bytes written to `stream`, up to `limit`: beyond it the stream is destroyed with an InputError saying
 * how to get the export instead, so an export too large for one JSON answer fails without being held whole.
 */
function collect(stream: PassThrough, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= limit) chunks.push(c);
    else stream.destroy(tooLargeToAnswer(limit));
  });
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function tooLargeToAnswer(limit: number): InputError {
  return new InputError([
    {
      field: 'since',
      code: 'out_of_range',
      message:
        `the export is larger than the ${Math.round(limit / 1024 / 1024)} MiB one answer carries: ` +
        'download it as a file (GET /api/app/auditExport, the app’s Export button, or ' +
        '`branchlens audit export --out FILE`), or export a narrower range (since, until)',
    },
  ]);
}

/** The contract's ISO times as the service's Dates; a time not given is left out. */
export function asDates<K extends string>(times: { [P in K]?: string | undefined }): { [P in K]?: Date } {
  const out: { [P in K]?: Date } = {};
  for (const key of Object.keys(times) as K[]) {
    const time = times[key];
    if (time) out[key] = new Date(time);
  }
  return out;
}

export interface ApiHandlerOptions {
  /** The largest export auditExport returns in its answer (default MAX_INLINE_EXPORT_BYTES). */
  maxInlineExportBytes?: number;
}

export function apiHandlers(service: BranchLensService, opts: ApiHandlerOptions = {}): Handlers {
  return eachWithFreeSpace(methods(service, opts), service.dataDir);
}

/**
 * `handlers`, each run by withFreeSpaceOnFailure: a write in the service's thread (an import, an activation, the
 * settings) that finds the disk full is said to be a full disk, as one on the writer thread is, not a failing one.
 */
function eachWithFreeSpace(handlers: Handlers, dataDir: string): Handlers {
  const out: Record<string, (req: never) => Promise<unknown>> = {};
  for (const [method, run] of Object.entries(handlers) as [string, (req: never) => Promise<unknown>][]) {
    out[method] = (req) => withFreeSpaceOnFailure(dataDir, () => run(req));
  }
  return out as unknown as Handlers;
}

function methods(service: BranchLensService, opts: ApiHandlerOptions): Handlers {
  const maxInlineExport = opts.maxInlineExportBytes ?? MAX_INLINE_EXPORT_BYTES;
  return {
    health: async () => service.health(),
    getModel: async () => ({
      model: service.model,
      schema: service.schema,
      manifest: service.manifest,
      backend: service.backend,
    }),
    explain: async ({ applicants, options }) => ({
      documents: await service.explain(applicants, options ?? {}),
    }),
    predict: async ({ applicants }) => {
      // The model that computed them, which an activation may have replaced while the call waited.
      const { model, predictions } = await service.predictWithModel(applicants);
      return { model, predictions };
    },
    verifyDocument: async ({ document }) => {
      const r = service.verify(document);
      return r.ok ? { ok: true } : { ok: false, reason: r.reason, kind: r.kind, params: r.params };
    },
    listModels: async () => ({
      models: service.listModels().map((m) => ({
        id: m.id,
        version: m.version,
        sha256: m.sha256,
        ref: m.ref,
        installedAt: m.installedAt,
        active: m.active,
        manifest: m.manifest,
      })),
    }),
    importModel: async ({ path }) => {
      const r = await service.importModel(path);
      return { status: r.status, message: r.message, model: { ...r.model }, activated: r.activated };
    },
    activateModel: async ({ ref }) => {
      const r = await service.activateModel(ref);
      return { changed: r.changed, message: r.message, model: { ...r.model } };
    },
    rollbackModel: async () => {
      const r = await service.rollbackModel();
      return { changed: r.changed, message: r.message, model: { ...r.model } };
    },
    auditPage: async (q) => service.auditPage(q),
    auditEntry: async ({ seq }) => ({ entry: await service.auditEntry(seq) }),
    auditVerify: async () => service.auditVerify(),
    auditVerifyProgress: async () => service.auditVerifyProgress(),
    auditExport: async ({ format, since, until, gzip }) => {
      const out = new PassThrough();
      const bytes = collect(out, maxInlineExport);
      // Whichever fails first: the export, or the collection (too large), which stops the export.
      bytes.catch(() => undefined);
      const summary = await service.auditExport({
        format,
        out,
        ...asDates({ since, until }),
      });
      out.end();
      const raw = await bytes;
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = `branchlens-audit-${stamp}.${auditExportExtension(format, false)}`;
      return gzip
        ? {
            filename: `${name}.gz`,
            content_type: 'application/gzip',
            encoding: 'base64',
            content: gzipSync(raw).toString('base64'),
            entries: summary.entries,
          }
        : {
            filename: name,
            content_type: AUDIT_EXPORT_FILES[format].type,
            encoding: 'utf8',
            content: raw.toString('utf8'),
            entries: summary.entries,
          };
    },
    auditPublicKey: async () => service.auditPublicKey(),
    monitoring: async () => ({ snapshot: service.monitoringSnapshot() }),
    monitoringSeries: async ({ from, to, max_points }) => {
      const { series, stored, bucket_ms } = await service.monitoringSeries({
        ...asDates({ from, to }),
        maxPoints: max_points,
      });
      return { series, stored, thinned: bucket_ms !== null, bucket_ms };
    },
    getSettings: async () => service.getSettings(),
    updateSettings: async (patch) => service.updateSettings(patch),
  };
}

export type ApiResult =
  | { ok: true; status: 200; body: unknown }
  | { ok: false; status: number; body: ApiErrorBody; retryAfter?: number };

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(API_REQUESTS, name);
}

/** Maps any failure to the body and HTTP status a transport answers with. Never leaks a stack trace. */
export function errorResult(e: unknown): Extract<ApiResult, { ok: false }> {
  if (isInputError(e)) {
    return {
      ok: false,
      status: 400,
      body: { error: 'invalid_request', message: e.message, problems: e.problems },
    };
  }
  if (e instanceof AuditEntryError) {
    return { ok: false, status: 400, body: { error: 'invalid_request', message: e.message, problems: [] } };
  }
  if (e instanceof BusyError) {
    return {
      ok: false,
      status: 503,
      body: { error: 'busy', message: e.message, retry_after_s: e.retryAfterSeconds },
      retryAfter: e.retryAfterSeconds,
    };
  }
  if (e instanceof NotFoundError)
    return { ok: false, status: 404, body: { error: 'not_found', message: e.message } };
  if (e instanceof AuditBrokenError)
    return { ok: false, status: 409, body: { error: 'audit_broken', message: e.message, seq: e.found.seq } };
  const storage = storageFailure(e);
  if (storage !== undefined) {
    // Every answer is audited before it is returned: none was, so nothing was decided.
    const message = `${storage}; nothing was decided or recorded`;
    return { ok: false, status: 503, body: { error: 'storage', message } };
  }
  return {
    ok: false,
    status: 500,
    body: { error: 'internal', message: 'internal error; see the server log' },
  };
}

/** Whether a failure belongs in the server's log: an internal error, or storage that failed (branch IT must act). */
export function worthLogging(result: Extract<ApiResult, { ok: false }>): boolean {
  return result.status === 500 || result.body.error === 'storage';
}

/** The explain method answered as JSON text: the documents are text already, so nothing is serialised again. */
export type ApiJsonResult = { ok: true; status: 200; json: string } | Extract<ApiResult, { ok: false }>;

/** dispatch(handlers, 'explain', body), but the body comes back as JSON text (what HTTP sends as it is). */
export async function dispatchExplainJson(
  service: BranchLensService,
  body: unknown,
  onInternalError: (e: unknown) => void = () => {},
): Promise<ApiJsonResult> {
  const parsed = API_REQUESTS.explain.safeParse(body ?? {});
  if (!parsed.success) return errorResult(new InputError(problemsFromZod(parsed.error)));
  try {
    const texts = await service.explainJson(parsed.data.applicants, parsed.data.options ?? {});
    return { ok: true, status: 200, json: `{"documents":[${texts.join(',')}]}` };
  } catch (e) {
    const result = errorResult(e);
    if (worthLogging(result)) onInternalError(e);
    return result;
  }
}

/** Validates `body` for `method` and runs it. */
export async function dispatch(handlers: Handlers, method: string, body: unknown): Promise<ApiResult> {
  if (!isApiMethod(method))
    return { ok: false, status: 404, body: { error: 'not_found', message: `no API method "${method}"` } };
  const parsed = API_REQUESTS[method].safeParse(body ?? {});
  if (!parsed.success) return errorResult(new InputError(problemsFromZod(parsed.error)));
  try {
    const run = handlers[method] as (req: unknown) => Promise<unknown>;
    return { ok: true, status: 200, body: await run(parsed.data) };
  } catch (e) {
    return errorResult(e);
  }
}
