import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbPath } from '../../../main/core/db/open.js';
import { BranchLensService } from '../../../main/core/service.js';
import { storedLocale } from '../../../main/core/settings.js';
import { DEFAULT_SETTINGS } from '../../../shared/contract.js';
import { InputError } from '../../../shared/problems.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

let data: string;
let service: BranchLensService;
beforeAll(async () => {
  data = tempDir('branchlens-settings-');
  service = await BranchLensService.open({ dataDir: data });
});
afterAll(async () => {
  await service?.close();
  removeDir(data);
});

describe('settings', () => {
  it('start at the defaults, persist across restarts and supply explain defaults', async () => {
    expect(service.getSettings()).toEqual(DEFAULT_SETTINGS);
    const updated = service.updateSettings({ locale: 'en', top_k: 2, theme: 'dark' });
    expect(updated).toMatchObject({ locale: 'en', top_k: 2, theme: 'dark', method: 'gausslegendre' });
    await service.close();
    service = await BranchLensService.open({ dataDir: data });
    expect(service.getSettings()).toEqual(updated);

    const [doc] = await service.explain(holdoutApplicants(1));
    expect(doc!.meta.locale).toBe('en');
    expect(doc!.attributions).toHaveLength(2);
    // A request's own options still win over the settings.
    const [zh] = await service.explain(holdoutApplicants(1), { locale: 'zh-CN', top_k: 3 });
    expect(zh!.meta.locale).toBe('zh-CN');
    expect(zh!.attributions).toHaveLength(3);
  });

  it('refuse bad values naming the field, changing nothing', () => {
    const before = service.getSettings();
    for (const bad of [
      { locale: 'fr' },
      { top_k: -1 },
      { n_steps: 0 },
      { method: 'simpson' },
      { colour: 'red' },
    ]) {
      let error: unknown;
      try {
        service.updateSettings(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).problems[0]!.field).toBe(Object.keys(bad)[0]);
    }
    expect(service.getSettings()).toEqual(before);
  });
});

describe('storedLocale', () => {
  it('reads the settings’ locale without the service; undefined without a readable database', async () => {
    const dir = tempDir('branchlens-stored-locale-');
    try {
      expect(storedLocale(dir)).toBeUndefined();
      const s = await BranchLensService.open({ dataDir: dir, workers: 0 });
      try {
        s.updateSettings({ locale: 'en' });
        // Readable while the service holds the database open, as in the desktop app.
        expect(storedLocale(dir)).toBe('en');
        s.updateSettings({ locale: 'zh-CN' });
      } finally {
        await s.close();
      }
      expect(storedLocale(dir)).toBe('zh-CN');
      writeFileSync(dbPath(dir), 'not a database');
      expect(storedLocale(dir)).toBeUndefined();
    } finally {
      removeDir(dir);
    }
  });
});
