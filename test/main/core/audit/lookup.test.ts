// Finding a decision in the audit log by what the officer has in hand: the document id on a printout (whole, or
// the 8 hex digits the result shows) lists every serving of that document, and a seq its one entry. The lookup
// uses an index (migration 008), so it stays fast on a log of a million entries (measured: docs/api.md).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { appendPrepared } from '../../../../main/core/audit/append.js';
import { prepareEntry } from '../../../../main/core/audit/entry.js';
import { auditPage, documentIdRange } from '../../../../main/core/audit/query.js';
import { MIGRATIONS } from '../../../../main/core/db/migrations/index.js';
import { dbPath, openWritable } from '../../../../main/core/db/open.js';
import { API_REQUESTS } from '../../../../shared/contract.js';
import { explainInput, modelInput, tempLog, type TempLog } from './helpers.js';

const DOC_A = '3f2a1b9c-0d4e-4f1a-9b2c-5d6e7f8a9b0c';
/** Shares DOC_A's first 8 hex digits: a prefix of 8 finds both, a longer one only this. */
const DOC_A2 = '3f2a1b9c-ffff-4aaa-8bbb-0123456789ab';
const DOC_B = '3f2a1b9d-0000-4000-8000-000000000000';

let t: TempLog;
beforeEach(() => {
  t = tempLog();
});
afterEach(() => t.cleanup());

/** Appends explain entries serving these documents (a repeated id: a cache hit serving it again), in order. */
function serve(db: Database.Database, ids: readonly (string | null)[]): void {
  const at = new Date('2026-11-28T09:00:00.000Z');
  appendPrepared(
    db as never,
    ids.map((id, i) =>
      prepareEntry(id === null ? modelInput(i) : { ...explainInput(i), documentId: id }, at),
    ),
  );
}

/** The request as the contract passes it on (a document id in its stored form). */
const query = (q: Record<string, unknown>) => API_REQUESTS.auditPage.parse(q);
const seqs = (q: Record<string, unknown>) => auditPage(t.db, query(q)).entries.map((e) => e.seq);

describe('looking a decision up by its document id', () => {
  beforeEach(() => serve(t.db, [DOC_A, DOC_B, null, DOC_A, DOC_A2, DOC_A]));

  it('lists every serving of the document, newest first, whole id given', () => {
    expect(seqs({ document_id: DOC_A })).toEqual([6, 4, 1]);
  });

  it('finds it by the first 8 hex digits, as the result shows them: every document starting so', () => {
    expect(seqs({ document_id: '3f2a1b9c' })).toEqual([6, 5, 4, 1]);
    expect(seqs({ document_id: '3f2a1b9d' })).toEqual([2]);
    expect(seqs({ document_id: '3f2a1b9e' })).toEqual([]);
  });

  it('reads the id as typed off a printout: upper case, dashes or not, spaces around', () => {
    expect(seqs({ document_id: ' 3F2A1B9C0D4E ' })).toEqual([6, 4, 1]);
    expect(seqs({ document_id: '3f2a1b9c0d4e4f1a9b2c5d6e7f8a9b0c' })).toEqual([6, 4, 1]);
    expect(seqs({ document_id: '3f2a1b9c-f' })).toEqual([5]);
  });

  it('pages through the servings and combines with the other filters', () => {
    const first = auditPage(t.db, query({ document_id: '3f2a1b9c', limit: 2 }));
    expect(first.entries.map((e) => e.seq)).toEqual([6, 5]);
    expect(first.next_before_seq).toBe(5);
    expect(seqs({ document_id: '3f2a1b9c', limit: 2, before_seq: 5 })).toEqual([4, 1]);
    expect(seqs({ document_id: DOC_A, kind: 'model_activate' })).toEqual([]);
  });
});

describe('looking an entry up by its seq', () => {
  it('finds that entry alone, and nothing for a seq past the head', () => {
    serve(t.db, [DOC_A, null, DOC_B]);
    expect(auditPage(t.db, query({ seq: 2 })).entries).toEqual([
      expect.objectContaining({ seq: 2, kind: 'model_activate', document_id: null }),
    ]);
    expect(seqs({ seq: 3, document_id: DOC_B })).toEqual([3]);
    expect(seqs({ seq: 3, document_id: DOC_A })).toEqual([]);
    expect(seqs({ seq: 4 })).toEqual([]);
  });
});

describe('bad input to the lookup', () => {
  it.each([
    [{ document_id: 'zz2a1b9c' }, 'document_id', /hex digits 0-9 and a-f/],
    [{ document_id: '3f2a1b9' }, 'document_id', /at least 8 hex digits/],
    [{ document_id: 'a'.repeat(33) }, 'document_id', /at most 32 hex digits/],
    [{ document_id: '' }, 'document_id', /at least 8 hex digits/],
    [{ seq: -3 }, 'seq', /1 or more/],
    [{ seq: 0 }, 'seq', /1 or more/],
    [{ seq: 2.5 }, 'seq', /whole number/],
    [{ seq: '7' }, 'seq', /whole number/],
  ])('%j is refused, naming %s', (q, field, message) => {
    const r = API_REQUESTS.auditPage.safeParse(q);
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([
      expect.objectContaining({ path: [field], message: expect.stringMatching(message) as string }),
    ]);
  });
});

describe('the lookup on a large log', () => {
  it('reads the document index, not every entry, and the seq by its key', () => {
    serve(t.db, [DOC_A]);
    const plan = (q: Record<string, unknown>) => {
      const sql = `SELECT * FROM audit_entries WHERE seq >= 1 AND ${
        'document_id' in q ? 'document_id >= ? AND document_id < ?' : 'seq = ?'
      } ORDER BY seq DESC LIMIT 51`;
      const args = 'document_id' in q ? documentIdRange(q.document_id as string) : [q.seq];
      return (t.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
    };
    expect(plan({ document_id: '3f2a1b9c' })).toMatch(
      /USING INDEX audit_entries_document \(document_id>\? AND document_id<\?\)/,
    );
    expect(plan({ seq: 1 })).toMatch(/USING INTEGER PRIMARY KEY \(rowid=\?\)/);
  });
});

describe('migration 8', () => {
  it('indexes the document ids of a log written before it, which are then found', () => {
    const before = MIGRATIONS.filter((m) => m.version < 8);
    const dir = mkdtempSync(join(tmpdir(), 'branchlens-audit-m8-'));
    const old = openWritable(dir, before);
    serve(old, [DOC_A, null, DOC_A]);
    old.close();
    const raw = new Database(dbPath(dir), { readonly: true });
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'audit_entries_document'").get()).toBe(
      undefined,
    );
    raw.close();
    const db = openWritable(dir);
    onTestFinished(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(
      t.db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'audit_entries_document'")
        .get(),
    ).toEqual({ name: 'audit_entries_document' });
    expect(auditPage(db, query({ document_id: '3F2A1B9C' })).entries.map((e) => e.seq)).toEqual([3, 1]);
  });
});
