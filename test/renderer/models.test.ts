// The models page's words: what an import did, and why a bundle was refused, in the user's language.
import { describe, expect, it } from 'vitest';
import { LOCALES } from '../../shared/bundle.js';
import { ApiError, type ApiResponses, type InstalledModelView } from '../../shared/contract.js';
import { MESSAGES, placeholders } from '../../shared/i18n/index.js';
import { PROBLEM_REASONS, type Problem, type ProblemReason } from '../../shared/problems.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { describeError } from '../../renderer/src/lib/errors.js';
import { reasonText } from '../../shared/i18n/problems.js';
import { importResultText, switchResultText } from '../../renderer/src/pages/models/import-result.js';
import { activeNotServed, notServedText } from '../../renderer/src/pages/models/served-model.js';
import { folderFromInput } from '../../renderer/src/pages/models/import-path.js';

const zh = makeT('zh-CN');
const en = makeT('en');
const SHA = '16407200343c5e2f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f';
const model = { id: 'credit-demo', version: '1.1.0', sha256: SHA };
const previous = { id: 'credit-demo', version: '1.0.0', sha256: 'ab'.repeat(32) };

function answer(status: string, activated = false): ApiResponses['importModel'] {
  return { status, activated, model, message: `installed credit-demo@1.1.0 (sha256 ${SHA.slice(0, 12)}…)` };
}

describe('the import result', () => {
  it("is worded in the UI's language from the answer's fields, not the server's English sentence", () => {
    const text = importResultText(answer('installed'), previous, zh);
    expect(text).toBe('已安装 credit-demo@1.1.0（SHA-256 16407200…1e2f）');
    expect(text).not.toContain('installed');
    expect(importResultText(answer('installed'), previous, en)).toBe(
      'Installed credit-demo@1.1.0 (SHA-256 16407200…1e2f)',
    );
  });

  it('says when nothing was imported, or the installed copy was repaired', () => {
    expect(importResultText(answer('already_installed'), previous, zh)).toBe(
      'credit-demo@1.1.0 已安装，SHA-256 相同，无需再次导入',
    );
    expect(importResultText(answer('repaired'), previous, zh)).toContain('已重新复制');
  });

  it('says when the import made the model active, and which one it replaced', () => {
    expect(importResultText(answer('installed', true), previous, zh)).toBe(
      '已安装 credit-demo@1.1.0（SHA-256 16407200…1e2f）；现已启用（此前为 credit-demo@1.0.0）',
    );
    expect(importResultText(answer('installed', true), null, en)).toBe(
      'Installed credit-demo@1.1.0 (SHA-256 16407200…1e2f); it is now the active model',
    );
  });

  it("falls back to the server's words for a status it does not know", () => {
    expect(importResultText({ ...answer('migrated'), message: 'migrated it' }, null, zh)).toBe(
      'credit-demo@1.1.0：migrated it',
    );
  });
});

describe('a refused bundle', () => {
  it("keeps the server's detail without the terminal's list marker", () => {
    const e = new ApiError({
      error: 'invalid_request',
      message: 'invalid model bundle:\n  - /nonexistent/dir: is not a folder',
      problems: [{ field: '/nonexistent/dir', code: 'missing', message: 'is not a folder' }],
    });
    expect(describeError(e, zh)).toBe('请求有误：invalid model bundle: /nonexistent/dir: is not a folder');
  });

  it('joins several problems into one sentence', () => {
    const e = new ApiError({
      error: 'invalid_request',
      message: 'invalid model bundle:\n  - model.json: is missing\n  - schema.json: is not valid JSON',
      problems: [
        { field: 'model.json', code: 'missing', message: 'is missing' },
        { field: 'schema.json', code: 'invalid', message: 'is not valid JSON' },
      ],
    });
    expect(describeError(e, en)).toMatch(
      /: invalid model bundle: model\.json: is missing; schema\.json: is not valid JSON$/,
    );
    expect(describeError(e, zh)).toContain('model.json: is missing；schema.json: is not valid JSON');
  });

  it('leaves a one-line message as the server wrote it', () => {
    const e = new ApiError({
      error: 'invalid_request',
      message: 'Time: bad',
      problems: [{ field: 'Time', code: 'invalid', message: 'bad' }],
    });
    expect(describeError(e, zh)).toBe('请求有误：Time: bad');
  });
});

