// Shared by the audit tests: a temp data dir with a migrated database and a signing key, sample entries,
// and a second raw connection that drops the append-only triggers, as an attacker with file access would.
import Database from 'better-sqlite3';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dbPath, openReadable, openWritable, type WritableDb } from '../../../../main/core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey, type SigningKey } from '../../../../main/core/keys.js';
import { verifyAudit, type AuditEntryInput } from '../../../../main/core/audit/index.js';
import {
  canonicalStored,
  chainHash,
  GENESIS_HASH,
  prepareEntry,
  RECORD_FIELDS,
} from '../../../../main/core/audit/entry.js';
import { readHead, writeStatements } from '../../../../main/core/audit/store.js';

export interface TempLog {
  dir: string;
  db: WritableDb;
  key: SigningKey;
  cleanup(): void;
}

export function tempLog(): TempLog {
  const dir = mkdtempSync(join(tmpdir(), 'branchlens-audit-'));
  const db = openWritable(dir);
  const key = loadOrCreateSigningKey(fileSecretStore(dir));
  return {
    dir,
    db,
    key,
    cleanup() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const hex = (n: number) => n.toString(16).padStart(64, '0');

export function explainInput(i: number): AuditEntryInput {
  return {
    kind: 'explain',
    model: { id: 'credit-demo', version: '1.2.0', sha256: hex(0xabc) },
    explainer: {
      version: '0.1.0',
      params: {
        method: 'integrated_gradients',
        n_steps: 64,
        internal_batch_size: 64,
        target: null,
        baseline: 'schema',
        top_k: 5,
      },
    },
    inputHash: hex(i + 1),
    prediction: 0.1 + (i % 80) / 100 + 1e-9 * i,
    topAttributions: [
      { feature: 'income', attribution: 0.12 + i * 1e-6 },
      { feature: 'debt_ratio', attribution: -0.08 },
      { feature: 'sensitive_3f2a', attribution: 0.004 },
      { feature: 'années_emploi', attribution: -1e-7 },
    ],
    cache: (['miss', 'memory', 'disk'] as const)[i % 3]!,
    latencyMs: 12.5 + (i % 7),
    watermark: hex(0xfeed + i),
    documentId: `doc-${i}`,
  };
}

export function modelInput(i: number): AuditEntryInput {
  return {
    kind: 'model_activate',
    model: { id: 'credit-demo', version: `1.${i}.0`, sha256: hex(i) },
    details: {
      previous: '1.0.0',
      by: 'opérateur "A", agence 12',
      reason: null,
      nested: { ok: true, n: [1, 2.5] },
    },
  };
}

/** verifyAudit of the log in `t.dir` with its key, through a fresh read-only connection (as the CLI reads it). */
export function verifyOnDisk(t: TempLog): ReturnType<typeof verifyAudit> {
  const db = openReadable(t.dir);
  try {
    return verifyAudit(db, t.key.publicPem);
  } finally {
    db.close();
  }
}

/** Runs `edit` on a separate connection after dropping every audit trigger. */
export function tamper(dir: string, edit: (raw: Database.Database) => void): void {
  const raw = new Database(dbPath(dir));
  try {
    const triggers = raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_%'")
      .all() as { name: string }[];
    for (const t of triggers) raw.exec(`DROP TRIGGER ${t.name}`);
    edit(raw);
  } finally {
    raw.close();
  }
}

/**
 * Rewrites the chain from entry `from` to the head with fresh hashes, as someone who knows the (public) hashing
 * recipe could: `edit` changes entry `from`'s prediction. Only the signed checkpoints still tell.
 */
export function rewriteSuffix(raw: Database.Database, from: number, prediction: number): void {
  const rows = raw.prepare('SELECT * FROM audit_entries WHERE seq >= ? ORDER BY seq').all(from) as Record<
    string,
    unknown
  >[];
  let prev = rows[0]!.prev_hash as string;
  const update = raw.prepare(
    'UPDATE audit_entries SET prediction = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?',
  );
  for (const row of rows) {
    const record: Record<string, unknown> = {};
    for (const [f, type] of RECORD_FIELDS) {
      record[f] = type === 'json' && row[f] !== null ? JSON.parse(row[f] as string) : row[f];
    }
    if (row.seq === from) record.prediction = prediction;
    const hash = createHash('sha256')
      .update(prev + canonicalize(record))
      .digest('hex');
    update.run(record.prediction, prev, hash, row.seq);
    prev = hash;
  }
}

/**
 * Appends entries stamped `at[i]` as BranchLens wrote them before it kept timestamps non-decreasing along the
 * chain (each one stamped when prepared, whatever the entry before it): a log with such history still exists.
 */
export function appendUnordered(db: WritableDb, at: readonly string[], first = 0): void {
  db.transaction(() => {
    const head = readHead(db);
    let seq = head?.seq ?? 0;
    let prev = head?.entryHash ?? GENESIS_HASH;
    at.forEach((time, i) => {
      const row = [++seq, ...prepareEntry(explainInput(first + i), new Date(time)).stored];
      const hash = chainHash(prev, canonicalStored(row));
      writeStatements(db).insertEntry.run(...row, prev, hash);
      prev = hash;
    });
  }).immediate();
}
