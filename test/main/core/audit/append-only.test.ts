import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendEntries, writeCheckpoint } from '../../../../main/core/audit/index.js';
import { dbPath } from '../../../../main/core/db/open.js';
import { explainInput, tempLog, type TempLog } from './helpers.js';

describe('the audit tables are append-only', () => {
  let t: TempLog;
  let other: Database.Database;
  beforeEach(() => {
    t = tempLog();
    appendEntries(t.db, [explainInput(0), explainInput(1), explainInput(2)]);
    writeCheckpoint(t.db, t.key);
    // A second connection, as any other tool on the machine would open: the triggers still apply.
    other = new Database(dbPath(t.dir));
  });
  afterEach(() => {
    other.close();
    t.cleanup();
  });

  it('aborts an UPDATE of an entry', () => {
    expect(() => other.prepare('UPDATE audit_entries SET prediction = 0.99 WHERE seq = 2').run()).toThrow(
      /append-only/,
    );
  });

  it('aborts a DELETE of an entry', () => {
    expect(() => other.prepare('DELETE FROM audit_entries WHERE seq = 3').run()).toThrow(/append-only/);
    expect(() => other.prepare('DELETE FROM audit_entries').run()).toThrow(/append-only/);
  });

  it('aborts an INSERT OR REPLACE over an existing entry', () => {
    const row = other.prepare('SELECT * FROM audit_entries WHERE seq = 2').get() as Record<string, unknown>;
    const cols = Object.keys(row);
    const replace = other.prepare(
      `INSERT OR REPLACE INTO audit_entries (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`,
    );
    expect(() => replace.run({ ...row, prediction: 0.99 })).toThrow(/append-only/);
  });

  it('aborts an insert that does not follow the head', () => {
    const row = other.prepare('SELECT * FROM audit_entries WHERE seq = 3').get() as Record<string, unknown>;
    const cols = Object.keys(row);
    const insert = other.prepare(
      `INSERT INTO audit_entries (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`,
    );
    expect(() => insert.run({ ...row, seq: 4 })).toThrow(/append-only/); // prev_hash is not the head's hash
    expect(() => insert.run({ ...row, seq: 9, prev_hash: row.entry_hash })).toThrow(/append-only/); // a gap
  });

  it('aborts an UPDATE or DELETE of a checkpoint', () => {
    expect(() => other.prepare("UPDATE audit_checkpoints SET key_id = 'x'").run()).toThrow(/append-only/);
    expect(() => other.prepare('DELETE FROM audit_checkpoints').run()).toThrow(/append-only/);
  });

  it('aborts a checkpoint over an entry that does not exist', () => {
    const insert = other.prepare(
      "INSERT INTO audit_checkpoints (seq, entry_hash, count, created_at, signature, key_id) VALUES (?, ?, ?, '2025-01-01', x'00', 'k')",
    );
    expect(() => insert.run(7, 'a'.repeat(64), 7)).toThrow(/append-only/);
  });
});
