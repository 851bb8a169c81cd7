// Shared by the server tests: a server on an ephemeral port over a fresh data dir, plain HTTP calls against it,
// and a small parser for the Prometheus text format.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../../../main/server/index.js';
import { removeDir, tempDir } from '../cli/helpers.js';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  /** Everything the server logged (pino JSON lines). */
  log: string[];
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** POST /api/app/<method> with a JSON body. */
  app(method: string, body?: unknown): Promise<Answer>;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A body sent as is (no JSON encoding): malformed JSON, other content types. */
export class RawBody {
  constructor(
    readonly text: string | Uint8Array<ArrayBuffer>,
    readonly contentType: string | null = 'application/json',
  ) {}
}

export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body instanceof RawBody) {
    // A Blob without a type makes fetch send no content-type at all.
    init.body = body.contentType ? body.text : new Blob([body.text]);
    if (body.contentType) (init.headers as Record<string, string>)['content-type'] = body.contentType;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(new URL(path, base), init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function startTestServer(opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir('branchlens-server-');
  const log: string[] = [];
  const server = await startServer({
    port: 0,
    workers: 1,
    backend: 'wasm',
    // The UI as not built, whatever dist/ holds; tests of the built UI pass their own folder.
    rendererDir: join(dataDir, 'no-renderer'),
    logStream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        log.push(chunk.toString('utf8'));
        done();
      },
    }),
    ...opts,
    dataDir,
  });
  const auth: Record<string, string> = server.token ? { authorization: `Bearer ${server.token}` } : {};
  return {
    server,
    dataDir,
    log,
    call: (method, path, body, headers) => call(server.url, method, path, body, { ...auth, ...headers }),
    app: (method, body) => call(server.url, 'POST', `/api/app/${method}`, body ?? {}, auth),
    async close() {
      await server.close();
      if (!opts.dataDir) removeDir(dataDir);
    },
  };
}

/** The samples of a Prometheus text exposition, by `name{labels}` as written (labels in the server's order). */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)(?: \d+)?$/.exec(line);
    expect(m, `not a Prometheus sample line: ${line}`).not.toBeNull();
    const v = m![2]!;
    samples.set(m![1]!, v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));
  }
  return samples;
}

/** The server is up and answering. */
export async function expectHealthy(t: TestServer): Promise<void> {
  const ping = await t.call('GET', '/health/ping');
  expect(ping.status).toBe(200);
  expect(ping.text).toBe('pong');
}

/** The top-level fields of a SeldonMessage (Seldon's prediction.proto): all an answer on its paths may hold. */
export const SELDON_MESSAGE_FIELDS = ['status', 'meta', 'data', 'jsonData', 'strData', 'binData'];

/**
 * The contract's error body of an answer: the body itself, or on Seldon's paths the SeldonMessage's `jsonData`,
 * after checking that the answer is a valid SeldonMessage whose `status` says the same.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function errorBodyOf(answer: Answer): any {
  const isSeldon = answer.json?.status?.status === 'FAILURE';
  if (!isSeldon) return answer.json;
  expect(SELDON_MESSAGE_FIELDS, answer.text).toEqual(expect.arrayContaining(Object.keys(answer.json)));
  expect(answer.json.status).toEqual({
    code: answer.status,
    info: answer.json.jsonData.message,
    reason: answer.status >= 500 ? 'MICROSERVICE_INTERNAL_ERROR' : 'MICROSERVICE_BAD_DATA',
    status: 'FAILURE',
  });
  return answer.json.jsonData;
}

/**
 * A 4xx in the contract's error format: a JSON body naming each problem's field (on Seldon's paths, in the
 * SeldonMessage's `jsonData`).
 */
export function expectProblems(
  answer: Answer,
  status: number,
): { field: string; code: string; message: string }[] {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const body = errorBodyOf(answer);
  expect(body.error).toBe('invalid_request');
  expect(typeof body.message).toBe('string');
  expect(body.problems.length).toBeGreaterThan(0);
  for (const p of body.problems) {
    expect(typeof p.field).toBe('string');
    expect(p.field.length).toBeGreaterThan(0);
  }
  expect(answer.text).not.toMatch(/\n\s+at /);
  return body.problems;
}
