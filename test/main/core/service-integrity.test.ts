// The database's integrity check reads every page, so the service runs it off its start-up and off its thread,
// in long-running processes only; what it finds shows in health (degraded, the database in error, saying why)
// and is logged once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dbPath } from '../../../main/core/db/open.js';
import { BranchLensService } from '../../../main/core/service.js';
import { removeDir, tempDir } from '../cli/helpers.js';
import { damageUnreadPage, miscountFreePages } from './db/damage.js';

let dir: string;
let service: BranchLensService | undefined;
beforeEach(() => {
  dir = tempDir('branchlens-integrity-');
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  removeDir(dir);
});

describe('the background integrity check', () => {
  it('is not run by a one-off command (the engine in its own thread), nor waited for by any opening', async () => {
    service = await BranchLensService.open({ dataDir: dir, workers: 0 });
    expect(service.integrityChecked).toBeUndefined();
  });

  it('is run by a long-running process (worker engines: serve, the desktop app)', async () => {
    service = await BranchLensService.open({ dataDir: dir, workers: 1 });
    expect(service.integrityChecked).toBeInstanceOf(Promise);
    await service.integrityChecked;
    expect(service.health()).toMatchObject({ status: 'ok', database: 'ok' });
    expect(service.health().problem).toBeUndefined();
  }, 60_000);

  it.each([
    [
      'free pages miscounted (the check lists it)',
      miscountFreePages,
      '(*** in database main *** Freelist: size is N but should be 3)',
    ],
    ['a page it cannot walk (SQLite stops at it)', damageUnreadPage, '(SQLITE_CORRUPT)'],
  ])('reports a database with %s in health, and logs it once', async (_name, damage, found) => {
    damage(dir);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      service = await BranchLensService.open({ dataDir: dir, workers: 0, integrityCheck: 'background' });
      await service.integrityChecked;
      // The free pages really there follow from the migrations and from what the service writes as it starts,
      // which may land before or after the check: what matters is the header's 3 against them.
      const sameCount = (text: unknown) => String(text).replace(/size is \d+ but/, 'size is N but');
      const said =
        `database: ${dbPath(dir)} failed its integrity check ${found}: restore it from a backup. Do not delete ` +
        'it: it holds the audit log';
      const health = service.health();
      expect(health).toMatchObject({ status: 'degraded', database: 'error' });
      expect(sameCount(health.problem)).toBe(said.slice('database: '.length));
      service.health();
      const logged = warn.mock.calls.filter(([w]) => String(w).includes('integrity'));
      expect(logged.map((call) => call.map(sameCount))).toEqual([[said]]);
    } finally {
      warn.mockRestore();
    }
  });
});
