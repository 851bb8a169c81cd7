// The desktop app's ending, kept out of main.ts so that it runs and is tested in plain Node: the bounded shutdown
// (the service flushes the cache and the audit log, with its closing checkpoint), the ways the app ends (quitting,
// the system shutting down or the user logging off), the "cannot start" path that runs that shutdown before
// exiting, which failures of the window's first load are no failure at all, and how the app starts itself again
// after a rollback. Also the app's record in its data folder while its service is open. Electron is reached only
// through the functions passed in.
import { recordDesktopApp } from '../core/data-dir.js';

/** What the app's logger offers here (main/core/log-file.ts). */
export interface LifecycleLog {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

/** How a bounded shutdown ended. */
export type ShutdownOutcome = 'closed' | 'failed' | 'timed-out';

export interface ShutdownOptions {
  /** Closes what is open: the service (engines, the write-behind cache, the audit writer). */
  close(): Promise<void>;
  /** The longest the close may take before the app exits anyway. */
  limitMs: number;
  log: LifecycleLog;
}

/**
 * The shutdown, run once however often it is asked for (before-quit, the session's end, a failed start), and
 * bounded: a close that hangs (a worker stuck in native code) must not leave a windowless process holding the
 * single-instance lock, which would refuse every later start. Committed audit entries are already durable.
 */
export class BoundedShutdown {
  #outcome: Promise<ShutdownOutcome> | undefined;

  constructor(private readonly options: ShutdownOptions) {}

  /** Whether the shutdown has begun: from then on the IPC handlers answer that the app is closing. */
  get begun(): boolean {
    return this.#outcome !== undefined;
  }

  /** Begins the shutdown (once); resolves when the close ended or the limit passed, whichever comes first. */
  run(): Promise<ShutdownOutcome> {
    this.#outcome ??= this.#run();
    return this.#outcome;
  }

