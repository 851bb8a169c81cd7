// Where BranchLens keeps its database and keys: --data DIR, else $BRANCHLENS_DATA, else the folder the desktop
// app uses (Electron's userData/data). One default for every entry point, so the CLI, `serve` and the desktop
// app on one workstation share one audit log, one cache and one set of keys.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve, win32, posix } from 'node:path';

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

export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.BRANCHLENS_DATA) return resolve(env.BRANCHLENS_DATA);
  return defaultDataDir(env);
}

export function ensureDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
