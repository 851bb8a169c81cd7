// The window follows Electron's security checklist; the engine gets one worker per core.
import { describe, expect, it } from 'vitest';
import { engineWorkerCount, secureWebPreferences } from '../../../main/electron/window-options.js';

describe('secureWebPreferences', () => {
  it('isolates and sandboxes the page, with no Node in it', () => {
    const prefs = secureWebPreferences('/app/preload.cjs', { devTools: false });
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      devTools: false,
    });
  });
});

describe('engineWorkerCount', () => {
  it('runs one engine per core unless $BRANCHLENS_WORKERS says otherwise', () => {
    expect(engineWorkerCount(8, {})).toBe(8);
    expect(engineWorkerCount(0, {})).toBe(1);
    expect(engineWorkerCount(8, { BRANCHLENS_WORKERS: '2' })).toBe(2);
    expect(engineWorkerCount(8, { BRANCHLENS_WORKERS: '' })).toBe(8);
  });

  it('refuses a $BRANCHLENS_WORKERS that is not a count, or too many, naming the variable', () => {
    for (const raw of ['0', 'many', '2.5', '-1']) {
      expect(() => engineWorkerCount(8, { BRANCHLENS_WORKERS: raw })).toThrow(
        `$BRANCHLENS_WORKERS: must be a whole number ≥ 1, got "${raw}"`,
      );
    }
    expect(engineWorkerCount(2, { BRANCHLENS_WORKERS: '8' })).toBe(8);
    expect(() => engineWorkerCount(2, { BRANCHLENS_WORKERS: '9' })).toThrow(
      "$BRANCHLENS_WORKERS: must be at most 8 (4 per core on this machine's 2), got 9",
    );
  });
});
