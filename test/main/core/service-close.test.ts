// Closing the service while explanations are in flight: every caller is answered or told, none waits for ever,
// and each answered request is in an audit log that verifies afterwards (nothing half-written).
import { describe, expect, it, vi } from 'vitest';
import { verifyAudit } from '../../../main/core/audit/index.js';
import { openReadable } from '../../../main/core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey } from '../../../main/core/keys.js';
import { readThreadsRunning } from '../../../main/core/read-thread.js';
import { BranchLensService } from '../../../main/core/service.js';
import { holdoutApplicants, removeDir, tempDir } from '../cli/helpers.js';

describe('closing the service with requests in flight', () => {
  it('settles every request, and the audit log holds exactly the answered ones', async () => {
    const dir = tempDir('branchlens-close-');
    try {
      const service = await BranchLensService.open({ dataDir: dir, workers: 1 });
      const applicants = holdoutApplicants(40);
      const calls = Promise.allSettled(applicants.map((a) => service.explain([a])));
      // Close once the engine has work: what it holds is finished and audited, what waits is refused.
      for (let i = 0; i < 500 && service.health().queue_depth === 0; i++)
        await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 20)); // past the 2 ms batching window: a batch is on the engine
      await service.close();
      const outcomes = await Promise.race([
        calls,
        new Promise<'hung'>((done) => setTimeout(() => done('hung'), 20_000)),
      ]);
      expect(outcomes).not.toBe('hung');
      const settled = outcomes as PromiseSettledResult<unknown>[];
      const answered = settled.filter((o) => o.status === 'fulfilled').length;
      expect(answered).toBeGreaterThan(0);
      for (const o of settled) {
        if (o.status === 'rejected') expect(String((o.reason as Error).message)).toMatch(/clos/);
      }
      const reopened = await BranchLensService.open({ dataDir: dir, workers: 0 });
      try {
        const verified = await reopened.auditVerify();
        expect(verified.ok).toBe(true);
        const page = await reopened.auditPage({ limit: 100 });
        const decisions = page.entries.filter((e) => e.kind === 'explain');
        expect(decisions).toHaveLength(answered);
      } finally {
        await reopened.close();
      }
    } finally {
      removeDir(dir);
    }
  }, 60_000);
});

describe('closing the service in order', () => {
  for (const writer of ['inline', 'thread'] as const) {
    it(`signs the head of the audit log, leaving no unsigned tail (writer ${writer})`, async () => {
      const dir = tempDir('branchlens-close-signed-');
      try {
        const service = await BranchLensService.open({ dataDir: dir, workers: 0, writer });
        await service.explain(holdoutApplicants(3));
        await service.close();
        const db = openReadable(dir);
        try {
          const key = loadOrCreateSigningKey(fileSecretStore(dir));
          const v = verifyAudit(db, key.publicPem);
          expect(v).toMatchObject({ ok: true, entries: 5, unsigned: 0, checkpoints: 1 });
          expect(v.lastCheckpoint?.seq).toBe(5);
        } finally {
          db.close();
        }
      } finally {
        removeDir(dir);
      }
    });
  }

  it('releases the database and the engines even when the writer thread has stopped, and says why', async () => {
    const dir = tempDir('branchlens-close-writer-gone-');
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const service = await BranchLensService.open({ dataDir: dir, workers: 0, writer: 'thread' });
      await service.explain(holdoutApplicants(2));
      // The writer thread dies (private: reached to stop it).
      const inside = service as unknown as {
        writer: { worker: { terminate(): Promise<number> } };
        db: { open: boolean };
      };
      await inside.writer.worker.terminate();
      await expect(service.close()).rejects.toThrow(/writer stopped/);
      expect(inside.db.open).toBe(false);
      const reopened = await BranchLensService.open({ dataDir: dir, workers: 0 });
      await expect(reopened.auditVerify()).resolves.toMatchObject({ ok: true });
      await reopened.close();
    } finally {
      warn.mockRestore();
      removeDir(dir);
    }
  });
});

describe('closing the service with its read threads running', () => {
  it('waits for the start-up integrity check and an audit verification: none reads the folder after close', async () => {
    const dir = tempDir('branchlens-close-reads-');
    try {
      const checked = await BranchLensService.open({
        dataDir: dir,
        workers: 0,
        integrityCheck: 'background',
      });
      await checked.close();
      expect(readThreadsRunning()).toBe(0);
      const verifying = await BranchLensService.open({ dataDir: dir, workers: 0 });
      const answer = verifying.auditVerify();
      await verifying.close();
      expect(readThreadsRunning()).toBe(0);
      await expect(answer).resolves.toMatchObject({ ok: true });
    } finally {
      removeDir(dir);
    }
  });
});
