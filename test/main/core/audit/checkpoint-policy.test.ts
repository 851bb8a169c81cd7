// Checkpoints are chained (each signs the seq of the one before it) and written by a policy counted on the
// entries themselves (every 1,000 entries, and 10 minutes of stamped time), which verifyAudit holds the log to.
// So someone able to rewrite the database cannot remove the checkpoints and then rewrite what they covered:
// what stays open is what the policy leaves unsigned, the last run of entries. Also here: rows planted outside
// the chain (seq 0), the audit tables dropped, and a checkpoint's time never before the head it signs.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendEntries,
  AuditBrokenError,
  exportAudit,
  listCheckpoints,
  verifyAudit,
  writeCheckpoint,
} from '../../../../main/core/audit/index.js';
import {
  auditPublicKey,
  checkpointMessage,
  DEFAULT_CHECKPOINT_POLICY,
} from '../../../../main/core/audit/checkpoint.js';
import { auditEntry, auditPage } from '../../../../main/core/audit/query.js';
import { openReadable } from '../../../../main/core/db/open.js';
import { explainInput, rewriteSuffix, tamper, tempLog, verifyOnDisk, type TempLog } from './helpers.js';

const START = Date.parse('2026-03-02T08:00:00Z');
const MINUTE = 60_000;
/**
 * One entry a minute for 100 minutes: an entry stamped 10 minutes after its run's first closes the run, so the
 * runs are 11 entries long (minutes 0–10, 11–21, …) and the checkpoints at 11, 22, …, 99.
 */
const ENTRIES = 100;

/** Appends entries one a minute as the app does (signed by the default policy, each at its own time). */
function writeAsTheAppDoes(t: TempLog, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) {
    appendEntries(t.db, [explainInput(i)], { signingKey: t.key, now: new Date(START + i * MINUTE) });
  }
}

