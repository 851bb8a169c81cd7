// Binding a non-loopback address makes the API token required without being asked for: generated on the first
// start, kept 0600 in the data dir, reported once; requests without it get 401, the health probe stays open.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSample, removeDir, tempDir } from '../cli/helpers.js';
import { call, errorBodyOf, startTestServer, type TestServer } from './helpers.js';

describe('a server bound to 0.0.0.0 without --token-required', () => {
  const sample = readSample<Record<string, unknown>>('sample-1.json');
  let dataDir: string;
  let t: TestServer;
  /** The server as a client on this machine reaches it. */
  let base: string;

  beforeAll(async () => {
    dataDir = tempDir('branchlens-bind-token-');
    t = await startTestServer({ host: '0.0.0.0', dataDir });
    base = `http://127.0.0.1:${t.server.port}/`;
  });
  afterAll(async () => {
    await t?.close();
    removeDir(dataDir);
  });

  const protectedRoutes: [string, string, unknown?][] = [
    ['POST', '/api/v1.0/predictions', { jsonData: sample }],
    ['POST', '/api/app/health', {}],
    ['GET', '/metrics'],
  ];

  it('generated a token on this first start and keeps it 0600 in the data dir', () => {
    expect(t.server.host).toBe('0.0.0.0');
    expect(t.server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t.server.tokenCreated).toBe(true);
    const tokenFile = join(dataDir, 'keys', 'api-token');
    expect(t.server.tokenFile).toBe(tokenFile);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(t.server.token);
  });

  it('answers 401 with a JSON body to a request without the token, or with a wrong one', async () => {
    for (const [method, path, body] of protectedRoutes) {
      const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }];
      for (const headers of attempts) {
        const r = await call(base, method, path, body, headers);
        const what = `${method} ${path} ${JSON.stringify(headers)}`;
        expect(r.status, what).toBe(401);
        expect(r.headers.get('content-type'), what).toMatch(/^application\/json/);
        expect(errorBodyOf(r), what).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
        expect(r.headers.get('www-authenticate'), what).toMatch(/^Bearer/);
      }
    }
  });

  it('answers 200 with "Authorization: Bearer <token>"', async () => {
    const headers = { authorization: `Bearer ${t.server.token}` };
    for (const [method, path, body] of protectedRoutes) {
      const r = await call(base, method, path, body, headers);
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(200);
    }
  });

  it('leaves the health probe open', async () => {
    const ping = await call(base, 'GET', '/health/ping');
    expect(ping.status).toBe(200);
    expect(ping.text).toBe('pong');
  });

  it('reuses the stored token on the next start over the same data dir, creating none', async () => {
    const tokenFile = join(dataDir, 'keys', 'api-token');
    const before = statSync(tokenFile);
    const token = t.server.token;
    await t.close();

    t = await startTestServer({ host: '0.0.0.0', dataDir });
    base = `http://127.0.0.1:${t.server.port}/`;
    expect(t.server.token).toBe(token);
    expect(t.server.tokenCreated).toBe(false);
    const after = statSync(tokenFile);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);

    expect((await call(base, 'POST', '/api/app/health', {})).status).toBe(401);
    const authorized = { authorization: `Bearer ${token}` };
    expect((await call(base, 'POST', '/api/app/health', {}, authorized)).status).toBe(200);
  });
});