  async #run(): Promise<ShutdownOutcome> {
    const { close, limitMs, log } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<ShutdownOutcome>((resolve) => {
      timer = setTimeout(() => {
        log.error(`shutdown took over ${limitMs / 1000} s; exiting`);
        resolve('timed-out');
      }, limitMs);
    });
    const closed = Promise.resolve()
      .then(close)
      .then(
        (): ShutdownOutcome => 'closed',
        (e: unknown): ShutdownOutcome => {
          log.error('shutdown failed', e);
          return 'failed';
        },
      );
    try {
      return await Promise.race([closed, limit]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What the app needs here of its service (BranchLensService). */
export interface ClosableService {
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A service the desktop app opened, recorded in its data folder until `close`. */
export interface RecordedService<S extends ClosableService> {
  readonly service: S;
  /** Closes the service, then removes the record, even when the close failed. */
  close(): Promise<void>;
}

/**
 * Opens the service and records the app in its data folder (recordDesktopApp) while it is open, so that a
 * `branchlens serve` started on the same folder says the desktop app uses it too, as it says of another server.
 */
export async function openRecorded<S extends ClosableService>(
  open: () => Promise<S>,
): Promise<RecordedService<S>> {
  const service = await open();
  const unrecord = recordDesktopApp(service.dataDir);
  return {
    service,
    async close() {
      try {
        await service.close();
      } finally {
        unrecord();
      }
    },
  };
}

/**
 * The desktop app's service from the moment it begins to open. A quit while it is still opening (a slow first
 * start, the user closing at once) waits for the open to end and then closes what it opened: without this the
 * shutdown found nothing to close, and the service opened afterwards was never closed (no closing checkpoint, no
 * cache flush, the app's record left in its data folder).
 */
export class DesktopService<S extends ClosableService> {
  #opening: Promise<RecordedService<S>> | undefined;
  #open: RecordedService<S> | undefined;
  #closing = false;

  /** The open service; undefined before it opened and from the moment the close begins. */
  get service(): S | undefined {
    return this.#open?.service;
  }

  /**
   * Opens the service and records the app while it is open (openRecorded). Resolves to undefined when the close
   * began meanwhile (that close then closes it): the caller starts nothing on it. A failed open rejects.
   */
  async open(open: () => Promise<S>): Promise<S | undefined> {
    if (this.#closing || this.#opening) return undefined;
    const opening = openRecorded(open);
    this.#opening = opening;
    const opened = await opening;
    if (this.#closing) return undefined;
    this.#open = opened;
    return opened.service;
  }

  /** Closes the service, once: after its open ended when it is still opening; nothing when it never opened. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#open = undefined;
    let opened: RecordedService<S>;
    try {
      if (!this.#opening) return;
      opened = await this.#opening;
    } catch {
      return; // it did not open: nothing to close (open's caller reports why)
    }
    await opened.close();
  }
}

/** What Electron hands the listeners of before-quit and powerMonitor's shutdown: an event that can be prevented. */
export interface PreventableEvent {
  preventDefault(): void;
}

export interface EndingOptions {
  shutdown: BoundedShutdown;
  /** Electron: app.quit, which emits before-quit (answered by `beforeQuit`) before the app ends. */
  quit(): void;
  /** Electron: app.exit, which skips before-quit and will-quit. */
  exit(code: number): void;
  log: LifecycleLog;
}

/**
 * The ways the app ends, each through the one bounded shutdown (the audit log's closing checkpoint, the cache's
 * flush):
 * - quitting (`beforeQuit`, app's before-quit): held until the shutdown ends, then the app quits (or exits with 1
 *   when the close outlived its limit);
 * - Windows ending the session (`sessionEnd`, the window's session-end: shut down, restart, log off), where
 *   before-quit is never emitted and nothing can delay the end: the same shutdown starts at once, best effort, and
 *   the app exits when it ends, unless Windows ends the process first (acknowledged entries are durable already);
 * - Linux and macOS shutting down (`systemShutdown`, powerMonitor's shutdown): the event is prevented, which makes
 *   Electron delay the shutdown (logind's delay lock), and the app quits as usual, through before-quit.
 * query-session-end is not listened to: the officer's shutdown is never refused, since nothing is lost.
 */
export class AppEnding {
  #quitting = false;
  #shutDown = false;
  #sessionEnd: Promise<void> | undefined;

  constructor(private readonly options: EndingOptions) {}

  /** Whether the app is on its way out (before-quit ran, or the session is ending). */
  get quitting(): boolean {
    return this.#quitting;
  }

  beforeQuit(event: PreventableEvent): void {
    if (this.#shutDown) return;
    event.preventDefault();
    this.#quitting = true;
    void this.options.shutdown.run().then((outcome) => {
      this.#shutDown = true;
      if (outcome === 'timed-out') this.options.exit(1);
      else this.options.quit();
    });
  }

  sessionEnd(reasons: readonly string[]): Promise<void> {
    this.#sessionEnd ??= (async () => {
      this.#quitting = true;
      this.options.log.info(`the session is ending (${reasons.join(', ') || 'no reason given'}): closing`);
      const outcome = await this.options.shutdown.run();
      this.#shutDown = true;
      this.options.exit(outcome === 'closed' ? 0 : 1);
    })();
    return this.#sessionEnd;
  }

  systemShutdown(event?: PreventableEvent): void {
    event?.preventDefault();
    // On macOS Electron may ask this of other requests to terminate the app too: the same quit either way.
    this.options.log.info('the system asks the app to end (a shutdown, a restart, a log-out): quitting');
    this.options.quit();
  }
}

/** Chromium's net error for a load that a newer navigation (a reload, say) aborted. */
export const ERR_ABORTED = -3;

/** What webContents.loadURL's rejection carries (Electron sets errno and code on the Error). */
interface LoadError {
  errno?: unknown;
  code?: unknown;
}

/**
 * Whether a rejected load of the window's page is no reason to give up on the app: the window was destroyed
 * while it loaded (ERR_FAILED), the app is already quitting, or a newer navigation of the same window (the crash
 * handler's own reload) aborted it (ERR_ABORTED), which loads the page itself.
 */
export function isIgnorableLoadFailure(
  error: unknown,
  state: { windowDestroyed: boolean; shuttingDown: boolean },
): boolean {
  if (state.windowDestroyed || state.shuttingDown) return true;
  const { errno, code } = (typeof error === 'object' && error !== null ? error : {}) as LoadError;
  return errno === ERR_ABORTED || code === 'ERR_ABORTED';
}

export interface StartFailureOptions {
  log: LifecycleLog;
  /** Shows the "cannot start" box (Electron: dialog.showErrorBox, in the settings' language). */
  showError(message: string): void;
  shutdown: BoundedShutdown;
  /** Whether the app is already quitting (before-quit ran): it then exits by itself, and says nothing more. */
  quitting(): boolean;
  /** Electron: app.exit, which skips before-quit and will-quit (hence the shutdown here first). */
  exit(code: number): void;
}

/**
 * The app's answer to a failure it cannot start (or go on) from, as `fail(error)`: the error is logged, the box
 * says so in plain words, then the bounded shutdown closes whatever was opened (the audit log's checkpoint, the
 * cache) before the process exits with 1. Only the first failure is shown.
 */
export function startFailureHandler(options: StartFailureOptions): (error: unknown) => Promise<void> {
  let failing = false;
  return async (error) => {
    const { log, shutdown } = options;
    if (failing || options.quitting()) {
      log.error('failed while ending', error);
      return;
    }
    failing = true;
    log.error('cannot start', error);
    options.showError(error instanceof Error ? error.message : String(error));
    await shutdown.run();
    options.exit(1);
  };
}

/** What app.relaunch takes (Electron: RelaunchOptions). */
export interface RelaunchOptions {
  execPath: string;
  args: string[];
}

/**
 * How to start the app again after the rollback offer: undefined for Electron's own relaunch (this executable,
 * these arguments), except in an AppImage. An AppImage runs from a squashfs mounted under /tmp only while it runs,
 * so relaunching process.execPath starts a file that is gone by then: the app would quit after the rollback and
 * never come back. It is started again from the AppImage file itself ($APPIMAGE, set by its runtime), extracted
 * rather than mounted, since the ending instance's mount may still be held; the officer's arguments are kept.
 */
export function relaunchOptions(app: {
  isPackaged: boolean;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  argv: readonly string[];
}): RelaunchOptions | undefined {
  const appImage = app.env.APPIMAGE;
  if (!app.isPackaged || app.platform !== 'linux' || !appImage) return undefined;
  return { execPath: appImage, args: ['--appimage-extract-and-run', ...app.argv.slice(1)] };
}
