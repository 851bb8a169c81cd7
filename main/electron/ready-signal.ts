// How `npm start` (scripts/start.ts) learns that the desktop app's window did open: it sets READY_SIGNAL_ENV, and
// the app prints READY_MARKER on its standard output once, when the window is ready to show. An Electron that
// exits with an error before that (Chromium refusing to run as root without --no-sandbox, a broken GPU or
// sandbox) never opened its window, so `npm start` serves the UI instead; after it, the app ran.
// No Electron here: the launcher imports it too.

/** The variable `npm start` sets (to "1") when it launches the app. */
export const READY_SIGNAL_ENV = 'BRANCHLENS_READY_SIGNAL';

/** The line the app prints when its window is ready to show. */
export const READY_MARKER = 'BranchLens: the window is ready';

/**
 * Returns the function to call when the window is ready to show: it writes READY_MARKER as one line, once, when
 * the launcher asked for it; otherwise it does nothing. The variable is read once and removed, so that processes
 * the app starts later (a relaunch after a rollback) do not print the marker to whoever reads their output.
 */
export function readySignal(env: NodeJS.ProcessEnv, write: (line: string) => void): () => void {
  const asked = env[READY_SIGNAL_ENV] === '1';
  delete env[READY_SIGNAL_ENV];
  let sent = false;
  return () => {
    if (!asked || sent) return;
    sent = true;
    try {
      write(`${READY_MARKER}\n`);
    } catch {
      // No standard output to write to (a GUI process on Windows started without one): nobody is waiting.
    }
  };
}
