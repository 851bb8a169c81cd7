// A refused bundle crosses IPC with its problems' reasons and params, so the desktop app words it in the
// user's language just as the browser does over HTTP; and so does a report the officer saves into the data folder.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../main/core/bundle/load.js';
import {
  PRINT_TO_PDF_CHANNEL,
  registerIpc,
  type ApiHandlers,
  type DesktopCalls,
  type InvokeEventLike,
  type IpcMainLike,
} from '../../../main/electron/ipc-adapter.js';
import { makeT } from '../../../renderer/src/i18n/i18n.js';
import { ipcCall } from '../../../renderer/src/api/ipc.js';
import { printReportToPdf } from '../../../main/electron/print.js';
import { printToPdfVia } from '../../../renderer/src/lib/desktop-save.js';
import { describeError } from '../../../renderer/src/lib/errors.js';
import {
  ipcChannel,
  type BranchLensBridge,
  type BridgeResult,
  type SaveResult,
} from '../../../shared/bridge.js';
import { API_METHODS, type ApiMethod } from '../../../shared/contract.js';
import { removeDir, tempDir } from '../cli/helpers.js';

type Listener = (event: InvokeEventLike, ...args: unknown[]) => unknown;

const APP_PAGE: InvokeEventLike = {
  senderFrame: { url: 'app://branchlens/index.html#/models', parent: null },
};

/** ipcMain and the preload's bridge in one: an answer is structured-cloned on its way, as Electron does. */
function fakeDesktop(handlers: ApiHandlers, desktop?: DesktopCalls): BranchLensBridge {
  const listeners = new Map<string, Listener>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => void listeners.set(channel, listener as Listener),
    removeHandler: (channel) => void listeners.delete(channel),
  };
  registerIpc(ipc, handlers, { log: () => {}, ...(desktop ? { desktop } : {}) });
  const call = async (channel: string, ...args: unknown[]) =>
    structuredClone(await listeners.get(channel)!(APP_PAGE, ...args));
  return {
    async invoke<M extends ApiMethod>(method: M, request: unknown) {
      return (await call(ipcChannel(method), request)) as BridgeResult<M>;
    },
    printToPdf: async (name) => (await call(PRINT_TO_PDF_CHANNEL, name)) as SaveResult,
    saveFile: async () => ({ ok: true, value: null }),
    exportAudit: async () => ({ ok: true, value: null }),
  };
}

/** Handlers whose importModel reads the bundle as the service does first; the others are never called. */
function importingHandlers(): ApiHandlers {
  const table: Record<string, (request: unknown) => Promise<unknown>> = {};
  for (const method of API_METHODS) table[method] = async () => ({});
  table.importModel = async (request) => readBundle((request as { path: string }).path);
  return table as unknown as ApiHandlers;
}

describe('a bundle refused over IPC', () => {
  it('keeps each problem’s reason and params, and is worded in Chinese', async () => {
    const dir = join(tempDir('branchlens-ipc-reasons-'), 'no-such-bundle');
    const bridge = fakeDesktop(importingHandlers());
    const result = await bridge.invoke('importModel', { path: dir });
    expect(result).toEqual({
      ok: false,
      error: {
        error: 'invalid_request',
        message: `invalid model bundle:\n  - ${dir}: is not a folder`,
        problems: [
          {
            field: dir,
            code: 'missing',
            message: 'is not a folder',
            reason: 'not_a_folder',
            params: { dir },
          },
        ],
      },
    });
    const error = await ipcCall(bridge)('importModel', { path: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(describeError(error, makeT('zh-CN'))).toBe(`模型包无效：${dir} 不存在或不是文件夹`);
  });
});

describe('a report saved into the data folder', () => {
  it('reaches the page as the ApiError of a refused call, worded in Chinese with its problem', async () => {
    const data = tempDir('branchlens-ipc-report-data-');
    try {
      const db = join(data, 'branchlens.db');
      writeFileSync(db, 'the audit trail');
      const bridge = fakeDesktop(importingHandlers(), {
        printToPdf: (_event, name) =>
          printReportToPdf(
            { printToPDF: async () => Buffer.from('%PDF') },
            {
              dialog: { showSaveDialog: async () => ({ canceled: false, filePath: db }) },
              defaultDir: data,
              locale: 'zh-CN',
              dataDir: data,
            },
            name,
          ),
        saveFile: async () => null,
        exportAudit: async () => null,
      });
      const error = await printToPdfVia(bridge, 'report').then(
        () => undefined,
        (e: unknown) => e,
      );
      const text = describeError(error, makeT('zh-CN'));
      expect(text).toMatch(/^请求有误：file: .*branchlens\.db is inside the data folder/);
      expect(text).not.toMatch(/Error invoking remote method|服务出错/);
      expect(readdirSync(data)).toEqual(['branchlens.db']);
    } finally {
      removeDir(data);
    }
  });
});
