import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { diskRestored, diskWith } from '../../helpers/disk.js';
import { BranchLensService } from '../../../main/core/service.js';
import { explanationDocumentSchema } from '../../../shared/explanation.js';
import {
  demoBundleVersion,
  expectInputError,
  expectSuccess,
  removeDir,
  runCli,
  tamperedDemoBundle,
  tempDir,
} from './helpers.js';

let data: string;
let work: string;

beforeEach(() => {
  data = tempDir('branchlens-models-data-');
  work = tempDir('branchlens-models-files-');
});
afterEach(() => {
  removeDir(data);
  removeDir(work);
});

const models = (...args: string[]) => runCli(['models', ...args, '--data', data]);

/** The lines of `models list`, as "* ref" or "  ref". */
async function listed(): Promise<string[]> {
  const run = await models('list');
  expectSuccess(run);
  return run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.slice(0, 2) + line.slice(2).split(/\s+/)[0]);
}

async function explainedVersion(): Promise<string> {
  const run = await runCli(['explain', '--data', data]);
  expectSuccess(run);
  return explanationDocumentSchema.parse(JSON.parse(run.stdout)).model.version;
}

describe('branchlens models', () => {
  it('list shows the pre-installed demo model as the active one', async () => {
    expect(await listed()).toEqual(['* credit-demo@1.0.0']);
    const json = await models('list', '--json');
    expectSuccess(json);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { id: 'credit-demo', version: '1.0.0', ref: 'credit-demo@1.0.0', active: true },
    ]);
  });

  it('still work when the active model cannot be loaded, so another can be activated', async () => {
    await models('list'); // installs the demo model
    const bundle = demoBundleVersion(join(work, 'v1.0.1'), '1.0.1');
    expectSuccess(await models('import', bundle, '--activate'));
    // The active model's installed copy loses a weight byte on disk.
    const shard = join(data, 'models', 'credit-demo', '1.0.1', 'group1-shard1of1.bin');
    const bytes = readFileSync(shard);
    bytes[100] = bytes[100]! ^ 0x01;
    writeFileSync(shard, bytes);
    // Explaining is refused, naming the changed file; the model commands say why and still answer.
    const explain = expectInputError(await runCli(['explain', '--data', data]));
    expect(explain).toMatch(/group1-shard1of1\.bin: sha256/);
    const list = await models('list');
    expect(list.code).toBe(0);
    expect(list.stderr).toMatch(/the active model cannot be loaded:\n {2}- group1-shard1of1\.bin: sha256/);
    expect(list.stdout).toMatch(/^\* credit-demo@1\.0\.1 /m);
    const rollback = await models('rollback');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toMatch(/rolled back from credit-demo@1\.0\.1 to credit-demo@1\.0\.0/);
    // Back on a model that loads: no notice any more.
    expect(await listed()).toEqual(['* credit-demo@1.0.0', '  credit-demo@1.0.1']);
    expect(await explainedVersion()).toBe('1.0.0');
    // Going back to the changed copy is refused, and nothing changes.
    expect(expectInputError(await models('activate', 'credit-demo@1.0.1'))).toMatch(/group1-shard1of1\.bin/);
    expect(await listed()).toEqual(['* credit-demo@1.0.0', '  credit-demo@1.0.1']);
  });

  it('import refuses a bundle with a changed weight shard, exit 2 naming the shard', async () => {
    const bundle = tamperedDemoBundle(join(work, 'tampered'), 'group1-shard1of1.bin');
    const stderr = expectInputError(await models('import', bundle, '--activate'));
    expect(stderr).toMatch(/- group1-shard1of1\.bin: sha256 [0-9a-f]{64} does not match manifest\.json/);
    expect(await listed()).toEqual(['* credit-demo@1.0.0']);
  });

  it('import, activate and rollback round-trip, and explain follows the active model', async () => {
    const bundle = demoBundleVersion(join(work, 'v1.0.1'), '1.0.1');
    const imported = await models('import', bundle);
    expectSuccess(imported);
    expect(imported.stdout).toMatch(/^installed credit-demo@1\.0\.1 \(sha256 [0-9a-f]{12}…\)\n$/);
    expect(await listed()).toEqual(['* credit-demo@1.0.0', '  credit-demo@1.0.1']);
    expect(await explainedVersion()).toBe('1.0.0');

    const activated = await models('activate', 'credit-demo@1.0.1');
    expectSuccess(activated);
    expect(activated.stdout).toMatch(
      /credit-demo@1\.0\.1 is now the active model \(was credit-demo@1\.0\.0\)/,
    );
    expect(await listed()).toEqual(['  credit-demo@1.0.0', '* credit-demo@1.0.1']);
    expect(await explainedVersion()).toBe('1.0.1');

    const rolledBack = await models('rollback');
    expectSuccess(rolledBack);
    expect(rolledBack.stdout).toMatch(/rolled back from credit-demo@1\.0\.1 to credit-demo@1\.0\.0/);
    expect(await listed()).toEqual(['* credit-demo@1.0.0', '  credit-demo@1.0.1']);
    expect(await explainedVersion()).toBe('1.0.0');

    // Once more: refused, saying what is so (1.0.1 was activated, and rolled back), not "the only version".
    const again = expectInputError(await models('rollback'));
    expect(again).toContain(
      '- model: credit-demo@1.0.0 was the first version activated, and the ones activated after it (credit-demo@1.0.1) were rolled back, so there is no earlier one to roll back to',
    );
    expect(again).not.toMatch(/only version/);
  });

  it('import of a path that is no folder exits 2 naming DIR, before the data folder is opened', async () => {
    const fresh = join(work, 'never-made');
    for (const [dir, problem] of [
      [join(work, 'no-such-bundle'), /- DIR: .*no-such-bundle does not exist$/m],
      ['', /- DIR: is empty: give the bundle folder to import$/m],
    ] as const) {
      const stderr = expectInputError(await runCli(['models', 'import', dir, '--data', fresh]));
      expect(stderr).toMatch(problem);
      expect(existsSync(fresh)).toBe(false);
    }
  });

  it('activate of a model that is not installed exits 2 naming what is installed', async () => {
    const stderr = expectInputError(await models('activate', 'credit-demo@9.9.9'));
    expect(stderr).toMatch(/credit-demo@9\.9\.9 is not installed \(installed: credit-demo@1\.0\.0\)/);
    expect(await listed()).toEqual(['* credit-demo@1.0.0']);
  });

  it('rollback with no earlier version exits 2 and changes nothing', async () => {
    const stderr = expectInputError(await models('rollback'));
    expect(stderr).toMatch(/no previous one to roll back to/);
    expect(await listed()).toEqual(['* credit-demo@1.0.0']);
  });
});

describe('a model change that finds the disk full', () => {
  afterEach(() => {
    diskRestored();
  });

  it.each([
    ['import', 'importModel', () => ['import', join(work, 'bundle')]],
    ['activate', 'activateModel', () => ['activate', 'credit-demo@1.0.0']],
    ['rollback', 'rollbackModel', () => ['rollback']],
  ] as const)(
    'models %s whose write SQLite calls "disk I/O error" says the disk is full, as explain does',
    async (name, method, args) => {
      expectSuccess(await models('list'));
      demoBundleVersion(join(work, 'bundle'), '1.0.1');
      // SQLite's word for a WAL that cannot grow on a full disk, thrown by the write in the service's thread.
      vi.spyOn(BranchLensService.prototype, method).mockRejectedValue(
        new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_SHMSIZE'),
      );
      diskWith(8192);
      const run = await models(...args());
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `branchlens models ${name}: the disk holding the database is full (8192 bytes free): free some space on it\n`,
      );
    },
  );
});
