// Changing the active model through the service: a model that cannot serve (weights that do not load, a
// broken reference, files changed after install) is refused with its problems, and a refused import,
// activation or rollback changes nothing: not the active model, not the registry, not the audit log.
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyAudit } from '../../../main/core/audit/index.js';
import { sealBundle, type ManifestFields } from '../../../main/core/bundle/write.js';
import { openReadable } from '../../../main/core/db/open.js';
import { BranchLensService, REGISTRY_FOLLOW_MS } from '../../../main/core/service.js';
import { isInputError } from '../../../shared/problems.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';
import { writeTinyBundle } from './registry/tiny-bundle.js';

let data: string;
let work: string;
let service: BranchLensService;

/** Changes a bundle's files with `edit`, then seals the manifest again, as a bundle made that way would be. */
function reseal(dir: string, edit: () => void): string {
  const { files: _files, ...fields } = JSON.parse(
    readFileSync(join(dir, 'manifest.json'), 'utf8'),
  ) as ManifestFields & {
    files: unknown;
  };
  edit();
  sealBundle(dir, fields);
  return dir;
}

function auditCount(): number {
  const db = openReadable(data);
  try {
    return (db.prepare('SELECT count(*) AS n FROM audit_entries').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** What a refused change must leave as it was. */
function state() {
  return {
    active: service.model,
    models: service.listModels(),
    audit: auditCount(),
  };
}

async function refused(action: Promise<unknown>, field: RegExp): Promise<void> {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isInputError(error), `expected an input error, got ${String(error)}`).toBe(true);
  const problems = (error as { problems: { field: string }[] }).problems;
  expect(
    problems.some((p) => field.test(p.field)),
    JSON.stringify(problems),
  ).toBe(true);
}

beforeAll(async () => {
  data = tempDir('branchlens-models-data-');
  work = tempDir('branchlens-models-files-');
  // One engine thread: the HTTP server's path, where a model is loaded in a worker.
  service = await BranchLensService.open({ dataDir: data, workers: 1 });
});
afterAll(async () => {
  await service?.close();
  removeDir(data);
  removeDir(work);
});

describe('a model that cannot serve', () => {
  it('is refused at import when its weights do not load, and nothing is installed', async () => {
    const dir = reseal(await writeTinyBundle(join(work, 'short-weights'), '2.0.0'), () => {
      const shard = readdirShard(join(work, 'short-weights'));
      truncateSync(shard, 4); // three float32 weights: 12 bytes
    });
    const before = state();
    await refused(service.importModel(dir, true), /^model\.json/);
    expect(state()).toEqual(before);
  });

  it('is refused at import when its reference.json is not a reference', async () => {
    const dir = reseal(await writeTinyBundle(join(work, 'bad-reference'), '2.0.1'), () =>
      writeFileSync(join(work, 'bad-reference', 'reference.json'), '{"a":1}'),
    );
    const before = state();
    await refused(service.importModel(dir), /^reference\.json/);
    expect(state()).toEqual(before);
  });

  it('is refused at activation when its installed files were changed, and the old model keeps serving', async () => {
    const dir = await writeTinyBundle(join(work, 'good'), '3.0.0');
    const imported = await service.importModel(dir, false);
    expect(imported.status).toBe('installed');
    const installed = join(data, imported.model.path);
    reseal(installed, () => truncateSync(readdirShard(installed), 4));
    // Sealed again, so that the copy verifies by itself but no longer is the bundle imported.
    const before = state();
    await refused(service.activateModel('tiny@3.0.0'), /manifest|model\.json|sha256|\.bin/);
    expect(state()).toEqual(before);
    const [doc] = await service.explain(holdoutApplicants(1));
    expect(doc!.model.id).toBe(before.active.id);
    const db = openReadable(data);
    try {
      expect(verifyAudit(db, service.signingKey.publicKey).ok).toBe(true);
    } finally {
      db.close();
    }
  });

  it('is refused at activation when its installed copy lost a file, saying whose copy it is and that importing it again repairs it', async () => {
    const dir = await writeTinyBundle(join(work, 'lost-shard'), '3.1.0');
    const imported = await service.importModel(dir, false);
    const installed = join(data, imported.model.path);
    rmSync(readdirShard(installed));
    const before = state();
    const error = await service.activateModel('tiny@3.1.0').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isInputError(error)).toBe(true);
    // Without it, only "group1-shard1of1.bin: is listed in manifest.json but missing": which folder, and what to do?
    expect((error as { problems: unknown[] }).problems).toContainEqual(
      expect.objectContaining({
        field: 'tiny@3.1.0',
        reason: 'installed_copy_unverified',
        params: { model: 'tiny@3.1.0' },
        message: expect.stringContaining('import its bundle again') as string,
      }),
    );
    expect(state()).toEqual(before);
    expect((await service.importModel(dir, false)).status).toBe('repaired');
    expect((await service.activateModel('tiny@3.1.0')).changed).toBe(true);
    await service.rollbackModel(); // the model active before, for the tests below
  });

  it('is refused at rollback, leaving the active model and the history as they were', async () => {
    const ok = await writeTinyBundle(join(work, 'ok'), '4.0.0');
    await service.importModel(ok, true);
    expect(service.model.version).toBe('4.0.0');
    // The model rollback would return to (the demo) loses a weight byte on disk.
    const demo = service.listModels().find((m) => m.id !== 'tiny')!;
    const demoDir = join(data, demo.path);
    const shard = readdirShard(demoDir);
    const bytes = readFileSync(shard);
    writeFileSync(shard, bytes.subarray(0, 100));
    try {
      const before = state();
      await refused(service.rollbackModel(), /\.bin|sha256|model\.json/);
      expect(state()).toEqual(before);
      expect(service.model.version).toBe('4.0.0');
    } finally {
      writeFileSync(shard, bytes);
    }
    // With the files whole again, the same rollback goes through and the demo model serves.
    const result = await service.rollbackModel();
    expect(result.changed).toBe(true);
    expect(service.model.id).toBe(demo.id);
  });
});

describe('a model that can serve', () => {
  it('is activated, audited once, and serves the next request', async () => {
    const dir = await writeTinyBundle(join(work, 'fine'), '5.0.0');
    await service.importModel(dir, false);
    const audit = auditCount();
    const result = await service.activateModel('tiny@5.0.0');
    expect(result.changed).toBe(true);
    expect(service.model.version).toBe('5.0.0');
    expect(auditCount()).toBe(audit + 1);
    const [doc] = await service.explain([{ income: 1, debt: 2 }]);
    expect(doc!.model.version).toBe('5.0.0');
  });
  it('is activated once when two calls ask at the same time (a double click, a retried request)', async () => {
    const dir = await writeTinyBundle(join(work, 'twice'), '6.0.0');
    await service.importModel(dir, false);
    const audit = auditCount();
    const results = await Promise.all([
      service.activateModel('tiny@6.0.0'),
      service.activateModel('tiny@6.0.0'),
    ]);
    expect(results.map((r) => r.changed).sort()).toEqual([false, true]);
    expect(service.model.version).toBe('6.0.0');
    expect(auditCount()).toBe(audit + 1);
    const [doc] = await service.explain([{ income: 3, debt: 1 }]);
    expect(doc!.model.version).toBe('6.0.0');
  });
});

function readdirShard(dir: string): string {
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    weightsManifest: { paths: string[] }[];
  };
  return join(dir, model.weightsManifest[0]!.paths[0]!);
}

