// The IPC transport, run in plain Node through a fake ipcMain: every contract method is reachable on its channel,
// only the app's own top-level page may call, bad requests get the same problem bodies as over HTTP.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHandlers } from '../../../main/core/api.js';
import { BranchLensService } from '../../../main/core/service.js';
import { BusyError } from '../../../main/core/microbatch.js';
import { NotFoundError } from '../../../main/core/service.js';
import {
  CLOSING,
  EXPORT_AUDIT_CHANNEL,
  PRINT_TO_PDF_CHANNEL,
  SAVE_FILE_CHANNEL,
  isAppMainFrame,
  registerIpc,
  type ApiHandlers,
  type AuditExportRequest,
  type InvokeEventLike,
  type IpcMainLike,
} from '../../../main/electron/ipc-adapter.js';
import { printReportToPdf, saveFileAs, type SaveTarget } from '../../../main/electron/print.js';
import { ipcChannel, type BridgeResult, type ExportResult, type SaveResult } from '../../../shared/bridge.js';
import { InputError } from '../../../shared/problems.js';
import { API_METHODS, type ApiMethod, type ApiRequest } from '../../../shared/contract.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

type Listener = (event: InvokeEventLike, ...args: unknown[]) => unknown;

class FakeIpcMain implements IpcMainLike {
  readonly listeners = new Map<string, Listener>();
  handle(channel: string, listener: Listener): void {
    if (this.listeners.has(channel)) throw new Error(`second handler for ${channel}`);
    this.listeners.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.listeners.delete(channel);
  }
  /** What ipcRenderer.invoke(channel, ...args) would resolve to. */
  async invoke(event: InvokeEventLike, channel: string, ...args: unknown[]): Promise<unknown> {
    const listener = this.listeners.get(channel);
    if (!listener) throw new Error(`No handler registered for '${channel}'`);
    return listener(event, ...args);
  }
}

const APP_PAGE: InvokeEventLike = {
  senderFrame: { url: 'app://branchlens/index.html#/explain', parent: null },
};

/** A valid request for every contract method (a new method fails to compile here until it gets one). */
const VALID_REQUESTS: { [M in ApiMethod]: ApiRequest<M> } = {
  health: {},
  getModel: {},
  explain: { applicants: [{ age: 30 }], options: { top_k: 3 } },
  predict: { applicants: [{ age: 30 }] },
  verifyDocument: { document: { any: 'thing' } },
  listModels: {},
  importModel: { path: '/tmp/bundle' },
  activateModel: { ref: 'credit-demo@1.0.0' },
  rollbackModel: {},
  auditPage: { limit: 10 },
  auditEntry: { seq: 1 },
  auditVerify: {},
  auditVerifyProgress: {},
  auditExport: { format: 'jsonl' },
  auditPublicKey: {},
  monitoring: {},
  monitoringSeries: {},
  getSettings: {},
  updateSettings: { locale: 'en' },
};

/** A handlers table that records which method ran with what (already validated) request. */
function recordingHandlers(calls: { method: string; request: unknown }[]): ApiHandlers {
  const table: Record<string, (request: unknown) => Promise<unknown>> = {};
  for (const method of API_METHODS) {
    table[method] = async (request) => {
      calls.push({ method, request });
      return { answeredBy: method };
    };
  }
  return table as unknown as ApiHandlers;
}

