// Following the service: another program may change what it explains with while this page is open (`models
// activate` from the CLI, the desktop app on the same data folder, IT changing the branch's settings from another
// workstation). The service takes such a change up within seconds; the page asks it again when the window comes
// back into view or regains focus, and every FOLLOW_EVERY_MS while it is in view, with two cheap calls (health
// names the model served, getSettings the settings). Pure but for the timers and events it is given.
import type { ModelRef, Settings } from '../../../shared/contract.js';

/** How often a page in view asks again. */
export const FOLLOW_EVERY_MS = 30_000;
/** The shortest interval a test may ask for: shorter would only load the service. */
export const FOLLOW_MIN_MS = 200;
/** Focus and "visible" come together when a window is brought back: one check for both. */
export const FOLLOW_GAP_MS = 1_000;

/**
 * The interval to follow at: FOLLOW_EVERY_MS, unless a test set a number (window.__BRANCHLENS_FOLLOW_MS__, by an
 * init script) so as not to wait half a minute; never below FOLLOW_MIN_MS.
 */
export function followEveryMs(hook: unknown): number {
  if (typeof hook !== 'number' || !Number.isFinite(hook) || hook <= 0) return FOLLOW_EVERY_MS;
  return Math.max(FOLLOW_MIN_MS, Math.round(hook));
}

/** Whether the service serves another model than the one the page shows (or the page has none yet). */
export function servedModelChanged(
  served: Pick<ModelRef, 'sha256'>,
  shown: Pick<ModelRef, 'sha256'> | null | undefined,
): boolean {
  return !shown || served.sha256 !== shown.sha256;
}

export function sameSettings(a: Settings, b: Settings): boolean {
  const keys = Object.keys(a) as (keyof Settings)[];
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(a[k], b[k]));
}

/** What following needs of the window (context.tsx gives the browser's; tests in Node give their own). */
export interface FollowEnv {
  visible(): boolean;
  now(): number;
  /** Adds `listener` for the window's focus and the document's visibility change; returns its removal. */
  onShown(listener: () => void): () => void;
  every(ms: number, tick: () => void): () => void;
}

/**
 * Runs `check` every `everyMs` while the page is visible, and when it is shown again or focused (at most once a
 * FOLLOW_GAP_MS, or a tick's interval if shorter); one check at a time. Returns the stop.
 */
export function follow(env: FollowEnv, everyMs: number, check: () => Promise<void>): () => void {
  let running = false;
  let last = env.now();
  const gap = Math.min(FOLLOW_GAP_MS, everyMs);
  const run = (force: boolean) => {
    if (running || !env.visible()) return;
    if (!force && env.now() - last < gap) return;
    running = true;
    last = env.now();
    void check()
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  };
  const stopTimer = env.every(everyMs, () => run(true));
  const stopEvents = env.onShown(() => run(false));
  return () => {
    stopTimer();
    stopEvents();
  };
}
