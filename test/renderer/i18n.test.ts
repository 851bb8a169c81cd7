// Every UI string exists in every language, with the same placeholders, and every key the renderer uses exists.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCALES } from '../../shared/bundle.js';
import { MESSAGES, placeholders, translate, type MessageKey } from '../../shared/i18n/index.js';
import { appRoot } from '../../main/core/paths.js';

const keys = Object.keys(MESSAGES['zh-CN']) as MessageKey[];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

describe('the UI strings', () => {
  it('give every key in every language, non-empty', () => {
    for (const locale of LOCALES) {
      expect(Object.keys(MESSAGES[locale]).sort()).toEqual([...keys].sort());
      for (const key of keys) expect(MESSAGES[locale][key].trim(), `${locale} ${key}`).not.toBe('');
    }
  });

  it('use the same placeholders in every language', () => {
    for (const key of keys) {
      const source = placeholders(MESSAGES['zh-CN'][key]).sort();
      for (const locale of LOCALES)
        expect(placeholders(MESSAGES[locale][key]).sort(), `${locale} ${key}`).toEqual(source);
    }
  });

  it('are Chinese in zh-CN: every message that has words has Chinese characters', () => {
    const untranslated = keys.filter((k) => {
      const m = MESSAGES['zh-CN'][k].replace(/\{[^}]+\}/g, '');
      return /[A-Za-z]{4,}/.test(m) && !/[\u4e00-\u9fff]/.test(m);
    });
    // Technical names that stay as they are in Chinese UIs.
    expect(
      untranslated.filter((k) => !['explain.exportJson', 'batch.exportCsv', 'batch.exportJsonl'].includes(k)),
    ).toEqual([]);
  });

  it('punctuate Chinese sentences in zh-CN with full-width marks, and put no space between Chinese words', () => {
    const cjk = '[\\u3400-\\u9fff\\u3000-\\u303f\\uff00-\\uffef“”]';
    const asciiByChinese = new RegExp(`${cjk} ?[,.;:!?()]|[,;:!?()] ?${cjk}`);
    const spaced = /[\u3400-\u9fff] [\u3400-\u9fff]/;
    // A formula, f(基准), and the name Excel gives its format on Chinese Windows, "CSV (逗号分隔)", are quoted as written.
    const asWritten = ['explain.completeness.formula', 'batch.readAsGb18030'];
    const wrong = keys.filter((k) => {
      const m = MESSAGES['zh-CN'][k].replace(/\{[^}]+\}/g, 'X');
      return !asWritten.includes(k) && (asciiByChinese.test(m) || spaced.test(m));
    });
    expect(wrong).toEqual([]);
  });

  it('cover every key the renderer asks for', () => {
    const used = new Set<string>();
    for (const file of sourceFiles(join(appRoot(), 'renderer', 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z0-9_.]+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !(k in MESSAGES['zh-CN']))).toEqual([]);
  });

  it('fill in placeholders and leave unknown ones as written', () => {
    expect(translate('zh-CN', 'explain.rest', { count: 6 })).toBe('其余 6 项');
    expect(translate('en', 'explain.rest', { count: 6 })).toBe('6 others');
    expect(translate('en', 'explain.rest')).toBe('{count} others');
  });
});
