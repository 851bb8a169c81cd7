// The bundle tests' fixture: one valid bundle (a linear sigmoid model, on the cpu backend) made before the file's
// tests, and fresh folders or changed copies of it, all removed after them.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { sealBundle, type ManifestFields } from '../../../../main/core/bundle/write.js';
import { initBackend } from '../../../../main/core/tf/backend.js';
import { linearBundle, removeDir, tempDir } from '../../../helpers/bundles.js';

/** The fields of a bundle's manifest.json other than its files: what sealing it again keeps. */
export function manifestFields(dir: string): ManifestFields {
  const { files: _files, ...fields } = JSON.parse(
    readFileSync(join(dir, 'manifest.json'), 'utf8'),
  ) as ManifestFields & { files: unknown };
  return fields;
}

/** Registers the fixture's hooks in the calling test file. */
export function bundleCopies(): {
  /** The valid bundle's folder (once the file's beforeAll ran). */
  valid: () => string;
  /** A fresh empty folder. */
  fresh: () => string;
  /** A copy of the valid bundle, changed by `mutate`, sealed again afterwards when `reseal`. */
  broken: (mutate: (dir: string) => void, reseal?: boolean) => string;
} {
  const dirs: string[] = [];
  let valid = '';
  beforeAll(async () => {
    await initBackend('cpu');
    valid = await linearBundle(tempDir(), 'sigmoid');
    dirs.push(valid);
  });
  afterAll(() => dirs.forEach(removeDir));
  const fresh = () => {
    const dir = tempDir();
    dirs.push(dir);
    return dir;
  };
  return {
    valid: () => valid,
    fresh,
    broken: (mutate, reseal = false) => {
      const dir = fresh();
      cpSync(valid, dir, { recursive: true });
      mutate(dir);
      if (reseal) sealBundle(dir, manifestFields(dir));
      return dir;
    },
  };
}
