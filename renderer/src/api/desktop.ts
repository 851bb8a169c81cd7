// The desktop app's preload API (main/electron/preload.cts), present as window.branchlens only inside it.
import type { BranchLensBridge } from '../../../shared/bridge.js';

declare global {
  interface Window {
    branchlens?: BranchLensBridge;
  }
}

/** The desktop bridge, when this page runs inside the desktop app. */
export function desktopBridge(): BranchLensBridge | undefined {
  return typeof window !== 'undefined' ? window.branchlens : undefined;
}
