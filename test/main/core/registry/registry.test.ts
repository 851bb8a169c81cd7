import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BundleError, readBundle } from '../../../../main/core/bundle/load.js';
import { openWritable, type WritableDb } from '../../../../main/core/db/open.js';
import { activateModel, rollbackModel } from '../../../../main/core/registry/activation.js';
import type { RegistryEvent } from '../../../../main/core/registry/events.js';
import { ensureDemoModel, importBundle } from '../../../../main/core/registry/import.js';
import { BusyError } from '../../../../main/core/microbatch.js';
import {
  activationHistory,
  activeModel,
  listModels,
  modelDir,
  type RegistryContext,
} from '../../../../main/core/registry/installed-models.js';
import { InputError } from '../../../../shared/problems.js';
import { writeTinyBundle } from './tiny-bundle.js';

const SHARD = 'group1-shard1of1.bin';

let bundles: string;
const bundle = (name: string) => join(bundles, name);
let dataDir: string;
let db: WritableDb;
let events: RegistryEvent[];
let ctx: RegistryContext;

beforeAll(async () => {
  bundles = mkdtempSync(join(tmpdir(), 'branchlens-bundles-'));
  await writeTinyBundle(bundle('v1'), '1.0.0');
  await writeTinyBundle(bundle('v2'), '2.0.0');
  await writeTinyBundle(bundle('v3'), '3.0.0');
  await writeTinyBundle(bundle('v1-changed'), '1.0.0', { auc: 0.9 });
});

afterAll(() => rmSync(bundles, { recursive: true, force: true }));

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'branchlens-registry-'));
  db = openWritable(dataDir);
  events = [];
  ctx = { sink: { record: (e) => void events.push(e) } };
});

