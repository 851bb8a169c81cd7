// Every failure the server can answer, as the contract's ApiErrorBody: bad input of any kind (the service's
// problems, Fastify's own body, content-type and size checks) is a 4xx naming the field; busy is 503 with
// Retry-After; anything else is a generic 500 whose details go to the log only.
import { maxHeaderSize, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorBody } from '../../shared/contract.js';
import type { Problem } from '../../shared/problems.js';
import { errorResult, type ApiResult } from '../core/api.js';
import { boundedErrorBody } from '../core/error-body.js';
import { UnsupportedBodyError } from './body.js';
import { MAX_PATH_PARAM_CHARS } from './defaults.js';
import { SECURITY_HEADERS } from './headers.js';
import { isUnder } from './paths.js';

export type ErrorResult = Extract<ApiResult, { ok: false }>;

/** A 4xx for one problem with the request: the contract's invalid_request body, its message naming the field. */
export function invalidRequest(status: number, problem: Problem): ErrorResult {
  return {
    ok: false,
    status,
    body: { error: 'invalid_request', message: `${problem.field}: ${problem.message}`, problems: [problem] },
  };
}

/** Fastify's own request errors (before a handler runs) as 4xx with a problem naming what was wrong. */
function fastifyRequestError(
  e: FastifyError,
  request: FastifyRequest,
  bodyLimit: number,
): ErrorResult | null {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return invalidRequest(413, {
        field: 'body',
        code: 'out_of_range',
        message: `is larger than the limit of ${bodyLimit} bytes (send fewer applicants per request)`,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return invalidRequest(415, {
        field: 'content-type',
        code: 'invalid',
        message: `must be application/json, got ${JSON.stringify(request.headers['content-type'] ?? '')}`,
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest(400, {
        field: 'body',
        code: 'missing',
        message: 'is empty: send a JSON document',
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return invalidRequest(400, { field: 'body', code: 'invalid', message: 'is not valid JSON' });
    case 'FST_ERR_BAD_URL':
      return invalidRequest(400, {
        field: 'url',
        code: 'invalid',
        message: 'is not a valid URL (bad percent-encoding)',
      });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return invalidRequest(414, {
        field: 'url',
        code: 'out_of_range',
        message: `has a part longer than this server reads (a method or a model's name: ${MAX_PATH_PARAM_CHARS} characters at most)`,
      });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidRequest(400, {
        field: 'content-length',
        code: 'invalid',
        message: 'does not match the length of the body',
      });
  }
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return invalidRequest(status, { field: 'request', code: 'invalid', message: e.message });
  }
  return null;
}

/** The answer to any error thrown while handling `request`. */
export function httpErrorResult(e: unknown, request: FastifyRequest, bodyLimit: number): ErrorResult {
  if (e instanceof UnsupportedBodyError) return invalidRequest(415, e.problem);
  const result = errorResult(e);
  if (result.status !== 500) return result;
  return (e instanceof Error && fastifyRequestError(e as FastifyError, request, bodyLimit)) || result;
}

/** The paths KServe's protocols (V1 and V2) own: their errors are answered as {"error": message}. */
const KSERVE_ROOTS = ['/v1', '/v2'];

export function isKServePath(url: string): boolean {
  return isUnder(url, KSERVE_ROOTS);
}

/**
 * The paths of Seldon Core's v1 protocol (the external API, its v0.1 twins and a MODEL unit's): their errors are
 * SeldonMessages (seldonErrorMessage).
 */
const SELDON_ROOTS = ['/api/v1.0', '/api/v0.1', '/predict', '/send-feedback', '/metadata'];

export function isSeldonPath(url: string): boolean {
  return isUnder(url, SELDON_ROOTS);
}

/**
 * Seldon's error SeldonMessage, `{"status": {code, info, reason, status: "FAILURE"}}`, as its microservices answer
 * (seldon_core's SeldonMicroserviceException): what Seldon clients and the executor's callers read an error from.
 */
export function seldonStatus(status: number, message: string) {
  return {
    code: status,
    info: message,
    reason: status >= 500 ? 'MICROSERVICE_INTERNAL_ERROR' : 'MICROSERVICE_BAD_DATA',
    status: 'FAILURE',
  };
}

/**
 * An error as a SeldonMessage: Seldon's `status`, and the contract's ApiErrorBody (its problems included) in
 * `jsonData`. Seldon's Python client reads an answer with protobuf's ParseDict, which fails on any field a
 * SeldonMessage does not have (the contract's `error` beside `status`), losing the message.
 */
export function seldonErrorMessage(status: number, body: ApiErrorBody) {
  return { status: seldonStatus(status, body.message), jsonData: body };
}

/**
 * Sends an error. Under KServe's paths it takes the protocols' shape, `{"error": message}`, with the contract's
 * `code` (`invalid_request`, …) and the problems beside it; under Seldon's, a SeldonMessage
 * (seldonErrorMessage); elsewhere the contract's ApiErrorBody.
 */
export function sendError(reply: FastifyReply, result: ErrorResult): FastifyReply {
  if (result.retryAfter !== undefined) reply.header('retry-after', String(result.retryAfter));
  const body = boundedErrorBody(result.body);
  reply.code(result.status).type('application/json; charset=utf-8');
  if (isSeldonPath(reply.request.url)) return reply.send(seldonErrorMessage(result.status, body));
  if (!isKServePath(reply.request.url)) return reply.send(body);
  const { error, message, ...rest } = body;
  // Typed "application/json" exactly: KServe's Python client (InferenceRESTClient) reads "error" into the
  // exception it raises only for that type, and would show a bare "400 Bad Request" for "; charset=utf-8".
  // Sent as bytes, which Fastify leaves typed as given (JSON is UTF-8 whatever the type says, RFC 8259).
  return reply
    .type('application/json')
    .send(Buffer.from(JSON.stringify({ error: message, code: error, ...rest }), 'utf8'));
}

export function errorBody(error: 'not_found' | 'unauthorized', message: string): ApiErrorBody {
  return { error, message };
}

/** Node's HTTP parser errors (a request that is not HTTP at all) as the status and the problem to answer. */
function clientProblem(code: string | undefined): { status: number; problem: Problem } {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        problem: {
          field: 'request',
          code: 'invalid',
          message: 'did not arrive in time (a body shorter than its content-length, or a stalled client)',
        },
      };
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        problem: {
          field: 'headers',
          code: 'out_of_range',
          message: `are larger than this server accepts (${maxHeaderSize} bytes at most, the request line included)`,
        },
      };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return {
        status: 400,
        problem: {
          field: 'content-length',
          code: 'invalid',
          message: 'is not a valid length for this request',
        },
      };
    case 'HPE_INVALID_EOF_STATE':
      return {
        status: 400,
        problem: {
          field: 'body',
          code: 'invalid',
          message:
            'ended before the whole of it arrived (shorter than its content-length, or without its last chunk)',
        },
      };
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 400,
        problem: {
          field: 'transfer-encoding',
          code: 'invalid',
          message: `is chunked, but the body is not valid chunked encoding (${code})`,
        },
      };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return {
        status: 400,
        problem: {
          field: 'transfer-encoding',
          code: 'invalid',
          message:
            'must end with chunked (or be left out and a content-length sent): the body cannot be read',
        },
      };
    case 'HPE_INVALID_URL':
      return {
        status: 400,
        problem: { field: 'url', code: 'invalid', message: 'holds characters a URL may not hold' },
      };
    case 'HPE_INVALID_HEADER_TOKEN':
      return {
        status: 400,
        problem: {
          field: 'headers',
          code: 'invalid',
          message:
            'hold a name or value with characters HTTP does not allow, or a line folded onto the one before',
        },
      };
    default:
      return {
        status: 400,
        problem: {
          field: 'request',
          code: 'invalid',
          message: `is not valid HTTP/1.1 (${code ?? 'unknown'})`,
        },
      };
  }
}

