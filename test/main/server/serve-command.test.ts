import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../main/cli/index.js';
import {
  addressProblem,
  modelNameFlag,
  othersNote,
  requestTimeoutFlag,
  stopSignals,
  workersFlag,
} from '../../../main/cli/commands/serve.js';
import { recordDesktopApp, type ServerRecord } from '../../../main/core/data-dir.js';
import { heapGrowthSteadied } from '../../../main/core/heap-growth.js';
import { expectInputError, removeDir, runCli, tempDir } from '../cli/helpers.js';
import { call, startTestServer } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** `branchlens serve ARGV` in this process; resolves once the ready line is printed. */
function serve(argv: string[]) {
  let out = '';
  let err = '';
  let ready: (line: string) => void;
  const readyLine = new Promise<string>((resolve) => (ready = resolve));
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString('utf8'));
        done();
      },
    });
  const exit = main(['serve', ...argv], {
    stdout: sink((s) => {
      out += s;
      const line = out.split('\n').find((l) => l.startsWith('BranchLens serving '));
      if (line) ready(line);
    }),
    stderr: sink((s) => (err += s)),
    stdin: Readable.from([]),
    env: {},
  });
  return { readyLine, exit, stderr: () => err };
}

describe('branchlens serve', () => {
  it('prints one ready line, serves, prints a new token once, and closes on SIGTERM', async () => {
    const data = tempDir('branchlens-serve-');
    dirs.push(data);
    const args = ['--port', '0', '--data', data, '--workers', '1', '--backend', 'wasm', '--token-required'];
    const first = serve(args);
    const line = await Promise.race([
      first.readyLine,
      first.exit.then((code) => `exited ${code}: ${first.stderr()}`),
    ]);
    expect(line).toMatch(
      /^BranchLens serving http:\/\/127\.0\.0\.1:\d+\/ \(model credit-demo@1\.0\.0, wasm\)$/,
    );
    expect(heapGrowthSteadied()).toBe(true); // a process that runs for weeks (main/core/heap-growth.ts)
    const url = /http:\S+/.exec(line)![0];
    const token = /^ {2}(\S+)$/m.exec(first.stderr())![1]!;
    expect(first.stderr()).toContain('keys/api-token');
    expect((await call(url, 'GET', '/health/ping')).text).toBe('pong');
    expect((await call(url, 'POST', '/api/app/health', {})).status).toBe(401);
    expect(
      (await call(url, 'POST', '/api/app/health', {}, { authorization: `Bearer ${token}` })).status,
    ).toBe(200);
    process.emit('SIGTERM');
    expect(await first.exit).toBe(0);
    await expect(fetch(url)).rejects.toThrow();

    // The next start uses the stored token and does not print it again.
    const second = serve(args);
    await second.readyLine;
    expect(second.stderr()).not.toContain(token);
    expect(second.stderr()).toMatch(/needs? the API token/);
    process.emit('SIGINT');
    expect(await second.exit).toBe(0);
  });

  it('refuses bad flags naming them', async () => {
    expect(expectInputError(await runCli(['serve', '--port', 'http']))).toContain('--port');
    expect(expectInputError(await runCli(['serve', '--port', '70000']))).toContain('--port');
    expect(expectInputError(await runCli(['serve', '--workers', '0']))).toContain('--workers');
    expect(expectInputError(await runCli(['serve', '--workers', '99999999999999999999']))).toMatch(
      /- --workers: must be at most \d+/,
    );
    expect(workersFlag('16', 4)).toBe(16);
    expect(() => workersFlag('17', 4)).toThrow(/at most 16/);
    expect(workersFlag(undefined, 3)).toBe(3);
    expect(expectInputError(await runCli(['serve', '--backend', 'gpu']))).toContain('--backend');
    expect(expectInputError(await runCli(['serve', '--body-limit', '10']))).toContain('--body-limit');
    expect(expectInputError(await runCli(['serve', '--frobnicate']))).toContain('--frobnicate');
    for (const bad of ['0', '1.5', '30s', '']) {
      expect(expectInputError(await runCli(['serve', '--request-timeout', bad]))).toMatch(
        /- --request-timeout: must be a whole number ≥ 1/,
      );
    }
    expect(expectInputError(await runCli(['serve', '--request-timeout', '3601']))).toMatch(
      /- --request-timeout: must be at most 3600 seconds, got 3601/,
    );
    expect(requestTimeoutFlag(undefined)).toBe(30_000);
    expect(requestTimeoutFlag('3600')).toBe(3_600_000);
  });

  it('refuses a --model-name or $BRANCHLENS_MODEL_NAME that KServe would not give a model, naming which', async () => {
    for (const bad of ['Branch_Lens', 'branch.lens', '-x', '']) {
      expect(expectInputError(await runCli(['serve', '--model-name', bad]))).toMatch(/- --model-name: /);
    }
    expect(expectInputError(await runCli(['serve', '--model-name', 'BranchLens']))).toContain(
      '- --model-name: "BranchLens" is not a KServe model name: lower-case letters, digits and "-"',
    );
    expect(expectInputError(await runCli(['serve'], '', { BRANCHLENS_MODEL_NAME: 'Branch Lens' }))).toMatch(
      /- \$BRANCHLENS_MODEL_NAME: "Branch Lens" is not a KServe model name/,
    );
    expect(expectInputError(await runCli(['serve'], '', { BRANCHLENS_MODEL_NAME: '' }))).toMatch(
      /- \$BRANCHLENS_MODEL_NAME: is empty/,
    );
    // The flag wins over the variable, as --data over $BRANCHLENS_DATA.
    expect(modelNameFlag('from-flag', { BRANCHLENS_MODEL_NAME: 'Not Valid' })).toBe('from-flag');
    expect(modelNameFlag(undefined, { BRANCHLENS_MODEL_NAME: 'branchlens' })).toBe('branchlens');
    expect(modelNameFlag(undefined, {})).toBeUndefined();
  });

  it('serves the KServe routes under --model-name too', async () => {
    const data = tempDir('branchlens-serve-');
    dirs.push(data);
    const run = serve([
      '--port',
      '0',
      '--data',
      data,
      '--workers',
      '1',
      '--backend',
      'wasm',
      '--model-name',
      'branchlens',
    ]);
    const line = await Promise.race([
      run.readyLine,
      run.exit.then((code) => `exited ${code}: ${run.stderr()}`),
    ]);
    const url = /http:\S+/.exec(line)![0];
    expect((await call(url, 'GET', '/v1/models')).json).toEqual({ models: ['branchlens', 'credit-demo'] });
    expect((await call(url, 'GET', '/v2/models/branchlens/ready')).status).toBe(200);
    process.emit('SIGTERM');
    expect(await run.exit).toBe(0);
  });

  it('cuts a client that has not sent its whole request after --request-timeout seconds (408)', async () => {
    const data = tempDir('branchlens-serve-timeout-');
    dirs.push(data);
    const started = serve([
      '--port',
      '0',
      '--data',
      data,
      '--workers',
      '1',
      '--backend',
      'wasm',
      '--request-timeout',
      '1',
    ]);
    const url = new URL(/http:\S+/.exec(await started.readyLine)![0]);
    const socket = connect(Number(url.port), url.hostname);
    let got = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (got += chunk));
    socket.on('error', () => {});
    await once(socket, 'connect');
    const start = Date.now();
    socket.write(
      'POST /api/app/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{',
    );
    // The default (30 s) would keep it far beyond this wait; the flag's 1 s cuts it.
    const timer = setTimeout(() => socket.destroy(), 20_000);
    await once(socket, 'close');
    clearTimeout(timer);
    const elapsed = Date.now() - start;
    expect(got).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(15_000);
    expect((await call(url.href, 'GET', '/health/ping')).text).toBe('pong');
    process.emit('SIGTERM');
    expect(await started.exit).toBe(0);
  });

  it('says which port is in use', async () => {
    const data = tempDir('branchlens-serve-busy-');
    dirs.push(data);
    const first = serve(['--port', '0', '--data', data, '--workers', '1', '--backend', 'wasm']);
    const port = /:(\d+)\//.exec(await first.readyLine)![1]!;
    const clash = await runCli([
      'serve',
      '--port',
      port,
      '--data',
      data,
      '--workers',
      '1',
      '--backend',
      'wasm',
    ]);
    expect(expectInputError(clash)).toMatch(/--port.*in use/);
    process.emit('SIGTERM');
    expect(await first.exit).toBe(0);
  });

  it('blames --host or --port only for an error of binding the address, never one of opening a file', () => {
    const err = (code: string, syscall: string) => Object.assign(new Error(code), { code, syscall });
    expect(addressProblem(err('EACCES', 'listen'), '0.0.0.0', 80)).toEqual({
      field: '--port',
      code: 'invalid',
      message: '0.0.0.0:80 is not allowed',
    });
    expect(addressProblem(err('ENOTFOUND', 'getaddrinfo'), 'nowhere.invalid', 8080)?.field).toBe('--host');
    expect(addressProblem(err('EADDRNOTAVAIL', 'listen'), '10.9.9.9', 8080)?.field).toBe('--host');
    // A key file the server may not write (a root-owned keys/ in a container) is reported as itself.
    expect(addressProblem(err('EACCES', 'open'), '0.0.0.0', 8080)).toBeUndefined();
    expect(addressProblem(new Error('boom'), '0.0.0.0', 8080)).toBeUndefined();
  });

  it('says which host names no machine', async () => {
    const data = tempDir('branchlens-serve-host-');
    dirs.push(data);
    const run = await runCli([
      'serve',
      '--host',
      'no-such-host.invalid',
      '--port',
      '0',
      '--data',
      data,
      '--workers',
      '1',
      '--backend',
      'wasm',
      '--token-required',
    ]);
    expect(expectInputError(run)).toMatch(/- --host: no-such-host\.invalid:0 names no known host/);
  });

  it('refuses to start when the active model cannot be loaded, naming the file and the way out', async () => {
    const data = tempDir('branchlens-serve-broken-');
    dirs.push(data);
    expect((await runCli(['models', 'list', '--data', data])).code).toBe(0); // installs the demo model
    const shard = join(data, 'models', 'credit-demo', '1.0.0', 'group1-shard1of1.bin');
    const bytes = readFileSync(shard);
    bytes[100] = bytes[100]! ^ 0x01;
    writeFileSync(shard, bytes);
    const run = await runCli(['serve', '--port', '0', '--data', data, '--workers', '1', '--backend', 'wasm']);
    const stderr = expectInputError(run);
    expect(stderr).toMatch(/- group1-shard1of1\.bin: sha256/);
    expect(stderr).toMatch(/- active model: cannot be served; .*branchlens models rollback/);
  });

  it('closes without announcing itself when stopped while it starts, rather than serving on', async () => {
    const data = tempDir('branchlens-serve-early-');
    dirs.push(data);
    const early = serve(['--port', '0', '--data', data, '--workers', '1', '--backend', 'wasm']);
    // Kubernetes deleting a pod that is still starting: the signal must not be lost (as PID 1, node ignores one
    // it has no listener for, and the pod would serve on until it is killed 30 s later).
    process.emit('SIGTERM');
    const exited = await Promise.race([
      early.exit,
      new Promise<string>((resolve) => setTimeout(() => resolve('still serving after 30 s'), 30_000)),
    ]);
    expect(exited, early.stderr()).toBe(0);
    expect(early.stderr()).toMatch(/^SIGTERM: closing…/m);
    const verified = await runCli(['audit', 'verify', '--data', data]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/the last at #2 /);
  }, 60_000);

  it('cuts the requests still in flight on a second signal instead of waiting the drain time', async () => {
    const data = tempDir('branchlens-serve-twice-');
    dirs.push(data);
    const started = serve(['--port', '0', '--data', data, '--workers', '1', '--backend', 'wasm']);
    const url = new URL(/http:\S+/.exec(await started.readyLine)![0]);
    // A client sending its request slowly holds the first close for the drain time (20 s).
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write(
      'POST /api/app/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{',
    );
    const cut = once(socket, 'close');
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.emit('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = Date.now();
    process.emit('SIGINT');
    expect(await started.exit).toBe(0);
    await cut;
    expect(Date.now() - again).toBeLessThan(10_000);
    expect(started.stderr()).toMatch(/^SIGINT: cutting the requests still in flight…$/m);
    // Cut, but closed in order: the closing checkpoint signs the log's head.
    const verified = await runCli(['audit', 'verify', '--data', data]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/the last at #2 /);
  }, 60_000);

  it('says on one line that another server uses its data folder, naming its pid and port, and serves', async () => {
    const data = tempDir('branchlens-serve-shared-');
    dirs.push(data);
    const other = await startTestServer({ dataDir: data });
    try {
      const started = serve(['--port', '0', '--data', data, '--workers', '1', '--backend', 'wasm']);
      await started.readyLine;
      const notes = started
        .stderr()
        .split('\n')
        .filter((l) => l.includes('another BranchLens server'));
      expect(notes).toEqual([
        `note: another BranchLens server uses ${data} (pid ${process.pid}, port ${other.server.port}): they share its settings, models and audit log.`,
      ]);
      process.emit('SIGTERM');
      expect(await started.exit).toBe(0);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('names the desktop app on its data folder as the desktop app, by its pid, and serves', async () => {
    const data = tempDir('branchlens-serve-desktop-');
    dirs.push(data);
    // As the desktop app on the same folder records itself while its service is open.
    const unrecord = recordDesktopApp(data);
    try {
      const started = serve(['--port', '0', '--data', data, '--workers', '1', '--backend', 'wasm']);
      await started.readyLine;
      expect(
        started
          .stderr()
          .split('\n')
          .filter((l) => l.startsWith('note: ')),
      ).toEqual([
        `note: the BranchLens desktop app (pid ${process.pid}) uses ${data}: they share its settings, models and audit log.`,
      ]);
      process.emit('SIGTERM');
      expect(await started.exit).toBe(0);
    } finally {
      unrecord();
    }
  }, 60_000);

  it('on Windows, closes in order on Ctrl-Break (SIGBREAK) and on its console window being closed (SIGHUP)', async () => {
    const before = { SIGBREAK: process.listenerCount('SIGBREAK'), SIGHUP: process.listenerCount('SIGHUP') };
    const stop = stopSignals('win32');
    process.emit('SIGBREAK');
    expect(await stop.first).toBe('SIGBREAK');
    process.emit('SIGHUP');
    expect(await stop.again).toBe('SIGHUP');
    // After the second, the listeners are gone: a third has its default effect.
    expect(process.listenerCount('SIGBREAK')).toBe(before.SIGBREAK);
    expect(process.listenerCount('SIGHUP')).toBe(before.SIGHUP);
  });

  it('leaves SIGHUP alone elsewhere, so that `nohup branchlens serve` keeps serving', () => {
    const before = process.listenerCount('SIGHUP');
    const stop = stopSignals('linux');
    expect(process.listenerCount('SIGHUP')).toBe(before);
    expect(process.listenerCount('SIGINT')).toBeGreaterThan(0);
    stop.dispose();
  });

  it('is listed by --help', async () => {
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/^ {2}serve /m);
  });
});

describe('the note that others use the data folder', () => {
  const at = { hostname: 'ws-01', started_at: '2026-11-02T08:00:00Z' };
  const desktop: ServerRecord = { ...at, pid: 4100, host: 'desktop', port: 0 };
  const server: ServerRecord = { ...at, pid: 4200, host: '127.0.0.1', port: 8080 };

  it('names a server by its pid and port, and the desktop app as the desktop app, never as port 0', () => {
    expect(othersNote('/data', [server])).toBe(
      'note: another BranchLens server uses /data (pid 4200, port 8080): they share its settings, models and audit log.',
    );
    expect(othersNote('/data', [desktop])).toBe(
      'note: the BranchLens desktop app (pid 4100) uses /data: they share its settings, models and audit log.',
    );
    expect(othersNote('/data', [desktop, server])).toBe(
      'note: 2 other BranchLens processes use /data (the desktop app, pid 4100; pid 4200, port 8080): they share its settings, models and audit log.',
    );
    expect(othersNote('/data', [server, { ...server, pid: 4300, port: 8081 }])).toMatch(
      /^note: 2 other BranchLens servers use \/data \(pid 4200, port 8080; pid 4300, port 8081\): /,
    );
  });
});