describe('registerIpc', () => {
  it('registers every contract method on its channel, and each reaches its own handler', async () => {
    const ipc = new FakeIpcMain();
    const calls: { method: string; request: unknown }[] = [];
    registerIpc(ipc, recordingHandlers(calls));

    expect([...ipc.listeners.keys()].sort()).toEqual(API_METHODS.map(ipcChannel).sort());
    for (const method of API_METHODS) {
      const result = (await ipc.invoke(APP_PAGE, ipcChannel(method), VALID_REQUESTS[method])) as BridgeResult<
        typeof method
      >;
      expect(result, method).toEqual({ ok: true, value: { answeredBy: method } });
    }
    expect(calls.map((c) => c.method)).toEqual(API_METHODS);
    // Handlers get the parsed request, defaults applied (as over HTTP).
    expect(calls.find((c) => c.method === 'auditExport')?.request).toEqual({ format: 'jsonl', gzip: false });
    expect(calls.find((c) => c.method === 'monitoringSeries')?.request).toEqual({ max_points: 500 });
  });

  it('refuses a sender that is not the app page, and runs nothing', async () => {
    const ipc = new FakeIpcMain();
    const calls: { method: string; request: unknown }[] = [];
    registerIpc(ipc, recordingHandlers(calls));
    const strangers: InvokeEventLike[] = [
      { senderFrame: null },
      { senderFrame: { url: 'https://example.com/', parent: null } },
      { senderFrame: { url: 'file:///home/user/index.html', parent: null } },
      { senderFrame: { url: 'app://elsewhere/index.html', parent: null } },
      { senderFrame: { url: 'app://branchlens/frame.html', parent: APP_PAGE.senderFrame } },
      { senderFrame: { url: 'devtools://devtools/bundled/inspector.html', parent: null } },
    ];
    for (const event of strangers) {
      for (const method of API_METHODS) {
        const result = await ipc.invoke(event, ipcChannel(method), VALID_REQUESTS[method]);
        expect(result).toEqual({
          ok: false,
          error: { error: 'unauthorized', message: expect.any(String) },
        });
      }
    }
    expect(calls).toEqual([]);
  });

  it('refuses a sender whose frame cannot be read (a frame being torn down), and runs nothing', async () => {
    const ipc = new FakeIpcMain();
    const calls: { method: string; request: unknown }[] = [];
    registerIpc(ipc, recordingHandlers(calls));
    const disposed = {
      get senderFrame(): never {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
    } as InvokeEventLike;
    const result = await ipc.invoke(disposed, ipcChannel('health'), VALID_REQUESTS.health);
    expect(result).toEqual({ ok: false, error: { error: 'unauthorized', message: expect.any(String) } });
    expect(calls).toEqual([]);
  });

  it('answers a bad request with the invalid_request body listing its problems', async () => {
    const ipc = new FakeIpcMain();
    const calls: { method: string; request: unknown }[] = [];
    registerIpc(ipc, recordingHandlers(calls));

    const empty = (await ipc.invoke(APP_PAGE, ipcChannel('explain'), {
      applicants: [],
    })) as BridgeResult<'explain'>;
    expect(empty.ok).toBe(false);
    if (empty.ok) return;
    expect(empty.error).toMatchObject({ error: 'invalid_request' });
    expect(empty.error.error === 'invalid_request' && empty.error.problems.map((p) => p.field)).toEqual([
      'applicants',
    ]);

    const extra = (await ipc.invoke(APP_PAGE, ipcChannel('auditEntry'), {
      seq: 0,
      evil: true,
    })) as BridgeResult<'auditEntry'>;
    expect(extra).toMatchObject({ ok: false, error: { error: 'invalid_request' } });

    const window = (await ipc.invoke(APP_PAGE, ipcChannel('monitoringSeries'), {
      max_points: 100_000,
    })) as BridgeResult<'monitoringSeries'>;
    expect(
      !window.ok && window.error.error === 'invalid_request' && window.error.problems.map((p) => p.field),
    ).toEqual(['max_points']);

    const notAnObject = await ipc.invoke(APP_PAGE, ipcChannel('updateSettings'), 'zh-CN');
    expect(notAnObject).toMatchObject({ ok: false, error: { error: 'invalid_request' } });
    expect(calls).toEqual([]);
  });

  it('maps handler failures to the contract error bodies and never leaks an internal message', async () => {
    const ipc = new FakeIpcMain();
    const logged: unknown[] = [];
    const handlers = recordingHandlers([]);
    const failing = {
      ...handlers,
      auditEntry: async () => {
        throw new NotFoundError('audit entry 7 does not exist');
      },
      explain: async () => {
        throw new BusyError(2);
      },
      health: async () => {
        throw new Error('SQLITE_CORRUPT at /home/officer/secret/path');
      },
    } as unknown as ApiHandlers;
    registerIpc(ipc, failing, { log: (_message, error) => logged.push(error) });

    expect(await ipc.invoke(APP_PAGE, ipcChannel('auditEntry'), { seq: 7 })).toEqual({
      ok: false,
      error: { error: 'not_found', message: 'audit entry 7 does not exist' },
    });
    expect(await ipc.invoke(APP_PAGE, ipcChannel('explain'), VALID_REQUESTS.explain)).toMatchObject({
      ok: false,
      error: { error: 'busy', retry_after_s: 2 },
    });
    const internal = await ipc.invoke(APP_PAGE, ipcChannel('health'), {});
    expect(internal).toEqual({
      ok: false,
      error: { error: 'internal', message: 'internal error; see the server log' },
    });
    expect(JSON.stringify(internal)).not.toContain('SQLITE');
    // Only the unexpected failure is logged, with its details, in the main process.
    expect(logged).toHaveLength(1);
    expect((logged[0] as Error).message).toContain('SQLITE_CORRUPT');
  });

  it('bounds its error bodies as HTTP does: a 1 MB name is quoted cut short, 10,000 problems are cut to 100', async () => {
    const ipc = new FakeIpcMain();
    const long = 'k'.repeat(1_000_000);
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      field: `applicants[${i}].age`,
      code: 'invalid' as const,
      message: 'must be a number',
    }));
    const handlers = {
      ...recordingHandlers([]),
      predict: async () => {
        throw new InputError(many);
      },
    } as unknown as ApiHandlers;
    registerIpc(ipc, handlers, {
      desktop: {
        printToPdf: async () => null,
        saveFile: async () => null,
        exportAudit: async () => {
          throw new InputError([{ field: long, code: 'invalid', message: `"${long}" cannot be written` }]);
        },
      },
    });

    const keyed = (await ipc.invoke(APP_PAGE, ipcChannel('explain'), {
      ...VALID_REQUESTS.explain,
      [long]: 1,
    })) as BridgeResult<'explain'>;
    const listed = (await ipc.invoke(
      APP_PAGE,
      ipcChannel('predict'),
      VALID_REQUESTS.predict,
    )) as BridgeResult<'predict'>;
    const exported = (await ipc.invoke(APP_PAGE, EXPORT_AUDIT_CHANNEL, 'a.jsonl', {
      format: 'jsonl',
    })) as ExportResult;
    for (const answer of [keyed, listed, exported]) {
      if (answer.ok || answer.error.error !== 'invalid_request') throw new Error('expected invalid_request');
      // Over HTTP each of these is answered in under 20 KB: the same here, not megabytes over IPC.
      expect(JSON.stringify(answer).length).toBeLessThan(20_000);
    }
    const cut = `${'k'.repeat(64)}…(1000000 characters)`;
    expect(!keyed.ok && JSON.stringify(keyed.error)).toContain(cut);
    expect(!exported.ok && exported.error.error === 'invalid_request' && exported.error.problems[0]).toEqual({
      field: expect.stringContaining('…(1000000 characters)'),
      code: 'invalid',
      message: `"${cut}" cannot be written`,
    });
    if (listed.ok || listed.error.error !== 'invalid_request') return;
    expect(listed.error.problems).toHaveLength(100);
    expect(listed.error.problems_omitted).toBe(9_900);
    expect(listed.error.message).toMatch(/… \(10000 problems in all\)$/);
  });

  it('removes every handler it registered', () => {
    const ipc = new FakeIpcMain();
    const unregister = registerIpc(ipc, recordingHandlers([]), {
      desktop: { printToPdf: async () => null, saveFile: async () => null, exportAudit: async () => null },
    });
    expect(ipc.listeners.size).toBe(API_METHODS.length + 3);
    unregister();
    expect(ipc.listeners.size).toBe(0);
  });
});

