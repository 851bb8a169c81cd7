import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dbPath } from '../../../main/core/db/open.js';
import { BranchLensService, REGISTRY_FOLLOW_MS } from '../../../main/core/service.js';
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

  it('refuse a Riemann rule with one step, in either order, since every request left to them would fail', async () => {
    const before = service.getSettings();
    const refused = (patch: object) => {
      try {
        service.updateSettings(patch);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).problems;
      }
      throw new Error(`accepted ${JSON.stringify(patch)}`);
    };
    expect(refused({ method: 'riemann_left', n_steps: 1 })).toEqual([
      expect.objectContaining({
        field: 'n_steps',
        message: expect.stringMatching(/≥ 2 with riemann_left/) as string,
      }),
    ]);
    service.updateSettings({ n_steps: 1 }); // fine with Gauss–Legendre
    expect(refused({ method: 'riemann_trapezoid' })[0]!.field).toBe('n_steps');
    expect(service.getSettings()).toMatchObject({ method: before.method, n_steps: 1 });
    // Changed together, they are takeable, and a request left to them is answered.
    service.updateSettings({ method: 'riemann_left', n_steps: 2 });
    const [doc] = await service.explain(holdoutApplicants(1));
    expect(doc!.meta.explanation.params).toMatchObject({ method: 'riemann_left', n_steps: 2 });
    service.updateSettings({ method: before.method, n_steps: before.n_steps });
  });
});

describe('settings stored before the pair was checked', () => {
  it('read with a Riemann rule and one step fall back to the default steps', async () => {
    const dir = tempDir('branchlens-settings-pair-');
    try {
      const s = await BranchLensService.open({ dataDir: dir });
      await s.close();
      const raw = new Database(dbPath(dir));
      raw.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('method', '"riemann_left"');
      raw.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('n_steps', '1');
      raw.close();
      const again = await BranchLensService.open({ dataDir: dir });
      try {
        expect(again.getSettings()).toMatchObject({
          method: 'riemann_left',
          n_steps: DEFAULT_SETTINGS.n_steps,
        });
        const [doc] = await again.explain(holdoutApplicants(1));
        expect(doc!.meta.explanation.params).toMatchObject({
          method: 'riemann_left',
          n_steps: DEFAULT_SETTINGS.n_steps,
        });
      } finally {
        await again.close();
      }
    } finally {
      removeDir(dir);
    }
  });
});

describe('settings changed by another process on the same data folder (the desktop app beside serve)', () => {
  it('are taken up within seconds, and a change here is checked against them', async () => {
    const dir = tempDir('branchlens-settings-two-');
    const here = await BranchLensService.open({ dataDir: dir });
    const other = await BranchLensService.open({ dataDir: dir });
    try {
      expect(here.getSettings().top_k).toBe(DEFAULT_SETTINGS.top_k);
      other.updateSettings({ locale: 'en', top_k: 2 });
      // Within REGISTRY_FOLLOW_MS, with no call made here: the answers follow the installation's settings.
      await vi.waitFor(() => expect(here.getSettings()).toMatchObject({ locale: 'en', top_k: 2 }), {
        timeout: REGISTRY_FOLLOW_MS + 2_000,
        interval: 100,
      });
      const [doc] = await here.explain(holdoutApplicants(1));
      expect(doc!.meta.locale).toBe('en');
      expect(doc!.attributions).toHaveLength(2);
      // One step (fine with Gauss–Legendre, read here) is refused with the Riemann rule the other process chose
      // meanwhile, even before this one took it up: stored, the pair would fail every request left to them.
      other.updateSettings({ method: 'riemann_left' });
      expect(() => here.updateSettings({ n_steps: 1 })).toThrow(/n_steps.*≥ 2 with riemann_left/s);
      expect(here.getSettings()).toMatchObject({ method: 'riemann_left', n_steps: DEFAULT_SETTINGS.n_steps });
      const [left] = await here.explain(holdoutApplicants(1));
      expect(left!.meta.explanation.params).toMatchObject({ method: 'riemann_left' });
    } finally {
      await other.close();
      await here.close();
      removeDir(dir);
    }
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