describe("a refused bundle, worded from its problems' reasons", () => {
  const notAFolder: Problem = {
    field: '/nonexistent/dir',
    code: 'missing',
    message: 'is not a folder',
    reason: 'not_a_folder',
    params: { dir: '/nonexistent/dir' },
  };
  const expected = '8743d3b6485b8b91671d518b6259c130ed04b41cb3fc167cc34075b096422f2d';
  const actual = '4a0c555d7f4f8d6ee2edec29ac33866a6711a5e4df576b710d5eac2815dbd852';
  const tampered: Problem[] = [
    {
      field: 'schema.json',
      code: 'invalid',
      message: `sha256 ${actual} does not match manifest.json (${expected}); the file was changed`,
      reason: 'sha256_mismatch',
      params: { file: 'schema.json', expected, actual },
    },
    {
      field: 'notes.txt',
      code: 'invalid',
      message: 'is not listed in manifest.json files',
      reason: 'file_not_listed',
      params: { file: 'notes.txt' },
    },
  ];
  const refused = (problems: Problem[]) =>
    new ApiError({
      error: 'invalid_request',
      message: `invalid model bundle:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n')}`,
      problems,
    });

  /** The English words (3 letters or more) of the server's messages, leaving out file names and params. */
  function englishWords(problems: Problem[]): string[] {
    const values = problems.flatMap((p) => Object.values(p.params ?? {}).map(String));
    const words = problems.flatMap(
      (p) =>
        values
          .reduce((m, v) => m.split(v).join(' '), p.message)
          .replace(/[\w/-]+\.(json|txt|bin)\b/g, ' ')
          .match(/\b[A-Za-z]{3,}\b/g) ?? [],
    );
    return [...new Set(words)];
  }

  it('says in Chinese that the folder does not exist, without the English headline or message', () => {
    const text = describeError(refused([notAFolder]), zh);
    expect(text).toBe('模型包无效：/nonexistent/dir 不存在或不是文件夹');
    expect(describeError(refused([notAFolder]), en)).toBe(
      'The model bundle is not valid: /nonexistent/dir does not exist or is not a folder',
    );
  });

  it('says a changed file was changed, in words a branch analyst reads, with no English from the message', () => {
    const text = describeError(refused(tampered), zh);
    expect(text).toBe(
      '模型包无效：schema.json 已被修改（SHA-256 与 manifest.json 不符）；notes.txt 未列在 manifest.json 中（模型包内多出的文件）',
    );
    const words = englishWords(tampered);
    expect(words).toEqual(expect.arrayContaining(['does', 'match', 'changed', 'listed', 'files']));
    for (const w of words) expect(text, w).not.toMatch(new RegExp(`\\b${w}\\b`, 'i'));
    expect(text).not.toContain('invalid model bundle');
  });

  it('words a registry refusal without calling the bundle invalid', () => {
    const e = new ApiError({
      error: 'invalid_request',
      message: 'model: tiny@9.9.9 is not installed (installed: tiny@1.0.0); import its bundle first',
      problems: [
        {
          field: 'model',
          code: 'invalid',
          message: 'tiny@9.9.9 is not installed (installed: tiny@1.0.0); import its bundle first',
          reason: 'model_not_installed',
          params: { ref: 'tiny@9.9.9', installed: 'tiny@1.0.0' },
        },
      ],
    });
    expect(describeError(e, zh)).toBe(
      '请求有误：模型 tiny@9.9.9 未安装（已安装：tiny@1.0.0），请先导入其模型包',
    );
  });

  it("falls back to the server's English for a reason this UI does not know (a newer server's)", () => {
    const future = {
      field: 'model.json',
      code: 'invalid',
      message: 'uses an operation this version cannot run',
      reason: 'unsupported_operation',
      params: { op: 'Einsum' },
    } as unknown as Problem;
    expect(describeError(refused([future]), zh)).toBe(
      '请求有误：invalid model bundle: model.json: uses an operation this version cannot run',
    );
    // Beside a known one, only the unknown one keeps the server's words.
    expect(describeError(refused([notAFolder, future]), zh)).toBe(
      '模型包无效：/nonexistent/dir 不存在或不是文件夹；model.json: uses an operation this version cannot run',
    );
  });

  it("falls back to the server's English when a known reason comes without the params its wording needs", () => {
    const bare: Problem = { ...notAFolder, params: {} };
    expect(describeError(refused([bare]), zh)).toBe(
      '请求有误：invalid model bundle: /nonexistent/dir: is not a folder',
    );
  });
});

