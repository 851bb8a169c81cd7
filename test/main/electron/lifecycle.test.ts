// The desktop app's ending, in plain Node with fakes for Electron: the bounded shutdown that runs once, the
// "cannot start" path that closes the service (the audit log's checkpoint, the cache) before exiting, the window's
// first load whose interruption is no failure, the IPC handlers that answer "closing" while the app quits, and the
// ready line `npm start` waits for.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDesktopApp, serversUsing } from '../../../main/core/data-dir.js';
import {
  CLOSING,
  PRINT_TO_PDF_CHANNEL,
  registerIpc,
  type ApiHandlers,
  type InvokeEventLike,
  type IpcMainLike,
} from '../../../main/electron/ipc-adapter.js';
import {
  AppEnding,
  BoundedShutdown,
  DesktopService,
  ERR_ABORTED,
  isIgnorableLoadFailure,
  openRecorded,
  relaunchOptions,
  startFailureHandler,
  type LifecycleLog,
} from '../../../main/electron/lifecycle.js';
import { READY_MARKER, READY_SIGNAL_ENV, readySignal } from '../../../main/electron/ready-signal.js';
import { ipcChannel } from '../../../shared/bridge.js';
import { API_METHODS } from '../../../shared/contract.js';

/** A log that keeps what it is told, in order, into `events`. */
function recordingLog(events: string[]): LifecycleLog {
  return {
    info: (message) => events.push(`info: ${message}`),
    error: (message) => events.push(`error: ${message}`),
  };
}

