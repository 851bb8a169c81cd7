// `npm start` on a machine without the Electron binary, or with one that cannot open its window: one clear line,
// then the branch server with the UI, whose URL it prints and which answers /health/ping. An app whose window
// opened is never replaced by the server, whatever its exit code. Also the binary lookup that never hangs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READY_MARKER, READY_SIGNAL_ENV } from '../../../main/electron/ready-signal.js';
import {
  displayUrl,
  ensureNativeModules,
  locateElectron,
  parseStartOptions,
  rebuildEnv,
  toolCommand,
  watchLaunch,
  type LaunchedApp,
} from '../../../scripts/start.js';
import { removeDir, tempDir } from '../cli/helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('locateElectron', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('branchlens-electron-pkg-');
  });
  afterAll(() => removeDir(dir));

  const linux = { platform: 'linux' as const, env: { DISPLAY: ':0' } };

  it('finds the binary that path.txt names, without downloading', async () => {
    const pkg = join(dir, 'installed');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    writeFileSync(join(pkg, 'dist', 'electron'), '');
    let downloads = 0;
    const found = await locateElectron({
      ...linux,
      packageDir: pkg,
      download: async () => {
        downloads++;
        return true;
      },
    });
    expect(found).toEqual({ ok: true, path: join(pkg, 'dist', 'electron') });
    expect(downloads).toBe(0);
  });

  it('reports a binary that was never downloaded, trying the download once when allowed', async () => {
    const pkg = join(dir, 'missing');
    mkdirSync(pkg, { recursive: true });
    expect(await locateElectron({ ...linux, packageDir: pkg })).toEqual({
      ok: false,
      reason: 'its binary was never downloaded',
    });
    let downloads = 0;
    const failed = await locateElectron({
      ...linux,
      packageDir: pkg,
      download: async () => {
        downloads++;
        return 'the download host github.com did not answer';
      },
    });
    // The downloader's own reason, not a guess.
    expect(failed).toEqual({ ok: false, reason: 'the download host github.com did not answer' });
    expect(downloads).toBe(1);
    // A download that finished but left no binary says so.
    expect(await locateElectron({ ...linux, packageDir: pkg, download: async () => true })).toEqual({
      ok: false,
      reason: 'its download did not leave a binary',
    });
  });

  it('does not offer a window where there is no display, nor download one for it', async () => {
    let downloads = 0;
    const download = async () => {
      downloads++;
      return true as const;
    };
    for (const pkg of [join(dir, 'installed'), join(dir, 'missing')]) {
      expect(await locateElectron({ platform: 'linux', env: {}, packageDir: pkg, download })).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/no display/),
      });
    }
    expect(downloads).toBe(0);
  });

  it('reports the electron package missing altogether', async () => {
    expect(await locateElectron({ ...linux, packageDir: undefined })).toMatchObject({ ok: false });
  });
});

describe('ensureNativeModules', () => {
  /** A fake Electron whose probe answers from `loads` in turn, and whose rebuild may fail. */
  function fake(loads: boolean[], rebuildFails = false) {
    const calls: string[] = [];
    const deps = {
      loads: () => {
        calls.push('probe');
        return loads.shift() ?? false;
      },
      rebuild: () => {
        calls.push('rebuild');
        if (rebuildFails) throw new Error('`electron-builder install-app-deps` failed');
      },
      log: () => undefined,
    };
    return { deps, calls };
  }

  it('leaves modules that load alone', () => {
    const { deps, calls } = fake([true]);
    expect(ensureNativeModules(deps)).toBeNull();
    expect(calls).toEqual(['probe']);
  });

  it('rebuilds modules that do not load, and checks that they load after', () => {
    const { deps, calls } = fake([false, true]);
    expect(ensureNativeModules(deps)).toBeNull();
    expect(calls).toEqual(['probe', 'rebuild', 'probe']);
  });

  it('says why when the rebuild fails, or when it did not help, so that npm start serves instead', () => {
    const failed = fake([false], true);
    expect(ensureNativeModules(failed.deps)).toMatch(/could not be rebuilt.*install-app-deps/);
    expect(failed.calls).toEqual(['probe', 'rebuild']);
    const useless = fake([false, false]);
    expect(ensureNativeModules(useless.deps)).toMatch(/still do not load/);
  });

  it('rebuilds without npm’s nodedir, which would build for this Node instead of Electron', () => {
    const env = rebuildEnv({ npm_config_nodedir: '/usr', NPM_CONFIG_NODEDIR: '/usr', PATH: '/bin' });
    expect(env).toEqual({ PATH: '/bin' });
  });
});

