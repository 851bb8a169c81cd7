// The preload, compiled as the app compiles it and run the way a sandboxed renderer runs it: wrapped in a function
// whose require() knows only 'electron'. It must expose exactly window.branchlens, on the contract's channels.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  EXPORT_AUDIT_CHANNEL,
  PRINT_TO_PDF_CHANNEL,
  SAVE_FILE_CHANNEL,
} from '../../../main/electron/ipc-adapter.js';
import { ipcChannel, type BranchLensBridge } from '../../../shared/bridge.js';
import { API_METHODS } from '../../../shared/contract.js';

const source = fileURLToPath(new URL('../../../main/electron/preload.cts', import.meta.url));

function compiledPreload(): string {
  const out = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: source,
    compilerOptions: { module: ts.ModuleKind.NodeNext, target: ts.ScriptTarget.ES2022 },
  });
  return out.outputText;
}

interface Loaded {
  exposed: Map<string, unknown>;
  invoked: unknown[][];
  required: string[];
  bridge: BranchLensBridge;
}

/** Runs the preload like Electron's sandboxed renderer does (lib/sandboxed_renderer/init.ts). */
function loadPreload(reply: (channel: string, ...args: unknown[]) => Promise<unknown>): Loaded {
  const exposed = new Map<string, unknown>();
  const invoked: unknown[][] = [];
  const required: string[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      invoke: (channel: string, ...args: unknown[]) => {
        invoked.push([channel, ...args]);
        return reply(channel, ...args);
      },
    },
  };
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`module not found: ${name}`);
  };
  const wrapper = `(function(require, process, Buffer, global, setImmediate, clearImmediate, exports, module) {\n${compiledPreload()}\n})`;
  const run = runInThisContext(wrapper, { filename: 'preload.cjs' }) as (...args: unknown[]) => void;
  const exports = {};
  run(sandboxRequire, process, Buffer, globalThis, setImmediate, clearImmediate, exports, { exports });
  return { exposed, invoked, required, bridge: exposed.get('branchlens') as BranchLensBridge };
}

describe('the preload', () => {
  it("loads in a sandbox that can require only 'electron', and exposes only window.branchlens", () => {
    const { exposed, required, bridge } = loadPreload(async () => null);
    expect(required).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['branchlens']);
    expect(Object.keys(bridge).sort()).toEqual(['exportAudit', 'invoke', 'printToPdf', 'saveFile']);
  });

  it('sends every contract method on its channel and hands back what the main process answered', async () => {
    const { invoked, bridge } = loadPreload(async (channel) => ({ ok: true, value: { channel } }));
    for (const method of API_METHODS) {
      const request = { probe: method };
      expect(await bridge.invoke(method, request as never)).toEqual({
        ok: true,
        value: { channel: ipcChannel(method) },
      });
      expect(invoked.at(-1)).toEqual([ipcChannel(method), request]);
    }
  });

  it('uses the channels the main process registers for printing, saving and exporting', async () => {
    const saved = { ok: true, value: '/docs/file' };
    const { invoked, bridge } = loadPreload(async () => saved);
    expect(await bridge.printToPdf('applicant-1')).toEqual(saved);
    expect(await bridge.saveFile('audit.csv', 'a,b', 'utf8')).toEqual(saved);
    expect(await bridge.exportAudit('audit.jsonl', { format: 'jsonl' })).toEqual(saved);
    expect(invoked).toEqual([
      [PRINT_TO_PDF_CHANNEL, 'applicant-1'],
      [SAVE_FILE_CHANNEL, 'audit.csv', 'a,b', 'utf8'],
      [EXPORT_AUDIT_CHANNEL, 'audit.jsonl', { format: 'jsonl' }],
    ]);
  });

  it('hands back the error body the main process answered for a print or a save', async () => {
    const refused = {
      ok: false,
      error: { error: 'invalid_request', message: 'file: inside the data folder', problems: [] },
    };
    const { bridge } = loadPreload(async () => refused);
    expect(await bridge.printToPdf('report')).toEqual(refused);
    expect(await bridge.saveFile('doc.json', '{}', 'utf8')).toEqual(refused);
  });

  it('answers a print, save or export the transport fails with an internal error body instead of throwing', async () => {
    const { bridge } = loadPreload(async () => {
      throw new Error('An object could not be cloned.');
    });
    const notPassedOn = {
      ok: false,
      error: { error: 'internal', message: 'the desktop app could not pass on this request' },
    };
    expect(await bridge.exportAudit('audit.jsonl', { format: 'jsonl' })).toEqual(notPassedOn);
    expect(await bridge.printToPdf('report')).toEqual(notPassedOn);
    expect(await bridge.saveFile('doc.json', '{}', 'utf8')).toEqual(notPassedOn);
  });

  it('answers an unknown or malformed method with not_found instead of throwing', async () => {
    const { invoked, bridge } = loadPreload(async (channel) => {
      throw new Error(`Error invoking remote method '${channel}': No handler registered`);
    });
    const call = bridge.invoke as (method: unknown, request: unknown) => Promise<unknown>;
    expect(await call('noSuchMethod', {})).toMatchObject({ ok: false, error: { error: 'not_found' } });
    expect(await call('../printToPdf', {})).toMatchObject({ ok: false, error: { error: 'not_found' } });
    expect(await call({ toString: () => 'health' }, {})).toMatchObject({
      ok: false,
      error: { error: 'not_found' },
    });
    expect(invoked).toEqual([['branchlens:noSuchMethod', {}]]);
  });
});