describe('the desktop calls', () => {
  function setup() {
    const ipc = new FakeIpcMain();
    const printed: string[] = [];
    const saved: { name: string; bytes: Buffer }[] = [];
    const exported: { name: string; request: AuditExportRequest }[] = [];
    const logged: string[] = [];
    let exportFails: Error | undefined;
    registerIpc(ipc, recordingHandlers([]), {
      log: (message) => logged.push(message),
      desktop: {
        printToPdf: async (_event, name) => {
          printed.push(name);
          return `/home/officer/${name}.pdf`;
        },
        saveFile: async (_event, name, bytes) => {
          saved.push({ name, bytes });
          return `/home/officer/${name}`;
        },
        exportAudit: async (_event, name, request) => {
          if (exportFails) throw exportFails;
          exported.push({ name, request });
          return name === 'cancel.jsonl' ? null : { path: `/home/officer/${name}`, entries: 12 };
        },
      },
    });
    return { ipc, printed, saved, exported, logged, fail: (e: Error) => (exportFails = e) };
  }

  it('export reaches its implementation with the checked request, and answers as the bridge promises', async () => {
    const { ipc, exported } = setup();
    expect(
      await ipc.invoke(APP_PAGE, EXPORT_AUDIT_CHANNEL, 'audit.csv.gz', {
        format: 'csv',
        gzip: true,
        since: '2026-11-01T00:00:00+08:00',
      }),
    ).toEqual({ ok: true, value: { path: '/home/officer/audit.csv.gz', entries: 12 } });
    expect(await ipc.invoke(APP_PAGE, EXPORT_AUDIT_CHANNEL, 'cancel.jsonl', { format: 'jsonl' })).toEqual({
      ok: true,
      value: null,
    });
    // gzip defaults to false, as the contract's schema says.
    expect(exported).toEqual([
      { name: 'audit.csv.gz', request: { format: 'csv', gzip: true, since: '2026-11-01T00:00:00+08:00' } },
      { name: 'cancel.jsonl', request: { format: 'jsonl', gzip: false } },
    ]);
  });

  it('export refuses an untrusted sender and bad arguments with the contract error bodies', async () => {
    const { ipc, exported } = setup();
    const stranger: InvokeEventLike = { senderFrame: { url: 'https://example.com/', parent: null } };
    expect(await ipc.invoke(stranger, EXPORT_AUDIT_CHANNEL, 'a.jsonl', { format: 'jsonl' })).toMatchObject({
      ok: false,
      error: { error: 'unauthorized' },
    });
    const bad = (await ipc.invoke(APP_PAGE, EXPORT_AUDIT_CHANNEL, '../a.jsonl', {
      format: 'xml',
      extra: 1,
    })) as ExportResult;
    if (bad.ok || bad.error.error !== 'invalid_request') throw new Error(JSON.stringify(bad));
    expect(bad.error.problems.map((p) => p.field).sort()).toEqual(['extra', 'file name', 'format']);
    expect(exported).toEqual([]);
  });

  it('export failures become their error bodies; only the unexpected ones are logged', async () => {
    const { ipc, logged, fail } = setup();
    fail(new InputError([{ field: 'file', code: 'invalid', message: 'cannot write /x: it is a folder' }]));
    expect(await ipc.invoke(APP_PAGE, EXPORT_AUDIT_CHANNEL, 'a.jsonl', { format: 'jsonl' })).toMatchObject({
      ok: false,
      error: { error: 'invalid_request', problems: [{ field: 'file' }] },
    });
    expect(logged).toEqual([]);
    fail(new Error('SQLITE_IOERR: disk I/O error at /secret/path'));
    const internal = (await ipc.invoke(APP_PAGE, EXPORT_AUDIT_CHANNEL, 'a.jsonl', {
      format: 'jsonl',
    })) as ExportResult;
    expect(internal).toMatchObject({ ok: false, error: { error: 'internal' } });
    expect(JSON.stringify(internal)).not.toContain('/secret/path');
    expect(logged).toEqual(['IPC exportAudit failed']);
  });

  it('print and save reach their implementation with checked arguments, and answer as the bridge promises', async () => {
    const { ipc, printed, saved } = setup();
    expect(await ipc.invoke(APP_PAGE, PRINT_TO_PDF_CHANNEL, 'applicant-1')).toEqual({
      ok: true,
      value: '/home/officer/applicant-1.pdf',
    });
    expect(printed).toEqual(['applicant-1']);
    expect(await ipc.invoke(APP_PAGE, SAVE_FILE_CHANNEL, 'audit.csv', 'a,b\n', 'utf8')).toEqual({
      ok: true,
      value: '/home/officer/audit.csv',
    });
    expect(
      await ipc.invoke(
        APP_PAGE,
        SAVE_FILE_CHANNEL,
        'audit.gz',
        Buffer.from([1, 2]).toString('base64'),
        'base64',
      ),
    ).toEqual({ ok: true, value: '/home/officer/audit.gz' });
    expect(saved.map((s) => [s.name, [...s.bytes]])).toEqual([
      ['audit.csv', [...Buffer.from('a,b\n')]],
      ['audit.gz', [1, 2]],
    ]);
  });

  it('print and save refuse an untrusted sender and a path or malformed arguments with error bodies', async () => {
    const { ipc, printed, saved } = setup();
    const stranger: InvokeEventLike = { senderFrame: { url: 'https://example.com/', parent: null } };
    for (const call of [
      ipc.invoke(stranger, PRINT_TO_PDF_CHANNEL, 'x'),
      ipc.invoke(stranger, SAVE_FILE_CHANNEL, 'x', 'y', 'utf8'),
    ]) {
      expect(await call).toEqual({
        ok: false,
        error: { error: 'unauthorized', message: expect.any(String) },
      });
    }
    const fields = async (channel: string, ...args: unknown[]) => {
      const refused = (await ipc.invoke(APP_PAGE, channel, ...args)) as SaveResult;
      if (refused.ok || refused.error.error !== 'invalid_request') throw new Error(JSON.stringify(refused));
      return refused.error.problems.map((p) => p.field);
    };
    expect(await fields(SAVE_FILE_CHANNEL, '../../.bashrc', 'y', 'utf8')).toEqual(['file name']);
    expect(await fields(SAVE_FILE_CHANNEL, 'a.txt', 'y', 'latin1')).toEqual(['encoding']);
    expect(await fields(PRINT_TO_PDF_CHANNEL, 42)).toEqual(['file name']);
    expect(await fields(PRINT_TO_PDF_CHANNEL, 'a', 'b')).toEqual(['arguments']);
    expect(printed).toEqual([]);
    expect(saved).toEqual([]);
  });
});

