// Work in a read thread fails as it would on the service's thread: a damaged database is the same 503 storage
// answer (storageFailure reads SQLite's code), not an internal error whose cause only the server log names.
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorResult } from '../../../main/core/api.js';
import { dbPath, openReadable, openWritable } from '../../../main/core/db/open.js';
import { Monitor } from '../../../main/core/monitor/monitor.js';
import { sampledSeriesInThread } from '../../../main/core/monitor/series-in-thread.js';
import { insertSnapshot, isThinned, sampledSeries } from '../../../main/core/monitor/store.js';
import { identityFeatures, makeSchema, OUTPUTS, removeDir, tempDir } from '../../helpers/bundles.js';

const HOUR = 3_600_000;

describe('a read thread', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = tempDir('branchlens-read-thread-');
  });
  afterEach(() => removeDir(dataDir));

  it('fails on a damaged database with the storage error the service’s thread gives, SQLite’s code kept', async () => {
    const schema = makeSchema(identityFeatures(3), OUTPUTS.sigmoid);
    const model = { id: 'tiny', version: '1.0.0', sha256: 'a'.repeat(64), schema, reference: null };
    const snapshot = new Monitor(model, { now: () => 0 }).snapshot();
    const db = openWritable(dataDir);
    db.transaction(() => {
      for (let h = 0; h < 40; h++) insertSnapshot(db, snapshot, Date.UTC(2025, 0, 1) + h * HOUR);
    })();
    const { rootpage } = db
      .prepare("SELECT rootpage FROM sqlite_master WHERE name = 'monitoring_snapshots'")
      .get() as { rootpage: number };
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    // The table's root page no longer a b-tree page; its index (which counts the range) intact.
    const fd = openSync(dbPath(dataDir), 'r+');
    const at = (rootpage - 1) * pageSize;
    const type = Buffer.alloc(1);
    readSync(fd, type, 0, 1, at);
    expect([0x05, 0x0d]).toContain(type[0]);
    writeSync(fd, Buffer.from([0xff]), 0, 1, at);
    closeSync(fd);

    const range = { maxPoints: 4 };
    const here = openReadable(dataDir);
    let direct: unknown;
    try {
      expect(isThinned(here, range)).toBe(true);
      try {
        sampledSeries(here, range);
      } catch (e) {
        direct = e;
      }
    } finally {
      here.close();
    }
    expect(errorResult(direct)).toMatchObject({ status: 503, body: { error: 'storage' } });
    const inThread = await sampledSeriesInThread(dataDir, range).catch((e: unknown) => e);
    expect(inThread).toBeInstanceOf(Error);
    expect((inThread as Error).message).toMatch(/^reading the monitoring series failed: /);
    expect(errorResult(inThread)).toEqual(errorResult(direct));
  });
});
