// A change to the settings that decide what an explanation says (method, steps, top-K) is an audit entry of its
// own, written before the change is stored; the language and the theme are not logged.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BranchLensService } from '../../../main/core/service.js';
import { auditedChanges } from '../../../main/core/settings.js';
import { DEFAULT_SETTINGS } from '../../../shared/contract.js';
import { removeDir, tempDir } from '../cli/helpers.js';

let data: string;
let service: BranchLensService;
beforeAll(async () => {
  data = tempDir('branchlens-settings-audit-');
  service = await BranchLensService.open({ dataDir: data });
});
afterAll(async () => {
  await service?.close();
  removeDir(data);
});

async function settingsEntries() {
  const { entries } = await service.auditPage({ kind: 'settings_change', limit: 100 });
  return entries;
}

describe('a settings change in the audit log', () => {
  it('names each explainer setting changed, from and to, in one entry per change', async () => {
    expect(await settingsEntries()).toEqual([]);
    service.updateSettings({ n_steps: 100, top_k: 3, locale: 'en', theme: 'dark' });
    service.updateSettings({ method: 'riemann_trapezoid' });
    const entries = await settingsEntries();
    expect(entries.map((e) => e.details)).toEqual([
      { changes: { method: { from: 'gausslegendre', to: 'riemann_trapezoid' } } },
      { changes: { n_steps: { from: DEFAULT_SETTINGS.n_steps, to: 100 }, top_k: { from: 5, to: 3 } } },
    ]);
    expect(entries.every((e) => e.model_id === null && e.document_id === null)).toBe(true);
    // Chained like every other entry.
    expect(await service.auditVerify()).toMatchObject({ ok: true });
  });

  it('writes nothing for the language, the theme, or a value already set', async () => {
    const before = (await settingsEntries()).length;
    service.updateSettings({ locale: 'zh-CN', theme: 'light' });
    service.updateSettings({ method: 'riemann_trapezoid', n_steps: 100 });
    service.updateSettings({});
    expect(await settingsEntries()).toHaveLength(before);
  });

  it('leaves the settings unchanged when the entry cannot be written', async () => {
    const before = service.getSettings();
    const count = (await settingsEntries()).length;
    const append = vi.spyOn(service.audit, 'appendSync').mockImplementation(() => {
      throw new Error('database or disk is full');
    });
    try {
      expect(() => service.updateSettings({ top_k: 9 })).toThrow(/disk is full/);
    } finally {
      append.mockRestore();
    }
    expect(service.getSettings()).toEqual(before);
    await service.close();
    service = await BranchLensService.open({ dataDir: data });
    expect(service.getSettings()).toEqual(before);
    expect(await settingsEntries()).toHaveLength(count);
  });

  it('compares only the explainer settings a patch holds', () => {
    expect(auditedChanges(DEFAULT_SETTINGS, { top_k: 5, locale: 'en' })).toBeUndefined();
    expect(auditedChanges(DEFAULT_SETTINGS, { top_k: 0 })).toEqual({ top_k: { from: 5, to: 0 } });
  });
});
