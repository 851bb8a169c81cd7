import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody } from '../../../shared/contract.js';
import { boundedErrorBody } from '../../../main/core/error-body.js';
import { readSample } from '../cli/helpers.js';
import {
  errorBodyOf,
  expectHealthy,
  expectProblems,
  RawBody,
  startTestServer,
  type TestServer,
} from './helpers.js';

let t: TestServer;
const sample = readSample<Record<string, unknown>>('sample-1.json');
const names = Object.keys(sample);
const BODY_LIMIT = 64 * 1024;

beforeAll(async () => {
  t = await startTestServer({ bodyLimit: BODY_LIMIT });
});
afterAll(async () => {
  await t?.close();
});

interface BadRequest {
  name: string;
  path: string;
  body: unknown;
  status: number;
  /** A field that one of the problems must name, and optionally its code. */
  field: string | RegExp;
  code?: string;
}

const EXPLAIN = '/api/app/explain';
const SELDON = '/api/v1.0/predictions';
const nested = (depth: number) => new RawBody(`{"applicants":${'['.repeat(depth)}${']'.repeat(depth)}}`);

const CASES: BadRequest[] = [
  {
    name: 'an applicant that gives none of the features (every one would be a default)',
    path: EXPLAIN,
    body: { applicants: [sample, {}] },
    status: 400,
    field: '[1]',
    code: 'missing',
  },
  {
    name: 'a Seldon applicant of columns that are not features',
    path: SELDON,
    body: { jsonData: { name: 'Wang', city: 'Xi’an' } },
    status: 400,
    field: 'jsonData',
    code: 'missing',
  },
  {
    name: 'applicants is not a list',
    path: EXPLAIN,
    body: { applicants: 'all' },
    status: 400,
    field: 'applicants',
  },
  {
    name: 'an applicant is a number',
    path: EXPLAIN,
    body: { applicants: [42] },
    status: 400,
    field: 'applicants[0]',
  },
  {
    name: 'a number feature as a non-numeric string',
    path: EXPLAIN,
    body: { applicants: [{ ...sample, Amount: 'abc' }] },
    status: 400,
    field: 'Amount',
    code: 'wrong_type',
  },
  {
    name: 'a string for a number ("1500": JSON has numbers)',
    path: EXPLAIN,
    body: { applicants: [{ ...sample, Amount: '1500' }] },
    status: 400,
    field: 'Amount',
    code: 'wrong_type',
  },
  {
    name: 'a string for a number in a Seldon ndarray',
    path: SELDON,
    body: {
      data: {
        names: Object.keys(sample),
        ndarray: [Object.entries(sample).map(([k, v]) => (k === 'Amount' ? String(v) : v))],
      },
    },
    status: 400,
    field: /^data\.ndarray\[0\].*Amount/,
    code: 'wrong_type',
  },
  {
    name: 'a feature given twice in one applicant',
    path: EXPLAIN,
    body: new RawBody(`{"applicants":[${JSON.stringify(sample).replace(/^\{/, '{"Amount":99999,')}]}`),
    status: 400,
    field: 'applicants[0]',
    code: 'invalid',
  },
  {
    name: 'a number feature as an object',
    path: EXPLAIN,
    body: { applicants: [sample, { ...sample, Amount: { value: 3 } }] },
    status: 400,
    field: '[1].Amount',
    code: 'wrong_type',
  },
  {
    name: 'a category as a number',
    path: EXPLAIN,
    body: { applicants: [{ ...sample, Home: 7 }] },
    status: 400,
    field: 'Home',
    code: 'wrong_type',
  },
  {
    name: 'a boolean as a string',
    path: EXPLAIN,
    body: { applicants: [{ ...sample, Records: 'maybe' }] },
    status: 400,
    field: 'Records',
  },
  {
    name: 'the string "NaN"',
    path: EXPLAIN,
    body: { applicants: [{ ...sample, Amount: 'NaN' }] },
    status: 400,
    field: 'Amount',
    code: 'not_finite',
  },
  {
    name: 'the literal NaN (not JSON)',
    path: EXPLAIN,
    body: new RawBody(`{"applicants":[{"Amount":NaN}]}`),
    status: 400,
    field: 'body',
    code: 'invalid',
  },
  {
    name: 'a number too large for a double (Infinity)',
    path: EXPLAIN,
    body: new RawBody(`{"applicants":[{"Amount":1e999}]}`),
    status: 400,
    field: 'Amount',
    code: 'not_finite',
  },
  {
    name: 'truncated JSON',
    path: EXPLAIN,
    body: new RawBody('{"applicants":[{'),
    status: 400,
    field: 'body',
  },
  {
    name: 'an unknown feature',
    path: EXPLAIN,
    body: { applicants: [{ ...sample, Shoe: 42 }] },
    status: 400,
    field: 'Shoe',
    code: 'unknown_feature',
  },
  {
    name: 'an unknown option',
    path: EXPLAIN,
    body: { applicants: [sample], options: { steps: 5 } },
    status: 400,
    field: 'options.steps',
  },
  {
    name: 'an option out of range',
    path: EXPLAIN,
    body: { applicants: [sample], options: { n_steps: 0 } },
    status: 400,
    field: 'options.n_steps',
  },
  { name: 'no applicants', path: EXPLAIN, body: { applicants: [] }, status: 400, field: 'applicants' },
  {
    name: 'more than 1000 applicants',
    path: EXPLAIN,
    body: { applicants: Array.from({ length: 1001 }, () => ({})) },
    status: 400,
    field: 'applicants',
  },
  {
    name: 'Seldon names with an unknown feature',
    path: SELDON,
    body: { data: { names: [...names, 'Shoe'], ndarray: [[...Object.values(sample), 42]] } },
    status: 400,
    field: `data.names[${names.length}]`,
    code: 'unknown_feature',
  },
  {
    name: 'Seldon names missing a feature',
    path: SELDON,
    body: { data: { names: names.slice(1), ndarray: [Object.values(sample).slice(1)] } },
    status: 400,
    field: 'data.names',
    code: 'missing',
  },
  {
    name: 'Seldon names repeating a feature',
    path: SELDON,
    body: { data: { names: [...names, names[0]], ndarray: [[...Object.values(sample), 1]] } },
    status: 400,
    field: `data.names[${names.length}]`,
  },
  {
    name: 'a Seldon row shorter than names',
    path: SELDON,
    body: { data: { names, ndarray: [Object.values(sample).slice(1)] } },
    status: 400,
    field: 'data.ndarray[0]',
  },
  {
    name: 'a Seldon ndarray that is not rows',
    path: SELDON,
    body: { data: { names, ndarray: [1, 2] } },
    status: 400,
    field: 'data.ndarray[0]',
  },
  {
    name: 'both data and jsonData',
    path: SELDON,
    body: { data: { names, ndarray: [Object.values(sample)] }, jsonData: sample },
    status: 400,
    field: 'body',
  },
  { name: 'Seldon strData', path: SELDON, body: { strData: 'hello' }, status: 400, field: 'strData' },
  { name: 'a Seldon body that is a string', path: SELDON, body: 'hello', status: 400, field: 'body' },
  {
    name: 'a __proto__ key',
    path: EXPLAIN,
    body: new RawBody(`{"applicants":[{"__proto__":{"polluted":true},"Amount":1}]}`),
    status: 400,
    field: 'applicants[0].__proto__',
  },
  {
    name: 'a top-level __proto__ key',
    path: EXPLAIN,
    body: new RawBody(`{"__proto__":{"polluted":true},"applicants":[{}]}`),
    status: 400,
    field: '__proto__',
  },
  {
    name: 'a constructor.prototype key',
    path: SELDON,
    body: new RawBody(`{"jsonData":{"constructor":{"prototype":{"polluted":true}}}}`),
    status: 400,
    field: 'jsonData.constructor',
  },
  {
    name: '10,000 nested arrays',
    path: EXPLAIN,
    body: nested(10_000),
    status: 400,
    field: /^applicants(\[0\])+$/,
  },
  {
    name: '10,000 nested objects',
    path: SELDON,
    body: new RawBody(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`),
    status: 400,
    field: /^a(\.a)+$/,
  },
  {
    // Canonical JSON (the watermark check) recurses: without the depth limit this would overflow the stack.
    name: 'a document to verify nested 10,000 deep',
    path: '/api/app/verifyDocument',
    body: new RawBody(`{"document":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`),
    status: 400,
    field: /^document(\.a)+$/,
  },
  { name: 'a malformed URL', path: '/api/app/%E0%A4%A', body: {}, status: 400, field: 'url' },
  {
    name: 'an empty JSON body',
    path: EXPLAIN,
    body: new RawBody(''),
    status: 400,
    field: 'body',
    code: 'missing',
  },
  { name: 'a whitespace JSON body', path: SELDON, body: new RawBody('  \n'), status: 400, field: 'body' },
  { name: 'no body and no content type', path: SELDON, body: undefined, status: 400, field: 'body' },
  { name: 'JSON null', path: EXPLAIN, body: new RawBody('null'), status: 400, field: 'applicants' },
  {
    name: 'a text/plain body',
    path: EXPLAIN,
    body: new RawBody(JSON.stringify({ applicants: [sample] }), 'text/plain'),
    status: 415,
    field: 'content-type',
  },
  {
    name: 'a form body',
    path: SELDON,
    body: new RawBody('a=1', 'application/x-www-form-urlencoded'),
    status: 415,
    field: 'content-type',
  },
  {
    name: 'a body without a content type',
    path: EXPLAIN,
    body: new RawBody(JSON.stringify({ applicants: [sample] }), null),
    status: 415,
    field: 'content-type',
  },
  {
    name: 'a body that is not UTF-8',
    path: EXPLAIN,
    body: new RawBody(Buffer.from(`{"applicants":[{"Home":"r\xe9nt"}]}`, 'latin1')),
    status: 400,
    field: 'body',
  },
  {
    name: 'a JSON body declared in another charset',
    path: EXPLAIN,
    body: new RawBody(JSON.stringify({ applicants: [sample] }), 'application/json; charset=latin1'),
    status: 415,
    field: 'content-type',
  },
  {
    name: 'a body above the limit',
    path: EXPLAIN,
    body: { applicants: [sample], padding: 'x'.repeat(BODY_LIMIT) },
    status: 413,
    field: 'body',
  },
];

describe('bad requests are answered 4xx with their problems, and the server keeps serving', () => {
  it.each(CASES)('$name → $status', async ({ path, body, status, field, code }) => {
    const answer = await t.call('POST', path, body);
    const problems = expectProblems(answer, status);
    const named = problems.filter((p) =>
      typeof field === 'string' ? p.field === field : field.test(p.field),
    );
    expect(named, JSON.stringify(problems)).not.toHaveLength(0);
    if (code) expect(named.map((p) => p.code)).toContain(code);
    await expectHealthy(t);
  });

  it('refuses a compressed body with 415 naming content-encoding, and reads UTF-8 and identity as they are', async () => {
    const body = JSON.stringify({ applicants: [sample] });
    const gzip = await t.call('POST', EXPLAIN, new RawBody(body), { 'content-encoding': 'gzip' });
    const problems = expectProblems(gzip, 415);
    expect(problems.map((p) => p.field)).toEqual(['content-encoding']);
    const plain = await t.call('POST', EXPLAIN, new RawBody(body, 'application/json; charset=UTF-8'), {
      'content-encoding': 'identity',
    });
    expect(plain.status, plain.text.slice(0, 200)).toBe(200);
    // A byte-order mark before the JSON is dropped (RFC 8259 §8.1), and the answer is the same.
    const bom = await t.call('POST', EXPLAIN, new RawBody(`\uFEFF${body}`));
    expect(bom.status, bom.text.slice(0, 200)).toBe(200);
    expect(bom.json.documents[0].watermark).toBe(plain.json.documents[0].watermark);
    await expectHealthy(t);
  });

  it('refuses query parameters on the Seldon endpoints, naming each, rather than ignoring them', async () => {
    const body = { jsonData: sample };
    for (const path of ['/api/v1.0/explain?n_steps=abc&top_k=3', '/api/v1.0/predictions?foo=1']) {
      const problems = expectProblems(await t.call('POST', path, body), 400);
      expect(problems.map((p) => p.field).sort()).toEqual(
        path.includes('foo') ? ['query.foo'] : ['query.n_steps', 'query.top_k'],
      );
      expect(problems[0]!.message).toMatch(/explain options are the settings/);
    }
    expect((await t.call('POST', '/api/v1.0/predictions', body)).status).toBe(200);
  });

  /** Sends `text` on a raw connection (optionally half-closing it) and returns the whole answer. */
  async function raw(text: string, halfClose = false): Promise<{ status: number; json: unknown }> {
    const url = new URL(t.server.url);
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    await once(socket, 'connect');
    socket.write(text);
    if (halfClose) socket.end();
    await once(socket, 'close');
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), json: JSON.parse(body) as unknown };
  }

  it.each([
    ['a request that is not HTTP', 'HELLO\r\n\r\n', false, 400, 'request'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n', false, 400, 'headers'],
    [
      'an HTTP/1.1 request without a Host header',
      'POST /api/app/explain HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      false,
      400,
      'host',
    ],
    [
      'a request with two Host headers',
      'POST /api/app/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      false,
      400,
      'host',
    ],
    [
      'a chunked body with a chunk size that is not hex',
      'POST /api/app/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      false,
      400,
      'transfer-encoding',
    ],
    [
      'a transfer-encoding that does not end with chunked',
      'POST /api/app/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n',
      false,
      400,
      'transfer-encoding',
    ],
    [
      'a chunked body cut off before its last chunk',
      'POST /api/app/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"applicants":',
      true,
      400,
      'body',
    ],
    ['a URL with a control character', 'GET /\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', false, 400, 'url'],
    [
      'a CONNECT (the server taken for a proxy)',
      'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      false,
      400,
      'method',
    ],
    [
      'a content-length that is not a number',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      false,
      400,
      'content-length',
    ],
    [
      'a body shorter than its content-length',
      'POST /api/app/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"applicants":',
      true,
      400,
      'body',
    ],
    [
      'headers above the limit',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      false,
      431,
      'headers',
    ],
  ])(
    'answers %s (refused by the HTTP parser) as JSON naming the problem',
    async (_name, text, halfClose, status, field) => {
      const answer = await raw(text, halfClose);
      expect(answer.status).toBe(status);
      expect(answer.json).toMatchObject({ error: 'invalid_request', problems: [{ field }] });
      await expectHealthy(t);
    },
  );

  it('quotes a name or value given at length cut short, its start and length still saying which it is', async () => {
    const long = 'k'.repeat(60_000);
    const cut = `${'k'.repeat(64)}…(60000 characters)`;
    const answers = [
      await t.call('POST', EXPLAIN, { applicants: [sample], [long]: 1 }),
      await t.call('POST', EXPLAIN, { applicants: [{ ...sample, [long]: 1 }] }),
      await t.call('POST', EXPLAIN, { applicants: [{ ...sample, Home: long }] }),
      await t.call('POST', SELDON, { jsonData: { ...sample, [long]: 1 } }),
      await t.call('POST', SELDON, {
        data: { names: [...names, long], ndarray: [[...Object.values(sample), 1]] },
      }),
      await t.call('POST', EXPLAIN, new RawBody(`{"applicants":[],"${long}":{"__proto__":1}}`)),
    ];
    for (const answer of answers) {
      const problems = expectProblems(answer, 400);
      // The field, the message and Seldon's `info` each held the whole key: 180 KB for a 60 KB key.
      expect(answer.text.length, answer.text.slice(0, 200)).toBeLessThan(2_000);
      expect(JSON.stringify(problems)).toContain(cut);
      expect(errorBodyOf(answer).message).toContain(cut);
    }
    // A name of normal length is quoted whole.
    const short = expectProblems(
      await t.call('POST', EXPLAIN, { applicants: [{ ...sample, Amonut: 1 }] }),
      400,
    );
    expect(short.map((p) => p.field)).toContain('Amonut');
  });

  it('bounds a problem quoting a long name that has spaces in it, and never cuts a character in two', () => {
    const spaced = 'k '.repeat(50_000);
    const emoji = `${'k'.repeat(63)}😀${'k'.repeat(100)}`;
    const body = boundedErrorBody({
      error: 'invalid_request',
      message: `${spaced}: is not a known field`,
      problems: [
        { field: spaced, code: 'invalid', message: 'is not a known field' },
        { field: emoji, code: 'invalid', message: `"${emoji}" is not a feature` },
      ],
    }) as Extract<ApiErrorBody, { error: 'invalid_request' }>;
    expect(JSON.stringify(body).length).toBeLessThan(5_000);
    expect(body.problems[0]!.field).toMatch(/^(k ){128}…\(100000 characters\)$/);
    expect(body.problems[1]!.field).toBe(`${'k'.repeat(63)}…(165 characters)`);
    expect(body.problems[1]!.message).toBe(`"${'k'.repeat(63)}…(165 characters)" is not a feature`);
  });

  it('leaves Object.prototype untouched', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('accepts a batch of 1000 applicants within the default 1 MiB limit', async () => {
    const big = await startTestServer({ service: t.server.service, dataDir: t.dataDir });
    try {
      const applicants = Array.from({ length: 1000 }, (_, i) => ({ ...sample, Amount: 100 + i }));
      expect(JSON.stringify({ applicants }).length).toBeGreaterThan(BODY_LIMIT);
      const r = await big.call('POST', '/api/app/predict', { applicants });
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      expect(r.json.predictions).toHaveLength(1000);
    } finally {
      await big.close();
    }
  });

  it('answers a non-JSON 404 for an unknown endpoint as JSON', async () => {
    const r = await t.call('POST', '/api/v2/predictions', { jsonData: sample });
    expect(r.status).toBe(404);
    expect(r.json.error).toBe('not_found');
  });

  it('refuses a request whose Host header does not name this machine (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        new URL('/api/app/health', t.server.url),
        { method: 'POST', headers: { host: 'attacker.example:8080' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    await expectHealthy(t);
  });
});

describe('a page of another site in the officer’s browser, on a loopback server without a token', () => {
  const crossSite = { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' };
  /** The status of a request sent with exactly these headers (fetch would set Sec-Fetch-Mode itself). */
  const statusOf = async (method: string, path: string, headers: Record<string, string>) => {
    const { request } = await import('node:http');
    const body = method === 'POST' ? '{}' : undefined;
    return new Promise<number>((resolve, reject) => {
      const req = request(
        new URL(path, t.server.url),
        { method, headers: body ? { ...headers, 'content-type': 'application/json' } : headers },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };

  it('is refused 403 for its no-cors GETs (each audit export would start a verification thread)', async () => {
    for (const path of ['/api/app/auditExport?format=csv', '/metrics', '/health/status', '/']) {
      const r = await t.call('GET', path, undefined, crossSite);
      expect(r.status, path).toBe(403);
      expect(r.json.message).toMatch(/other sites/);
      const noCors = { ...crossSite, 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
      expect(await statusOf('GET', path, noCors), path).toBe(403);
    }
    const iframe = { ...crossSite, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' };
    expect(await statusOf('GET', '/api/app/auditExport?format=csv', iframe)).toBe(403);
    // A download leaves the page in place: it could navigate to the export again and again.
    const download = { ...crossSite, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    expect(await statusOf('GET', '/api/app/auditExport?format=csv', download)).toBe(403);
    const sameSite = { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' };
    expect(await statusOf('POST', '/api/app/health', sameSite)).toBe(403);
  });

  it('still opens the UI from a link on another site, and the UI’s own and non-browser requests pass', async () => {
    const link = { ...crossSite, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    expect(await statusOf('GET', '/', link)).toBe(200);
    expect(await statusOf('GET', '/audit', link)).toBe(200);
    const own = { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' };
    expect(await statusOf('POST', '/api/app/health', own)).toBe(200);
    expect(await statusOf('GET', '/metrics', { 'sec-fetch-site': 'none' })).toBe(200);
    expect(await statusOf('GET', '/api/app/auditExport?format=csv', {})).toBe(200);
  });

  it('refuses a bodiless POST that names another origin, from a browser that sends no Sec-Fetch-Site', async () => {
    // `fetch(url, {method: 'POST', mode: 'no-cors'})` in Safari before 16.4: no body, no content type, no
    // preflight, no Fetch Metadata; only Origin says which page sent it.
    const { request } = await import('node:http');
    const bodiless = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(new URL(path, t.server.url), { method: 'POST', headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const origin of ['https://attacker.example', 'null', `http://127.0.0.1:${t.server.port + 1}`]) {
      const r = await bodiless('/api/app/rollbackModel', { origin });
      expect(r.status, origin).toBe(403);
      expect(r.text, origin).toMatch(/other sites \(got Origin: /);
    }
    // The UI's own POSTs name its origin, which is the Host's (an explicit default port or case aside).
    const own = `http://127.0.0.1:${t.server.port}`;
    expect((await bodiless('/api/app/health', { origin: own })).status).toBe(200);
    const local = { host: `LOCALHOST:${t.server.port}`, origin: `http://localhost:${t.server.port}` };
    expect((await bodiless('/api/app/health', local)).status).toBe(200);
  });
});