describe('every problem reason', () => {
  const reasons = Object.keys(PROBLEM_REASONS) as ProblemReason[];

  it('has a wording in every language that fills in only the params the reason gives', () => {
    for (const reason of reasons) {
      const given: readonly string[] = PROBLEM_REASONS[reason].params;
      for (const locale of LOCALES) {
        const used = placeholders(MESSAGES[locale][`reason.${reason}`]);
        expect(
          used.filter((name) => !given.includes(name)),
          `${locale} reason.${reason}`,
        ).toEqual([]);
      }
    }
  });

  it('is worded in Chinese with its params filled in', () => {
    for (const reason of reasons) {
      const params = Object.fromEntries(PROBLEM_REASONS[reason].params.map((name) => [name, `<${name}>`]));
      const problem: Problem = { field: 'f', code: 'invalid', message: 'English words', reason, params };
      const text = reasonText(problem, zh);
      expect(text, reason).not.toBeNull();
      expect(text, reason).not.toMatch(/\{[A-Za-z0-9_]+\}/);
      expect(text, reason).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('says in Chinese what a bundle entry is instead of a regular file (the service names it in English)', () => {
    // Every kind main/core/bundle/load.ts gives (kindOf).
    const kinds = ['directory', 'symbolic link', 'FIFO', 'socket', 'device', 'special file'];
    for (const kind of kinds) {
      const problem: Problem = {
        field: 'weights',
        code: 'invalid',
        message: `is a ${kind}, not a regular file: a bundle holds regular files only`,
        reason: 'not_regular_file',
        params: { file: 'weights', kind },
      };
      const text = reasonText(problem, zh)!;
      expect(text.replace('weights', ''), kind).not.toMatch(/[A-Za-z]{3,}/);
      expect(reasonText(problem, en), kind).toBe(
        `weights is a ${kind}, not a regular file: a bundle holds regular files only`,
      );
    }
    const dir: Problem = {
      field: 'model.json',
      code: 'invalid',
      message: 'is a directory, not a regular file: a bundle holds regular files only',
      reason: 'not_regular_file',
      params: { file: 'model.json', kind: 'directory' },
    };
    expect(reasonText(dir, zh)).toBe('model.json 不是普通文件（而是文件夹）：模型包只能包含普通文件');
  });
});

describe('a refused audit export', () => {
  it("is worded in the UI's language with the first failing entry, not the server's English sentence", () => {
    const e = new ApiError({
      error: 'audit_broken',
      message:
        'the audit log fails verification at entry 17 (checkpoint_mismatch): … Nothing was exported or signed',
      seq: 17,
    });
    expect(describeError(e, zh)).toBe(
      '审计日志在第 17 条记录处校验未通过，因此未导出、未签名。请保持数据库原样，并报告总行（“校验审计链”会显示同一处断裂）。',
    );
    expect(describeError(e, zh)).not.toMatch(/[A-Za-z]{4,}/);
    expect(describeError(e, en)).toMatch(
      /^The audit log fails verification at entry 17, so it was neither exported/,
    );
  });
});

describe('what an activation or a rollback did', () => {
  const answer = (changed: boolean) => ({
    changed,
    model,
    message: `credit-demo@1.1.0 is already the active model`,
  });

  it('says so in the user language, never in the server’s English', () => {
    expect(switchResultText('activate', answer(true), zh)).toBe('已启用 credit-demo@1.1.0');
    expect(switchResultText('rollback', answer(true), zh)).toBe('已回滚到 credit-demo@1.1.0');
    expect(switchResultText('activate', answer(false), zh)).toBe('credit-demo@1.1.0 已是当前模型');
    expect(switchResultText('activate', answer(false), en)).toBe(
      'credit-demo@1.1.0 is already the active model',
    );
    expect(switchResultText('rollback', answer(true), en)).toBe('Rolled back to credit-demo@1.1.0');
  });
});

describe('the active model, when the service explains with another', () => {
  const view = (version: string, sha256: string, active: boolean): InstalledModelView => ({
    id: 'credit-demo',
    version,
    sha256,
    ref: `credit-demo@${version}`,
    installedAt: '2025-01-01T00:00:00Z',
    active,
    manifest: {} as InstalledModelView['manifest'],
  });
  const listed = [view('1.0.0', previous.sha256, false), view('1.1.0', SHA, true)];

  // The CLI beside the app (or another workstation's page) activated 1.1.0: the page's header, card and Explain
  // form still held 1.0.0, while the list marked 1.1.0 active.
  it('is found from the list, so that the page loads the model the service now serves', () => {
    expect(activeNotServed(listed, previous)?.ref).toBe('credit-demo@1.1.0');
    expect(activeNotServed(listed, model)).toBeNull();
    expect(activeNotServed(listed, undefined)).toBeNull();
    expect(activeNotServed([view('1.0.0', previous.sha256, false)], previous)).toBeNull();
  });

  it("is explained in the user's language, naming both models", () => {
    const active = activeNotServed(listed, previous)!;
    expect(notServedText(active, previous, zh)).toContain(
      '已启用的模型是 credit-demo@1.1.0，但此服务仍在使用 credit-demo@1.0.0 解释',
    );
    expect(notServedText(active, previous, en)).toContain(
      'credit-demo@1.1.0 is the active model, but this service still explains with credit-demo@1.0.0',
    );
  });
});

describe('the folder typed or pasted to import', () => {
  // Windows Explorer's "Copy as path" puts the path in double quotes; the service then found no folder of that name.
  it('is the path without the quotes a copied path comes in, and without the spaces around it', () => {
    expect(folderFromInput('"D:\\models\\credit-demo-1.1.0"')).toBe('D:\\models\\credit-demo-1.1.0');
    expect(folderFromInput('  "C:\\Users\\it\\Desktop\\credit demo 1.1.0"\n')).toBe(
      'C:\\Users\\it\\Desktop\\credit demo 1.1.0',
    );
    expect(folderFromInput("'/media/usb/credit-demo-1.1.0'")).toBe('/media/usb/credit-demo-1.1.0');
    expect(folderFromInput(' /srv/models/credit-demo ')).toBe('/srv/models/credit-demo');
  });

  it('keeps a quote that does not enclose the whole path, and is empty when only quotes are given', () => {
    expect(folderFromInput('"D:\\models')).toBe('"D:\\models');
    expect(folderFromInput("/srv/O'Brien's models")).toBe("/srv/O'Brien's models");
    expect(folderFromInput('""')).toBe('');
    expect(folderFromInput(' " " ')).toBe('');
  });
});
