// What an HTTP review found: documents that have no canonical JSON, stalled clients, /predict and wrong methods
// answered with the UI's page or a 404, raw answers without the security headers, "100 Continue" before a
// refusal, and the static files' 403s.
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../../../main/server/headers.js';
import { readSample, removeDir, tempDir } from '../cli/helpers.js';
import {
  call,
  errorBodyOf,
  expectHealthy,
  expectProblems,
  RawBody,
  startTestServer,
  type TestServer,
} from './helpers.js';

const sample = readSample<Record<string, unknown>>('sample-1.json');
const BODY_LIMIT = 64 * 1024;
const UI_PAGE = 'BranchLens UI';

/** The plain server (the UI not built), one with the UI built, and one requiring the token; all one service. */
let t: TestServer;
let ui: TestServer;
let uiDir: string;

beforeAll(async () => {
  t = await startTestServer({ bodyLimit: BODY_LIMIT });
  uiDir = tempDir('branchlens-renderer-');
  mkdirSync(join(uiDir, 'assets'));
  writeFileSync(join(uiDir, 'index.html'), `<!doctype html><title>${UI_PAGE}</title>`);
  writeFileSync(join(uiDir, 'assets', 'app.js'), 'console.log(1);');
  writeFileSync(join(uiDir, '.env'), 'SECRET=1');
  ui = await startTestServer({ service: t.server.service, dataDir: t.dataDir, rendererDir: uiDir });
});
afterAll(async () => {
  await ui?.close();
  await t?.close();
  removeDir(uiDir);
});

interface RawAnswer {
  /** Every status line the server sent, interim ones (100) included. */
  statuses: number[];
  /** The last answer's headers, by lower-case name. */
  headers: Record<string, string>;
  json: unknown;
  text: string;
}

function parseRaw(text: string): RawAnswer {
  const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
  // The last answer begins at the last status line (a body may say "HTTP/1.1" too, never at a line's start).
  const last = [...text.matchAll(/^HTTP\/1\.1 \d{3}/gm)].at(-1)?.index ?? 0;
  const [head = '', body = ''] = text.slice(last).split('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { statuses, headers, json, text };
}

/**
 * Opens a raw connection to `server`, writes `head`, and returns what came back once the server closed the
 * connection, or `waitMs` later (the socket is then closed by the test). `then` may write more on the socket once
 * something has come back.
 */
async function rawExchange(
  server: TestServer,
  head: string,
  opts: { waitMs?: number; then?: (got: string, write: (s: string) => void) => void } = {},
): Promise<RawAnswer & { closedByServer: boolean; elapsedMs: number }> {
  const url = new URL(server.server.url);
  const socket = connect(Number(url.port), url.hostname);
  let got = '';
  let closedByServer = false;
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    got += chunk;
    opts.then?.(got, (s) => socket.write(s));
  });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const start = Date.now();
  socket.write(head);
  const timer = setTimeout(() => socket.destroy(), opts.waitMs ?? 3_000);
  socket.on('end', () => (closedByServer = true));
  await once(socket, 'close');
  clearTimeout(timer);
  return { ...parseRaw(got), closedByServer, elapsedMs: Date.now() - start };
}

/** GET `path` exactly as written (fetch would resolve `//x` and `%2e%2e` first). */
const rawGet = (server: TestServer, path: string) =>
  rawExchange(server, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);

function expectSecurityHeaders(headers: Record<string, string> | Headers): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(get(name), name).toBe(value);
  expect(get('cache-control')).toBe('no-store');
}

