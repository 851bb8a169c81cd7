// Writers in separate processes: two appending to one database at once, and one killed mid-burst; each with
// the AuditLog on the process's own thread and on the database writer thread.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../../../main/core/audit/index.js';
import { openReadable, openWritable } from '../../../../main/core/db/open.js';
import { tempLog, type TempLog } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/append-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

interface Writer {
  child: ChildProcess;
  /** seq → entry_hash, for every append the child saw resolve. */
  acked: Map<number, string>;
  ready: Promise<void>;
  go(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

type Mode = 'inline' | 'thread';

function writer(
  dir: string,
  count: number,
  callers: number,
  tag: string,
  mode: Mode,
  onAck?: (n: number) => void,
): Writer {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, dir, String(count), String(callers), tag, mode],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const acked = new Map<number, string>();
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let pending = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') {
        markReady();
        continue;
      }
      const [seq, hash] = line.split(' ');
      acked.set(Number(seq), hash!);
    }
    onAck?.(acked.size);
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, acked, ready, go: () => child.stdin!.write('go\n'), exited };
}

describe.each<Mode>(['inline', 'thread'])('audit writers in separate processes (%s)', (mode) => {
  let t: TempLog;
  beforeEach(() => {
    t = tempLog();
    t.db.close();
  });
  afterEach(() => t.cleanup());

  /** Two writers of 1,000 entries each, started together; checks everything; returns whether they interleaved. */
  async function appendTogether(log: TempLog): Promise<boolean> {
    const a = writer(log.dir, 1000, 16, 'a', mode);
    const b = writer(log.dir, 1000, 16, 'b', mode);
    await Promise.all([a.ready, b.ready]);
    a.go();
    b.go();
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea).toMatchObject({ code: 0 });
    expect(eb).toMatchObject({ code: 0 });
    expect(a.acked.size).toBe(1000);
    expect(b.acked.size).toBe(1000);

    const db = openReadable(log.dir);
    try {
      const v = verifyAudit(db, log.key.publicKey);
      expect(v).toMatchObject({ ok: true, entries: 2000 });
      const byTag = db
        .prepare(
          'SELECT substr(document_id, 1, 1) AS tag, count(*) AS n FROM audit_entries GROUP BY tag ORDER BY tag',
        )
        .all();
      expect(byTag).toEqual([
        { tag: 'a', n: 1000 },
        { tag: 'b', n: 1000 },
      ]);
      const hashOf = db.prepare('SELECT entry_hash FROM audit_entries WHERE seq = ?').pluck();
      for (const [seq, hash] of [...a.acked, ...b.acked]) expect(hashOf.get(seq)).toBe(hash);
      // Interleaved, not one after the other: the seqs a got are not one block.
      const aSeqs = [...a.acked.keys()].sort((x, y) => x - y);
      return aSeqs.at(-1)! - aSeqs[0]! > 1000;
    } finally {
      db.close();
    }
  }

  it('two processes appending to one database lose nothing and keep the chain intact', async () => {
    // On a busy machine one child can finish its 1,000 before the other's first commit: that run proves nothing
    // about contention (its checks still hold), so it is run again in a fresh log, up to three times in all.
    let interleaved = await appendTogether(t);
    for (let round = 1; round < 3 && !interleaved; round++) {
      const again = tempLog();
      again.db.close();
      try {
        interleaved = await appendTogether(again);
      } finally {
        again.cleanup();
      }
    }
    expect(interleaved, 'the two writers never interleaved in three runs').toBe(true);
  });

  it('a writer killed with SIGKILL mid-burst: the chain verifies and every acknowledged entry is there', async () => {
    let killed = false;
    const w = writer(t.dir, 1_000_000, 32, 'k', mode, (n) => {
      if (n >= 300 && !killed) {
        killed = true;
        w.child.kill('SIGKILL');
      }
    });
    await w.ready;
    w.go();
    const exit = await w.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(w.acked.size).toBeGreaterThanOrEqual(300);

    const db = openWritable(t.dir); // reopening recovers the WAL, as the next start of BranchLens would
    try {
      const v = verifyAudit(db, t.key.publicKey);
      expect(v.ok).toBe(true);
      const hashOf = db.prepare('SELECT entry_hash FROM audit_entries WHERE seq = ?').pluck();
      for (const [seq, hash] of w.acked) expect(hashOf.get(seq)).toBe(hash);
      expect(v.entries).toBeGreaterThanOrEqual(Math.max(...w.acked.keys()));
    } finally {
      db.close();
    }
  });
});
