import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearerMatches,
  hostOfHeader,
  isLoopbackHost,
  isLoopbackHostHeader,
  loadOrCreateApiToken,
} from '../../../main/server/auth.js';
import { fileSecretStore } from '../../../main/core/keys.js';
import { readSample, removeDir, tempDir } from '../cli/helpers.js';
import { call, errorBodyOf, RawBody, startTestServer, type TestServer } from './helpers.js';

describe('which binds need the API token', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    'localhost',
    'LOCALHOST',
    '::ffff:127.0.0.1',
  ])('%s is loopback: no token', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    '0.0.0.0',
    '::',
    '192.168.1.20',
    '10.0.0.5',
    '::ffff:192.168.1.20',
    'fe80::1',
    'branch-pc',
    'evil.localhost',
    '128.0.0.1',
    '',
  ])('%s is not loopback: token required', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('reads the host name of a Host header', () => {
    expect(hostOfHeader('127.0.0.1:8080')).toBe('127.0.0.1');
    expect(hostOfHeader('[::1]:8080')).toBe('::1');
    expect(hostOfHeader('localhost')).toBe('localhost');
    expect(isLoopbackHostHeader('app.localhost:3000')).toBe(true);
    expect(isLoopbackHostHeader('127.0.0.1.nip.io:8080')).toBe(false);
    expect(isLoopbackHostHeader(undefined)).toBe(false);
  });
});

