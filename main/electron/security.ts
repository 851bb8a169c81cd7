// The app-wide rules of Electron's security checklist that are not window options: every permission request
// is denied, nothing navigates away from app://branchlens/, no window opens, no <webview> attaches, nothing is
// downloaded, and the session never reaches the network (BranchLens is offline by design).
import type { Session, WebContents } from 'electron';
import { isAppUrl } from './app-origin.js';

const NETWORK_URLS = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'ftp://*/*'];

export function hardenSession(ses: Session, log: (message: string) => void = () => undefined): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.setDisplayMediaRequestHandler((_request, callback) => callback(null));
  ses.webRequest.onBeforeRequest({ urls: NETWORK_URLS }, (_details, callback) => callback({ cancel: true }));
  // Every file the app saves goes through the preload's bridge (the save dialog, the data folder refused); a
  // download started by the page (an <a download>, a blob URL) would bypass both, so none is allowed.
  ses.on('will-download', (event, item) => {
    event.preventDefault();
    log(`blocked a download of ${item.getFilename()}`);
  });
}

/** Applied to every WebContents the app creates (app.on('web-contents-created')). */
export function hardenContents(contents: WebContents, log: (message: string) => void): void {
  contents.on('will-navigate', (event) => {
    if (!isAppUrl(event.url)) {
      event.preventDefault();
      log(`blocked navigation to ${event.url}`);
    }
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url)) {
      event.preventDefault();
      log(`blocked frame navigation to ${event.url}`);
    }
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) {
      event.preventDefault();
      log(`blocked redirect to ${event.url}`);
    }
  });
  contents.setWindowOpenHandler(({ url }) => {
    log(`blocked a new window for ${url}`);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
