// Printing and saving in the desktop app: the bridge answers {ok, value} or the contract's error body, and the
// page gets the path, null when cancelled, or the same ApiError a call over HTTP throws, worded in the user's
// language with its problems (not Electron's English "Error invoking remote method …").
import { describe, expect, it } from 'vitest';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { printToPdfVia, saveFileVia, savedOrThrow } from '../../renderer/src/lib/desktop-save.js';
import { describeError } from '../../renderer/src/lib/errors.js';
import type { BranchLensBridge, SaveResult } from '../../shared/bridge.js';
import { ApiError, type ApiErrorBody } from '../../shared/contract.js';
import { InputError } from '../../shared/problems.js';

/** What the main process answers for a report saved over the database (errorResult of writeOutFile's refusal). */
const refusal = new InputError([
  {
    field: 'file',
    code: 'invalid',
    message:
      '/data/branchlens.db is inside the data folder /data (the database, audit log and keys): write it elsewhere',
  },
]);
const INSIDE_DATA: ApiErrorBody = {
  error: 'invalid_request',
  message: refusal.message,
  problems: refusal.problems,
};

/** A window.branchlens answering every print and save with `result`, as the preload does. */
function desktopAnswering(result: SaveResult) {
  const printed: string[] = [];
  const saved: unknown[][] = [];
  const bridge: BranchLensBridge = {
    invoke: (async () => {
      throw new Error('not used');
    }) as BranchLensBridge['invoke'],
    printToPdf: async (name) => {
      printed.push(name);
      return result;
    },
    saveFile: async (...args) => {
      saved.push(args);
      return result;
    },
    exportAudit: async () => ({ ok: true, value: null }),
  };
  return { bridge, printed, saved };
}

describe('printing and saving through the desktop bridge', () => {
  it('resolves to the path the officer chose, or null when the dialog was cancelled', async () => {
    const { bridge, printed, saved } = desktopAnswering({ ok: true, value: '/home/officer/report.pdf' });
    expect(await printToPdfVia(bridge, 'report')).toBe('/home/officer/report.pdf');
    expect(await saveFileVia(bridge, 'doc.json', '{}', 'utf8')).toBe('/home/officer/report.pdf');
    expect(printed).toEqual(['report']);
    expect(saved).toEqual([['doc.json', '{}', 'utf8']]);
    const cancelled = desktopAnswering({ ok: true, value: null }).bridge;
    expect(await printToPdfVia(cancelled, 'report')).toBeNull();
    expect(await saveFileVia(cancelled, 'doc.json', '{}', 'utf8')).toBeNull();
  });

  it('turns an error body into the ApiError the HTTP transport throws, problems included', async () => {
    const { bridge } = desktopAnswering({ ok: false, error: INSIDE_DATA });
    for (const attempt of [
      () => printToPdfVia(bridge, 'report'),
      () => saveFileVia(bridge, 'report.pdf', 'JVBERg==', 'base64'),
    ]) {
      const e = await attempt().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).body).toEqual(INSIDE_DATA);
      // Worded in the page's language, with the problem, as any refused call is.
      const zh = describeError(e, makeT('zh-CN'));
      expect(zh).toMatch(/^请求有误：/);
      expect(zh).toContain('inside the data folder');
      expect(describeError(e, makeT('en'))).toMatch(/^The request was refused: .*inside the data folder/);
    }
  });

  it('words an unexpected failure as the service failing, and a closing app as unreachable', () => {
    const thrown = (error: ApiErrorBody): unknown => {
      try {
        savedOrThrow({ ok: false, error });
      } catch (e) {
        return e;
      }
      throw new Error('savedOrThrow did not throw');
    };
    const internal = thrown({ error: 'internal', message: 'internal error; see the server log' });
    expect(internal).toBeInstanceOf(ApiError);
    expect(describeError(internal, makeT('zh-CN'))).toBe('服务出错：internal error; see the server log');
    const closing = thrown({ error: 'internal', message: 'network: the desktop app is closing' });
    expect(describeError(closing, makeT('zh-CN'))).toBe('无法连接 BranchLens 服务，请确认服务已启动。');
  });
});