describe('a log written by the checkpoint policy', () => {
  let t: TempLog;
  beforeEach(() => {
    t = tempLog();
    writeAsTheAppDoes(t, ENTRIES);
    t.db.close();
  });
  afterEach(() => t.cleanup());

  it('verifies, with a chained checkpoint every 10 minutes of entries', () => {
    const db = openReadable(t.dir);
    try {
      const seqs = listCheckpoints(db).map((c) => c.seq);
      expect(seqs).toEqual(Array.from({ length: 9 }, (_, i) => 11 * (i + 1)));
      expect(verifyAudit(db, t.key.publicPem)).toMatchObject({ ok: true, entries: ENTRIES, unsigned: 1 });
    } finally {
      db.close();
    }
  });

  it('every checkpoint removed and an early entry rewritten: caught, where the first run should have been signed', () => {
    tamper(t.dir, (raw) => {
      raw.exec('DELETE FROM audit_checkpoints');
      rewriteSuffix(raw, 3, 0.99);
    });
    const v = verifyOnDisk(t);
    expect(v).toMatchObject({ ok: false, break: { seq: 11, kind: 'checkpoint_missing' } });
    expect(v.break!.message).toMatch(/no signed checkpoint covers entries 1–11/);
  });

  it('and the export refuses to sign it', async () => {
    tamper(t.dir, (raw) => raw.exec('DELETE FROM audit_checkpoints'));
    const t2 = tempLog();
    try {
      // The tampered database, opened for writing as `audit export` opens it.
      t2.db.close();
      const { openWritable } = await import('../../../../main/core/db/open.js');
      const db = openWritable(t.dir);
      try {
        await expect(
          exportAudit(db, { format: 'jsonl', out: join(t.dir, 'x.jsonl'), signingKey: t.key }),
        ).rejects.toBeInstanceOf(AuditBrokenError);
      } finally {
        db.close();
      }
    } finally {
      t2.cleanup();
    }
  });

  it('a checkpoint removed from the middle: the run it closed is left longer than the policy allows', () => {
    tamper(t.dir, (raw) => raw.exec('DELETE FROM audit_checkpoints WHERE seq = 44'));
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 44, kind: 'checkpoint_missing' } });
  });

  it('one removed where the runs it parted still meet the policy (checkpoints of closing): the next one no longer verifies, and says why', () => {
    const u = tempLog();
    try {
      // As a CLI command at a time: a few entries, then the closing checkpoint, well within the policy.
      for (const n of [5, 3, 2]) {
        appendEntries(
          u.db,
          Array.from({ length: n }, (_, i) => explainInput(i)),
          { signingKey: u.key, now: new Date(START) },
        );
        writeCheckpoint(u.db, u.key, new Date(START));
      }
      expect(listCheckpoints(u.db).map((c) => c.seq)).toEqual([5, 8, 10]);
      expect(verifyAudit(u.db, u.key.publicKey)).toMatchObject({ ok: true });
      u.db.close();
      tamper(u.dir, (raw) => raw.exec('DELETE FROM audit_checkpoints WHERE seq = 5'));
      const v = verifyOnDisk(u);
      expect(v).toMatchObject({ ok: false, break: { seq: 8, kind: 'bad_signature' } });
      expect(v.break!.message).toMatch(/the log has none before it.*removed/);
    } finally {
      u.cleanup();
    }
  });

  it('the last two checkpoints removed to rewrite what they covered: caught where the first run should have closed', () => {
    tamper(t.dir, (raw) => {
      raw.exec('DELETE FROM audit_checkpoints WHERE seq > 77');
      rewriteSuffix(raw, 80, 0.99);
    });
    // The run after 77 starts at minute 77; the entry at minute 87 (seq 88) would have closed it.
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 88, kind: 'checkpoint_missing' } });
  });

  it('only the last checkpoint removed: caught too, since the entries after it show the time that passed', () => {
    tamper(t.dir, (raw) => raw.exec('DELETE FROM audit_checkpoints WHERE seq = 99'));
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 99, kind: 'checkpoint_missing' } });
  });

  it('what stays open is the run after the last checkpoint, as a power cut leaves it: rewritten, it verifies', () => {
    // The limit of a log that signs itself: head office's copy (the signed exports) covers the rest.
    tamper(t.dir, (raw) => rewriteSuffix(raw, 100, 0.99));
    expect(verifyOnDisk(t)).toMatchObject({ ok: true, unsigned: 1 });
    tamper(t.dir, (raw) => rewriteSuffix(raw, 99, 0.99));
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 99, kind: 'checkpoint_mismatch' } });
  });

  it('every checkpoint replaced by one an "earlier key" signed at the head: its run is held to the policy all the same', () => {
    // Another key's checkpoints are checked against the chain only (a branch whose key was replaced), so an
    // attacker can sign one with a key of their own; but no writer ever left a run of 100 minutes to close.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const theirs = auditPublicKey(publicKey);
    tamper(t.dir, (raw) => {
      raw.exec('DELETE FROM audit_checkpoints');
      rewriteSuffix(raw, 3, 0.99);
      const head = raw.prepare('SELECT entry_hash FROM audit_entries WHERE seq = ?').get(ENTRIES) as {
        entry_hash: string;
      };
      const c = {
        seq: ENTRIES,
        entryHash: head.entry_hash,
        count: ENTRIES,
        createdAt: new Date(START + ENTRIES * MINUTE).toISOString(),
        keyId: theirs.id,
      };
      raw
        .prepare('INSERT INTO audit_checkpoints VALUES (?, ?, ?, ?, ?, ?)')
        .run(c.seq, c.entryHash, c.count, c.createdAt, sign(null, checkpointMessage(c), privateKey), c.keyId);
    });
    const db = openReadable(t.dir);
    try {
      const v = verifyAudit(db, t.key.publicPem, { otherKeys: 'chain-only' });
      expect(v).toMatchObject({ ok: false, break: { seq: 11, kind: 'checkpoint_missing' } });
    } finally {
      db.close();
    }
  });

  it('more entries than `every` in one transaction are signed within it, each run at most `every` long', () => {
    const u = tempLog();
    try {
      const n = DEFAULT_CHECKPOINT_POLICY.every * 2 + 500;
      appendEntries(
        u.db,
        Array.from({ length: n }, (_, i) => explainInput(i)),
        { signingKey: u.key, now: new Date(START) },
      );
      expect(listCheckpoints(u.db).map((c) => c.seq)).toEqual([1000, 2000]);
      expect(verifyAudit(u.db, u.key.publicKey)).toMatchObject({ ok: true, entries: n, unsigned: 500 });
      // With the middle checkpoint gone, 2,000 entries run unsigned: more than the policy ever leaves.
      u.db.close();
      tamper(u.dir, (raw) => raw.exec('DELETE FROM audit_checkpoints'));
      expect(verifyOnDisk(u)).toMatchObject({ ok: false, break: { seq: 1000, kind: 'checkpoint_missing' } });
    } finally {
      u.cleanup();
    }
  });
});