/** The header lines every answer written straight to the socket carries: the security headers, never cached. */
const RAW_ANSWER_HEADERS = Object.entries({ ...SECURITY_HEADERS, 'cache-control': 'no-store' })
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/** A whole HTTP/1.1 answer as text, for a socket no ServerResponse writes to: JSON, then the connection closes. */
function rawJsonAnswer(status: number, body: unknown): string {
  const text = JSON.stringify(body);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\n${RAW_ANSWER_HEADERS}Connection: close\r\n\r\n${text}`
  );
}

/**
 * Answers a request Node's HTTP parser refused (Fastify's clientErrorHandler) in the shape of every other
 * error: a JSON body naming the problem, with the headers every answer carries, then the connection is closed.
 * When an answer to the request has begun already, another cannot follow it: the connection is only closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // Node's own clientError answer makes the same check: the ServerResponse in flight on this socket, if any.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy(err);
    return;
  }
  const { status, problem } = clientProblem(err.code);
  socket.end(rawJsonAnswer(status, invalidRequest(status, problem).body));
}

/**
 * Answers a CONNECT (the server taken for a proxy), which Node would answer by closing the connection without
 * a word: a JSON 400 naming the method, then the connection is closed.
 */
export function answerConnect(_req: IncomingMessage, socket: Duplex): void {
  const problem: Problem = {
    field: 'method',
    code: 'invalid',
    message: 'CONNECT is not supported: this server is no proxy (see docs/http-api.md)',
  };
  socket.end(rawJsonAnswer(400, invalidRequest(400, problem).body));
}