describe('toolCommand: npm and electron-builder, on Windows too', () => {
  const windows = {
    root: 'C:\\Users\\Jane Doe\\OneDrive - Bank\\branchlens',
    platform: 'win32' as const,
    node: 'C:\\Program Files\\nodejs\\node.exe',
  };

  it('rebuilds for Electron from a folder whose path has spaces: electron-builder’s cli.js in this Node, no .cmd, no shell', () => {
    // cmd.exe, which a .cmd file needs, would run `C:\Users\Jane` and fail.
    expect(toolCommand('electron-builder', ['install-app-deps'], { ...windows, env: {} })).toEqual({
      command: windows.node,
      args: [`${windows.root}\\node_modules\\electron-builder\\cli.js`, 'install-app-deps'],
      shell: false,
    });
    const here = toolCommand('electron-builder', ['install-app-deps']);
    expect(here.command).toBe(process.execPath);
    expect(existsSync(here.args[0]!)).toBe(true);
  });

  it('runs npm’s own script (npm start’s $npm_execpath) in this Node; npm.cmd through the shell only without it', () => {
    const npmCli = 'C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js';
    expect(toolCommand('npm', ['run', 'build'], { ...windows, env: { npm_execpath: npmCli } })).toEqual({
      command: windows.node,
      args: [npmCli, 'run', 'build'],
      shell: false,
    });
    expect(toolCommand('npm', ['run', 'build'], { ...windows, env: {} })).toEqual({
      command: 'npm.cmd',
      args: ['run', 'build'],
      shell: true,
    });
    expect(toolCommand('npm', ['run', 'build'], { ...windows, platform: 'linux', env: {} })).toEqual({
      command: 'npm',
      args: ['run', 'build'],
      shell: false,
    });
  });

  it('the rebuild command runs as given from a folder whose path has spaces', () => {
    const root = join(tempDir('branchlens-start-'), 'Jane Doe', 'branch lens');
    try {
      const cli = join(root, 'node_modules', 'electron-builder', 'cli.js');
      mkdirSync(dirname(cli), { recursive: true });
      writeFileSync(cli, "require('node:fs').writeFileSync(process.argv[3], process.argv[2]);\n");
      const done = join(root, 'done.txt');
      const { command, args, shell } = toolCommand('electron-builder', ['install-app-deps', done], {
        root,
        platform: process.platform,
        env: {},
        node: process.execPath,
      });
      expect(spawnSync(command, args, { cwd: root, shell }).status).toBe(0);
      expect(readFileSync(done, 'utf8')).toBe('install-app-deps');
    } finally {
      removeDir(dirname(dirname(root)));
    }
  });
});

/** A launched app whose output and end the test writes; `interrupted` as the launcher would report it. */
function fakeLaunch(interrupted = false) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const child = Object.assign(new EventEmitter(), { stdout, stderr }) as unknown as LaunchedApp &
    EventEmitter;
  const out: string[] = [];
  const err: string[] = [];
  const outcome = watchLaunch(child, {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    interrupted: () => interrupted,
  });
  void outcome.catch(() => undefined);
  /** Writes `output`, then ends the app as Node reports it: the streams close, then 'close'. */
  const end = async (
    output: { out?: string; err?: string },
    code: number | null,
    signal: NodeJS.Signals | null = null,
  ) => {
    if (output.out) stdout.write(output.out);
    if (output.err) stderr.write(output.err);
    const ended = Promise.all([once(stdout, 'end'), once(stderr, 'end')]);
    stdout.end();
    stderr.end();
    await ended;
    child.emit('close', code, signal);
    return outcome;
  };
  return { child, stdout, out, err, end, outcome };
}

