// Each test tampers through a separate connection that first drops the append-only triggers, as someone
// with write access to the file could, and checks that verification names the first broken entry.
import canonicalize from 'canonicalize';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendEntries, verifyAudit } from '../../../../main/core/audit/index.js';
import { checkpointMessage } from '../../../../main/core/audit/checkpoint.js';
import { RECORD_FIELDS } from '../../../../main/core/audit/entry.js';
import { openReadable } from '../../../../main/core/db/open.js';
import {
  explainInput,
  modelInput,
  rewriteSuffix,
  tamper,
  tempLog,
  verifyOnDisk,
  type TempLog,
} from './helpers.js';

const ENTRIES = 50;
const EVERY = 10;

describe('verifyAudit catches tampering', () => {
  let t: TempLog;
  beforeEach(() => {
    t = tempLog();
    for (let i = 0; i < ENTRIES; i++) {
      appendEntries(t.db, [i % 7 === 3 ? modelInput(i) : explainInput(i)], {
        signingKey: t.key,
        policy: { every: EVERY, intervalMs: 1e9 },
      });
    }
    t.db.close();
    expect(verifyOnDisk(t)).toMatchObject({ ok: true, entries: ENTRIES, checkpoints: ENTRIES / EVERY });
  });
  afterEach(() => t.cleanup());

  it('an edited prediction: names the entry as edited', () => {
    tamper(t.dir, (raw) => raw.exec('UPDATE audit_entries SET prediction = 0.99 WHERE seq = 17'));
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 17, kind: 'edited' } });
  });

  it('an edited attribution inside the JSON column', () => {
    tamper(t.dir, (raw) =>
      raw.exec(
        `UPDATE audit_entries SET top_attributions = replace(top_attributions, '"income"', '"incomes"') WHERE seq = 44`,
      ),
    );
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 44, kind: 'edited' } });
  });

  it('an edited entry whose own hash was recomputed: the next entry no longer links to it', () => {
    tamper(t.dir, (raw) => {
      const row = raw.prepare('SELECT * FROM audit_entries WHERE seq = 23').get() as Record<string, unknown>;
      const record: Record<string, unknown> = {};
      for (const [f, type] of RECORD_FIELDS) {
        record[f] = type === 'json' && row[f] !== null ? JSON.parse(row[f] as string) : row[f];
      }
      record.prediction = 0.01;
      const hash = createHash('sha256')
        .update((row.prev_hash as string) + canonicalize(record))
        .digest('hex');
      raw.prepare('UPDATE audit_entries SET prediction = 0.01, entry_hash = ? WHERE seq = 23').run(hash);
    });
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 24, kind: 'broken_link' } });
  });

  it('a deleted entry: names the missing seq', () => {
    tamper(t.dir, (raw) => raw.exec('DELETE FROM audit_entries WHERE seq = 8'));
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 8, kind: 'missing' } });
  });

  it('a deleted first entry', () => {
    tamper(t.dir, (raw) => raw.exec('DELETE FROM audit_entries WHERE seq = 1'));
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 1, kind: 'missing' } });
  });

  it('a deleted entry with the later ones renumbered to close the gap', () => {
    tamper(t.dir, (raw) => {
      raw.exec('DELETE FROM audit_entries WHERE seq = 30');
      for (let s = 31; s <= ENTRIES; s++)
        raw.prepare('UPDATE audit_entries SET seq = ? WHERE seq = ?').run(s - 1, s);
    });
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 30, kind: 'out_of_order' } });
  });

  it('two entries swapped (seq exchanged): names the first as out of order', () => {
    tamper(t.dir, (raw) => {
      raw.exec('UPDATE audit_entries SET seq = -1 WHERE seq = 12');
      raw.exec('UPDATE audit_entries SET seq = 12 WHERE seq = 13');
      raw.exec('UPDATE audit_entries SET seq = 13 WHERE seq = -1');
    });
    const v = verifyOnDisk(t);
    expect(v).toMatchObject({ ok: false, break: { seq: 12, kind: 'out_of_order' } });
    expect(v.break?.message).toContain('follows entry 13');
  });

  it('a tail cut off beyond the last checkpoint: names the first removed entry', () => {
    tamper(t.dir, (raw) => raw.exec('DELETE FROM audit_entries WHERE seq > 46'));
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, entries: 46, break: { seq: 47, kind: 'truncated' } });
  });

  it('a whole suffix rewritten with fresh hashes: the checkpoint no longer matches', () => {
    tamper(t.dir, (raw) => rewriteSuffix(raw, 33, 0.5));
    const v = verifyOnDisk(t);
    expect(v).toMatchObject({ ok: false, break: { seq: 40, kind: 'checkpoint_mismatch' } });
    expect(v.break?.message).toContain('31–40');
  });

  it('a forged checkpoint signature', () => {
    tamper(t.dir, (raw) => {
      const sig = (
        raw.prepare('SELECT signature FROM audit_checkpoints WHERE seq = 30').get() as { signature: Buffer }
      ).signature;
      sig[5]! ^= 0xff;
      raw.prepare('UPDATE audit_checkpoints SET signature = ? WHERE seq = 30').run(sig);
    });
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 30, kind: 'bad_signature' } });
  });

  it('a checkpoint added under another key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    tamper(t.dir, (raw) => {
      raw.exec('DELETE FROM audit_checkpoints WHERE seq = 50');
      const head = raw.prepare('SELECT entry_hash FROM audit_entries WHERE seq = 50').get() as {
        entry_hash: string;
      };
      const c = {
        seq: 50,
        entryHash: head.entry_hash,
        count: 50,
        createdAt: new Date().toISOString(),
        keyId: t.key.id,
      };
      raw
        .prepare('INSERT INTO audit_checkpoints VALUES (?, ?, ?, ?, ?, ?)')
        .run(c.seq, c.entryHash, c.count, c.createdAt, sign(null, checkpointMessage(c), privateKey), c.keyId);
    });
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 50, kind: 'bad_signature' } });
  });

  it('checkpoints checked against a different public key', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    const db = openReadable(t.dir);
    try {
      expect(verifyAudit(db, other)).toMatchObject({ ok: false, break: { seq: 10, kind: 'bad_signature' } });
    } finally {
      db.close();
    }
  });

  it('reports the earliest break when there are several', () => {
    tamper(t.dir, (raw) => {
      raw.exec('DELETE FROM audit_entries WHERE seq = 41');
      raw.exec("UPDATE audit_entries SET kind = 'model_import' WHERE seq = 5");
    });
    expect(verifyOnDisk(t)).toMatchObject({ ok: false, break: { seq: 5, kind: 'edited' } });
  });
});
