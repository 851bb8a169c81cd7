// A refused bundle crosses IPC with its problems' reasons and params, so the desktop app words it in the
// user's language just as the browser does over HTTP.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../main/core/bundle/load.js';
import {
  registerIpc,
  type ApiHandlers,
  type InvokeEventLike,
  type IpcMainLike,
} from '../../../main/electron/ipc-adapter.js';
import { makeT } from '../../../renderer/src/i18n/i18n.js';
import { ipcCall } from '../../../renderer/src/api/ipc.js';
import { describeError } from '../../../renderer/src/lib/errors.js';
import { ipcChannel, type BranchLensBridge, type BridgeResult } from '../../../shared/bridge.js';
import { API_METHODS, type ApiMethod } from '../../../shared/contract.js';
import { tempDir } from '../cli/helpers.js';

type Listener = (event: InvokeEventLike, ...args: unknown[]) => unknown;

const APP_PAGE: InvokeEventLike = {
  senderFrame: { url: 'app://branchlens/index.html#/models', parent: null },
};

/** ipcMain and the preload's bridge in one: an answer is structured-cloned on its way, as Electron does. */
function fakeDesktop(handlers: ApiHandlers): BranchLensBridge {
  const listeners = new Map<string, Listener>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => void listeners.set(channel, listener as Listener),
    removeHandler: (channel) => void listeners.delete(channel),
  };
  registerIpc(ipc, handlers, { log: () => {} });
  return {
    async invoke<M extends ApiMethod>(method: M, request: unknown) {
      const answer = await listeners.get(ipcChannel(method))!(APP_PAGE, request);
      return structuredClone(answer) as BridgeResult<M>;
    },
    printToPdf: async () => null,
    saveFile: async () => null,
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
