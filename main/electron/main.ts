// The Electron main process: app lifecycle, the one window, the app:// protocol and the IPC transport.
// The engine runs off the UI thread: BranchLensService opens one engine per core in worker threads.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  powerMonitor,
  protocol,
  safeStorage,
  session,
  type IpcMainInvokeEvent,
} from 'electron';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locale } from '../../shared/bundle.js';
import { apiHandlers } from '../core/api.js';
import { BundleError } from '../core/bundle/load.js';
import { BranchLensService, type ServiceOptions } from '../core/service.js';
import { APP_FOLDER, desktopDataDir } from '../core/data-dir.js';
import { steadyHeapGrowth } from '../core/heap-growth.js';
import { LogFile, Logger } from '../core/log-file.js';
import { storedLocale } from '../core/settings.js';
import { APP_SCHEME, APP_START_URL } from './app-origin.js';
import { registerIpc } from './ipc-adapter.js';
import { cannotStartText, desktopLocale, rollbackOfferText } from './dialog-text.js';
import {
  AppEnding,
  BoundedShutdown,
  DesktopService,
  isIgnorableLoadFailure,
  relaunchOptions,
  startFailureHandler,
} from './lifecycle.js';
import { exportAuditAs, printReportToPdf, saveFileAs, type SaveTarget } from './print.js';
import { serveAppRequest } from './protocol.js';
import { readySignal } from './ready-signal.js';
import { chooseSecretStore } from './secret-store.js';
import { hardenContents, hardenSession } from './security.js';
import { engineWorkerCount, secureWebPreferences } from './window-options.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/main/electron
const packageRoot = resolve(here, '..', '..', '..');

// A packaged app keeps its demo model and samples in resources/ (electron-builder's extraResources), and
// main/core/paths.ts finds them through $BRANCHLENS_HOME (read when first asked, after this line).
if (app.isPackaged) process.env.BRANCHLENS_HOME ??= process.resourcesPath;

// The same folder in development and installed (package.json's name is lower case, the product's is not), and
// the one the CLI and `serve` default to (main/core/data-dir.ts): one workstation, one audit log.
app.setPath('userData', join(app.getPath('appData'), APP_FOLDER));

// app:// must be privileged before the app is ready: a standard, secure origin for the pages.
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
  },
]);
app.enableSandbox();

/** The console, and the app's own log file under the OS's logs folder (a packaged app has no console). */
const logger = new Logger(() => new LogFile({ dir: app.getPath('logs') }));
const log = (message: string): void => logger.info(message);
// Node prints its process warnings to the console itself: the file gets them too.
process.on('warning', (w) => logger.fileOnly('warn', `${w.name}: ${w.message}`));

/**
 * The database, keys and installed models: $BRANCHLENS_DATA, else <userData>/data, else (on an upgrade) the folder
 * the CLI used before, as the CLI and `serve` resolve it: never a second audit log beside the first.
 */
function dataDir(): string {
  return desktopDataDir(app.getPath('userData'), process.env);
}

/** The built renderer: dist/renderer (inside app.asar when packaged). */
function rendererRoot(): string {
  const candidates = [join(packageRoot, 'dist', 'renderer'), join(packageRoot, 'renderer', 'dist')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

/** The longest quitting waits for the service to close (engines, the audit writer) before the process exits. */
const SHUTDOWN_LIMIT_MS = 15_000;

let mainWindow: BrowserWindow | undefined;
/** The service, and the app's record in the data folder while it is open (`serve` names it while it is there). */
const desktop = new DesktopService<BranchLensService>();

/**
 * Flushes the write-behind cache and the audit log, then stops the engine workers: once, and bounded; after the
 * open ends when the service is still opening.
 */
const shutdown = new BoundedShutdown({
  close: () => desktop.close(),
  limitMs: SHUTDOWN_LIMIT_MS,
  log: logger,
});

/** Quitting, and the system ending the session (Windows) or shutting down, all through the shutdown above. */
const ending = new AppEnding({
  shutdown,
  quit: () => app.quit(),
  exit: (code) => app.exit(code),
  log: logger,
});

/** `npm start` waits for this line to know the window opened (else it serves the UI instead). */
const signalReady = readySignal(process.env, (line) => process.stdout.write(line));

function saveTarget(event: IpcMainInvokeEvent): SaveTarget {
  const owner = BrowserWindow.fromWebContents(event.sender);
  return {
    dialog: {
      showSaveDialog: (options) =>
        owner ? dialog.showSaveDialog(owner, options) : dialog.showSaveDialog(options),
    },
    defaultDir: app.getPath('documents'),
    locale: locale(),
    dataDir: desktop.service?.dataDir ?? dataDir(),
  };
}

/**
 * The language of the native dialogs: the settings', from the open service or, when it did not open (the
 * "cannot start" box, the rollback offer), straight from the database; else the OS's.
 */
function locale(): Locale {
  let settings: Locale | undefined;
  try {
    const service = desktop.service;
    settings = service ? service.getSettings().locale : storedLocale(dataDir());
  } catch {
    // the database is not readable: the OS's language
  }
  return desktopLocale(settings, app.getLocale());
}

/** The service's options: the data folder, its keys (in the OS keyring where there is one), the engines. */
function serviceOptions(): ServiceOptions {
  const dir = dataDir();
  const secrets = chooseSecretStore(dir, safeStorage);
  if (secrets.warning) logger.warn(secrets.warning);
  return { dataDir: dir, workers: engineWorkerCount(availableParallelism()), secrets: secrets.store };
}

async function openService(): Promise<BranchLensService> {
  return BranchLensService.open(serviceOptions());
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    title: 'BranchLens',
    width: 1280,
    height: 860,
    minWidth: 960,
    minHeight: 640,
    show: false,
    webPreferences: secureWebPreferences(join(here, 'preload.cjs'), { devTools: !app.isPackaged }),
  });
  win.once('ready-to-show', () => {
    win.show();
    signalReady();
  });
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
  });
  // Windows: shutting down or logging off emits no before-quit, so the service would never close in order.
  win.on('session-end', (event) => void ending.sessionEnd(event.reasons));
  // A window whose page cannot load would stay hidden while holding the single-instance lock: say so and quit.
  // Not when the load merely did not finish: the window closed meanwhile, the app is quitting, or the crash
  // handler's reload below superseded it.
  win.loadURL(APP_START_URL).catch((e: unknown) => {
    if (isIgnorableLoadFailure(e, { windowDestroyed: win.isDestroyed(), shuttingDown: shutdown.begun })) {
      log(`the window's first load did not finish (${e instanceof Error ? e.message : String(e)})`);
      return;
    }
    fail(e);
  });
  // A renderer that crashed (or was killed) leaves a blank window: reload it, but not in a loop.
  let lastReload = 0;
  win.webContents.on('render-process-gone', (_event, details) => {
    logger.error(`the window's page ended (${details.reason}, exit code ${details.exitCode})`);
    if (details.reason === 'clean-exit' || win.isDestroyed()) return;
    if (Date.now() - lastReload < 10_000)
      return fail(new Error(`the window's page keeps ending (${details.reason})`));
    lastReload = Date.now();
    win.reload();
  });
  return win;
}

