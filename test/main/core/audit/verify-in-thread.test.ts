// Verifications in threads of their own are bounded: at most two run at once and sixteen wait, and a call beyond
// that is told "busy" (503 with Retry-After) rather than starting one more thread, each with its own heap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorResult } from '../../../../main/core/api.js';
import { verificationsRunning, verifyAuditInThread } from '../../../../main/core/audit/verify-in-thread.js';
import { BusyError } from '../../../../main/core/microbatch.js';
import { explainInput, tempLog, type TempLog } from './helpers.js';
import { AuditLog } from '../../../../main/core/audit/index.js';
import { appendEntries } from '../../../../main/core/audit/append.js';
import { verifyAudit, type AuditProgress } from '../../../../main/core/audit/verify.js';

let t: TempLog;
beforeAll(async () => {
  t = tempLog();
  const log = new AuditLog(t.db, t.key);
  for (let i = 0; i < 20; i++) await log.append(explainInput(i));
  await log.close();
});
afterAll(() => t.cleanup());

describe('audit verification in a thread', () => {
  it('runs two at once, queues sixteen, and answers a nineteenth busy', async () => {
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, verificationsRunning())), 1);
    try {
      const calls = Array.from({ length: 19 }, () =>
        verifyAuditInThread(t.dir, t.key.publicPem).then(
          (v) => ({ ok: v.ok, entries: v.entries }),
          (e: unknown) => e,
        ),
      );
      const outcomes = await Promise.all(calls);
      const refused = outcomes.filter((o) => o instanceof BusyError);
      expect(refused).toHaveLength(1);
      expect(errorResult(refused[0])).toMatchObject({ status: 503, retryAfter: 5, body: { error: 'busy' } });
      expect(outcomes.filter((o) => !(o instanceof BusyError))).toEqual(
        Array.from({ length: 18 }, () => ({ ok: true, entries: 20 })),
      );
      expect(most).toBeLessThanOrEqual(2);
      expect(verificationsRunning()).toBe(0);
      // Free again: the next call runs.
      await expect(verifyAuditInThread(t.dir, t.key.publicPem)).resolves.toMatchObject({ ok: true });
    } finally {
      clearInterval(watch);
    }
  });
});

describe('a verification thread’s progress', () => {
  it('reaches the caller as the walk reports it, every 4,096 entries, and the answer is unchanged', async () => {
    const big = tempLog();
    try {
      appendEntries(
        big.db,
        Array.from({ length: 9000 }, (_, i) => explainInput(i)),
        { signingKey: big.key },
      );
      const here: AuditProgress[] = [];
      const direct = verifyAudit(big.db, big.key.publicKey, { onProgress: (p) => here.push(p) });
      expect(here).toEqual([
        { done: 4096, total: 9000 },
        { done: 8192, total: 9000 },
      ]);
      const seen: AuditProgress[] = [];
      const inThread = await verifyAuditInThread(big.dir, big.key.publicPem, {
        onProgress: (p) => seen.push(p),
      });
      expect(seen).toEqual(here);
      expect(inThread).toEqual(direct);
      // Without a listener its reports are dropped, and the answer is the same.
      await expect(verifyAuditInThread(big.dir, big.key.publicPem)).resolves.toEqual(direct);
    } finally {
      big.cleanup();
    }
  });
});
