// The app's own API, as the renderer calls it: POST /api/app/<method> runs the contract's dispatch table
// (shared/contract.ts validates every request), and GET /api/app/auditExport streams an export as a download.
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AUDIT_EXPORT_FILES,
  AUDIT_EXPORT_FORMATS,
  auditExportExtension,
  UNTIL_AFTER_SINCE,
  untilAfterSince,
} from '../../../shared/contract.js';
import {
  apiHandlers,
  asDates,
  dispatch,
  dispatchExplainJson,
  errorResult,
  worthLogging,
} from '../../core/api.js';
import type { BranchLensService } from '../../core/service.js';
import { sendError } from '../errors.js';
import { logFailure, type RepeatLimiter } from '../repeat-limit.js';

type Handlers = ReturnType<typeof apiHandlers>;

/** The handlers, each logging an internal failure before dispatch turns it into a generic 500. */
function logged(handlers: Handlers, log: FastifyBaseLogger, failures: RepeatLimiter): Handlers {
  const wrap = ([method, handler]: [string, (req: unknown) => Promise<unknown>]) => [
    method,
    async (req: unknown) => {
      try {
        return await handler(req);
      } catch (e) {
        if (worthLogging(errorResult(e)))
          logFailure(log, failures, e, `API method ${method} failed`, { method });
        throw e;
      }
    },
  ];
  return Object.fromEntries(
    Object.entries(handlers as Record<string, (req: unknown) => Promise<unknown>>).map(wrap),
  ) as Handlers;
}

/**
 * A time in the download's query. A URL reads an unescaped "+" as a space, so the offset of a branch east of UTC,
 * typed as the docs write it (`since=2026-11-01T00:00:00+08:00`, in curl or an address bar), arrives as
 * "…00:00 08:00": a space before a final hh:mm is that "+" (no time has a space there otherwise).
 */
const queryTime = z
  .preprocess(
    (v) => (typeof v === 'string' ? v.replace(/^(\S+T\S+) (\d\d:\d\d)$/, '$1+$2') : v),
    z.iso.datetime({ offset: true }),
  )
  .optional();

const auditExportQuery = z
  .object({
    format: z.enum(AUDIT_EXPORT_FORMATS),
    since: queryTime,
    until: queryTime,
    gzip: z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .transform((v) => v === 'true' || v === '1'),
  })
  .strict()
  .refine(untilAfterSince, UNTIL_AFTER_SINCE);

export function registerAppApi(
  app: FastifyInstance,
  service: BranchLensService,
  failures: RepeatLimiter,
): void {
  const handlers = logged(apiHandlers(service), app.log, failures);

  app.post<{ Params: { method: string } }>('/api/app/:method', async (request, reply) => {
    if (request.params.method === 'explain') {
      // The hot path: documents arrive as signed JSON text and are sent as they are.
      const explained = await dispatchExplainJson(service, request.body, (e) =>
        logFailure(request.log, failures, e, 'API method explain failed', { method: 'explain' }),
      );
      if (explained.ok) return reply.type('application/json; charset=utf-8').send(explained.json);
      return sendError(reply, explained);
    }
    const result = await dispatch(handlers, request.params.method, request.body);
    return result.ok ? reply.send(result.body) : sendError(reply, result);
  });

  app.get('/api/app/auditExport', { schema: { querystring: auditExportQuery } }, async (request, reply) => {
    const { format, since, until, gzip } = request.query as z.output<typeof auditExportQuery>;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const filename = `branchlens-audit-${stamp}.${auditExportExtension(format, gzip)}`;
    const out = new PassThrough();
    // A client that goes away (a download cancelled, a browser closed) stops the export: it is no failure.
    const cut = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) cut.abort();
    });
    const exported = service.auditExport({
      format,
      gzip,
      out,
      signal: cut.signal,
      ...asDates({ since, until }),
    });
    // The log is verified before a byte is written: a refusal (409 audit_broken) is answered as such, not as a
    // download cut short. Once the export has begun, a later failure can only cut the stream.
    const begun = await Promise.race([once(out, 'readable'), exported]).then(
      () => null,
      (e: unknown) => e,
    );
    if (begun !== null) {
      const result = errorResult(begun);
      if (worthLogging(result)) logFailure(request.log, failures, begun, 'audit export failed');
      return sendError(reply, result);
    }
    exported.then(
      () => out.end(),
      (e: unknown) => {
        if (cut.signal.aborted) request.log.info('audit export download cut short: the client went away');
        else logFailure(request.log, failures, e, 'audit export failed');
        out.destroy(e as Error);
      },
    );
    return reply
      .type(gzip ? 'application/gzip' : `${AUDIT_EXPORT_FILES[format].type}; charset=utf-8`)
      .header('content-disposition', `attachment; filename="${filename}"`)
      .send(out);
  });
}
