// The desktop app's native dialogs in the user's language: the settings' once known, else the OS's.
import { describe, expect, it } from 'vitest';
import { cannotStartText, desktopLocale, rollbackOfferText } from '../../../main/electron/dialog-text.js';
import { because } from '../../../shared/problems.js';

describe('the language of the native dialogs', () => {
  it("is the settings' language once the service is open", () => {
    expect(desktopLocale('en', 'zh-CN')).toBe('en');
    expect(desktopLocale('zh-CN', 'en-US')).toBe('zh-CN');
  });

  it("is the OS's before that: Chinese for any Chinese locale, else English", () => {
    for (const os of ['zh-CN', 'zh-TW', 'zh', 'ZH-hk']) expect(desktopLocale(undefined, os)).toBe('zh-CN');
    for (const os of ['en-US', 'fr', 'de-DE', '', 'zhx']) expect(desktopLocale(undefined, os)).toBe('en');
  });
});

describe('the words of the native dialogs', () => {
  it('say that the app cannot start, and where the log is', () => {
    expect(cannotStartText('zh-CN', 'the data folder is not writable', '/logs/branchlens.log')).toEqual({
      title: 'BranchLens 无法启动',
      content: 'the data folder is not writable\n\n详细信息见日志：/logs/branchlens.log',
    });
    expect(cannotStartText('en', 'boom', undefined)).toEqual({
      title: 'BranchLens cannot start',
      content: 'boom',
    });
    expect(cannotStartText('en', 'boom', '/l.log').content).toBe('boom\n\nDetails in the log: /l.log');
  });

  it('offer the rollback, with the problems worded from their reasons as the detail', () => {
    const error = {
      message:
        'invalid model bundle:\n  - schema.json: sha256 … does not match manifest.json (…); the file was changed',
      problems: [
        {
          field: 'schema.json',
          code: 'invalid' as const,
          message: 'sha256 … does not match manifest.json (…); the file was changed',
          ...because('sha256_mismatch', {
            file: 'schema.json',
            expected: 'a'.repeat(64),
            actual: 'b'.repeat(64),
          }),
        },
        { field: 'notes.txt', code: 'invalid' as const, message: 'is not listed in manifest.json files' },
      ],
    };
    expect(rollbackOfferText('zh-CN', error)).toEqual({
      message: '当前模型无法加载。',
      detail:
        'schema.json 已被修改（SHA-256 与 manifest.json 不符）\nnotes.txt: is not listed in manifest.json files',
      buttons: ['回滚到上一个模型', '退出'],
    });
    expect(rollbackOfferText('en', error).buttons).toEqual(['Roll back to the previous model', 'Quit']);
    // Problems without a reason: the service's own sentence.
    expect(rollbackOfferText('zh-CN', { message: 'boom', problems: [error.problems[1]!] }).detail).toBe(
      'boom',
    );
  });
});