afterEach(() => {
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function refs(): string[] {
  return listModels(db).map((m) => `${m.ref}${m.active ? '*' : ''}`);
}

async function caught(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('importBundle', () => {
  it('copies a verified bundle into models/<id>/<version>, registers it and activates the first one', async () => {
    const result = await importBundle(db, dataDir, bundle('v1'), ctx);
    expect(result).toMatchObject({ status: 'installed', activated: true });
    expect(result.model).toMatchObject({ id: 'tiny', version: '1.0.0', path: 'models/tiny/1.0.0' });
    const installed = modelDir(dataDir, result.model);
    expect(installed).toBe(join(dataDir, 'models', 'tiny', '1.0.0'));
    expect(readBundle(installed).sha256).toBe(readBundle(bundle('v1')).sha256);
    expect(result.model.sha256).toBe(readBundle(bundle('v1')).sha256);
    expect(refs()).toEqual(['tiny@1.0.0*']);
    expect(activationHistory(db).map((a) => a.reason)).toEqual(['import']);
  });

  /** Windows' rename, refusing `refusals` times as while an antivirus scans the copy: the waits it was given. */
  function heldFolder(refusals: number) {
    const waits: number[] = [];
    let left = refusals;
    return {
      waits,
      move: {
        platform: 'win32' as const,
        rename: (from: string, to: string) => {
          if (left-- > 0)
            throw Object.assign(new Error(`EPERM: operation not permitted, rename '${from}'`), {
              code: 'EPERM',
            });
          renameSync(from, to);
        },
        wait: async (ms: number) => void waits.push(ms),
      },
    };
  }

  it('on Windows, tries the move again while another program holds a file of the copy for a moment', async () => {
    const held = heldFolder(2);
    const result = await importBundle(db, dataDir, bundle('v1'), { ...ctx, move: held.move });
    expect(result).toMatchObject({ status: 'installed', activated: true });
    expect(held.waits).toEqual([50, 100]);
    expect(readBundle(modelDir(dataDir, result.model)).sha256).toBe(readBundle(bundle('v1')).sha256);
    expect(refs()).toEqual(['tiny@1.0.0*']);
    expect(events.map((e) => e.kind)).toEqual(['model_import', 'model_activate']); // once each, not per try
  });

  it('on Windows, answers busy when the copy stays held, having installed nothing', async () => {
    const held = heldFolder(Infinity);
    const failure = await importBundle(db, dataDir, bundle('v1'), { ...ctx, move: held.move }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(BusyError);
    expect((failure as BusyError).message).toMatch(
      /cannot install tiny@1\.0\.0 now: Windows would not move its folder into place, as another program/,
    );
    expect(held.waits).toEqual([50, 100, 200, 400, 800]);
    expect(refs()).toEqual([]);
    expect(events).toEqual([]);
    expect(readdirSync(join(dataDir, 'models', 'tiny'))).toEqual([]); // the staging copy removed
  });

  it('installs later versions without activating them unless asked', async () => {
    await importBundle(db, dataDir, bundle('v1'), ctx);
    expect((await importBundle(db, dataDir, bundle('v2'), ctx)).activated).toBe(false);
    expect(refs()).toEqual(['tiny@1.0.0*', 'tiny@2.0.0']);
    const third = await importBundle(db, dataDir, bundle('v3'), { ...ctx, activate: true });
    expect(third.activated).toBe(true);
    expect(third.previous?.version).toBe('1.0.0');
    expect(refs()).toEqual(['tiny@1.0.0', 'tiny@2.0.0', 'tiny@3.0.0*']);
  });

  it('refuses a bundle with a changed weight byte, naming the shard, and installs nothing', async () => {
    const tampered = join(bundles, 'tampered');
    cpSync(bundle('v1'), tampered, { recursive: true });
    const shard = join(tampered, SHARD);
    const bytes = readFileSync(shard);
    bytes[0] = bytes[0]! ^ 0xff;
    writeFileSync(shard, bytes);

    const error = await caught(importBundle(db, dataDir, tampered, ctx));
    expect(error).toBeInstanceOf(BundleError);
    expect(error.problems.map((p) => p.field)).toEqual([SHARD]);
    expect(error.problems[0]!.message).toMatch(/sha256/);
    expect(error.problems[0]).toMatchObject({ reason: 'sha256_mismatch', params: { file: SHARD } });
    expect(listModels(db)).toEqual([]);
    expect(existsSync(join(dataDir, 'models', 'tiny', '1.0.0'))).toBe(false);
    expect(events).toEqual([]);
  });

  it('importing the same id@version with the same sha256 again changes nothing and says so', async () => {
    await importBundle(db, dataDir, bundle('v1'), ctx);
    events = [];
    const again = await importBundle(db, dataDir, bundle('v1'), ctx);
    expect(again.status).toBe('already_installed');
    expect(again.activated).toBe(false);
    expect(again.message).toMatch(/already installed.*nothing to import/);
    expect(events).toEqual([]);
    expect(activationHistory(db)).toHaveLength(1);
  });

  it('refuses the same id@version with a different sha256', async () => {
    await importBundle(db, dataDir, bundle('v1'), ctx);
    const error = await caught(importBundle(db, dataDir, bundle('v1-changed'), ctx));
    expect(error.problems[0]!.field).toBe('manifest.json: version');
    expect(error.message).toMatch(/tiny@1\.0\.0 is already installed with a different sha256.*new version/);
    expect(error.problems[0]).toMatchObject({
      reason: 'installed_with_other_sha256',
      params: {
        model: 'tiny@1.0.0',
        installed: readBundle(bundle('v1')).sha256.slice(0, 12),
        bundle: readBundle(bundle('v1-changed')).sha256.slice(0, 12),
      },
    });
    expect(listModels(db)[0]!.sha256).toBe(readBundle(bundle('v1')).sha256);
  });

  it('refuses a version whose folder is an installed one on Windows or macOS (1.0.0-RC1, 1.0.0-rc1)', async () => {
    // Those file systems ignore letter case: installing 1.0.0-rc1 there would replace the files of 1.0.0-RC1,
    // which would then fail to verify as the model it was imported as.
    const upper = await writeTinyBundle(bundle('rc-upper'), '1.0.0-RC1');
    const lower = await writeTinyBundle(bundle('rc-lower'), '1.0.0-rc1');
    const { model } = await importBundle(db, dataDir, upper, ctx);
    const error = await caught(importBundle(db, dataDir, lower, ctx));
    expect(error.problems[0]).toMatchObject({
      field: 'manifest.json: version',
      reason: 'version_folder_taken',
      params: { installed: 'tiny@1.0.0-RC1' },
    });
    expect(error.message).toMatch(/tiny@1\.0\.0-RC1 is installed.*letter case.*another version/);
    // And a version ending in a dot (Windows drops it: 1.0.0-RC1. is 1.0.0-RC1's folder) is no version at all.
    const dotted = await writeTinyBundle(bundle('rc-dotted'), '1.0.0-RC1.');
    const refused = await caught(importBundle(db, dataDir, dotted, ctx));
    expect(refused).toBeInstanceOf(BundleError);
    expect(refused.problems).toEqual([
      expect.objectContaining({ field: 'manifest.json: version', reason: 'field_invalid' }),
    ]);
    expect(refs()).toEqual(['tiny@1.0.0-RC1*']);
    expect(readBundle(modelDir(dataDir, model)).sha256).toBe(model.sha256);
  });

  it('refuses an id or version Windows cannot name a folder, and installs nothing', async () => {
    // A data folder holds models/<id>/<version>/ and may be moved to a Windows workstation: refused everywhere.
    const nul = await writeTinyBundle(bundle('nul-id'), '1.0.0');
    const manifest = JSON.parse(readFileSync(join(nul, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(nul, 'manifest.json'), JSON.stringify({ ...manifest, id: 'nul' }));
    const trailing = await writeTinyBundle(bundle('trailing-dot'), '1.0.0-rc.');
    for (const [dir, field] of [
      [nul, 'manifest.json: id'],
      [trailing, 'manifest.json: version'],
    ] as const) {
      const error = await caught(importBundle(db, dataDir, dir, ctx));
      expect(error).toBeInstanceOf(BundleError);
      expect(error.problems).toEqual([expect.objectContaining({ field, reason: 'field_invalid' })]);
      expect(error.message).toMatch(/Windows/);
    }
    expect(listModels(db)).toEqual([]);
    expect(events).toEqual([]);
  });

  it('copies the files again when the installed copy no longer verifies', async () => {
    const { model } = await importBundle(db, dataDir, bundle('v1'), ctx);
    rmSync(join(modelDir(dataDir, model), SHARD));
    const again = await importBundle(db, dataDir, bundle('v1'), ctx);
    expect(again.status).toBe('repaired');
    expect(readBundle(modelDir(dataDir, model)).sha256).toBe(model.sha256);
  });
});

describe('activation and rollback', () => {
  beforeEach(async () => {
    for (const v of ['v1', 'v2', 'v3']) await importBundle(db, dataDir, bundle(v), ctx);
    events = [];
  });

  it('activates, and rolls back to the versions active before, one step at a time', async () => {
    expect(activeModel(db)?.ref).toBe('tiny@1.0.0');
    expect((await activateModel(db, 'tiny@2.0.0', ctx)).changed).toBe(true);
    expect((await activateModel(db, 'tiny@3.0.0', ctx)).previous?.version).toBe('2.0.0');
    expect(refs()).toEqual(['tiny@1.0.0', 'tiny@2.0.0', 'tiny@3.0.0*']);

    const back = await rollbackModel(db, ctx);
    expect(back.model.ref).toBe('tiny@2.0.0');
    expect(back.previous.version).toBe('3.0.0');
    expect(activeModel(db)).toMatchObject({ ref: 'tiny@2.0.0', reason: 'rollback' });

    expect((await rollbackModel(db, ctx)).model.ref).toBe('tiny@1.0.0');
    const error = await caught(rollbackModel(db, ctx));
    expect(error.problems[0]!.field).toBe('model');
    // Not "the only version activated so far": 2.0.0 and 3.0.0 were, and were rolled back.
    expect(error.message).toBe(
      'model: tiny@1.0.0 was the first version activated, and the ones activated after it (tiny@2.0.0, tiny@3.0.0) were rolled back, so there is no earlier one to roll back to',
    );
    // Its own reason, which the UI words in its language (not no_earlier_model's "the only version so far").
    expect(error.problems[0]).toMatchObject({
      reason: 'rolled_back_to_first',
      params: { model: 'tiny@1.0.0', later: 'tiny@2.0.0, tiny@3.0.0' },
    });
    expect(activeModel(db)?.ref).toBe('tiny@1.0.0');
  });

  it('re-activating the active model is a no-op', async () => {
    const result = await activateModel(db, 'tiny@1.0.0', ctx);
    expect(result.changed).toBe(false);
    expect(result.message).toMatch(/already the active model/);
    expect(events).toEqual([]);
  });

  it('refuses an unknown model, naming what is installed', async () => {
    const error = await caught(activateModel(db, 'tiny@9.9.9', ctx));
    expect(error.problems[0]!.field).toBe('model');
    expect(error.message).toMatch(/tiny@9\.9\.9 is not installed.*tiny@1\.0\.0, tiny@2\.0\.0, tiny@3\.0\.0/);
    expect(error.problems[0]).toMatchObject({
      reason: 'model_not_installed',
      params: { ref: 'tiny@9.9.9', installed: 'tiny@1.0.0, tiny@2.0.0, tiny@3.0.0' },
    });
    const ambiguous = await caught(activateModel(db, 'tiny', ctx));
    expect(ambiguous.message).toMatch(/several versions.*tiny@<version>/);
    expect(ambiguous.problems[0]).toMatchObject({
      reason: 'model_ambiguous',
      params: { id: 'tiny', versions: '1.0.0, 2.0.0, 3.0.0' },
    });
  });

  it('refuses a rollback when nothing was active before', async () => {
    const error = await caught(rollbackModel(db, ctx));
    expect(error.message).toMatch(
      /tiny@1\.0\.0 is the only version activated so far.*no previous one to roll back to/,
    );
    expect(error.problems[0]).toMatchObject({ reason: 'no_earlier_model', params: { model: 'tiny@1.0.0' } });
  });

  it('refuses a rollback when the active model changes while its target is checked', async () => {
    await activateModel(db, 'tiny@2.0.0', ctx);
    await activateModel(db, 'tiny@3.0.0', ctx);
    const error = await caught(
      rollbackModel(db, { ...ctx, check: async () => void (await activateModel(db, 'tiny@1.0.0', ctx)) }),
    );
    expect(error.message).toMatch(/the active model changed while tiny@2\.0\.0 was being checked/);
    expect(error.problems[0]).toMatchObject({
      field: 'model',
      reason: 'active_model_changed',
      params: { model: 'tiny@2.0.0' },
    });
    expect(activeModel(db)?.ref).toBe('tiny@1.0.0');
  });

  it('tells the sink about every committed change, with the model active before', async () => {
    await activateModel(db, 'tiny@2.0.0', ctx);
    await rollbackModel(db, ctx);
    const sha = (v: string) => readBundle(bundle(v)).sha256;
    const v1 = { id: 'tiny', version: '1.0.0', sha256: sha('v1') };
    const v2 = { id: 'tiny', version: '2.0.0', sha256: sha('v2') };
    expect(events).toEqual([
      { kind: 'model_activate', model: v2, previous: v1, reason: 'activate' },
      { kind: 'model_rollback', model: v1, previous: v2 },
    ]);
  });
});

describe('with nothing installed', () => {
  it('refuses to activate or roll back, saying why', async () => {
    const unknown = await caught(activateModel(db, 'tiny@1.0.0', ctx));
    expect(unknown.message).toMatch(/tiny@1\.0\.0 is not installed \(no model is installed\)/);
    expect(unknown.problems[0]).toMatchObject({
      reason: 'no_model_installed',
      params: { ref: 'tiny@1.0.0' },
    });
    const rollback = await caught(rollbackModel(db, ctx));
    expect(rollback.message).toMatch(/no model is active/);
    expect(rollback.problems[0]).toMatchObject({ reason: 'no_active_model', params: {} });
  });
});

describe('sink on import', () => {
  it('records the import and the activation it caused', async () => {
    await importBundle(db, dataDir, bundle('v1'), ctx);
    await importBundle(db, dataDir, bundle('v2'), ctx);
    expect(events.map((e) => `${e.kind} ${e.model.version}`)).toEqual([
      'model_import 1.0.0',
      'model_activate 1.0.0',
      'model_import 2.0.0',
    ]);
  });

  it('waits for an asynchronous sink', async () => {
    const slow: RegistryContext = {
      sink: { record: (e) => new Promise((r) => setTimeout(() => r(void events.push(e)), 10)) },
    };
    await importBundle(db, dataDir, bundle('v1'), slow);
    expect(events).toHaveLength(2);
  });
});

describe('ensureDemoModel', () => {
  it('installs and activates the demo bundle on first run only', async () => {
    const first = await ensureDemoModel(db, dataDir, bundle('v1'), ctx);
    expect(first).toMatchObject({ status: 'installed', activated: true });
    expect(activeModel(db)).toMatchObject({ ref: 'tiny@1.0.0', reason: 'preinstall' });
    expect(events.map((e) => e.kind)).toEqual(['model_import', 'model_activate']);
    expect(await ensureDemoModel(db, dataDir, bundle('v2'), ctx)).toBeUndefined();
    expect(refs()).toEqual(['tiny@1.0.0*']);
  });

  const demo = join(import.meta.dirname, '../../../../assets/models/credit-demo');
  it.skipIf(!existsSync(demo))('installs the shipped demo bundle', async () => {
    const result = await ensureDemoModel(db, dataDir, demo, ctx);
    expect(result?.model.id).toBe('credit-demo');
    expect(activeModel(db)?.sha256).toBe(readBundle(demo).sha256);
  });
});
