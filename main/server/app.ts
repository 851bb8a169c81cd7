// The HTTP transport as a Fastify app over the service façade: JSON bodies only (parsed by ./body.ts), zod
// schemas for validation, one error mapping for every failure, auth, security headers and request metrics.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import Fastify, {
  errorCodes,
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { Problem } from '../../shared/problems.js';
import { isApiMethod, worthLogging } from '../core/api.js';
import type { BranchLensService } from '../core/service.js';
import {
  bearerMatches,
  isCrossSiteRequest,
  isForeignOrigin,
  isLoopbackHostHeader,
  isTopLevelNavigation,
} from './auth.js';
import { checkBodyEncoding, decodeBody, parseJsonBody } from './body.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_PATH_PARAM_CHARS } from './defaults.js';
import {
  answerClientError,
  answerConnect,
  httpErrorResult,
  invalidRequest,
  sendError,
  type ErrorResult,
} from './errors.js';
import { SECURITY_HEADERS } from './headers.js';
import type { ServerMetrics } from './metrics.js';
import { isApiPath } from './paths.js';
import { logFailure, RepeatLimiter } from './repeat-limit.js';
import { registerAppApi } from './routes/app-api.js';
import { registerKServe } from './routes/kserve.js';
import { registerRenderer } from './routes/renderer.js';
import { registerSeldon } from './routes/seldon.js';
import { zodValidatorCompiler } from './validation.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Answered without the API token (health probes, the UI's static files); a function: for the requests it
     * accepts (a probe's route that also answers other paths).
     */
    public?: boolean | ((request: FastifyRequest) => boolean);
    /** One of the UI's static files: the same in every installation, so caches may keep it. */
    uiFile?: boolean;
  }
}

export interface AppOptions {
  /** Largest request body in bytes. */
  bodyLimit: number;
  /** The bearer token every non-public request must carry; null: a loopback server, local clients only. */
  token: string | null;
  /** The built UI (index.html and assets). */
  rendererDir: string;
  logger: FastifyServerOptions['logger'];
  /**
   * Milliseconds a client may take to send one whole request, headers and body (default 30 s): a stalled or
   * dripping client is then answered 408 and its connection closed. Answering may take longer.
   */
  requestTimeout?: number;
  /** A name the KServe routes also answer under, besides the model's id (`serve --model-name`). */
  modelName?: string;
}

/** The metrics label of a request's route: the route's pattern, or the contract method for /api/app. */
function routeLabel(request: FastifyRequest): string {
  const url = request.routeOptions.url;
  if (!url || request.is404) return 'unmatched';
  if (url === '/api/app/:method') {
    const method = (request.params as { method?: string }).method ?? '';
    return isApiMethod(method) ? `/api/app/${method}` : url;
  }
  // KServe V1's POST route reads `:target`, its GET (the model's probe, or a GET of a verb: 405) `:name`.
  if (url === '/v1/models/:target' || url === '/v1/models/:name') {
    const { target, name } = request.params as { target?: string; name?: string };
    const verb = /:(predict|explain)$/.exec(target ?? name ?? '')?.[1];
    return verb ? `/v1/models/:name:${verb}` : '/v1/models/:name';
  }
  return url;
}

/**
 * Why a request may not call at all: the token missing or wrong (401), or a Host not naming this machine or
 * another site's page (403).
 */
function refusal(headers: IncomingHttpHeaders, token: string | null, opensUi = false): ErrorResult | null {
  if (token !== null) {
    if (bearerMatches(headers.authorization, token)) return null;
    return {
      ok: false,
      status: 401,
      body: {
        error: 'unauthorized',
        message:
          'this server needs its API token: send "Authorization: Bearer <token>" (see docs/http-api.md)',
      },
    };
  }
  // Without a token only local clients may call, and a web page must not pass for one via DNS rebinding.
  if (!isLoopbackHostHeader(headers.host)) {
    return {
      ok: false,
      status: 403,
      body: {
        error: 'unauthorized',
        message: `this server answers local clients only; the Host header must name this machine (got ${JSON.stringify(headers.host ?? '')})`,
      },
    };
  }
  // Nor may another site's page in the officer's browser call it (see isCrossSiteRequest), though a link there
  // may open the UI: a link to an export would start one per navigation, downloads leaving the page in place.
  // Browsers that send no Sec-Fetch-Site still name the page's origin on a POST (see isForeignOrigin).
  const foreign = isCrossSiteRequest(headers)
    ? `Sec-Fetch-Site: ${JSON.stringify(String(headers['sec-fetch-site']).slice(0, 50))}`
    : isForeignOrigin(headers)
      ? `Origin: ${JSON.stringify(String(headers.origin).slice(0, 100))}`
      : null;
  if (foreign === null || (opensUi && isTopLevelNavigation(headers))) return null;
  return {
    ok: false,
    status: 403,
    body: {
      error: 'unauthorized',
      message: `this server answers local clients only, not the pages of other sites (got ${foreign})`,
    },
  };
}

