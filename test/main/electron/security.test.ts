// The app-wide security rules, run in plain Node against fakes of Electron's Session and WebContents: every
// permission is denied, the session never reaches the network, nothing navigates away from app://branchlens/,
// no window opens and no <webview> attaches.
import { describe, expect, it, vi } from 'vitest';
import { APP_START_URL } from '../../../main/electron/app-origin.js';
import { hardenContents, hardenSession } from '../../../main/electron/security.js';

type Session = Parameters<typeof hardenSession>[0];
type WebContents = Parameters<typeof hardenContents>[0];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => any;

/** The parts of a Session that hardenSession sets: it records each handler so the test can call it. */
class FakeSession {
  permissionRequest?: Handler;
  permissionCheck?: Handler;
  devicePermission?: Handler;
  displayMediaRequest?: Handler;
  beforeRequest?: { filter: { urls: string[] }; listener: Handler };
  readonly listeners = new Map<string, Handler[]>();

  on(event: string, listener: Handler): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  readonly webRequest = {
    onBeforeRequest: (filter: { urls: string[] }, listener: Handler) => {
      this.beforeRequest = { filter, listener };
    },
  };
  setPermissionRequestHandler(handler: Handler): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: Handler): void {
    this.permissionCheck = handler;
  }
  setDevicePermissionHandler(handler: Handler): void {
    this.devicePermission = handler;
  }
  setDisplayMediaRequestHandler(handler: Handler): void {
    this.displayMediaRequest = handler;
  }
}

/** The parts of a WebContents that hardenContents uses; `emit` fires an event as Electron would. */
class FakeContents {
  readonly listeners = new Map<string, Handler[]>();
  windowOpen?: Handler;

  on(event: string, listener: Handler): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  setWindowOpenHandler(handler: Handler): void {
    this.windowOpen = handler;
  }
  /** Fires `name` with an event for `url`; true when a listener called preventDefault. */
  emit(name: string, url: string): boolean {
    const event = { url, preventDefault: vi.fn() };
    for (const listener of this.listeners.get(name) ?? []) listener(event, url);
    return event.preventDefault.mock.calls.length > 0;
  }
}

function hardenedSession(): FakeSession {
  const ses = new FakeSession();
  hardenSession(ses as unknown as Session);
  return ses;
}

function hardenedContents(): { contents: FakeContents; log: string[] } {
  const contents = new FakeContents();
  const log: string[] = [];
  hardenContents(contents as unknown as WebContents, (message) => log.push(message));
  return { contents, log };
}

const PERMISSIONS = [
  'media',
  'geolocation',
  'notifications',
  'midi',
  'midiSysex',
  'pointerLock',
  'fullscreen',
  'openExternal',
  'clipboard-read',
  'clipboard-sanitized-write',
  'display-capture',
  'window-management',
  'hid',
  'serial',
  'usb',
  'unknown',
];

const APP_PAGES = [APP_START_URL, 'app://branchlens/audit/42', 'app://branchlens/index.html#/explain'];

const ELSEWHERE = [
  'https://example.com/',
  'http://127.0.0.1:8080/',
  'file:///etc/passwd',
  'app://elsewhere/index.html',
  'app://user:secret@branchlens/index.html',
  'devtools://devtools/bundled/inspector.html',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'not a url',
];

describe('hardenSession', () => {
  it('cancels every download the page starts (files are saved through the bridge only)', () => {
    const ses = new FakeSession();
    const log: string[] = [];
    hardenSession(ses as unknown as Session, (message) => log.push(message));
    const listeners = ses.listeners.get('will-download') ?? [];
    expect(listeners).toHaveLength(1);
    const event = { preventDefault: vi.fn() };
    listeners[0]!(event, { getFilename: () => 'audit.csv' }, {});
    expect(event.preventDefault).toHaveBeenCalledOnce();
    expect(log).toEqual(['blocked a download of audit.csv']);
  });

  it('denies every permission request', () => {
    const ses = hardenedSession();
    expect(ses.permissionRequest).toBeTypeOf('function');
    for (const permission of PERMISSIONS) {
      const callback = vi.fn();
      ses.permissionRequest!({}, permission, callback, { requestingUrl: APP_START_URL });
      expect(callback, permission).toHaveBeenCalledExactlyOnceWith(false);
    }
  });

  it('answers every permission check with false', () => {
    const ses = hardenedSession();
    expect(ses.permissionCheck).toBeTypeOf('function');
    for (const permission of PERMISSIONS) {
      expect(ses.permissionCheck!(null, permission, 'app://branchlens', {}), permission).toBe(false);
    }
  });

  it('grants no device (HID, serial, USB)', () => {
    const ses = hardenedSession();
    expect(ses.devicePermission).toBeTypeOf('function');
    for (const deviceType of ['hid', 'serial', 'usb']) {
      expect(ses.devicePermission!({ deviceType, origin: 'app://branchlens' }), deviceType).toBe(false);
    }
  });

  it('shares no screen or window', () => {
    const ses = hardenedSession();
    expect(ses.displayMediaRequest).toBeTypeOf('function');
    const callback = vi.fn();
    ses.displayMediaRequest!({ securityOrigin: 'app://branchlens' }, callback);
    expect(callback).toHaveBeenCalledExactlyOnceWith(null);
  });

  it('cancels every request to the network, and only those', () => {
    const ses = hardenedSession();
    expect(ses.beforeRequest).toBeDefined();
    const { filter, listener } = ses.beforeRequest!;
    expect([...filter.urls].sort()).toEqual([
      'ftp://*/*',
      'http://*/*',
      'https://*/*',
      'ws://*/*',
      'wss://*/*',
    ]);
    const callback = vi.fn();
    listener({ url: 'https://example.com/track.js' }, callback);
    expect(callback).toHaveBeenCalledExactlyOnceWith({ cancel: true });
  });
});

describe('hardenContents', () => {
  it.each(['will-navigate', 'will-frame-navigate', 'will-redirect'])(
    '%s: stays on the app page, and any other place is prevented and logged',
    (name) => {
      const { contents, log } = hardenedContents();
      expect(contents.listeners.get(name)).toHaveLength(1);
      for (const url of APP_PAGES) expect(contents.emit(name, url), url).toBe(false);
      expect(log).toEqual([]);
      for (const url of ELSEWHERE) expect(contents.emit(name, url), url).toBe(true);
      expect(log).toHaveLength(ELSEWHERE.length);
      ELSEWHERE.forEach((url, i) => expect(log[i]).toContain(url));
    },
  );

  it('opens no new window, not even for an app page, and logs the attempt', () => {
    const { contents, log } = hardenedContents();
    expect(contents.windowOpen).toBeTypeOf('function');
    for (const url of [...ELSEWHERE, ...APP_PAGES]) {
      expect(
        contents.windowOpen!({ url, frameName: '', features: '', disposition: 'new-window' }),
        url,
      ).toEqual({
        action: 'deny',
      });
    }
    expect(log).toHaveLength(ELSEWHERE.length + APP_PAGES.length);
    expect(log[0]).toContain(ELSEWHERE[0]);
  });

  it('attaches no <webview>', () => {
    const { contents } = hardenedContents();
    expect(contents.listeners.get('will-attach-webview')).toHaveLength(1);
    expect(contents.emit('will-attach-webview', APP_START_URL)).toBe(true);
  });
});