const ROOT_REFUSAL =
  '[4242:0101/000000.000000:FATAL:electron_main_delegate.cc(294)] Running as root without --no-sandbox is not supported. See https://crbug.com/638180.';

describe('watchLaunch', () => {
  it('reports an app that exited with an error before its window opened, with its last stderr line', async () => {
    const { err, end } = fakeLaunch();
    const outcome = await end({ err: `some warning\n${ROOT_REFUSAL}\n` }, 133);
    expect(outcome).toEqual({ code: 133, failedToOpen: `it exited with code 133: ${ROOT_REFUSAL}` });
    expect(err.join('')).toBe(`some warning\n${ROOT_REFUSAL}\n`); // passed on as it came
    // Killed by a signal before its window (a crash): a failure too; silent: the code alone.
    expect(await fakeLaunch().end({}, null, 'SIGSEGV')).toEqual({
      code: 1,
      failedToOpen: 'it was ended by SIGSEGV',
    });
    expect(await fakeLaunch().end({ err: 'no newline at the end' }, 2)).toEqual({
      code: 2,
      failedToOpen: 'it exited with code 2: no newline at the end',
    });
  });

  it('does not report an app whose window opened, whatever its exit code, and keeps the marker off the terminal', async () => {
    const { out, end } = fakeLaunch();
    const outcome = await end({ out: `starting\n${READY_MARKER}\nbye\n`, err: 'crashed later\n' }, 7);
    expect(outcome).toEqual({ code: 7, failedToOpen: null });
    expect(out.join('')).toBe('starting\nbye\n');
    // The marker split across chunks, on Windows line ends, is still the marker.
    const split = fakeLaunch();
    split.stdout.write(READY_MARKER.slice(0, 5));
    expect(await split.end({ out: `${READY_MARKER.slice(5)}\r\n` }, 1)).toEqual({
      code: 1,
      failedToOpen: null,
    });
  });

  it('does not report an app that ended well without a window, nor one stopped with Ctrl+C', async () => {
    // A second instance hands over to the first and quits; a rollback relaunches the app.
    expect(await fakeLaunch().end({}, 0)).toEqual({ code: 0, failedToOpen: null });
    expect(await fakeLaunch(true).end({}, 130)).toEqual({ code: 130, failedToOpen: null });
    expect(await fakeLaunch(true).end({}, null, 'SIGINT')).toEqual({ code: 0, failedToOpen: null });
  });

  it('reports an app that could not be started at all', async () => {
    const { child, outcome } = fakeLaunch();
    child.emit('error', new Error('spawn EACCES'));
    expect(await outcome).toEqual({ code: 1, failedToOpen: 'it could not be started (spawn EACCES)' });
  });
});

describe('start options', () => {
  it('defaults to a loopback server on 8080 after a build, downloads allowed', () => {
    expect(parseStartOptions([], {})).toMatchObject({
      build: true,
      download: true,
      host: '127.0.0.1',
      port: 8080,
    });
    expect(parseStartOptions(['--no-build', '--no-download', '--port', '0'], {})).toMatchObject({
      build: false,
      download: false,
      port: 0,
    });
    expect(parseStartOptions([], { BRANCHLENS_ELECTRON_DOWNLOAD: '0' }).download).toBe(false);
    expect(() => parseStartOptions(['--port', 'http'], {})).toThrow(/--port/);
    // $BRANCHLENS_PORT as strictly as --port: an empty one is no random port, hex and exponents are no ports.
    for (const bad of ['', ' ', '0x1F90', '1e3', '8080.5', '70000', '-1']) {
      expect(() => parseStartOptions([], { BRANCHLENS_PORT: bad })).toThrow(
        `$BRANCHLENS_PORT: must be a port number from 0 to 65535, got ${JSON.stringify(bad)}`,
      );
    }
    expect(() => parseStartOptions(['--port', '1e3'], {})).toThrow(/^--port: must be a port number/);
    expect(parseStartOptions([], { BRANCHLENS_PORT: '8090' }).port).toBe(8090);
    expect(parseStartOptions(['--port', '9000'], { BRANCHLENS_PORT: '' }).port).toBe(9000);
    expect(displayUrl('0.0.0.0', 8080)).toBe('http://127.0.0.1:8080/');
    expect(displayUrl('::1', 8080)).toBe('http://[::1]:8080/');
  });

  it('refuses an empty --data or $BRANCHLENS_DATA rather than opening the default data folder', () => {
    // `npm start -- --data "$DIR"` with DIR unset must not open the desktop app's audit log, as in the CLI.
    for (const empty of ['', '  ']) {
      expect(() => parseStartOptions(['--data', empty], {})).toThrow(/^--data: is empty/);
      expect(() => parseStartOptions([], { BRANCHLENS_DATA: empty })).toThrow(/^\$BRANCHLENS_DATA: is empty/);
    }
    expect(parseStartOptions(['--data', '/srv/branch'], { BRANCHLENS_DATA: '' }).data).toBe('/srv/branch');
    expect(parseStartOptions([], { BRANCHLENS_DATA: '/srv/branch' }).data).toBeUndefined();
  });
});