/** Marks a request whose Expect header asks for something other than 100-continue: answered 417. */
const UNMET_EXPECTATION = Symbol('unmet expectation');
type ExpectingRequest = IncomingMessage & { [UNMET_EXPECTATION]?: string };

/**
 * What is wrong with a request's Host header, which RFC 9112 §3.2 answers 400: missing from an HTTP/1.1 request,
 * or given more than once (Node keeps the first, while a proxy in front may have read another).
 */
function hostProblem(req: IncomingMessage): Problem | undefined {
  if (req.headers.host === undefined) {
    if (req.httpVersion !== '1.1') return undefined;
    return {
      field: 'host',
      code: 'missing',
      message: 'is missing: an HTTP/1.1 request must name the server it is for in a Host header',
    };
  }
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.length === 4 && req.rawHeaders[i]!.toLowerCase() === 'host') count++;
  }
  if (count < 2) return undefined;
  return {
    field: 'host',
    code: 'invalid',
    message: `is given ${count} times: a request names the server it is for in one Host header`,
  };
}

function isPublic(request: FastifyRequest): boolean {
  const open = request.routeOptions.config.public;
  if (typeof open === 'function' ? open(request) : open === true) return true;
  // Unknown paths: a GET may be one of the UI's routes (answered with its index.html). Not under the API's
  // roots: there, as on every endpoint, a request without the token learns nothing (not even which method a
  // path takes) but 401.
  return request.is404 && (request.method === 'GET' || request.method === 'HEAD') && !isApiPath(request.url);
}

