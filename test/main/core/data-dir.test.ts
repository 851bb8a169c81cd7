// The data folder: --data, then $BRANCHLENS_DATA, then the desktop app's own folder (Electron's
// app.getPath('appData') + BranchLens/data), so the CLI, serve and the desktop app share one audit log.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDataDir, defaultDataDir, resolveDataDir } from '../../../main/core/data-dir.js';

describe('the data folder', () => {
  it('takes --data first, then $BRANCHLENS_DATA, both made absolute', () => {
    const env = { BRANCHLENS_DATA: 'from-env', XDG_CONFIG_HOME: '/xdg' };
    expect(resolveDataDir('from-flag', env)).toBe(resolve('from-flag'));
    expect(resolveDataDir(undefined, env)).toBe(resolve('from-env'));
    expect(resolveDataDir(undefined, { BRANCHLENS_DATA: '' })).not.toBe(resolve(''));
  });

  it("defaults to Electron's appData folder on Linux: $XDG_CONFIG_HOME, else ~/.config", () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/ann')).toBe('/xdg/BranchLens/data');
    expect(defaultDataDir({}, 'linux', '/home/ann')).toBe('/home/ann/.config/BranchLens/data');
    expect(defaultDataDir({ XDG_CONFIG_HOME: '' }, 'linux', '/home/ann')).toBe(
      '/home/ann/.config/BranchLens/data',
    );
  });

  it('on Windows: %APPDATA%, else the roaming AppData folder under the home folder', () => {
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann')).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\BranchLens\\data',
    );
    expect(appDataDir({}, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Roaming');
  });

  it('on macOS: ~/Library/Application Support', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/ignored' }, 'darwin', '/Users/ann')).toBe(
      '/Users/ann/Library/Application Support/BranchLens/data',
    );
  });

  it('is what resolveDataDir gives with neither --data nor $BRANCHLENS_DATA', () => {
    const env = { XDG_CONFIG_HOME: '/xdg', APPDATA: 'C:\\AppData' };
    expect(resolveDataDir(undefined, env)).toBe(defaultDataDir(env));
  });
});
