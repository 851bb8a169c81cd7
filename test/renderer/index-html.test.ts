// The page shown before the UI loads is Chinese and English at once: a screen reader reads each half in its own
// voice only when the English half says it is English (WCAG 3.1.2).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../main/core/paths.js';

const html = readFileSync(join(appRoot(), 'renderer', 'index.html'), 'utf8');

describe('the page before the UI loads', () => {
  it('is Chinese, with its English words marked as English', () => {
    expect(html).toMatch(/<html lang="zh-CN"/);
    for (const english of ['Loading…', 'BranchLens needs JavaScript.']) {
      expect(html).toContain(`<span lang="en">${english}</span>`);
    }
  });
});