/**
 * A stand-in Electron binary in its own folder (for $ELECTRON_OVERRIDE_DIST_PATH): run as Node it is this Node
 * (the native-module probe passes), run as the app it does what `body` (sh) says.
 */
function fakeElectron(dir: string, name: string, body: string): string {
  const dist = join(dir, name);
  mkdirSync(dist);
  const exe = join(dist, 'electron');
  writeFileSync(
    exe,
    `#!/bin/sh\nif [ "$ELECTRON_RUN_AS_NODE" = "1" ]; then exec "${process.execPath}" "$@"; fi\n${body}\n`,
  );
  chmodSync(exe, 0o755);
  return dist;
}

/** `npm start --no-build --port 0 ARGS` as a test runs it: Electron looked for in `electron`, one engine. */
function startCommand(electron: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return {
    argv: ['--import', 'tsx', 'scripts/start.ts', '--no-build', '--port', '0', ...args],
    options: {
      cwd: ROOT,
      env: {
        ...process.env,
        ELECTRON_OVERRIDE_DIST_PATH: electron,
        DISPLAY: ':0',
        BRANCHLENS_WORKERS: '1',
        ...env,
      },
    },
  };
}

/** startCommand, spawned with its output gathered. */
function launchStart(electron: string, args: string[]) {
  const { argv, options } = startCommand(electron, args);
  const c = spawn(process.execPath, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  c.stdout!.on('data', (b: Buffer) => (out.stdout += b.toString()));
  c.stderr!.on('data', (b: Buffer) => (out.stderr += b.toString()));
  return { child: c, out };
}

/** Resolves to the URL npm start prints once its server listens; rejects if it exits first. */
function servedUrl(c: ChildProcess, output: () => string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 90 s:\n${output()}`)), 90_000);
    c.stdout!.on('data', () => {
      const m = /running at (http:\/\/\S+)/.exec(output());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    c.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${output()}`)));
  });
}

