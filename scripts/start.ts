// `npm start`: builds BranchLens and opens the desktop app. Where the Electron binary cannot be had (an offline
// machine such as CI here, or no display), or Electron starts but exits with an error before its window opens (as
// root without --no-sandbox, a broken GPU or sandbox), it says so in one line and starts the branch server with
// the same UI instead, and prints its URL. Either way the app runs.
//
//   npx tsx scripts/start.ts [--no-build] [--no-download] [--host H] [--port N] [--data DIR]
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join, posix, resolve, win32 } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { READY_MARKER, READY_SIGNAL_ENV } from '../main/electron/ready-signal.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface StartOptions {
  build: boolean;
  /** Try to download the Electron binary when it is missing (bounded by downloadTimeoutMs). */
  download: boolean;
  downloadTimeoutMs: number;
  host: string;
  port: number;
  data?: string;
}

/**
 * The port from --port, else $BRANCHLENS_PORT, else 8080: digits only (as `branchlens serve --port`), from 0 to
 * 65535. An empty $BRANCHLENS_PORT (a script's unset variable) is refused rather than read as 0, a random port.
 * The error names where the value came from.
 */
function portOption(flag: string | undefined, variable: string | undefined): number {
  const [raw, source] = flag !== undefined ? [flag, '--port'] : [variable, '$BRANCHLENS_PORT'];
  if (raw === undefined) return 8080;
  const port = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new Error(`${source}: must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

export function parseStartOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): StartOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'no-build': { type: 'boolean' },
      'no-download': { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
    },
    strict: true,
  });
  const port = portOption(values.port, env.BRANCHLENS_PORT);
  // As in the CLI: an empty folder name (`--data "$DIR"` with DIR unset) must not open the default data folder,
  // which holds the desktop app's audit log and keys.
  if (values.data !== undefined && values.data.trim() === '') {
    throw new Error('--data: is empty: name the data folder (leave --data out for the default one)');
  }
  if (values.data === undefined && env.BRANCHLENS_DATA !== undefined && env.BRANCHLENS_DATA.trim() === '') {
    throw new Error('$BRANCHLENS_DATA: is empty: name the data folder, or unset it for the default one');
  }
  const timeout = Number(env.BRANCHLENS_ELECTRON_DOWNLOAD_TIMEOUT_MS ?? 300_000);
  return {
    build: !values['no-build'],
    download: !values['no-download'] && env.BRANCHLENS_ELECTRON_DOWNLOAD !== '0',
    downloadTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 300_000,
    host: values.host ?? '127.0.0.1',
    port,
    ...(values.data !== undefined ? { data: values.data } : {}),
  };
}

// ---- Electron ------------------------------------------------------------------------------------------------

export type ElectronLookup = { ok: true; path: string } | { ok: false; reason: string };

export interface ElectronLookupDeps {
  /** node_modules/electron (undefined when the package is not installed). */
  packageDir: string | undefined;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /**
   * Runs electron's own install.js; resolves to true when it finished, else to why not (the host did not answer,
   * the download failed). Never called when downloads are off, nor where there is no display.
   */
  download?: () => Promise<true | string>;
}

/**
 * Where the Electron binary is, without `require('electron')`: that call downloads a missing binary
 * synchronously, with no time limit, which is exactly what must not happen on an offline machine.
 * Mirrors electron/index.js: path.txt names the executable inside dist/ (or $ELECTRON_OVERRIDE_DIST_PATH).
 */
export async function locateElectron(deps: ElectronLookupDeps): Promise<ElectronLookup> {
  const { packageDir, env } = deps;
  if (!packageDir) return { ok: false, reason: 'the electron package is not installed' };
  const find = (): string | undefined => {
    const pathFile = join(packageDir, 'path.txt');
    const exe = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
    const dist = env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageDir, 'dist');
    const candidate = join(dist, exe || (deps.platform === 'win32' ? 'electron.exe' : 'electron'));
    return existsSync(candidate) ? candidate : undefined;
  };
  // Checked first: a window needs a display, so without one nothing is worth downloading (about 100 MB).
  if (deps.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { ok: false, reason: 'there is no display to open its window on' };
  }
  const found = find();
  if (found) return { ok: true, path: found };
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    return { ok: false, reason: `there is no Electron binary in $ELECTRON_OVERRIDE_DIST_PATH` };
  }
  if (!deps.download) return { ok: false, reason: 'its binary was never downloaded' };
  const finished = await deps.download();
  if (finished !== true) return { ok: false, reason: finished };
  const after = find();
  return after ? { ok: true, path: after } : { ok: false, reason: 'its download did not leave a binary' };
}

/** Whether the host electron/install.js downloads from answers at all (5 s), so an offline machine fails fast. */
function reachable(host: string, port = 443, timeoutMs = 5000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

function downloadHost(env: NodeJS.ProcessEnv): string {
  const mirror = env.ELECTRON_MIRROR ?? env.npm_config_electron_mirror;
  try {
    return mirror ? new URL(mirror).hostname : 'github.com';
  } catch {
    return 'github.com';
  }
}

/** Runs electron's install.js (the package's own downloader) quietly, killed after timeoutMs. */
function downloadElectron(
  packageDir: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<true | string> {
  return new Promise((done) => {
    const usesProxy = Boolean(env.ELECTRON_GET_USE_PROXY || env.HTTPS_PROXY || env.https_proxy);
    const host = downloadHost(env);
    void (usesProxy ? Promise.resolve(true) : reachable(host)).then((up) => {
      if (!up) return done(`its binary is not installed, and the download host ${host} did not answer`);
      console.log('Downloading the Electron binary (once)…');
      const child = spawn(process.execPath, [join(packageDir, 'install.js')], { stdio: 'ignore', env });
      const timer = setTimeout(() => child.kill(), timeoutMs);
      child.once('error', () => done('its binary could not be downloaded'));
      child.once('exit', (code) => {
        clearTimeout(timer);
        done(code === 0 ? true : 'its binary could not be downloaded');
      });
    });
  });
}

function electronPackageDir(): string | undefined {
  try {
    return dirname(createRequire(join(ROOT, 'package.json')).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
}

const SQLITE_PROBE = "new (require('better-sqlite3'))(':memory:').close()";

/** Whether better-sqlite3 loads in `runtime` (this Node, or Electron run as Node). */
function sqliteLoads(runtime: string, env: NodeJS.ProcessEnv): boolean {
  return (
    spawnSync(runtime, ['-e', SQLITE_PROBE], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 }).status ===
    0
  );
}

/**
 * The environment for building native modules against Electron's headers: without npm's `nodedir` (set on some
 * machines, this one included, to build offline against the installed Node), which would make node-gyp build
 * for this Node again while saying it built for Electron.
 */
export function rebuildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const key of Object.keys(out)) if (key.toLowerCase() === 'npm_config_nodedir') delete out[key];
  return out;
}

export interface NativeModuleDeps {
  /** Whether the native modules load in Electron. */
  loads: () => boolean;
  /** Rebuilds them for Electron; throws when the rebuild fails. */
  rebuild: () => void;
  log: (line: string) => void;
}

/**
 * better-sqlite3 (and tfjs-node, when present) must be built for Electron's Node ABI, not this Node's. Probes
 * them in Electron; when they do not load, rebuilds them and probes again. Resolves to null when they load, else
 * to why not (then the caller serves the UI from this Node instead).
 */
export function ensureNativeModules(deps: NativeModuleDeps): string | null {
  if (deps.loads()) return null;
  deps.log(
    'Rebuilding native modules for Electron (electron-builder install-app-deps); ' +
      '`npm rebuild better-sqlite3` switches them back for the CLI and the tests.',
  );
  try {
    deps.rebuild();
  } catch (e) {
    return `its native modules could not be rebuilt for it (${e instanceof Error ? e.message : String(e)})`;
  }
  return deps.loads() ? null : 'its native modules still do not load in it after a rebuild';
}

function nativeModulesFor(electron: string): string | null {
  return ensureNativeModules({
    loads: () => sqliteLoads(electron, { ...process.env, ELECTRON_RUN_AS_NODE: '1' }),
    rebuild: () =>
      run(toolCommand('electron-builder', ['install-app-deps']), { env: rebuildEnv(process.env) }),
    log: (line) => console.log(line),
  });
}

/**
 * How the desktop app's run ended: its exit code, and `failedToOpen`, why it ended with an error before its
 * window was ready (null when the window opened, when it ended well without one, as a second instance handing
 * over to the first does, or when it was stopped with Ctrl+C).
 */
export interface LaunchOutcome {
  code: number;
  failedToOpen: string | null;
}

/** What watchLaunch needs of the Electron process (a ChildProcess spawned with stdout and stderr piped). */
export interface LaunchedApp {
  readonly stdout: Readable;
  readonly stderr: Readable;
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
}

export interface LaunchWatch {
  /** Where the app's own output goes on (this terminal): every line but the ready marker. */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether this launcher passed on Ctrl+C or SIGTERM: an end asked for, not a failure. */
  interrupted?: () => boolean;
}

/** The longest line of Electron's own words quoted in the one line that says why the window did not open. */
const MAX_REASON_CHARS = 300;

/**
 * Follows a launched app until it ends: passes its output on, notes the ready marker (READY_MARKER, printed when
 * its window is ready to show) and the last line it wrote on stderr, the usual place Chromium says why it gives up.
 */
export function watchLaunch(child: LaunchedApp, io: LaunchWatch): Promise<LaunchOutcome> {
  let ready = false;
  let pendingOut = '';
  let pendingErr = '';
  let lastErrLine = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (pendingOut + chunk).split('\n');
    pendingOut = lines.pop() ?? '';
    for (const line of lines) {
      if (line.replace(/\r$/, '') === READY_MARKER) ready = true;
      else io.stdout(`${line}\n`);
    }
  });
  child.stdout.on('end', () => {
    if (pendingOut === READY_MARKER) ready = true;
    else if (pendingOut) io.stdout(pendingOut);
  });
  child.stderr.on('data', (chunk: string) => {
    io.stderr(chunk);
    const lines = (pendingErr + chunk).split('\n');
    pendingErr = lines.pop() ?? '';
    const last = lines
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1);
    if (last) lastErrLine = last;
  });
  child.stderr.on('end', () => {
    if (pendingErr.trim()) lastErrLine = pendingErr.trim();
  });
  const said = () =>
    lastErrLine
      ? `: ${lastErrLine.length > MAX_REASON_CHARS ? `${lastErrLine.slice(0, MAX_REASON_CHARS)}…` : lastErrLine}`
      : '';
  return new Promise((done) => {
    child.once('error', (e) => done({ code: 1, failedToOpen: `it could not be started (${e.message})` }));
    // 'close', not 'exit': its output has all been read by then.
    child.once('close', (code, signal) => {
      const exitCode = code ?? (signal ? 0 : 1);
      const failed = !ready && !io.interrupted?.() && (code === null ? signal !== null : code !== 0);
      const how = code === null ? `it was ended by ${signal ?? 'a signal'}` : `it exited with code ${code}`;
      done({ code: code ?? (failed ? 1 : exitCode), failedToOpen: failed ? `${how}${said()}` : null });
    });
  });
}

/** Runs the desktop app, asking it to say when its window is ready; Ctrl+C and SIGTERM are passed on to it. */
function launchElectron(electron: string, data: string | undefined): Promise<LaunchOutcome> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(data ? { BRANCHLENS_DATA: resolve(data) } : {}),
    [READY_SIGNAL_ENV]: '1',
  };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(electron, [ROOT], { stdio: ['inherit', 'pipe', 'pipe'], env });
  let interrupted = false;
  const forward = (signal: NodeJS.Signals) => () => {
    interrupted = true;
    if (child.exitCode === null) child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return watchLaunch(child, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    interrupted: () => interrupted,
  }).finally(() => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  });
}

// ---- the branch server ----------------------------------------------------------------------------------------

/** The server's address as a person types it (0.0.0.0 listens everywhere; this machine is 127.0.0.1). */
export function displayUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}/`;
}

const DIST = join(ROOT, 'dist', 'main');

/**
 * Runs the branch server in this process from the build (dist/), with the UI it serves from dist/renderer/.
 * Loopback by default, so no API token is needed; Ctrl+C closes it in order (flushing the audit log).
 */
async function startServer(opts: StartOptions): Promise<number> {
  const serverEntry = join(DIST, 'server', 'index.js');
  if (!existsSync(serverEntry)) {
    throw new Error(
      `the branch server is not built (${serverEntry} is missing): run \`npm start\` without --no-build`,
    );
  }
  const server = (await import(pathToFileURL(serverEntry).href)) as typeof import('../main/server/index.js');
  const dataDirs = (await import(
    pathToFileURL(join(DIST, 'core', 'data-dir.js')).href
  )) as typeof import('../main/core/data-dir.js');
  const tuning = (await import(
    pathToFileURL(join(DIST, 'core', 'engine-tuning.js')).href
  )) as typeof import('../main/core/engine-tuning.js');
  // One engine per core, as in the desktop app, unless $BRANCHLENS_WORKERS says otherwise.
  const workers = tuning.engineCount(process.env.BRANCHLENS_WORKERS, '$BRANCHLENS_WORKERS');
  const running = await server
    .startServer({
      dataDir: dataDirs.resolveDataDir(opts.data),
      host: opts.host,
      port: opts.port,
      workers,
    })
    .catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        throw new Error(`port ${opts.port} is in use: choose another with \`npm start -- --port N\``);
      }
      throw e;
    });
  // Ctrl+C and SIGTERM are handled from before the URL is printed: whoever reads it may stop the server at once.
  const stopped = new Promise<number>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      running.close().then(
        () => done(0),
        (e: unknown) => {
          console.error(`BranchLens: ${e instanceof Error ? e.message : String(e)}`);
          done(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const shown = displayUrl(running.host, running.port);
  console.log(`BranchLens is running at ${shown} (open it in a browser; Ctrl+C stops it).`);
  if (running.tokenCreated && running.token) {
    // Shown this once, as `serve` does: the browser asks for it, and API clients send it.
    console.log(
      `API token (shown this once; kept in ${running.tokenFile ?? 'the key store'}):\n  ${running.token}\n` +
        'The UI asks for it; API clients send "Authorization: Bearer <token>".',
    );
  } else if (running.token && running.tokenFile) {
    console.log(`API clients need the token in ${running.tokenFile} (Authorization: Bearer …).`);
  }
  return stopped;
}

// ---- plumbing -------------------------------------------------------------------------------------------------

/** A command to run: what spawnSync is given. */
export interface ToolCommand {
  command: string;
  args: string[];
  /** Whether it needs a shell (only `npm.cmd` found on the PATH, on Windows). */
  shell: boolean;
}

export interface ToolCommandContext {
  root: string;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** This Node (process.execPath). */
  node: string;
}

/**
 * How to run npm or electron-builder: their own scripts in this Node, not the .cmd files of node_modules/.bin
 * on Windows. Node refuses to spawn a .cmd file without a shell (EINVAL, since 18.20.2 and 20.12.2), and the
 * shell, cmd.exe, is handed the command line unquoted, so it cuts a path at its first space: a repository in
 * `C:\Users\Jane Doe\…` or in a OneDrive folder (`OneDrive - Bank`) could never rebuild for Electron. npm's
 * script is $npm_execpath, which `npm start` sets; without it, `npm` (`npm.cmd`) is found on the PATH.
 */
export function toolCommand(
  tool: 'npm' | 'electron-builder',
  args: string[],
  context: ToolCommandContext = {
    root: ROOT,
    platform: process.platform,
    env: process.env,
    node: process.execPath,
  },
): ToolCommand {
  const { root, platform, env, node } = context;
  if (tool === 'electron-builder') {
    const path = platform === 'win32' ? win32 : posix;
    return {
      command: node,
      args: [path.join(root, 'node_modules', 'electron-builder', 'cli.js'), ...args],
      shell: false,
    };
  }
  const npmScript = env.npm_execpath;
  if (npmScript && /\.[cm]?js$/i.test(npmScript))
    return { command: node, args: [npmScript, ...args], shell: false };
  // `npm.cmd` and these arguments have no spaces, so the shell leaves them whole.
  return platform === 'win32'
    ? { command: 'npm.cmd', args, shell: true }
    : { command: 'npm', args, shell: false };
}

function run({ command, args, shell }: ToolCommand, options: SpawnSyncOptions = {}): void {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', shell, ...options });
  if (r.status !== 0) {
    throw new Error(`\`${[command, ...args].join(' ')}\` failed${r.error ? `: ${r.error.message}` : ''}`);
  }
}

function npmScripts(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  return pkg.scripts ?? {};
}

/** npm run build (the CLI, core and server), the Electron main process and preload, and the renderer. */
function build(): void {
  const npm = (script: string) => run(toolCommand('npm', ['run', '--silent', script]));
  const scripts = npmScripts();
  npm('build');
  if (scripts['build:electron']) npm('build:electron');
  else
    run({
      command: process.execPath,
      args: [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.electron.json'],
      shell: false,
    });
  if (scripts['build:renderer']) npm('build:renderer');
  else console.log('(No build:renderer script yet: the window will say the user interface is not built.)');
}

export async function start(argv: string[]): Promise<number> {
  const opts = parseStartOptions(argv);
  if (opts.build) build();
  const packageDir = electronPackageDir();
  const electron = await locateElectron({
    packageDir,
    env: process.env,
    platform: process.platform,
    ...(opts.download && packageDir
      ? { download: () => downloadElectron(packageDir, process.env, opts.downloadTimeoutMs) }
      : {}),
  });
  const unusable = electron.ok ? nativeModulesFor(electron.path) : electron.reason;
  if (electron.ok && unusable === null) {
    const launched = await launchElectron(electron.path, opts.data);
    // The window opened (whatever happened after), or the app ended well without one: it ran.
    if (launched.failedToOpen === null) return launched.code;
    console.log(
      `Electron could not open its window (${launched.failedToOpen}); starting the branch server with the same UI instead.`,
    );
  } else {
    console.log(
      `Electron is not available on this machine (${unusable}); starting the branch server with the same UI instead.`,
    );
  }
  // A rebuild for Electron leaves better-sqlite3 built for Electron's Node, which this Node cannot load.
  if (!sqliteLoads(process.execPath, process.env)) {
    throw new Error(
      'better-sqlite3 is built for Electron, not for this Node: run `npm rebuild better-sqlite3`, then `npm start` again',
    );
  }
  return startServer(opts);
}

const entry = process.argv[1];
if (entry && realpathSync(entry) === fileURLToPath(import.meta.url)) {
  start(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`npm start: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
