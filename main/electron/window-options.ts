// The window's webPreferences, per Electron's security checklist: isolated context, sandboxed renderer, no Node
// in the page, web security on, no <webview>. Plain data, so a test can check every flag without Electron.
import { engineCount } from '../core/engine-tuning.js';

/** The options main.ts gives the BrowserWindow (a subset of Electron.WebPreferences). */
export function secureWebPreferences(preload: string, opts: { devTools: boolean }) {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: opts.devTools,
  } as const;
}

/** How many engine workers the app runs: one per core, or $BRANCHLENS_WORKERS (refused when not a count). */
export function engineWorkerCount(cores: number, env: NodeJS.ProcessEnv = process.env): number {
  return engineCount(env.BRANCHLENS_WORKERS, '$BRANCHLENS_WORKERS', cores);
}