describe('npm start without the Electron binary', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    dir = tempDir('branchlens-start-');
    // What `npm start` builds first (the test skips its own build step to stay fast): the CLI, core and server.
    // Type errors are `npm run typecheck`'s business; tsc emits regardless, and the server must be among its output.
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (!existsSync(join(ROOT, 'dist', 'main', 'server', 'index.js'))) {
      throw new Error(`the build produced no server:\n${built.stdout}${built.stderr}`);
    }
  }, 120_000);
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    removeDir(dir);
  });

  it('says so in one line, starts the branch server and prints its URL', async () => {
    const emptyElectron = join(dir, 'no-electron');
    mkdirSync(emptyElectron);
    const launched = launchStart(emptyElectron, ['--data', join(dir, 'data')]);
    child = launched.child;
    const { out } = launched;
    const url = await servedUrl(child, () => `${out.stdout}\n${out.stderr}`);

    const lines = out.stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes('Electron is not available'))).toEqual([
      'Electron is not available on this machine (there is no Electron binary in $ELECTRON_OVERRIDE_DIST_PATH); ' +
        'starting the branch server with the same UI instead.',
    ]);
    const ping = await fetch(new URL('health/ping', url));
    expect(ping.status).toBe(200);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);

  it.skipIf(process.platform === 'win32')(
    'serves the UI instead when Electron exits with an error before its window opens (root without --no-sandbox)',
    async () => {
      const electron = fakeElectron(dir, 'refuses-root', `echo "${ROOT_REFUSAL}" >&2\nexit 133`);
      const launched = launchStart(electron, ['--data', join(dir, 'data-root')]);
      child = launched.child;
      const { out } = launched;
      const url = await servedUrl(child, () => `${out.stdout}\n${out.stderr}`);

      expect(out.stdout.split('\n').filter((l) => l.startsWith('Electron '))).toEqual([
        `Electron could not open its window (it exited with code 133: ${ROOT_REFUSAL}); ` +
          'starting the branch server with the same UI instead.',
      ]);
      expect(out.stderr).toContain(ROOT_REFUSAL); // Electron's own words, passed on as they came
      expect((await fetch(new URL('health/ping', url))).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    },
    120_000,
  );

  it.skipIf(process.platform === 'win32')(
    'returns the exit code of an app whose window opened, with no server after it',
    () => {
      const electron = fakeElectron(
        dir,
        'opened-then-failed',
        `[ "$${READY_SIGNAL_ENV}" = "1" ] && echo "${READY_MARKER}"\necho "the window's page ended" >&2\nexit 7`,
      );
      const { argv, options } = startCommand(electron, ['--data', join(dir, 'data-opened')]);
      const run = spawnSync(process.execPath, argv, { ...options, encoding: 'utf8', timeout: 60_000 });
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(7);
      expect(run.stdout).not.toMatch(/running at|could not open|not available/);
      expect(run.stdout).not.toContain(READY_MARKER);
      expect(run.stderr).toContain("the window's page ended");
    },
    120_000,
  );

  it('refuses a $BRANCHLENS_WORKERS that is not a count in one line, exit 1, before serving', async () => {
    const emptyElectron = join(dir, 'no-electron-workers');
    mkdirSync(emptyElectron);
    const { argv, options } = startCommand(emptyElectron, ['--data', join(dir, 'data-workers')], {
      BRANCHLENS_WORKERS: 'all',
    });
    const run = spawnSync(process.execPath, argv, { ...options, encoding: 'utf8', timeout: 90_000 });
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain('running at');
    expect(run.stderr).toBe('npm start: $BRANCHLENS_WORKERS: must be a whole number ≥ 1, got "all"\n');
  }, 120_000);

  it('on a non-loopback host, prints the new API token once, and only its file afterwards', async () => {
    const emptyElectron = join(dir, 'no-electron-2');
    mkdirSync(emptyElectron);
    const data = join(dir, 'data-token');
    const run = async () => {
      const { child: c, out: gathered } = launchStart(emptyElectron, ['--host', '0.0.0.0', '--data', data]);
      child = c;
      await new Promise<void>((resolve, reject) => {
        const out = () => gathered.stdout;
        const timer = setTimeout(() => reject(new Error(`no URL within 90 s:\n${out()}`)), 90_000);
        c.stdout!.on('data', () => {
          if (/running at http/.test(out()) && /token/i.test(out())) {
            clearTimeout(timer);
            resolve();
          }
        });
        c.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${out()}`)));
      });
      const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
      c.kill('SIGTERM');
      expect(await exited).toBe(0);
      return gathered.stdout;
    };
    const first = await run();
    const token = readFileSync(join(data, 'keys', 'api-token'), 'utf8').trim();
    expect(first).toContain('API token (shown this once');
    expect(first.split(token)).toHaveLength(2);
    const second = await run();
    expect(second).not.toContain(token);
    expect(second).toContain(`API clients need the token in ${join(data, 'keys', 'api-token')}`);
  }, 200_000);
});