describe('print and save failures', () => {
  let docs: string;
  let data: string;
  beforeAll(() => {
    docs = tempDir('branchlens-ipc-docs-');
    data = tempDir('branchlens-ipc-data-');
  });
  afterAll(() => {
    removeDir(docs);
    removeDir(data);
  });

  /** The adapter over the real print.ts, whose dialog picks `filePath`, and whose page prints with `print`. */
  function desktopOver(filePath: string, print: () => Promise<Buffer> = async () => Buffer.from('%PDF')) {
    const ipc = new FakeIpcMain();
    const logged: { message: string; error: unknown }[] = [];
    const target: SaveTarget = {
      dialog: { showSaveDialog: async () => ({ canceled: false, filePath }) },
      defaultDir: docs,
      locale: 'zh-CN',
      dataDir: data,
    };
    registerIpc(ipc, recordingHandlers([]), {
      log: (message, error) => logged.push({ message, error }),
      desktop: {
        printToPdf: (_event, name) => printReportToPdf({ printToPDF: print }, target, name),
        saveFile: (_event, name, bytes) => saveFileAs(target, name, bytes),
        exportAudit: async () => null,
      },
    });
    return { ipc, logged };
  }

  it('answer a path inside the data folder with the invalid_request body and its problem, not a thrown error', async () => {
    const { ipc, logged } = desktopOver(join(data, 'branchlens.db'));
    for (const answer of [
      await ipc.invoke(APP_PAGE, PRINT_TO_PDF_CHANNEL, 'report'),
      await ipc.invoke(APP_PAGE, SAVE_FILE_CHANNEL, 'doc.json', '{}', 'utf8'),
    ]) {
      expect(answer).toEqual({
        ok: false,
        error: {
          error: 'invalid_request',
          message: expect.stringContaining('inside the data folder'),
          problems: [
            { field: 'file', code: 'invalid', message: expect.stringContaining('inside the data folder') },
          ],
        },
      });
    }
    expect(logged).toEqual([]); // the officer's choice, not a failure of the app
    expect(existsSync(join(data, 'branchlens.db'))).toBe(false);
  });

  it('answer an unexpected failure with the internal body, no stack nor details, and log it', async () => {
    const failure = new Error('printToPDF failed: GPU process gone at /home/officer/secret');
    const { ipc, logged } = desktopOver(join(docs, 'report.pdf'), async () => {
      throw failure;
    });
    const answer = await ipc.invoke(APP_PAGE, PRINT_TO_PDF_CHANNEL, 'report');
    expect(answer).toEqual({
      ok: false,
      error: { error: 'internal', message: 'internal error; see the server log' },
    });
    expect(JSON.stringify(answer)).not.toMatch(/secret|GPU|at /);
    expect(logged).toEqual([{ message: 'IPC printToPdf failed', error: failure }]);
  });
});

