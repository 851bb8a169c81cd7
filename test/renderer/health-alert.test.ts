// The banner of a service in trouble: which health answers call for one and what it says in each language, that a
// poll with nothing new keeps the banner as it is (not announced again), that an unreachable service leaves it be,
// and that it goes once health is ok.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HealthView } from '../../shared/contract.js';
import { diskFullSentence, integrityError } from '../../main/core/db/open.js';
import { BranchLensService } from '../../main/core/service.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import {
  HEALTH_ALERT_KEYS,
  healthAlert,
  nextHealthAlert,
  type HealthAlert,
} from '../../renderer/src/app/health-alert.js';
import { removeDir, tempDir } from '../main/cli/helpers.js';
import { miscountFreePages } from '../main/core/db/damage.js';

const zh = makeT('zh-CN');
const en = makeT('en');

type Health = Pick<HealthView, 'status' | 'database' | 'problem'>;

const OK: Health = { status: 'ok', database: 'ok' };
const DAMAGED: Health = {
  status: 'degraded',
  database: 'error',
  problem: integrityError('/srv/branchlens/branchlens.db', ['SQLITE_CORRUPT']).message,
};
const FULL: Health = { status: 'degraded', database: 'full', problem: diskFullSentence(4096) };

const read = (value: Health): PromiseSettledResult<Health> => ({ status: 'fulfilled', value });
const unreachable: PromiseSettledResult<Health> = {
  status: 'rejected',
  reason: new TypeError('Failed to fetch'),
};

function words(alert: HealthAlert | null, t = en): string {
  return alert ? t(HEALTH_ALERT_KEYS[alert.concern]) : '';
}

describe('the health banner', () => {
  let dir: string | undefined;
  let service: BranchLensService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
    if (dir) removeDir(dir);
    dir = undefined;
  });

  it('is not shown while the service is healthy', () => {
    expect(healthAlert(OK)).toBeNull();
  });

  it('says a database that failed its integrity check, with the advice of the server, and names its file', () => {
    const alert = healthAlert(DAMAGED);
    expect(alert).toEqual({ concern: 'damaged', detail: DAMAGED.problem });
    expect(alert!.detail).toContain('/srv/branchlens/branchlens.db');
    expect(words(alert)).toMatch(/integrity check/);
    expect(words(alert)).toMatch(/may not be recorded safely/);
    expect(words(alert)).toMatch(/Do not delete the data folder/);
    expect(words(alert)).toMatch(/head office.*backup/);
    expect(words(alert, zh)).toMatch(/完整性检查/);
    expect(words(alert, zh)).toMatch(/请勿删除数据文件夹/);
    expect(words(alert, zh)).toMatch(/总行.*备份/);
  });

  it('is the integrity check’s for what a damaged database makes the real service answer', async () => {
    dir = tempDir('branchlens-health-banner-');
    miscountFreePages(dir);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {}); // the service logs it once
    try {
      service = await BranchLensService.open({ dataDir: dir, workers: 0, integrityCheck: 'background' });
      await service.integrityChecked;
    } finally {
      warn.mockRestore();
    }
    const alert = healthAlert(service.health());
    expect(alert?.concern).toBe('damaged');
    expect(alert?.detail).toContain('failed its integrity check');
  }, 60_000);

  it('does not advise a restore when the database failed for another reason (no sentence from the service)', () => {
    const alert = healthAlert({ status: 'degraded', database: 'error' });
    expect(alert).toEqual({ concern: 'database' });
    expect(words(alert)).not.toMatch(/integrity|backup/);
    expect(words(alert)).toMatch(/Do not delete the data folder/);
  });

  it('says a full disk refuses every explanation until space is freed, with the free bytes as a detail', () => {
    const alert = healthAlert(FULL);
    expect(alert).toEqual({ concern: 'diskFull', detail: FULL.problem });
    expect(alert!.detail).toContain('4096 bytes free');
    expect(words(alert)).toMatch(/disk .* is full.*refused until space is freed/);
    expect(words(alert, zh)).toMatch(/磁盘已满.*释放磁盘空间之前.*拒绝/);
  });

  it('says that explanations are refused when no engine runs (degraded, with a sound database)', () => {
    const alert = healthAlert({ status: 'degraded', database: 'ok' });
    expect(alert).toEqual({ concern: 'engines' });
    expect(words(alert)).toMatch(/refused/);
  });

  it('keeps the alert shown, the same object, when a poll finds nothing new (not drawn nor announced again)', () => {
    const shown = nextHealthAlert(null, read(DAMAGED));
    expect(nextHealthAlert(shown, read({ ...DAMAGED }))).toBe(shown);
  });

  it('changes when the service finds another problem, or words its own differently (a full disk’s free bytes)', () => {
    const full = nextHealthAlert(null, read(FULL));
    const fuller = nextHealthAlert(full, read({ ...FULL, problem: diskFullSentence(1024) }));
    expect(fuller).toEqual({ concern: 'diskFull', detail: diskFullSentence(1024) });
    expect(nextHealthAlert(fuller, read(DAMAGED))?.concern).toBe('damaged');
  });

  it('stays when the service cannot be reached (the header says that), and shows none then at start', () => {
    const shown = nextHealthAlert(null, read(FULL));
    expect(nextHealthAlert(shown, unreachable)).toBe(shown);
    expect(nextHealthAlert(null, unreachable)).toBeNull();
  });

  it('goes once health is ok again', () => {
    const shown = nextHealthAlert(null, read(FULL));
    expect(nextHealthAlert(shown, read(OK))).toBeNull();
  });

  it('has its words in every language', () => {
    for (const key of [...Object.values(HEALTH_ALERT_KEYS), 'health.detail' as const]) {
      expect(zh(key)).not.toBe(key);
      expect(en(key)).not.toBe(key);
    }
  });
});