export async function buildApp(
  service: BranchLensService,
  metrics: ServerMetrics,
  opts: AppOptions,
): Promise<FastifyInstance> {
  const { bodyLimit, token } = opts;
  const requestTimeout = opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    bodyLimit,
    // A client that stalls or drips its request (slowloris) is answered 408 once `requestTimeout` has passed
    // since its first byte: Node checks every connection at the interval, so a few times per timeout.
    requestTimeout,
    http: {
      // Node would answer an HTTP/1.1 request without a Host header with a bare 400 of its own: the onRequest
      // hook answers it instead, as every other bad request (Node ≥ 20 has the option).
      requireHostHeader: false,
      ...(requestTimeout > 0
        ? {
            headersTimeout: Math.min(60_000, requestTimeout),
            connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(requestTimeout / 4))),
          }
        : {}),
    },
    logger: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // A request that arrives while the server closes is refused by the onRequest hook below, in the contract's
    // format and with the security headers, not with Fastify's own 503 body.
    return503OnClosing: false,
    // A model's id has no length limit, and KServe's paths carry it (`/v1/models/<id>:predict`).
    routerOptions: { maxParamLength: MAX_PATH_PARAM_CHARS },
    forceCloseConnections: 'idle',
    // A request Node's parser refuses is answered like every other bad request: JSON naming the problem.
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, request, reply) => {
      void sendError(reply, httpErrorResult(error, request, bodyLimit));
    },
  });
  app.setValidatorCompiler(zodValidatorCompiler);

  // JSON is the only body the server reads: any other content type is answered 415.
  app.removeAllContentTypeParsers();
  const parseJson = (
    request: FastifyRequest,
    body: string | Buffer,
    done: (e: Error | null, v?: unknown) => void,
  ) => {
    try {
      checkBodyEncoding(request.headers);
      done(null, parseJsonBody(decodeBody(body as Buffer)));
    } catch (e) {
      done(e as Error, undefined);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJson);
  // A body with no content type at all is read as JSON when the token is required: some inference clients
  // (KServe's and Triton's Python clients) send none. Without the token the 415 stays, since a web page can send
  // a body without a content type and without asking first (CORS), while it cannot send the token.
  if (token !== null) {
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
      const type = request.headers['content-type'];
      if (type === undefined) return parseJson(request, body, done);
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(type), undefined);
    });
  }

  // With the disk full every request fails alike: the log gets the first failure of a kind and then a count.
  const failures = new RepeatLimiter();
  app.addHook('onClose', async () => failures.close());
  app.setErrorHandler((error, request, reply) => {
    const result = httpErrorResult(error, request, bodyLimit);
    if (worthLogging(result)) {
      const msg =
        result.status === 500 ? 'internal error' : `${request.method} ${routeLabel(request)} failed`;
      logFailure(request.log, failures, error, msg);
    }
    return sendError(reply, result);
  });

  // `Expect: 100-continue`: the body is invited only when the request may be answered at all. One that will be
  // refused (no token or a wrong one, a foreign Host, a content-length over the limit) gets its 401, 403 or 413
  // straight away without "100 Continue", and the connection is closed after it. Either way Fastify answers the
  // request as it answers any other, so a wrong guess here only costs the client its wait for the 100.
  app.server.on('checkContinue', (req, res) => {
    const length = Number(req.headers['content-length']);
    if (refusal(req.headers, token) === null && !(length > bodyLimit) && !hostProblem(req))
      res.writeContinue();
    app.server.emit('request', req, res);
  });
  // Any other expectation cannot be met: 417, answered as every other error (Node's own 417 has no body).
  app.server.on('checkExpectation', (req: ExpectingRequest, res) => {
    req[UNMET_EXPECTATION] = String(req.headers.expect);
    app.server.emit('request', req, res);
  });

  // A CONNECT (the server taken for a proxy) would be answered by Node closing the connection without a word.
  app.server.on('connect', answerConnect);

  // Set once close() begins. An answer sent from then on closes its connection: a keep-alive connection left idle
  // would hold the close until the client or the keep-alive timeout (72 s) ends it, past Kubernetes' grace period.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.addHook('onRequest', async (request, reply) => {
    if (closing) {
      return sendError(reply, {
        ok: false,
        status: 503,
        body: {
          error: 'internal',
          message:
            'the server is shutting down: send the request again once it is back (or to another replica)',
        },
      });
    }
    const host = hostProblem(request.raw);
    if (host) {
      // As Node's own answer would: a client that sends no Host may not frame its next request right either.
      reply.header('connection', 'close');
      return sendError(reply, invalidRequest(400, host));
    }
    const expectation = (request.raw as ExpectingRequest)[UNMET_EXPECTATION];
    if (expectation !== undefined) {
      return sendError(
        reply,
        invalidRequest(417, {
          field: 'expect',
          code: 'invalid',
          message: `${JSON.stringify(expectation.slice(0, 100))} cannot be met: this server knows 100-continue only`,
        }),
      );
    }
    if (token !== null && isPublic(request)) return;
    const opensUi = request.routeOptions.config.uiFile === true || request.is404;
    const refused = refusal(request.headers, token, opensUi);
    if (refused === null) return;
    if (refused.status === 401) reply.header('www-authenticate', 'Bearer realm="BranchLens"');
    return sendError(reply, refused);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    if (closing) reply.header('connection', 'close');
    // Every answer but the UI's files is live state (probes included), as is any error: never cached.
    if (!request.routeOptions.config.uiFile || reply.statusCode >= 400)
      reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, routeLabel(request), reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/health/ping', { config: { public: true } }, async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send('pong'),
  );
  app.get('/health/status', { config: { public: true } }, async (_request, reply) => {
    const health = service.health();
    return reply.code(health.status === 'ok' ? 200 : 503).send(health);
  });
  const metricsText = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type(metrics.contentType).send(await metrics.text());
  app.get('/metrics', metricsText);
  // Where Seldon's Python wrapper serves its metrics (a scrape set up for it finds them), with /metrics' rules.
  app.get('/prometheus', metricsText);

  registerSeldon(app, service, metrics);
  await registerKServe(app, service, opts.modelName);
  registerAppApi(app, service, failures);
  await registerRenderer(app, opts.rendererDir);
  return app;
}
