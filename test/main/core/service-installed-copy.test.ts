// An installed model whose files were changed on disk after import is refused with reasons a UI can word:
// the installed copy changed, and (at start) the active model cannot be served.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readBundle } from '../../../main/core/bundle/load.js';
import { sealBundle, type ManifestFields } from '../../../main/core/bundle/write.js';
import { BranchLensService } from '../../../main/core/service.js';
import { isInputError } from '../../../shared/problems.js';
import { removeDir, tempDir } from '../cli/helpers.js';
import { installTinyModel } from './registry/tiny-bundle.js';

let data: string;
let work: string;

beforeAll(() => {
  data = tempDir('branchlens-installed-copy-');
  work = tempDir('branchlens-installed-copy-src-');
});
afterAll(() => {
  removeDir(data);
  removeDir(work);
});

it('refuses to serve an active model whose installed copy was resealed, saying both why and what to do', async () => {
  await installTinyModel(data, join(work, 'tiny'));
  const imported = readBundle(join(work, 'tiny')).sha256;
  const installed = join(data, 'models', 'tiny', '1.0.0');
  const { files: _files, ...fields } = JSON.parse(
    readFileSync(join(installed, 'manifest.json'), 'utf8'),
  ) as ManifestFields & { files: unknown };
  // Sealed again, so that the copy verifies by itself but no longer is the bundle imported.
  sealBundle(installed, { ...fields, metrics: { auc: 0.5 } });
  const changed = readBundle(installed).sha256;

  const error = await BranchLensService.open({ dataDir: data, workers: 0 }).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(isInputError(error)).toBe(true);
  const problems = isInputError(error) ? error.problems : [];
  expect(problems).toEqual([
    expect.objectContaining({
      field: 'tiny@1.0.0: manifest.json',
      message: expect.stringMatching(/changed on disk/) as string,
      reason: 'installed_copy_changed',
      params: { model: 'tiny@1.0.0', installed: changed.slice(0, 12), imported: imported.slice(0, 12) },
    }),
    expect.objectContaining({ field: 'active model', reason: 'active_model_unservable', params: {} }),
  ]);
});
