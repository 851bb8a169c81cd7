// A settings change's audit entry as the Audit page words it: the Settings page's labels, from → to.
import { describe, expect, it } from 'vitest';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { settingsChangeRows } from '../../renderer/src/pages/audit/settings-change.js';

const zh = makeT('zh-CN');
const en = makeT('en');

describe("a settings change's entry on the Audit page", () => {
  const entry = {
    kind: 'settings_change',
    details: {
      changes: {
        method: { from: 'gausslegendre', to: 'riemann_trapezoid' },
        n_steps: { from: 50, to: 64 },
        top_k: { from: 5, to: 0 },
      },
    },
  };

  it('names each setting as the Settings page does, a method by its name and top-K 0 as all', () => {
    expect(settingsChangeRows(entry, zh)).toEqual([
      ['积分方法', '高斯-勒让德积分 → 梯形法'],
      ['积分步数', '50 → 64'],
      ['显示的主要特征数（Top-K）', '5 → 全部'],
    ]);
    expect(settingsChangeRows(entry, en)[2]).toEqual(['Main features shown (top-K)', '5 → all']);
  });

  it('shows a setting it does not know as recorded, and nothing for other kinds or odd details', () => {
    expect(
      settingsChangeRows({ kind: 'settings_change', details: { changes: { zoom: { from: 1, to: 2 } } } }, en),
    ).toEqual([['zoom', '1 → 2']]);
    expect(
      settingsChangeRows({ kind: 'model_activate', details: { changes: entry.details.changes } }, en),
    ).toEqual([]);
    expect(settingsChangeRows({ kind: 'settings_change', details: { changes: [1] } }, en)).toEqual([]);
    expect(settingsChangeRows({ kind: 'settings_change', details: null }, en)).toEqual([]);
  });
});