describe('a log whose checkpoints an earlier version signed (v1, unchained, at the end of each transaction)', () => {
  it('is not held to the policy for the runs those checkpoints close, nor the tail after them', () => {
    const t = tempLog();
    try {
      // As an earlier version wrote it: 10 transactions of 3 entries, two minutes apart. The run from entry 1
      // fell due at entry 16 (10 minutes on) and was signed (v1) at the end of its transaction, entry 18: two
      // entries later than v2 would. The run after it (entries 19–30, minutes 12–18) is not due yet.
      for (let k = 0; k < 10; k++) {
        appendEntries(
          t.db,
          [0, 1, 2].map((i) => explainInput(3 * k + i)),
          { now: new Date(START + 2 * k * MINUTE) },
        );
      }
      const head = t.db.prepare('SELECT entry_hash FROM audit_entries WHERE seq = 18').get() as {
        entry_hash: string;
      };
      const c = {
        seq: 18,
        entryHash: head.entry_hash,
        count: 18,
        createdAt: new Date(START + 10 * MINUTE).toISOString(),
        keyId: t.key.id,
      };
      t.db
        .prepare('INSERT INTO audit_checkpoints VALUES (?, ?, ?, ?, ?, ?)')
        .run(
          c.seq,
          c.entryHash,
          c.count,
          c.createdAt,
          sign(null, checkpointMessage(c), t.key.privateKey),
          c.keyId,
        );
      expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 30, checkpoints: 1 });
      // And the app carries on from there with chained checkpoints, which verify after it.
      writeAsTheAppDoes(t, 20, 30);
      expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 50 });
      // Its first entry (minute 30) closes the old run at once: 18 minutes since entry 19.
      expect(
        listCheckpoints(t.db)
          .map((x) => x.seq)
          .slice(0, 2),
      ).toEqual([18, 31]);
    } finally {
      t.cleanup();
    }
  });
});

describe('rows outside the chain and missing tables', () => {
  let t: TempLog;
  beforeEach(() => {
    t = tempLog();
    writeAsTheAppDoes(t, 5);
    t.db.close();
  });
  afterEach(() => t.cleanup());

  it('a row planted at seq 0 is a break, and never shown as an entry', () => {
    tamper(t.dir, (raw) =>
      raw.exec(
        `INSERT INTO audit_entries SELECT 0, ${Object.keys(
          raw.prepare('SELECT * FROM audit_entries WHERE seq = 1').get() as object,
        )
          .slice(1)
          .map((c) => (c === 'prediction' ? '0.999' : c))
          .join(', ')} FROM audit_entries WHERE seq = 1`,
      ),
    );
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 0, kind: 'out_of_order' } });
    const db = openReadable(t.dir);
    try {
      expect(auditEntry(db, 0)).toBeUndefined();
      expect(auditPage(db, { limit: 50 }).entries.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    } finally {
      db.close();
    }
  });

  it.each(['audit_entries', 'audit_checkpoints'])(
    'the table %s dropped: the log was removed, not empty',
    (table) => {
      tamper(t.dir, (raw) => raw.exec(`DROP TABLE ${table}`));
      expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 1, kind: 'missing' } });
      expect(verifyOnDisk(t).break!.message).toMatch(/audit log was removed/);
    },
  );
});

describe('a checkpoint never predates the entries it signs', () => {
  it('signed with a clock behind the head’s stamp, it takes the head’s time; so does an export’s seal', async () => {
    const t = tempLog();
    try {
      const future = new Date(Date.now() + 3_600_000);
      appendEntries(t.db, [explainInput(0)], { now: future });
      expect(writeCheckpoint(t.db, t.key, new Date(Date.now()))!.createdAt).toBe(future.toISOString());
      appendEntries(t.db, [explainInput(1)], { now: new Date(future.getTime() + 1) });
      const out = join(t.dir, 'e.jsonl');
      const summary = await exportAudit(t.db, { format: 'jsonl', out, signingKey: t.key });
      expect(summary.checkpoint.createdAt >= new Date(future.getTime() + 1).toISOString()).toBe(true);
      expect(readFileSync(out, 'utf8')).toContain(summary.checkpoint.createdAt);
    } finally {
      t.cleanup();
    }
  });
});