/** A service whose close takes a turn of the event loop, or never ends. */
function fakeService(events: string[], close: 'closes' | 'fails' | 'hangs' = 'closes') {
  let closes = 0;
  return {
    get closes() {
      return closes;
    },
    close: async () => {
      closes++;
      events.push('service closing');
      if (close === 'hangs') return new Promise<void>(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (close === 'fails') throw new Error('SQLITE_BUSY');
      events.push('audit checkpoint written, cache flushed');
    },
  };
}

/** Electron's rejection of webContents.loadURL (lib/browser/api/web-contents.ts). */
function loadError(errno: number, code: string): Error {
  return Object.assign(new Error(`${code} (${errno}) loading 'app://branchlens/index.html'`), {
    errno,
    code,
  });
}

describe('BoundedShutdown', () => {
  it('closes the service once however often it is asked, and says it has begun', async () => {
    const events: string[] = [];
    const service = fakeService(events);
    const shutdown = new BoundedShutdown({ close: service.close, limitMs: 1000, log: recordingLog(events) });
    expect(shutdown.begun).toBe(false);
    const first = shutdown.run();
    expect(shutdown.begun).toBe(true);
    const [a, b] = await Promise.all([first, shutdown.run()]);
    expect([a, b]).toEqual(['closed', 'closed']);
    expect(await shutdown.run()).toBe('closed');
    expect(service.closes).toBe(1);
  });

  it('gives up on a close that hangs after its limit, and logs it', async () => {
    const events: string[] = [];
    const service = fakeService(events, 'hangs');
    const shutdown = new BoundedShutdown({ close: service.close, limitMs: 30, log: recordingLog(events) });
    const started = Date.now();
    expect(await shutdown.run()).toBe('timed-out');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(events).toEqual(['service closing', 'error: shutdown took over 0.03 s; exiting']);
  });

  it('reports a close that failed, logged, without throwing', async () => {
    const events: string[] = [];
    const shutdown = new BoundedShutdown({
      close: fakeService(events, 'fails').close,
      limitMs: 1000,
      log: recordingLog(events),
    });
    expect(await shutdown.run()).toBe('failed');
    expect(events).toEqual(['service closing', 'error: shutdown failed']);
  });
});

describe('the desktop app’s record in its data folder', () => {
  function setup(close: 'closes' | 'fails' = 'closes') {
    const dir = mkdtempSync(join(tmpdir(), 'branchlens-desktop-record-'));
    const events: string[] = [];
    const service = { ...fakeService(events, close), dataDir: dir };
    return { dir, events, service };
  }

  it('is written when the service opens and removed when the quit closes it', async () => {
    const { dir, events, service } = setup();
    try {
      const opened = await openRecorded(async () => service);
      expect(opened.service).toBe(service);
      // What `serve` on the same folder reads: this process, as the desktop app.
      expect(readdirSync(dir)).toEqual([`serve-${process.pid}-0.pid`]);
      const [record] = serversUsing(dir);
      expect(record && isDesktopApp(record)).toBe(true);
      expect(record?.pid).toBe(process.pid);

      const shutdown = new BoundedShutdown({ close: opened.close, limitMs: 1000, log: recordingLog(events) });
      const ending = new AppEnding({ shutdown, quit: () => {}, exit: () => {}, log: recordingLog(events) });
      ending.beforeQuit({ preventDefault: () => {} });
      expect(await shutdown.run()).toBe('closed');
      expect(events).toContain('audit checkpoint written, cache flushed');
      expect(readdirSync(dir)).toEqual([]);
      expect(serversUsing(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is removed even when the service fails to close', async () => {
    const { dir, events, service } = setup('fails');
    try {
      const opened = await openRecorded(async () => service);
      const shutdown = new BoundedShutdown({ close: opened.close, limitMs: 1000, log: recordingLog(events) });
      expect(await shutdown.run()).toBe('failed');
      expect(existsSync(join(dir, `serve-${process.pid}-0.pid`))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not written when the service does not open', async () => {
    const { dir } = setup();
    try {
      await expect(
        openRecorded(async (): Promise<{ dataDir: string; close(): Promise<void> }> => {
          throw new Error('the model cannot be loaded');
        }),
      ).rejects.toThrow('the model cannot be loaded');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DesktopService: a quit while the service is still opening', () => {
  const closes = (events: string[]) => events.filter((e) => e === 'service closing').length;

  function setup() {
    const dir = mkdtempSync(join(tmpdir(), 'branchlens-desktop-opening-'));
    const events: string[] = [];
    const service = { ...fakeService(events), dataDir: dir };
    let finishOpen!: () => void;
    let failOpen!: (e: Error) => void;
    let opens = 0;
    const open = () =>
      new Promise<typeof service>((resolve, reject) => {
        opens++;
        events.push('opening');
        finishOpen = () => resolve(service);
        failOpen = reject;
      });
    const desktop = new DesktopService<typeof service>();
    const shutdown = new BoundedShutdown({
      close: () => desktop.close(),
      limitMs: 1000,
      log: recordingLog(events),
    });
    const ending = new AppEnding({ shutdown, quit: () => {}, exit: () => {}, log: recordingLog(events) });
    return {
      dir,
      events,
      service,
      desktop,
      shutdown,
      ending,
      open,
      opens: () => opens,
      finishOpen: () => finishOpen(),
      failOpen: (e: Error) => failOpen(e),
    };
  }

  it('closes the service once its open ends, and the start goes no further', async () => {
    const t = setup();
    try {
      const started = t.desktop.open(t.open);
      t.ending.beforeQuit({ preventDefault: () => {} }); // the user quits during the slow first start
      const outcome = t.shutdown.run();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(closes(t.events)).toBe(0); // nothing to close yet: it waits for the open

      t.finishOpen();
      expect(await started).toBeUndefined(); // start() then opens no window and registers nothing
      expect(await outcome).toBe('closed');
      expect(closes(t.events)).toBe(1);
      expect(t.events).toContain('audit checkpoint written, cache flushed');
      expect(t.desktop.service).toBeUndefined();
      expect(readdirSync(t.dir)).toEqual([]); // the app's record is gone with it
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });

  it('closes an open service once, however often the close is asked for', async () => {
    const t = setup();
    try {
      const started = t.desktop.open(t.open);
      t.finishOpen();
      expect(await started).toBe(t.service);
      expect(t.desktop.service).toBe(t.service);
      expect(readdirSync(t.dir)).toEqual([`serve-${process.pid}-0.pid`]);
      await Promise.all([t.desktop.close(), t.desktop.close()]);
      expect(closes(t.events)).toBe(1);
      expect(t.desktop.service).toBeUndefined();
      expect(readdirSync(t.dir)).toEqual([]);
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });

  it('has nothing to close when the open fails, and the failure reaches the start', async () => {
    const t = setup();
    try {
      const started = t.desktop.open(t.open);
      const outcome = t.shutdown.run();
      t.failOpen(new Error('the model cannot be loaded'));
      await expect(started).rejects.toThrow('the model cannot be loaded');
      expect(await outcome).toBe('closed');
      expect(closes(t.events)).toBe(0);
      expect(readdirSync(t.dir)).toEqual([]);
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });

  it('opens nothing once the close began', async () => {
    const t = setup();
    try {
      await t.desktop.close();
      expect(await t.desktop.open(t.open)).toBeUndefined();
      expect(t.opens()).toBe(0);
      expect(readdirSync(t.dir)).toEqual([]);
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});

describe('AppEnding', () => {
  /**
   * The app as Electron runs it: app.quit emits before-quit, and the app ends unless a listener prevented it;
   * app.exit ends it at once, without before-quit.
   */
  function setup(close: 'closes' | 'hangs' = 'closes') {
    const events: string[] = [];
    const service = fakeService(events, close);
    const shutdown = new BoundedShutdown({ close: service.close, limitMs: 50, log: recordingLog(events) });
    const quit = () => {
      events.push('before-quit');
      let prevented = false;
      ending.beforeQuit({ preventDefault: () => (prevented = true) });
      if (!prevented) events.push('app ended');
    };
    const ending = new AppEnding({
      shutdown,
      quit,
      exit: (code) => events.push(`exit ${code}`),
      log: { info: () => {}, error: (message) => events.push(`error: ${message}`) },
    });
    return { events, service, shutdown, ending, quit };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  /** A quit: held (the first before-quit) until the service has closed, then let through. */
  const QUIT_EVENTS = [
    'before-quit',
    'service closing',
    'audit checkpoint written, cache flushed',
    'before-quit',
    'app ended',
  ];

  it('holds a quit until the service has closed, then lets the app end', async () => {
    const { events, ending, quit } = setup();
    expect(ending.quitting).toBe(false);
    quit();
    expect(ending.quitting).toBe(true);
    await settle();
    expect(events).toEqual(QUIT_EVENTS);
  });

  it('closes the service on Windows’ session end (no before-quit) as quitting does, then exits', async () => {
    const quitting = setup();
    quitting.quit();
    await settle();
    const closeOnQuit = quitting.events.filter((e) => e !== 'before-quit' && e !== 'app ended');

    const { events, service, ending } = setup();
    await ending.sessionEnd(['logoff']);
    expect(ending.quitting).toBe(true);
    expect(events).toEqual([...closeOnQuit, 'exit 0']);
    // Asked again (a second window, a late before-quit): the one close, the one exit.
    await ending.sessionEnd(['shutdown']);
    ending.beforeQuit({ preventDefault: () => events.push('prevented') });
    await settle();
    expect(service.closes).toBe(1);
    expect(events.filter((e) => e.startsWith('exit'))).toEqual(['exit 0']);
    expect(events).not.toContain('prevented');
  });

  it('exits after the shutdown limit when the close hangs at the session’s end', async () => {
    const { events, ending } = setup('hangs');
    const started = Date.now();
    await ending.sessionEnd(['shutdown']);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(events.at(-2)).toMatch(/shutdown took over/);
    expect(events.at(-1)).toBe('exit 1');
  });

  it('delays a Linux or macOS shutdown and quits through the same close', async () => {
    const { events, service, ending } = setup();
    let prevented = false;
    ending.systemShutdown({ preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    await settle();
    expect(service.closes).toBe(1);
    expect(events).toEqual(QUIT_EVENTS);
  });
});

describe('isIgnorableLoadFailure', () => {
  const alive = { windowDestroyed: false, shuttingDown: false };

  it('ignores a load a newer navigation aborted (the crash handler’s reload)', () => {
    expect(isIgnorableLoadFailure(loadError(ERR_ABORTED, 'ERR_ABORTED'), alive)).toBe(true);
    expect(isIgnorableLoadFailure(Object.assign(new Error('aborted'), { code: 'ERR_ABORTED' }), alive)).toBe(
      true,
    );
  });

  it('ignores any failure of a window destroyed while it loaded, or of an app already quitting', () => {
    const destroyed = loadError(-2, 'ERR_FAILED');
    expect(isIgnorableLoadFailure(destroyed, { windowDestroyed: true, shuttingDown: false })).toBe(true);
    expect(isIgnorableLoadFailure(destroyed, { windowDestroyed: false, shuttingDown: true })).toBe(true);
  });

  it('does not ignore a page that cannot load in a live window', () => {
    expect(isIgnorableLoadFailure(loadError(-2, 'ERR_FAILED'), alive)).toBe(false);
    expect(isIgnorableLoadFailure(loadError(-6, 'ERR_FILE_NOT_FOUND'), alive)).toBe(false);
    expect(isIgnorableLoadFailure(new Error('no page'), alive)).toBe(false);
    expect(isIgnorableLoadFailure('a string', alive)).toBe(false);
    expect(isIgnorableLoadFailure(null, alive)).toBe(false);
  });
});

describe('startFailureHandler', () => {
  function setup(close: 'closes' | 'hangs' = 'closes', quitting = false) {
    const events: string[] = [];
    const service = fakeService(events, close);
    const shutdown = new BoundedShutdown({ close: service.close, limitMs: 50, log: recordingLog(events) });
    const fail = startFailureHandler({
      log: recordingLog(events),
      showError: (message) => events.push(`box: ${message}`),
      shutdown,
      quitting: () => quitting,
      exit: (code) => events.push(`exit ${code}`),
    });
    return { events, service, shutdown, fail };
  }

  it('says why, then closes the service (audit checkpoint, cache) before exiting with 1', async () => {
    const { events, fail } = setup();
    await fail(new Error('the window could not load its page'));
    expect(events).toEqual([
      'error: cannot start',
      'box: the window could not load its page',
      'service closing',
      'audit checkpoint written, cache flushed',
      'exit 1',
    ]);
  });

  it('exits after the shutdown limit when the close hangs', async () => {
    const { events, fail } = setup('hangs');
    await fail(new Error('boom'));
    expect(events.at(-2)).toMatch(/shutdown took over/);
    expect(events.at(-1)).toBe('exit 1');
  });

  it('shows only the first failure, and nothing once the app is quitting', async () => {
    const { events, service, fail } = setup();
    await Promise.all([fail(new Error('first')), fail(new Error('second'))]);
    expect(events.filter((e) => e.startsWith('box:'))).toEqual(['box: first']);
    expect(events.filter((e) => e.startsWith('exit'))).toEqual(['exit 1']);
    expect(service.closes).toBe(1);

    const quitting = setup('closes', true);
    await quitting.fail(new Error('late'));
    expect(quitting.events).toEqual(['error: failed while ending']);
  });
});

describe('the IPC handlers while the app quits', () => {
  it('stay registered and answer that the app is closing once the shutdown has begun', async () => {
    const listeners = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => unknown>();
    const ipc: IpcMainLike = {
      handle: (channel, listener) => listeners.set(channel, listener),
      removeHandler: (channel) => listeners.delete(channel),
    };
    const ran: string[] = [];
    const handlers = Object.fromEntries(
      API_METHODS.map((m) => [m, async () => (ran.push(m), { answeredBy: m })]),
    ) as unknown as ApiHandlers;
    const events: string[] = [];
    const shutdown = new BoundedShutdown({
      close: fakeService(events, 'hangs').close,
      limitMs: 10_000,
      log: recordingLog(events),
    });
    // As main.ts wires them.
    registerIpc(ipc, handlers, {
      isClosing: () => shutdown.begun,
      desktop: { printToPdf: async () => null, saveFile: async () => null, exportAudit: async () => null },
    });
    const page: InvokeEventLike = { senderFrame: { url: 'app://branchlens/index.html', parent: null } };
    const call = (channel: string, ...args: unknown[]) => listeners.get(channel)!(page, ...args);

    expect(await call(ipcChannel('health'), {})).toEqual({ ok: true, value: { answeredBy: 'health' } });
    void shutdown.run(); // Cmd+Q: the window stays open while the service closes
    expect(listeners.size).toBe(API_METHODS.length + 3);
    expect(await call(ipcChannel('explain'), { applicants: [{ age: 1 }] })).toEqual({
      ok: false,
      error: CLOSING,
    });
    expect(await call(PRINT_TO_PDF_CHANNEL, 'report')).toEqual({ ok: false, error: CLOSING });
    expect(ran).toEqual(['health']);
  });
});

describe('readySignal', () => {
  it('prints the marker line once when npm start asked for it, and removes the variable', () => {
    const env: NodeJS.ProcessEnv = { [READY_SIGNAL_ENV]: '1', PATH: '/bin' };
    const written: string[] = [];
    const ready = readySignal(env, (line) => written.push(line));
    expect(env).toEqual({ PATH: '/bin' }); // a relaunched app does not print it again
    ready();
    ready();
    expect(written).toEqual([`${READY_MARKER}\n`]);
  });

  it('prints nothing when started otherwise, and never throws for want of a standard output', () => {
    const written: string[] = [];
    readySignal({}, (line) => written.push(line))();
    expect(written).toEqual([]);
    const noStdout = readySignal({ [READY_SIGNAL_ENV]: '1' }, () => {
      throw new Error('EBADF');
    });
    expect(() => noStdout()).not.toThrow();
  });
});

describe('relaunchOptions', () => {
  const mounted = '/tmp/.mount_BranchXyz/branchlens';

  it('starts an AppImage again from its file, whose mount is gone once the app exits', () => {
    // Electron's default relaunches process.execPath, inside the squashfs the AppImage runtime unmounts when the
    // app exits: after the rollback the app would quit and never come back.
    const options = relaunchOptions({
      isPackaged: true,
      platform: 'linux',
      env: { APPIMAGE: '/home/officer/BranchLens.AppImage' },
      argv: [mounted, '--no-sandbox'],
    });
    expect(options).toEqual({
      execPath: '/home/officer/BranchLens.AppImage',
      args: ['--appimage-extract-and-run', '--no-sandbox'],
    });
    expect(options?.args).not.toContain(mounted);
  });

  it('leaves every other relaunch to Electron: installed, deb, Windows, macOS, development', () => {
    const argv = ['/opt/BranchLens/branchlens'];
    expect(relaunchOptions({ isPackaged: true, platform: 'linux', env: {}, argv })).toBeUndefined();
    for (const platform of ['win32', 'darwin'] as const) {
      expect(
        relaunchOptions({ isPackaged: true, platform, env: { APPIMAGE: '/x.AppImage' }, argv }),
      ).toBeUndefined();
    }
    // `npm start` run from inside some other AppImage (a terminal emulator, an editor) inherits its $APPIMAGE.
    expect(
      relaunchOptions({ isPackaged: false, platform: 'linux', env: { APPIMAGE: '/x.AppImage' }, argv }),
    ).toBeUndefined();
  });
});