describe('a model activated by another process on the same data folder (the CLI beside the app)', () => {
  it('is served within seconds, with no call made to this service', async () => {
    const dir = await writeTinyBundle(join(work, 'elsewhere'), '7.0.0');
    const other = await BranchLensService.open({ dataDir: data, workers: 0 });
    try {
      await other.importModel(dir, true);
    } finally {
      await other.close();
    }
    expect(service.listModels().find((m) => m.active)?.ref).toBe('tiny@7.0.0');
    expect(service.model.version).not.toBe('7.0.0');
    // Within REGISTRY_FOLLOW_MS (and the time to start the model), with no call made here.
    await vi.waitFor(() => expect(service.model.version).toBe('7.0.0'), {
      timeout: REGISTRY_FOLLOW_MS + 15_000,
      interval: 100,
    });
    const [doc] = await service.explain([{ income: 2, debt: 2 }]);
    expect(doc!.model.version).toBe('7.0.0');
  });
  it('is served when it is activated here, though the registry already names it', async () => {
    const dir = await writeTinyBundle(join(work, 'named'), '8.0.0');
    const other = await BranchLensService.open({ dataDir: data, workers: 0 });
    try {
      await other.importModel(dir, true);
    } finally {
      await other.close();
    }
    const result = await service.activateModel('tiny@8.0.0');
    expect(result.changed).toBe(false);
    expect(service.model.version).toBe('8.0.0');
    const [doc] = await service.explain([{ income: 1, debt: 1 }]);
    expect(doc!.model.version).toBe('8.0.0');
  });
});

describe('importing and activating a large bundle', () => {
  // A bundle may hold 1 GiB. Hashed (three times: checked, copied, copy checked) and copied in one go each, an
  // import of this one took the thread for most of a second at a time, and no other request was answered; so
  // did an activation's check of the installed copy.
  const LARGE_BYTES = 400 * 1024 * 1024;

  /** Runs `work` while a cheap call is made every 10 ms, as the UI and the branch's other clients make them. */
  async function whileAnswering(what: string, work: () => Promise<void>) {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    let last = performance.now();
    let longestWait = 0;
    let answered = 0;
    const calls = setInterval(() => {
      const now = performance.now();
      longestWait = Math.max(longestWait, now - last);
      last = now;
      if (service.getSettings()) answered++;
    }, 10);
    delay.enable();
    const started = performance.now();
    try {
      await work();
    } finally {
      clearInterval(calls);
      delay.disable();
    }
    const took = performance.now() - started;
    const stall = delay.max / 1e6;
    console.log(
      `large ${what}: ${took.toFixed(0)} ms, longest event-loop stall ${stall.toFixed(1)} ms, ` +
        `longest wait between calls ${longestWait.toFixed(1)} ms, ${answered} calls answered`,
    );
    // Ratios, not times: the machine may be busy. Each stall is a small part of the work.
    expect(stall).toBeLessThan(took / 10);
    expect(longestWait).toBeLessThan(took / 10);
  }

  it('leaves the service answering other calls while the bundle is hashed and copied, and checked again', async () => {
    const dir = join(work, 'large');
    await writeTinyBundle(dir, '9.0.0');
    reseal(dir, () => writeFileSync(join(dir, 'notes.bin'), Buffer.alloc(LARGE_BYTES, 1)));
    const before = service.model;
    try {
      await whileAnswering('import', async () => {
        expect((await service.importModel(dir, false)).status).toBe('installed');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const installed = service.listModels().find((m) => m.ref === 'tiny@9.0.0')!;
    try {
      await whileAnswering('activation', async () => {
        expect((await service.activateModel('tiny@9.0.0')).changed).toBe(true);
      });
      expect(service.model.version).toBe('9.0.0');
      expect((await service.activateModel(`${before.id}@${before.version}`)).changed).toBe(true);
    } finally {
      rmSync(join(data, installed.path, 'notes.bin'));
    }
  });
});
