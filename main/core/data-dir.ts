// Where BranchLens keeps its database and keys: --data DIR, else $BRANCHLENS_DATA, else the folder the desktop
// app uses (Electron's userData/data). One default for every entry point, so the CLI, `serve` and the desktop
// app on one workstation share one audit log, one cache and one set of keys.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve, win32, posix } from 'node:path';
import { DB_FILE } from './db/open.js';
import { fsReason } from './fs-reasons.js';

/** The product's folder name under the OS's application-data folder (Electron's userData). */
export const APP_FOLDER = 'BranchLens';

/**
 * The OS's per-user application-data folder, as Electron's `app.getPath('appData')` gives it: %APPDATA% on
 * Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or ~/.config elsewhere.
 */
export function appDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') return env.APPDATA || win32.join(home, 'AppData', 'Roaming');
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support');
  return env.XDG_CONFIG_HOME || posix.join(home, '.config');
}

/** The data folder when neither --data nor $BRANCHLENS_DATA names one: <appData>/BranchLens/data. */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const path = platform === 'win32' ? win32 : posix;
  return path.join(appDataDir(env, platform, home), APP_FOLDER, 'data');
}

/**
 * Where the CLI and `serve` kept their data before they shared the desktop app's folder (env-paths' data
 * folder): ~/.local/share/BranchLens ($XDG_DATA_HOME), %LOCALAPPDATA%\BranchLens\Data, or on macOS
 * ~/Library/Application Support/BranchLens.
 */
export function earlierDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') {
    return win32.join(env.LOCALAPPDATA || win32.join(home, 'AppData', 'Local'), APP_FOLDER, 'Data');
  }
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', APP_FOLDER);
  return posix.join(env.XDG_DATA_HOME || posix.join(home, '.local', 'share'), APP_FOLDER);
}

/**
 * No Windows name may hold a double quote, so one in a folder named on Windows is a quoting slip, refused before
 * it becomes an unreadable "no such file" about a folder nobody named. On a command line (cmd.exe, PowerShell 5,
 * an npm .cmd shim) a backslash just before the closing quote, as a folder's Tab completion leaves it, makes the
 * quote part of the name, and the arguments after it run into the name too. In cmd.exe, `set VAR="…"` keeps the
 * quotes in the value.
 */
const QUOTE_IN_FLAG =
  'it has a double quote (") in it, which Windows does not allow in a name. A backslash just before the ' +
  'closing quote ("C:\\Branch Data\\") makes the quote, and what follows it, part of the name: leave that ' +
  'backslash out ("C:\\Branch Data")';
const QUOTE_IN_VARIABLE =
  'it has a double quote (") in it, which Windows does not allow in a name: set $BRANCHLENS_DATA without ' +
  'quotes (in cmd.exe, set BRANCHLENS_DATA=C:\\Branch Data)';

/**
 * --data, else $BRANCHLENS_DATA, else the default folder. An installation whose data (its audit log, its
 * keys) is still in the earlier folder keeps using it while the default does not exist yet, so that an
 * upgrade never starts a second audit log and a new key beside the first. A flag that is given but empty (a
 * script's unset variable) is a DataDirError, not the default folder: that is the desktop's own audit log.
 */
export function resolveDataDir(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new DataDirError(flag, 'the folder named is empty');
    if (platform === 'win32' && flag.includes('"')) throw new DataDirError(flag, QUOTE_IN_FLAG);
    return resolve(flag);
  }
  const path = platform === 'win32' ? win32 : posix;
  return desktopDataDir(path.join(appDataDir(env, platform, home), APP_FOLDER), env, platform, home);
}

/**
 * The desktop app's data folder, from Electron's userData (<appData>/BranchLens): the same rule as
 * resolveDataDir without --data, so the app, the CLI and `serve` share one audit log, including one still in
 * the earlier folder.
 */
export function desktopDataDir(
  userData: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.BRANCHLENS_DATA) {
    if (platform === 'win32' && env.BRANCHLENS_DATA.includes('"')) {
      throw new DataDirError(env.BRANCHLENS_DATA, QUOTE_IN_VARIABLE);
    }
    return resolve(env.BRANCHLENS_DATA);
  }
  const path = platform === 'win32' ? win32 : posix;
  const dir = path.join(userData, 'data');
  const earlier = earlierDataDir(env, platform, home);
  if (!existsSync(dir) && existsSync(path.join(earlier, DB_FILE))) return earlier;
  return dir;
}

