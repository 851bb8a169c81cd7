// Stopping the server as Kubernetes and branch IT do: the requests in flight are answered, a client that holds
// its connection open does not hold the server with it past the drain time, and the audit log closes in order.
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSample, removeDir, runCli, tempDir } from '../cli/helpers.js';
import { startTestServer } from './helpers.js';

const sample = readSample<Record<string, unknown>>('sample-1.json');
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

describe('closing the server', () => {
  it('cuts a client still sending its request once the drain time has passed, and closes the audit log in order', async () => {
    const dataDir = tempDir('branchlens-drain-');
    dirs.push(dataDir);
    // A client on a slow link may take up to --request-timeout (up to an hour) to send its request: closing
    // must not wait for it beyond the drain time, or Kubernetes kills the pod before the log is signed.
    const t = await startTestServer({ dataDir, requestTimeout: 120_000, drainTimeout: 300 });
    expect((await t.call('POST', '/api/v1.0/explain', { jsonData: sample })).status).toBe(200);
    const { port } = t.server;
    const stalled = connect(port, '127.0.0.1');
    await once(stalled, 'connect');
    stalled.write(
      'POST /api/v1.0/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{',
    );
    stalled.on('error', () => {});
    const cut = once(stalled, 'close');
    // The request has reached the server (headers parsed) before the close begins.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await t.server.close();
    await cut;
    expect(Date.now() - started).toBeLessThan(10_000);
    const verified = await runCli(['audit', 'verify', '--data', dataDir]);
    expect(verified.code, verified.stderr).toBe(0);
    // The explain's entry and the model's two, signed by the closing checkpoint.
    expect(verified.stdout).toMatch(/intact: 3 entries.*the last at #3/);
  }, 30_000);

  it('answers a request in flight with Connection: close, so that an idle keep-alive connection does not hold the close', async () => {
    // The drain time far beyond the test's: only the server closing the answered connection ends the close in time.
    const t = await startTestServer({ drainTimeout: 120_000 });
    const applicants = Array.from({ length: 200 }, (_, i) => ({ ...sample, Amount: 20_000 + i }));
    const body = JSON.stringify({ applicants, options: { n_steps: 500, cache_long_term: false } });
    const socket = connect(t.server.port, '127.0.0.1');
    let got = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (got += chunk));
    socket.on('error', () => {});
    await once(socket, 'connect');
    // A client that keeps its connection for the next request (a connection pool, Seldon's executor).
    socket.write(
      `POST /api/app/explain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    expect(got).toMatch(/^connection: close\r$/im);
    expect(got).toContain('"documents"');
  }, 30_000);

  it('refuses a request that arrives while it closes 503 in the contract’s format, with the security headers', async () => {
    const t = await startTestServer({ drainTimeout: 10_000 });
    // Its headers not yet whole when the close begins: the connection is not idle, so it is not closed with the
    // idle ones, and the request is read once the server is closing.
    const socket = connect(t.server.port, '127.0.0.1');
    let got = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (got += chunk));
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('POST /api/v1.0/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = t.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write('Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    await once(socket, 'close');
    await closed;
    const [head = '', json = ''] = got.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head).toMatch(/^connection: close$/im);
    expect(head).toMatch(/^x-content-type-options: nosniff$/im);
    expect(head).toMatch(/^cache-control: no-store$/im);
    // Seldon's path: a SeldonMessage, Seldon's status and the contract's body, as every other error there.
    expect(JSON.parse(json)).toEqual({
      status: expect.objectContaining({ code: 503, status: 'FAILURE' }),
      jsonData: { error: 'internal', message: expect.stringMatching(/shutting down/) },
    });
  }, 30_000);
});

describe('a data folder another server uses', () => {
  const serverFiles = (dir: string) => readdirSync(dir).filter((n) => /^serve-.*\.pid$/.test(n));

  it('is told of the other live server, not of one that is gone or on another machine, and removes its file at close', async () => {
    const dataDir = tempDir('branchlens-two-servers-');
    dirs.push(dataDir);
    const first = await startTestServer({ dataDir });
    expect(first.server.others).toEqual([]);
    // Left by a server that was killed (its process is gone), and by one on another machine sharing the folder.
    const stale = (pid: number, host: string) =>
      JSON.stringify({ pid, host: '127.0.0.1', port: 9, hostname: host, started_at: '2020-01-01T00:00:00Z' });
    writeFileSync(join(dataDir, 'serve-2147483646-9.pid'), stale(2147483646, hostname()));
    writeFileSync(join(dataDir, 'serve-1-9.pid'), stale(1, `not-${hostname()}`));
    const second = await startTestServer({ dataDir });
    try {
      expect(second.server.others).toEqual([
        expect.objectContaining({ pid: process.pid, port: first.server.port, hostname: hostname() }),
      ]);
      expect(serverFiles(dataDir).sort()).toEqual(
        [
          `serve-${process.pid}-${first.server.port}.pid`,
          `serve-${process.pid}-${second.server.port}.pid`,
          'serve-1-9.pid',
        ].sort(),
      );
    } finally {
      await first.close();
      await second.close();
    }
    expect(serverFiles(dataDir)).toEqual(['serve-1-9.pid']);
  }, 30_000);
});