describe('verifyDocument with a document that has no canonical JSON (finding 1)', () => {
  let signed: string;
  beforeAll(async () => {
    const explained = await t.app('explain', { applicants: [sample] });
    expect(explained.status, explained.text).toBe(200);
    signed = JSON.stringify(explained.json.documents[0]);
  });
  const verify = (documentText: string) =>
    t.call('POST', '/api/app/verifyDocument', new RawBody(`{"document":${documentText}}`));

  it.each([
    [
      'a number JSON.parse reads as Infinity',
      (d: string) => d.replace(/"score":[^,]+/, '"score":1e400'),
      /JSON: score holds/,
    ],
    [
      'a number read as -Infinity, nested',
      (d: string) => d.replace(/("attributions":\[\{"attribution":)[^,]+/, '$1-1e400'),
      /JSON: attributions\[0\]\.attribution holds/,
    ],
    [
      'a string holding a lone surrogate',
      (d: string) => d.replace(/"id":"[^"]+"/, '"id":"\\ud800"'),
      /JSON: id holds/,
    ],
    [
      'a key holding a lone surrogate',
      (d: string) => d.replace(/^\{/, '{"\\udc00x":1,'),
      /JSON: the document has the key "\\udc00x"/,
    ],
  ])('%s: 200 {ok: false} naming where, never 500', async (_name, change, where) => {
    const changed = change(signed);
    expect(changed).not.toBe(signed);
    const answer = await verify(changed);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json.ok).toBe(false);
    expect(answer.json.reason).toMatch(/cannot be canonical JSON/);
    expect(answer.json.reason).toMatch(where);
    await expectHealthy(t);
  });

  it('a key id that is no string (one that cannot even be made a string): {ok: false}, never 500', async () => {
    const changed = signed.replace(/"key_id":"[^"]+"/, '"key_id":{"toString":1,"valueOf":1}');
    const answer = await verify(changed);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({
      ok: false,
      reason: expect.stringMatching(/signed with key an object/),
      kind: 'key_id_missing',
      params: {},
    });
  });

  it('still verifies the document as signed', async () => {
    expect((await verify(signed)).json).toEqual({ ok: true });
  });
});

describe('a client that never finishes its request (finding 2)', () => {
  let slow: TestServer;
  beforeAll(async () => {
    // Explanations answered a second late, whatever the machine's speed: longer than the request timeout.
    const service = t.server.service;
    const late = new Proxy(service, {
      get(target, name) {
        if (name === 'explainJson') {
          return async (...args: Parameters<typeof service.explainJson>) => {
            await new Promise((done) => setTimeout(done, 1000));
            return target.explainJson(...args);
          };
        }
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    slow = await startTestServer({ service: late, dataDir: t.dataDir, requestTimeout: 500 });
  });
  afterAll(async () => {
    await slow?.close();
  });

  it('is answered 408 as JSON with the security headers once the request timeout has passed, and closed', async () => {
    const answer = await rawExchange(
      slow,
      'POST /api/app/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      { waitMs: 15_000 },
    );
    expect(answer.closedByServer, answer.text).toBe(true);
    expect(answer.statuses).toEqual([408]);
    // Cut after the 500 ms timeout, however loaded the machine running the suite (without a timeout: never).
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(400);
    expect(answer.elapsedMs).toBeLessThan(12_000);
    expect(answer.json).toMatchObject({ error: 'invalid_request', problems: [{ field: 'request' }] });
    expectSecurityHeaders(answer.headers);
    await expectHealthy(slow);
    // A client's fault, not the server's: nothing logged as an error.
    expect(slow.log.filter((line) => /"level":50/.test(line))).toEqual([]);
  });

  it('cuts a client that drips its headers too', async () => {
    const answer = await rawExchange(slow, 'GET /health/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n', {
      waitMs: 15_000,
    });
    expect(answer.closedByServer).toBe(true);
    expect(answer.statuses).toEqual([408]);
    expect(answer.elapsedMs).toBeLessThan(12_000);
    await expectHealthy(slow);
  });

  it('does not cut a request that arrived in time but takes longer to answer', async () => {
    const applicants = Array.from({ length: 20 }, (_, i) => ({ ...sample, Amount: 1000 + i }));
    const started = Date.now();
    const answer = await slow.call('POST', '/api/app/explain', { applicants });
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    expect(answer.json.documents).toHaveLength(20);
    // Answered after the 500 ms timeout had passed (the service waits a second before explaining).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});

describe('the API paths never answer with the UI’s page (finding 3)', () => {
  it.each(['/predict', '/predict?json={"data":{"ndarray":[[1]]}}', '/predict/'])(
    'GET %s is JSON, a 405 or 404, with the UI built or not',
    async (path) => {
      for (const server of [t, ui]) {
        const answer = await server.call('GET', path);
        expect([404, 405], `${path}: ${answer.text}`).toContain(answer.status);
        expect(answer.headers.get('content-type'), path).toMatch(/^application\/json/);
        expect(answer.text, path).not.toMatch(/BranchLens UI|<html|<!doctype/i);
      }
    },
  );

  it('GET /predict is 405 with Allow: POST, as the executor calls it with POST', async () => {
    for (const server of [t, ui]) {
      const answer = await server.call('GET', '/predict?json=%7B%7D');
      expect(expectProblems(answer, 405).map((p) => p.field)).toEqual(['method']);
      expect(answer.headers.get('allow')).toBe('POST');
    }
  });

  it.each(['/v1/', '/v2/', '/api/', '/metrics/', '/health/', '/health/x', '//health/ping', '/%70redict'])(
    'GET %s is a JSON answer, never the UI’s page',
    async (path) => {
      for (const server of [t, ui]) {
        const answer = await rawGet(server, path);
        expect(answer.statuses[0], path).toBeGreaterThanOrEqual(400);
        expect(answer.headers['content-type'], path).toMatch(/^application\/json/);
      }
    },
  );

  it('still answers the UI’s own routes with its page', async () => {
    const route = await ui.call('GET', '/audit/42');
    expect(route.status).toBe(200);
    expect(route.text).toContain(UI_PAGE);
    expect((await t.call('GET', '/settings')).text).toContain('npm run build:renderer');
  });
});

describe('a wrong method on an endpoint (finding 4)', () => {
  it.each([
    ['GET', '/api/v1.0/predictions', 'POST'],
    ['GET', '/api/v1.0/explain', 'POST'],
    ['PUT', '/v2/models/credit-demo/infer', 'POST'],
    ['GET', '/v2/models/credit-demo/infer', 'POST'],
    ['POST', '/v2/health/live', 'GET, HEAD'],
    ['POST', '/metrics', 'GET, HEAD'],
    ['POST', '/health/ping', 'GET, HEAD'],
    ['DELETE', '/api/app/predict', 'POST'],
    ['GET', '/api/app/predict', 'POST'],
    ['OPTIONS', '/api/app/predict', 'POST'],
    ['POST', '/metadata', 'GET, HEAD'],
    ['PUT', '/v1/models/credit-demo:predict', 'POST'],
    ['DELETE', '/v1/models/credit-demo', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s and a problem naming method', async (method, path, allow) => {
    for (const server of [t, ui]) {
      const answer = await server.call(method, path);
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(405);
      expect(answer.headers.get('allow')).toBe(allow);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expectSecurityHeaders(answer.headers);
      // KServe's paths answer in their protocols' shape, Seldon's in a SeldonMessage, the others in the contract's.
      const body = errorBodyOf(answer);
      const problems = body.problems as { field: string }[];
      expect(problems.map((p) => p.field)).toEqual(['method']);
      expect(path.startsWith('/v') ? body.code : body.error).toBe('invalid_request');
    }
  });

  it.each([
    ['GET', '/api/app/nothing'],
    ['POST', '/api/app/nothing'],
    ['POST', '/api/v2/predictions'],
    ['DELETE', '/nothing'],
    ['POST', '/'],
  ])('%s %s, no endpoint for any method, stays 404', async (method, path) => {
    const answer = await t.call(method, path);
    expect(answer.status, answer.text).toBe(404);
    expect(answer.headers.get('allow')).toBeNull();
  });

  it('checks the token before saying which methods a path takes', async () => {
    const locked = await startTestServer({
      service: t.server.service,
      dataDir: t.dataDir,
      tokenRequired: true,
    });
    try {
      const anonymous = await call(locked.server.url, 'DELETE', '/api/app/predict');
      expect(anonymous.status).toBe(401);
      expect((await locked.call('DELETE', '/api/app/predict')).status).toBe(405);
    } finally {
      await locked.close();
    }
  });
});

describe('answers written by the HTTP parser’s error handler (finding 5)', () => {
  it.each([
    ['a request that is not HTTP', 'HELLO\r\n\r\n', 400],
    [
      'a content-length that is not a number',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      400,
    ],
    ['headers above the limit', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s carries the security headers and Cache-Control: no-store', async (_name, text, status) => {
    const answer = await rawExchange(t, text);
    expect(answer.statuses).toEqual([status]);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['connection']).toBe('close');
    expectSecurityHeaders(answer.headers);
    expect(answer.json).toMatchObject({ error: 'invalid_request' });
    await expectHealthy(t);
  });
});

describe('Expect: 100-continue (finding 6)', () => {
  let locked: TestServer;
  beforeAll(async () => {
    locked = await startTestServer({
      service: t.server.service,
      dataDir: t.dataDir,
      tokenRequired: true,
      bodyLimit: BODY_LIMIT,
    });
  });
  afterAll(async () => {
    await locked?.close();
  });

  const head = (headers: string, length: number) =>
    'POST /api/app/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
    `Expect: 100-continue\r\nContent-Length: ${length}\r\n${headers}\r\n`;
  const auth = () => `Authorization: Bearer ${locked.server.token}\r\n`;

  it.each([
    ['without the token', '', 401],
    ['with a wrong token', 'Authorization: Bearer wrong\r\n', 401],
  ])('%s: 401 at once, never inviting the body', async (_name, headers, status) => {
    const answer = await rawExchange(locked, head(headers, 2));
    expect(answer.statuses, answer.text).toEqual([status]);
    expect(answer.json).toMatchObject({ error: 'unauthorized' });
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(answer.closedByServer).toBe(true);
  });

  it('a content-length over the limit: 413 at once, never inviting the body', async () => {
    const answer = await rawExchange(locked, head(auth(), BODY_LIMIT + 1));
    expect(answer.statuses, answer.text).toEqual([413]);
    expect(answer.json).toMatchObject({ error: 'invalid_request', problems: [{ field: 'body' }] });
    expect(answer.closedByServer).toBe(true);
  });

  it('a foreign Host on a loopback server: 403 at once', async () => {
    const text = head('', 2).replace('Host: 127.0.0.1', 'Host: attacker.example');
    const answer = await rawExchange(t, text);
    expect(answer.statuses, answer.text).toEqual([403]);
  });

  it('a request that may call: 100 Continue, then the answer once the body came', async () => {
    let sent = false;
    const answer = await rawExchange(locked, head(`${auth()}Connection: close\r\n`, 2), {
      then(got, write) {
        if (!sent && got.startsWith('HTTP/1.1 100')) {
          sent = true;
          write('{}');
        }
      },
    });
    expect(answer.statuses, answer.text).toEqual([100, 200]);
    expect(answer.json).toMatchObject({ status: 'ok' });
  });

  it('an expectation other than 100-continue: 417 as JSON naming expect', async () => {
    const text = head('Connection: close\r\n', 2).replace('100-continue', 'something-else') + '{}';
    const answer = await rawExchange(t, text);
    expect(answer.statuses, answer.text).toEqual([417]);
    expect(answer.json).toMatchObject({ error: 'invalid_request', problems: [{ field: 'expect' }] });
    expectSecurityHeaders(answer.headers);
  });
});

describe('paths the UI’s static files refuse (finding 7a)', () => {
  it.each([
    '//health/ping',
    '/%2e%2e/package.json',
    '/.env',
    '/assets/..%2f..%2fpackage.json',
    '/assets/.hidden',
  ])('GET %s is 404 not_found as JSON, not 403 (the Host check’s alone)', async (path) => {
    const answer = await rawGet(ui, path);
    expect(answer.statuses, `${path}: ${answer.text}`).toEqual([404]);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.json).toMatchObject({ error: 'not_found' });
    expect(answer.text).not.toContain('SECRET');
    expectSecurityHeaders(answer.headers);
  });
});