/** A data folder that cannot be created or used; `reason` says why in plain words. */
export class DataDirError extends Error {
  constructor(
    readonly dir: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot use ${dir} as the data folder: ${reason}`, options);
    this.name = 'DataDirError';
  }
}

const NOT_A_FOLDER = 'it is a file, not a folder';

/** The file-system error as a DataDirError when it says the folder is unusable; other errors unchanged. */
function unusable(dir: string, e: unknown): unknown {
  const reason = fsReason(e, { EEXIST: NOT_A_FOLDER });
  return reason ? new DataDirError(dir, reason, { cause: e }) : e;
}

/** Creates the data folder when missing and checks that it can be written; else a DataDirError. */
export function ensureDataDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    throw unusable(dir, e);
  }
  return dir;
}

/** For readers that create nothing: a DataDirError when `dir` exists but is not a folder. */
export function checkDataDir(dir: string): string {
  let isFolder: boolean;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A folder that is not there yet is the reader's to report (there is nothing to read).
    if (code === 'ENOENT') return dir;
    throw unusable(dir, e);
  }
  if (!isFolder) throw new DataDirError(dir, NOT_A_FOLDER);
  return dir;
}

/**
 * A server using a data folder, as its file there says (`serve-<pid>-<port>.pid`, written when it starts listening
 * and removed when it closes): so that the next one on the folder can tell branch IT that two share it.
 */
export interface ServerRecord {
  pid: number;
  host: string;
  port: number;
  /** The machine it runs on: a pid says nothing on another one (another container, a shared folder). */
  hostname: string;
  started_at: string;
}

const SERVER_FILE = /^serve-\d+-\d+\.pid$/;

function serverFile(dir: string, pid: number, port: number): string {
  return join(dir, `serve-${pid}-${port}.pid`);
}

/** Whether process `pid` runs (on this machine): signal 0 checks without sending anything. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The servers whose files in `dir` say they use it now. A file left by a server that did not close (killed, or
 * the machine stopped) is removed: its process is gone, or the pid is this process's while the file is older
 * than it (a container restarted, whose server always has the same pid). A file from another machine is left
 * alone, since whether its server runs cannot be told from here. Best effort: an unreadable folder lists none.
 */
export function serversUsing(dir: string, now = Date.now()): ServerRecord[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => SERVER_FILE.test(n));
  } catch {
    return [];
  }
  const startedAt = now - process.uptime() * 1000;
  const live: ServerRecord[] = [];
  for (const name of names) {
    let record: ServerRecord;
    try {
      record = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ServerRecord;
    } catch {
      continue; // Being written, or removed meanwhile.
    }
    if (record.hostname !== hostname() || !Number.isSafeInteger(record.pid)) continue;
    const older = record.pid === process.pid && Date.parse(record.started_at) < startedAt - 1000;
    if (isRunning(record.pid) && !older) live.push(record);
    else removeQuietly(join(dir, name));
  }
  return live;
}

/**
 * Writes the file that says this process serves on `dir` at `host`:`port`, and returns what removes it (at
 * close). Best effort: a folder that cannot take the file (full, say) only leaves the next server untold.
 */
export function recordServer(dir: string, host: string, port: number): () => void {
  const path = serverFile(dir, process.pid, port);
  const record: ServerRecord = {
    pid: process.pid,
    host,
    port,
    hostname: hostname(),
    started_at: new Date().toISOString(),
  };
  try {
    writeFileSync(path, `${JSON.stringify(record)}\n`, { mode: 0o644 });
  } catch {
    return () => {};
  }
  return () => removeQuietly(path);
}

/**
 * The desktop app's record among the servers' (it has no port): `serve` beside it names it as the desktop app, so
 * that branch IT learns that the two share the folder. No server records port 0: it records the port it got.
 */
export const DESKTOP_HOST = 'desktop';

/** Writes the desktop app's record in `dir` while its service is open; returns what removes it (at quit). */
export function recordDesktopApp(dir: string): () => void {
  return recordServer(dir, DESKTOP_HOST, 0);
}

/** Whether a record is the desktop app's (recordDesktopApp) rather than a server's. */
export function isDesktopApp(record: ServerRecord): boolean {
  return record.host === DESKTOP_HOST && record.port === 0;
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Left for the next server to find stale.
  }
}