describe('the API token', () => {
  it('is generated once, kept 0600 in the data dir, and read back afterwards', () => {
    const dir = tempDir('branchlens-token-');
    try {
      const first = loadOrCreateApiToken(fileSecretStore(dir));
      expect(first.created).toBe(true);
      expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(statSync(join(dir, 'keys', 'api-token')).mode & 0o777).toBe(0o600);
      const again = loadOrCreateApiToken(fileSecretStore(dir));
      expect(again).toEqual({ token: first.token, created: false });
    } finally {
      removeDir(dir);
    }
  });

  it('matches only "Bearer <token>"', () => {
    expect(bearerMatches('Bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('Bearer abd', 'abc')).toBe(false);
    expect(bearerMatches('Bearer abcd', 'abc')).toBe(false);
    expect(bearerMatches('abc', 'abc')).toBe(false);
    expect(bearerMatches('Basic abc', 'abc')).toBe(false);
    expect(bearerMatches(undefined, 'abc')).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
  });
});

describe('a server that requires the token (--token-required on 127.0.0.1)', () => {
  let t: TestServer;
  const sample = readSample<Record<string, unknown>>('sample-1.json');

  beforeAll(async () => {
    t = await startTestServer({ tokenRequired: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reads a body without a content type as JSON (inference clients send none); other types stay 415', async () => {
    const body = JSON.stringify({ instances: [sample] });
    const plain = await t.call('POST', '/v1/models/credit-demo:predict', new RawBody(body, null));
    expect(plain.status, plain.text).toBe(200);
    expect(plain.json.predictions).toHaveLength(1);
    const bad = await t.call('POST', '/v1/models/credit-demo:predict', new RawBody('{bad', null));
    expect(bad.status).toBe(400);
    const text = await t.call('POST', '/v1/models/credit-demo:predict', new RawBody(body, 'text/plain'));
    expect(text.status).toBe(415);
    expect(text.json.problems[0].field).toBe('content-type');
  });

  it('generated a token and says where it is kept', () => {
    expect(t.server.token).toBeTruthy();
    expect(t.server.tokenCreated).toBe(true);
    expect(t.server.tokenFile).toBe(join(t.dataDir, 'keys', 'api-token'));
  });

  it('answers 401 without the token, or with a wrong one, on every API route and /metrics', async () => {
    const routes: [string, string, unknown?][] = [
      ['POST', '/api/app/health', {}],
      ['POST', '/api/app/explain', { applicants: [sample] }],
      ['POST', '/api/v1.0/predictions', { jsonData: sample }],
      ['POST', '/api/v1.0/explain', { jsonData: sample }],
      ['GET', '/metadata'],
      ['GET', '/v1/models'],
      ['POST', '/v1/models/credit-demo:predict', { instances: [sample] }],
      ['POST', '/v1/models/credit-demo:explain', { instances: [sample] }],
      ['GET', '/v2'],
      ['GET', '/v2/models/credit-demo'],
      ['POST', '/v2/models/credit-demo/infer', { inputs: [] }],
      ['GET', '/api/app/auditExport?format=jsonl'],
      ['GET', '/metrics'],
      ['GET', '/%6detrics'],
      ['POST', '/no/such/route', {}],
    ];
    for (const [method, path, body] of routes) {
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong' },
        { authorization: `Basic ${t.server.token}` },
      ];
      for (const headers of attempts) {
        const r = await call(t.server.url, method, path, body, headers);
        expect(r.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        // KServe's paths answer in the protocols' shape, {"error": message}, with the contract's code beside it.
        if (/^\/v[12](\/|$)/.test(path)) {
          expect(r.json.code, path).toBe('unauthorized');
          expect(r.json.error, path).toContain('API token');
          // Seldon's answer in a SeldonMessage (errorBodyOf), the others in the contract's body.
        } else expect(errorBodyOf(r).error).toBe('unauthorized');
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
  });

  it('answers 401 without the token on any API path and method, never which method a path takes (405) or 404', async () => {
    const routes: [string, string][] = [
      ['GET', '/api/app/explain'],
      ['HEAD', '/api/app/explain'],
      ['GET', '/api/v1.0/predictions'],
      ['GET', '/predict'],
      ['GET', '/v1/models/credit-demo:predict'],
      ['GET', '/v2/models/credit-demo/infer'],
      ['GET', '/api/no/such/route'],
      ['GET', '/v2/no/such/route'],
    ];
    for (const [method, path] of routes) {
      const r = await call(t.server.url, method, path);
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.headers.get('allow'), `${method} ${path}`).toBeNull();
    }
    // With the token, the 405 says which method the path takes; the UI's own routes need no token.
    const headers = { authorization: `Bearer ${t.server.token}` };
    const get = await call(t.server.url, 'GET', '/api/app/explain', undefined, headers);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await call(t.server.url, 'GET', '/audit')).status).toBe(200);
  });

  it('answers 401 on API paths without the token when the UI is built, its files and pages staying open', async () => {
    // The built UI's static files answer every GET path (a wildcard route): one under the API's roots is no file.
    const dir = tempDir('branchlens-renderer-');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>BranchLens UI</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1);');
    const ui = await startTestServer({
      service: t.server.service,
      dataDir: t.dataDir,
      tokenRequired: true,
      rendererDir: dir,
    });
    try {
      for (const [method, path] of [
        ['GET', '/api/app/explain'],
        ['HEAD', '/api/app/explain'],
        ['GET', '/%61pi/app/explain'],
        ['GET', '/api/v1.0/predictions'],
        ['GET', '/predict'],
        ['GET', '/v2/models/credit-demo/infer'],
        ['GET', '/api/no/such/route'],
        ['GET', '/v2/no/such/route'],
      ] as const) {
        const r = await call(ui.server.url, method, path);
        expect(r.status, `${method} ${path}`).toBe(401);
        expect(r.headers.get('allow'), `${method} ${path}`).toBeNull();
      }
      for (const path of ['/', '/audit', '/assets/app.js']) {
        expect((await call(ui.server.url, 'GET', path)).status, path).toBe(200);
      }
      expect((await call(ui.server.url, 'GET', '/assets/none.js')).status).toBe(404);
    } finally {
      await ui.close();
      removeDir(dir);
    }
  });

  it('refuses a request without the token before reading its body', async () => {
    const r = await call(t.server.url, 'POST', '/api/app/explain', {
      applicants: [sample],
      padding: 'x'.repeat(2 << 20),
    });
    expect(r.status).toBe(401);
  });

  it('answers with the right Bearer token', async () => {
    const headers = { authorization: `Bearer ${t.server.token}` };
    expect((await call(t.server.url, 'POST', '/api/app/health', {}, headers)).status).toBe(200);
    const seldon = await call(t.server.url, 'POST', '/api/v1.0/predictions', { jsonData: sample }, headers);
    expect(seldon.status).toBe(200);
    const kserve = await call(
      t.server.url,
      'POST',
      '/v1/models/credit-demo:predict',
      { instances: [sample] },
      headers,
    );
    expect(kserve.status, kserve.text).toBe(200);
    expect((await call(t.server.url, 'GET', '/metrics', undefined, headers)).status).toBe(200);
  });

  it('leaves the health probes and the UI open', async () => {
    expect((await call(t.server.url, 'GET', '/health/ping')).text).toBe('pong');
    expect((await call(t.server.url, 'GET', '/health/status')).status).toBe(200);
    expect((await call(t.server.url, 'GET', '/')).status).toBe(200);
    // KServe's probes too: its liveness and readiness checks carry no token.
    for (const probe of [
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/credit-demo/ready',
      '/v1/models/credit-demo',
    ]) {
      expect((await call(t.server.url, 'GET', probe)).status, probe).toBe(200);
    }
  });

  it('needs no Host check with a token: any Host header passes with the token', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        new URL('/api/app/health', t.server.url),
        {
          method: 'POST',
          headers: { host: 'branch-server.bank.internal', authorization: `Bearer ${t.server.token}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });

  it('reuses the stored token on the next start', async () => {
    const again = await startTestServer({
      tokenRequired: true,
      service: t.server.service,
      dataDir: t.dataDir,
    });
    try {
      expect(again.server.token).toBe(t.server.token);
      expect(again.server.tokenCreated).toBe(false);
    } finally {
      await again.close();
    }
  });
});

describe('a loopback server without --token-required', () => {
  it('needs no token', async () => {
    const dir = tempDir('branchlens-open-');
    const t = await startTestServer({ dataDir: dir });
    try {
      expect(t.server.token).toBeNull();
      expect((await call(t.server.url, 'POST', '/api/app/health', {})).status).toBe(200);
      expect((await call(t.server.url, 'GET', '/metrics')).status).toBe(200);
      // Without the token, a body must say it is JSON: a web page can send one without a type unasked.
      const untyped = new RawBody(JSON.stringify({ instances: [{}] }), null);
      const r = await call(t.server.url, 'POST', '/v1/models/credit-demo:predict', untyped);
      expect(r.status).toBe(415);
    } finally {
      await t.close();
      removeDir(dir);
    }
  });
});
