// The service's audit verification: one run at a time, joined by a call made while it runs, and how far it has
// got (auditVerifyProgress) as its thread reports it, for the Audit page's progress bar.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { appendEntries } from '../../../main/core/audit/append.js';
import * as inThread from '../../../main/core/audit/verify-in-thread.js';
import { openWritable } from '../../../main/core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey } from '../../../main/core/keys.js';
import { BranchLensService } from '../../../main/core/service.js';
import { removeDir, tempDir } from '../cli/helpers.js';
import { explainInput } from './audit/helpers.js';

// The real verification, watched: each progress report the thread posts is seen here as it reaches the service.
const reports: { done: number; total: number }[] = [];
vi.mock('../../../main/core/audit/verify-in-thread.js', async (original) => {
  const real = await original<typeof inThread>();
  return {
    ...real,
    verifyAuditInThread: vi.fn((...args: Parameters<typeof real.verifyAuditInThread>) => {
      const [dataDir, pem, options = {}, window] = args;
      return real.verifyAuditInThread(
        dataDir,
        pem,
        {
          ...options,
          onProgress: (p) => {
            options.onProgress?.(p);
            reports.push(p);
            seenAtReport.push(service!.auditVerifyProgress());
          },
        },
        window,
      );
    }),
  };
});
const seenAtReport: ReturnType<BranchLensService['auditVerifyProgress']>[] = [];

let dir: string;
let service: BranchLensService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
  removeDir(dir);
  reports.length = 0;
  seenAtReport.length = 0;
  vi.mocked(inThread.verifyAuditInThread).mockClear();
});

/** A data folder whose log already holds `n` entries, signed with its own key, and the service on it. */
async function openWithLog(n: number) {
  dir = tempDir('branchlens-verify-');
  const db = openWritable(dir);
  appendEntries(
    db,
    Array.from({ length: n }, (_, i) => explainInput(i)),
    { signingKey: loadOrCreateSigningKey(fileSecretStore(dir)) },
  );
  db.close();
  service = await BranchLensService.open({ dataDir: dir, workers: 0 });
  return service;
}

describe('auditVerify', () => {
  it('says how far it has got while it runs, as the thread reports it', async () => {
    const s = await openWithLog(9000);
    expect(s.auditVerifyProgress()).toEqual({ running: false });
    const answer = s.auditVerify();
    expect(s.auditVerifyProgress()).toMatchObject({ running: true, done: 0 });
    const verified = await answer;
    expect(verified.ok).toBe(true);
    expect(verified.entries).toBeGreaterThanOrEqual(9000);
    expect(reports.map((r) => r.done)).toEqual([4096, 8192]);
    expect(seenAtReport).toEqual(
      reports.map((r) => ({
        running: true,
        done: r.done,
        total: verified.entries,
        elapsed_ms: expect.any(Number),
      })),
    );
    expect(s.auditVerifyProgress()).toEqual({ running: false });
  });

  it('runs once for calls made while it runs, each answered with its result', async () => {
    const s = await openWithLog(100);
    const calls = [s.auditVerify(), s.auditVerify(), s.auditVerify()];
    const answers = await Promise.all(calls);
    expect(inThread.verifyAuditInThread).toHaveBeenCalledTimes(1);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(answers[0]).toMatchObject({ ok: true });
    // Once answered, the next call is a new run, which sees the entries appended since.
    await s.updateSettings({ ...s.getSettings(), n_steps: 64 });
    const again = await s.auditVerify();
    expect(inThread.verifyAuditInThread).toHaveBeenCalledTimes(2);
    expect(again.entries).toBe(answers[0]!.entries + 1);
  });

  it('is free again after a run that failed', async () => {
    const s = await openWithLog(10);
    vi.mocked(inThread.verifyAuditInThread).mockRejectedValueOnce(new Error('thread gone'));
    await expect(s.auditVerify()).rejects.toThrow('thread gone');
    expect(s.auditVerifyProgress()).toEqual({ running: false });
    await expect(s.auditVerify()).resolves.toMatchObject({ ok: true });
  });
});
