// The models page's words: what an import did, and why a bundle was refused, in the user's language.
import { describe, expect, it } from 'vitest';
import { ApiError, type ApiResponses } from '../../shared/contract.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { describeError } from '../../renderer/src/lib/errors.js';
import { importResultText } from '../../renderer/src/pages/models/import-result.js';

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
