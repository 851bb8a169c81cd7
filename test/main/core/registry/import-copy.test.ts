// The copy in the data dir is verified again: a byte changed on the way (a failing disk, a racing writer) is refused.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { BundleError, readBundle } from '../../../../main/core/bundle/load.js';
import { openWritable } from '../../../../main/core/db/open.js';
import { importBundle } from '../../../../main/core/registry/import.js';
import {
  insertModel,
  listModels,
  modelPath,
  type ListedModel,
} from '../../../../main/core/registry/installed-models.js';
import { isInputError, type Problem } from '../../../../shared/problems.js';
import { writeTinyBundle } from './tiny-bundle.js';

/** What happens after each file is copied: `corrupt` flips a shard's first byte, `manifest` re-spaces
 * manifest.json (it still verifies, but is another bundle), `onCopy` runs (another process, say). */
const copying = vi.hoisted(() => ({
  corrupt: false,
  manifest: false,
  onCopy: undefined as (() => void) | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>();
  const copyFile: typeof fsp.copyFile = async (src, dest, mode) => {
    await fsp.copyFile(src, dest, mode);
    if (copying.corrupt && String(dest).endsWith('.bin')) {
      const bytes = await fsp.readFile(dest);
      bytes[0] = bytes[0]! ^ 0xff;
      await fsp.writeFile(dest, bytes);
    }
    if (copying.manifest && String(dest).endsWith('manifest.json')) {
      await fsp.writeFile(dest, `${await fsp.readFile(dest, 'utf8')}\n`);
    }
    copying.onCopy?.();
  };
  return { ...fsp, default: { ...fsp, copyFile }, copyFile };
});

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'branchlens-import-copy-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Imports the bundle `name` (tiny@1.0.0) into a fresh data dir with `copying` set as `how`; returns the problems. */
async function importWhile(
  name: string,
  how: Partial<typeof copying>,
  withDb?: (db: ReturnType<typeof openWritable>) => void,
): Promise<{
  error: unknown;
  problems: Problem[];
  models: ListedModel[];
  leftover: string[];
  events: unknown[];
}> {
  const src = await writeTinyBundle(join(root, name), '1.0.0');
  const dataDir = join(root, `data-${name}`);
  const db = openWritable(dataDir);
  const events: unknown[] = [];
  Object.assign(copying, how);
  if (withDb) copying.onCopy = () => withDb(db);
  try {
    const error = await importBundle(db, dataDir, src, { sink: { record: (e) => void events.push(e) } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    return {
      error,
      problems: isInputError(error) ? error.problems : [],
      models: listModels(db),
      leftover: readdirSync(join(dataDir, 'models', 'tiny')),
      events,
    };
  } finally {
    Object.assign(copying, { corrupt: false, manifest: false, onCopy: undefined });
    db.close();
  }
}

it('refuses a bundle whose copy does not verify, and leaves nothing behind', async () => {
  const { error, problems, models, leftover, events } = await importWhile('bundle', { corrupt: true });
  expect(error).toBeInstanceOf(BundleError);
  expect(models).toEqual([]);
  expect(problems[0]).toMatchObject({ reason: 'sha256_mismatch', params: { file: 'group1-shard1of1.bin' } });
  expect(leftover).toEqual([]);
  expect(events).toEqual([]);
});

it('refuses a bundle whose manifest.json changed while it was copied', async () => {
  const { error, problems, models, leftover } = await importWhile('respaced', { manifest: true });
  expect(error).toBeInstanceOf(BundleError);
  expect(models).toEqual([]);
  expect(problems).toEqual([
    expect.objectContaining({
      field: 'manifest.json',
      message: expect.stringMatching(/changed while the bundle was being imported/) as string,
      reason: 'changed_during_import',
      params: {},
    }),
  ]);
  expect(leftover).toEqual([]);
});

it('refuses a bundle another process installed meanwhile with a different sha256', async () => {
  let inserted = false;
  const { error, problems, models } = await importWhile('raced', {}, (db) => {
    if (inserted) return;
    inserted = true;
    const manifest = readBundle(join(root, 'raced')).manifest;
    insertModel(db, {
      id: 'tiny',
      version: '1.0.0',
      sha256: 'f'.repeat(64),
      path: modelPath('tiny', '1.0.0'),
      installedAt: new Date(0).toISOString(),
      manifest,
    });
  });
  expect(isInputError(error)).toBe(true);
  expect(problems).toEqual([
    expect.objectContaining({
      field: 'manifest.json: version',
      reason: 'installed_meanwhile_with_other_sha256',
      params: { model: 'tiny@1.0.0' },
    }),
  ]);
  expect(models.map((m) => m.sha256)).toEqual(['f'.repeat(64)]);
});