describe('while the app is closing', () => {
  it('keeps every handler registered and answers each call that it is closing, running nothing', async () => {
    const ipc = new FakeIpcMain();
    const calls: { method: string; request: unknown }[] = [];
    const desktopRuns: string[] = [];
    let closing = false;
    registerIpc(ipc, recordingHandlers(calls), {
      isClosing: () => closing,
      desktop: {
        printToPdf: async () => (desktopRuns.push('print'), null),
        saveFile: async () => (desktopRuns.push('save'), null),
        exportAudit: async () => (desktopRuns.push('export'), null),
      },
    });
    expect(await ipc.invoke(APP_PAGE, ipcChannel('explain'), VALID_REQUESTS.explain)).toMatchObject({
      ok: true,
    });
    closing = true;
    for (const method of API_METHODS) {
      expect(await ipc.invoke(APP_PAGE, ipcChannel(method), VALID_REQUESTS[method]), method).toEqual({
        ok: false,
        error: CLOSING,
      });
    }
    expect(await ipc.invoke(APP_PAGE, PRINT_TO_PDF_CHANNEL, 'r')).toEqual({ ok: false, error: CLOSING });
    expect(await ipc.invoke(APP_PAGE, SAVE_FILE_CHANNEL, 'a.txt', 'a', 'utf8')).toEqual({
      ok: false,
      error: CLOSING,
    });
    expect(await ipc.invoke(APP_PAGE, EXPORT_AUDIT_CHANNEL, 'a.jsonl', { format: 'jsonl' })).toEqual({
      ok: false,
      error: CLOSING,
    });
    // A batch still running sees the service going away (kept to send again), not "no API method".
    expect(CLOSING).toEqual({ error: 'internal', message: expect.stringMatching(/^network: .*closing/) });
    expect(calls.map((c) => c.method)).toEqual(['explain']);
    expect(desktopRuns).toEqual([]);
    // A stranger is still told it may not call, closing or not.
    const stranger: InvokeEventLike = { senderFrame: { url: 'https://example.com/', parent: null } };
    expect(await ipc.invoke(stranger, ipcChannel('health'), {})).toMatchObject({
      ok: false,
      error: { error: 'unauthorized' },
    });
  });
});