async function start(): Promise<void> {
  const root = rendererRoot();
  hardenSession(session.defaultSession, log);
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(root, request));

  const service = await desktop.open(openService);
  if (!service) return; // the app began quitting while the service opened: the shutdown closes it
  // Linux, macOS: delays the system's shutdown while the app quits as usual (before-quit, the shutdown above).
  powerMonitor.on('shutdown', (event?: Electron.Event) => ending.systemShutdown(event));
  // Never removed: while quitting (the window may stay open up to SHUTDOWN_LIMIT_MS) each call is answered that
  // the app is closing, not "no handler" (which the preload reports as an unknown method).
  registerIpc<IpcMainInvokeEvent>(ipcMain, apiHandlers(service), {
    desktop: {
      printToPdf: (event, name) => printReportToPdf(event.sender, saveTarget(event), name),
      saveFile: (event, name, bytes) => saveFileAs(saveTarget(event), name, bytes),
      exportAudit: async (event, name, request) => {
        const open = desktop.service;
        if (!open) throw new Error('the service is not open');
        return exportAuditAs(saveTarget(event), open, name, request);
      },
    },
    log: (message, error) => logger.error(message, error),
    isClosing: () => shutdown.begun,
  });
  log(`data in ${service.dataDir}; ${service.health().workers} engine worker(s) on ${service.backend}`);
  mainWindow = createWindow();
}

/**
 * Errors a user can hit are shown in a dialog in plain words; the details go to the log. Then the service closes
 * (bounded) before the exit, which skips before-quit: the audit log gets its closing checkpoint, the cache its flush.
 */
const failed = startFailureHandler({
  log: logger,
  showError: (message) => {
    const text = cannotStartText(locale(), message, logger.path);
    dialog.showErrorBox(text.title, text.content);
  },
  shutdown,
  quitting: () => ending.quitting,
  exit: (code) => app.exit(code),
});
function fail(e: unknown): void {
  void failed(e);
}

/**
 * The active model cannot be loaded (its files changed on disk, say): offer the way out the CLI has, a
 * rollback to the model active before it (checked like any other), then start again.
 */
async function offerRollback(e: BundleError): Promise<'relaunched' | 'quit'> {
  const choice = dialog.showMessageBoxSync({
    type: 'error',
    title: 'BranchLens',
    ...rollbackOfferText(locale(), e),
    defaultId: 0,
    cancelId: 1,
  });
  if (choice !== 0) return 'quit';
  const { service: maintenance } = await BranchLensService.openForModelChanges({
    ...serviceOptions(),
    workers: 0,
  });
  try {
    log((await maintenance.rollbackModel()).message);
  } finally {
    await maintenance.close();
  }
  app.relaunch(
    relaunchOptions({
      isPackaged: app.isPackaged,
      platform: process.platform,
      env: process.env,
      argv: process.argv,
    }),
  );
  app.exit(0);
  return 'relaunched';
}

async function startOrRecover(): Promise<void> {
  try {
    await start();
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    await shutdown.run(); // whatever start() had opened
    if ((await offerRollback(e)) === 'quit') app.exit(1);
  }
}

app.on('web-contents-created', (_event, contents) => hardenContents(contents, log));

if (!app.requestSingleInstanceLock()) {
  // Another BranchLens owns the data dir (database, audit log): hand over to it.
  app.quit();
} else {
  app.on('second-instance', () => {
    // Still starting (no window yet): the window shows itself when ready. Otherwise bring it forward.
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('activate', () => {
    if (!mainWindow && desktop.service && !shutdown.begun) mainWindow = createWindow();
  });
  app.on('before-quit', (event) => ending.beforeQuit(event));
  steadyHeapGrowth(); // open all day: a steady RSS over V8's fastest growth (main/core/heap-growth.ts)
  app.whenReady().then(startOrRecover).catch(fail);
}
