// The desktop app's native dialogs in the user's language: the settings' once known, else the OS's.
import { describe, expect, it } from 'vitest';
import { cannotStartText, desktopLocale, rollbackOfferText } from '../../../main/electron/dialog-text.js';

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

  it('offer the rollback, with the problems as the detail', () => {
    expect(rollbackOfferText('zh-CN', 'schema.json: changed')).toEqual({
      message: '当前模型无法加载。',
      detail: 'schema.json: changed',
      buttons: ['回滚到上一个模型', '退出'],
    });
    expect(rollbackOfferText('en', 'x').buttons).toEqual(['Roll back to the previous model', 'Quit']);
  });
});
