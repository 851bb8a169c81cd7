// The copy in the data dir is verified again: a byte changed on the way (a failing disk, a racing writer) is refused.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { BundleError } from '../../../../main/core/bundle/load.js';
import { openWritable } from '../../../../main/core/db/open.js';
import { importBundle } from '../../../../main/core/registry/import.js';
import { listModels } from '../../../../main/core/registry/installed-models.js';
import { writeTinyBundle } from './tiny-bundle.js';

const corrupt = vi.hoisted(() => ({ on: false }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const copyFileSync: typeof fs.copyFileSync = (src, dest, mode) => {
    fs.copyFileSync(src, dest, mode);
    if (corrupt.on && String(dest).endsWith('.bin')) {
      const bytes = fs.readFileSync(dest);
      bytes[0] = bytes[0]! ^ 0xff;
      fs.writeFileSync(dest, bytes);
    }
  };
  return { ...fs, default: { ...fs, copyFileSync }, copyFileSync };
});

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'branchlens-import-copy-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('refuses a bundle whose copy does not verify, and leaves nothing behind', async () => {
  const src = await writeTinyBundle(join(root, 'bundle'), '1.0.0');
  const dataDir = join(root, 'data');
  const db = openWritable(dataDir);
  const events: unknown[] = [];
  corrupt.on = true;
  try {
    await expect(
      importBundle(db, dataDir, src, { sink: { record: (e) => void events.push(e) } }),
    ).rejects.toThrow(BundleError);
    expect(listModels(db)).toEqual([]);
    expect(readdirSync(join(dataDir, 'models', 'tiny'))).toEqual([]);
    expect(events).toEqual([]);
  } finally {
    corrupt.on = false;
    db.close();
  }
});
