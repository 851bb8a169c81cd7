// The data folder: --data, then $BRANCHLENS_DATA, then the desktop app's own folder (Electron's
// app.getPath('appData') + BranchLens/data), so the CLI, serve and the desktop app share one audit log.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isDesktopApp,
  recordDesktopApp,
  recordServer,
  serversUsing,
  appDataDir,
  checkDataDir,
  DataDirError,
  defaultDataDir,
  desktopDataDir,
  earlierDataDir,
  ensureDataDir,
  resolveDataDir,
} from '../../../main/core/data-dir.js';

describe('the data folder', () => {
  it('takes --data first, then $BRANCHLENS_DATA, both made absolute', () => {
    const env = { BRANCHLENS_DATA: 'from-env', XDG_CONFIG_HOME: '/xdg' };
    expect(resolveDataDir('from-flag', env)).toBe(resolve('from-flag'));
    expect(resolveDataDir(undefined, env)).toBe(resolve('from-env'));
    expect(resolveDataDir(undefined, { BRANCHLENS_DATA: '' })).not.toBe(resolve(''));
  });

  it('refuses a --data that is given but empty, rather than taking the default folder', () => {
    const env = { XDG_CONFIG_HOME: '/xdg', XDG_DATA_HOME: '/nowhere' };
    for (const flag of ['', '  ']) {
      expect(() => resolveDataDir(flag, env)).toThrow(DataDirError);
      expect(() => resolveDataDir(flag, env)).toThrow(/the folder named is empty/);
    }
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

  it('on Windows, refuses a folder with a double quote in it: a trailing backslash that escaped the closing quote', () => {
    const home = 'C:\\Users\\ann';
    // `--data "C:\\Branch Data\\" --input x.csv` as cmd.exe or PowerShell 5 hands it to Node.
    const swallowed = 'C:\\Branch Data" --input x.csv';
    expect(() => resolveDataDir(swallowed, {}, 'win32', home)).toThrow(DataDirError);
    expect(() => resolveDataDir(swallowed, {}, 'win32', home)).toThrow(
      /double quote \("\) in it.*leave that backslash out/,
    );
    // cmd.exe's `set BRANCHLENS_DATA="C:\\Branch Data"` keeps the quotes, for the desktop app too.
    const quoted = { BRANCHLENS_DATA: '"C:\\Branch Data"' };
    expect(() => resolveDataDir(undefined, quoted, 'win32', home)).toThrow(/without quotes/);
    expect(() => desktopDataDir('C:\\AppData\\BranchLens', quoted, 'win32', home)).toThrow(DataDirError);
    // Elsewhere a double quote is a character like any other in a name.
    expect(resolveDataDir('/srv/a"b', {}, 'linux', '/home/ann')).toBe('/srv/a"b');
  });

  it('on macOS: ~/Library/Application Support', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/ignored' }, 'darwin', '/Users/ann')).toBe(
      '/Users/ann/Library/Application Support/BranchLens/data',
    );
  });

  it('is what resolveDataDir gives with neither --data nor $BRANCHLENS_DATA', () => {
    // No earlier installation under this (made-up) home folder.
    const env = { XDG_CONFIG_HOME: '/xdg', APPDATA: 'C:\\AppData', XDG_DATA_HOME: '/nowhere' };
    expect(resolveDataDir(undefined, env)).toBe(defaultDataDir(env));
  });
});

describe('a data folder that cannot be used', () => {
  const withTemp = (body: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'branchlens-data-dir-'));
    try {
      body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('ensureDataDir creates a missing folder, parents included', () => {
    withTemp((dir) => {
      const data = join(dir, 'a', 'b');
      expect(ensureDataDir(data)).toBe(data);
      expect(statSync(data).isDirectory()).toBe(true);
    });
  });

  it('is a DataDirError saying why in plain words, for a file or a path through one', () => {
    withTemp((dir) => {
      const file = join(dir, 'file');
      writeFileSync(file, '');
      for (const [path, reason] of [
        [file, 'it is a file, not a folder'],
        [join(file, 'data'), 'part of the path is a file, not a folder'],
      ] as const) {
        for (const check of [ensureDataDir, checkDataDir]) {
          const error = (() => {
            try {
              check(path);
            } catch (e) {
              return e;
            }
          })();
          expect(error).toBeInstanceOf(DataDirError);
          expect(error).toMatchObject({ dir: path, reason });
          expect((error as Error).message).toBe(`cannot use ${path} as the data folder: ${reason}`);
        }
      }
    });
  });

  it('checkDataDir creates nothing: a missing folder is left for the reader to report', () => {
    withTemp((dir) => {
      const data = join(dir, 'missing');
      expect(checkDataDir(data)).toBe(data);
      expect(existsSync(data)).toBe(false);
    });
  });
});

describe('an installation from before the shared default', () => {
  it('keeps using the earlier folder while the default does not exist, and the default once it does', () => {
    const home = mkdtempSync(join(tmpdir(), 'branchlens-home-'));
    try {
      const earlier = join(home, '.local', 'share', 'BranchLens');
      const shared = join(home, '.config', 'BranchLens', 'data');
      // Nothing anywhere: the shared default.
      expect(resolveDataDir(undefined, {}, 'linux', home)).toBe(shared);
      // An earlier folder without a database (say, an empty one): still the shared default.
      mkdirSync(earlier, { recursive: true });
      expect(resolveDataDir(undefined, {}, 'linux', home)).toBe(shared);
      // The earlier folder holds a database (an audit log, keys): it is kept.
      writeFileSync(join(earlier, 'branchlens.db'), '');
      expect(resolveDataDir(undefined, {}, 'linux', home)).toBe(earlier);
      expect(resolveDataDir(undefined, { XDG_DATA_HOME: join(home, 'elsewhere') }, 'linux', home)).toBe(
        shared,
      );
      // The desktop app, from Electron's userData, makes the same choice: it opens the earlier audit log too,
      // instead of creating a second one (with new keys) that the CLI would then switch to.
      expect(desktopDataDir(join(home, '.config', 'BranchLens'), {}, 'linux', home)).toBe(earlier);
      // Once the shared folder exists (the desktop app made it, or the data was moved), it wins.
      mkdirSync(shared, { recursive: true });
      expect(resolveDataDir(undefined, {}, 'linux', home)).toBe(shared);
      // --data and $BRANCHLENS_DATA come first whatever exists.
      expect(resolveDataDir(undefined, { BRANCHLENS_DATA: earlier }, 'linux', home)).toBe(earlier);
      expect(desktopDataDir(join(home, '.config', 'BranchLens'), {}, 'linux', home)).toBe(shared);
      expect(desktopDataDir(join(home, 'x'), { BRANCHLENS_DATA: earlier }, 'linux', home)).toBe(earlier);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('names the earlier folder per OS as env-paths did', () => {
    expect(
      earlierDataDir({ LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' }, 'win32', 'C:\\Users\\ann'),
    ).toBe('C:\\Users\\ann\\AppData\\Local\\BranchLens\\Data');
    expect(earlierDataDir({}, 'darwin', '/Users/ann')).toBe(
      '/Users/ann/Library/Application Support/BranchLens',
    );
    expect(earlierDataDir({ XDG_DATA_HOME: '/xdg-data' }, 'linux', '/home/ann')).toBe('/xdg-data/BranchLens');
  });
});

describe('the servers using a data folder', () => {
  it('lists the desktop app’s record as the desktop app’s, and no server’s as such', () => {
    const dir = mkdtempSync(join(tmpdir(), 'branchlens-servers-'));
    try {
      const removeDesktop = recordDesktopApp(dir);
      const removeServer = recordServer(dir, '127.0.0.1', 8080);
      const found = serversUsing(dir).sort((a, b) => a.port - b.port);
      expect(found.map((r) => [r.pid, r.port, isDesktopApp(r)])).toEqual([
        [process.pid, 0, true],
        [process.pid, 8080, false],
      ]);
      removeDesktop();
      removeServer();
      expect(serversUsing(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts this process’s own file as stale when it is older than the process (a container restarted, same pid)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'branchlens-servers-'));
    try {
      const file = join(dir, `serve-${process.pid}-8080.pid`);
      const record = { pid: process.pid, host: '0.0.0.0', port: 8080, hostname: hostname() };
      writeFileSync(file, JSON.stringify({ ...record, started_at: '2020-01-01T00:00:00Z' }));
      expect(serversUsing(dir)).toEqual([]);
      expect(existsSync(file)).toBe(false);
      // Written by this process: a server that runs.
      const remove = recordServer(dir, '0.0.0.0', 8080);
      expect(serversUsing(dir)).toEqual([expect.objectContaining(record)]);
      remove();
      expect(existsSync(file)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