describe('isAppMainFrame', () => {
  it('accepts only a top-level frame of app://branchlens/', () => {
    expect(isAppMainFrame(APP_PAGE)).toBe(true);
    expect(isAppMainFrame({ senderFrame: { url: 'app://branchlens/', parent: null } })).toBe(true);
    expect(isAppMainFrame({ senderFrame: { url: 'app://user:pw@branchlens/', parent: null } })).toBe(false);
    expect(isAppMainFrame({ senderFrame: { url: 'app://branchlens.evil/', parent: null } })).toBe(false);
    expect(isAppMainFrame({ senderFrame: { url: 'not a url', parent: null } })).toBe(false);
  });
});

describe('the IPC transport over a real service', () => {
  let data: string;
  let service: BranchLensService;
  const ipc = new FakeIpcMain();

  beforeAll(async () => {
    data = tempDir('branchlens-ipc-');
    service = await BranchLensService.open({ dataDir: data, workers: 0 });
    registerIpc(ipc, apiHandlers(service));
  });
  afterAll(async () => {
    await service?.close();
    removeDir(data);
  });

  it('explains an applicant, verifies the document and finds it in the audit log', async () => {
    const health = (await ipc.invoke(APP_PAGE, ipcChannel('health'), {})) as BridgeResult<'health'>;
    expect(health).toMatchObject({ ok: true, value: { status: 'ok', database: 'ok' } });

    const explained = (await ipc.invoke(APP_PAGE, ipcChannel('explain'), {
      applicants: holdoutApplicants(1),
      options: { locale: 'en', top_k: 3 },
    })) as BridgeResult<'explain'>;
    if (!explained.ok) throw new Error(JSON.stringify(explained.error));
    const [doc] = explained.value.documents;
    expect(doc?.attributions).toHaveLength(3);
    // What crossed the IPC boundary is plain data that structured clone keeps as it is.
    expect(structuredClone(explained.value)).toEqual(explained.value);

    expect(await ipc.invoke(APP_PAGE, ipcChannel('verifyDocument'), { document: doc })).toEqual({
      ok: true,
      value: { ok: true },
    });
    const page = (await ipc.invoke(APP_PAGE, ipcChannel('auditPage'), {
      kind: 'explain',
    })) as BridgeResult<'auditPage'>;
    expect(page.ok && page.value.entries.map((e) => e.watermark)).toEqual([doc?._meta.watermark]);
  });
});
