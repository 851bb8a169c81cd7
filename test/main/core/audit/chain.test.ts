import canonicalize from 'canonicalize';
import { createHash, createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendEntries,
  AuditEntryError,
  explainEntry,
  GENESIS_HASH,
  inputHash,
  verifyAudit,
  type AuditEntryInput,
} from '../../../../main/core/audit/index.js';
import { canonicalStored, RECORD_FIELDS } from '../../../../main/core/audit/entry.js';
import { readStatements } from '../../../../main/core/audit/store.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import { explainInput, modelInput, tempLog, type TempLog } from './helpers.js';

type Row = (string | number | null)[];

/** The stored row as the record object the chain rule speaks of (JSON columns parsed). */
function recordOf(row: Row): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  RECORD_FIELDS.forEach(([field, type], i) => {
    const v = row[i]!;
    record[field] = type === 'json' && v !== null ? JSON.parse(v as string) : v;
  });
  return record;
}

function rows(t: TempLog): Row[] {
  return readStatements(t.db).entriesFrom.all(1) as Row[];
}

describe('the audit hash chain', () => {
  let t: TempLog;
  beforeEach(() => {
    t = tempLog();
  });
  afterEach(() => t.cleanup());

  it('links every entry: entry_hash = SHA-256(prev_hash ‖ RFC 8785 canonical entry), from a genesis of 64 zeros', () => {
    appendEntries(t.db, [explainInput(0), modelInput(1), explainInput(2)]);
    appendEntries(t.db, [explainInput(3)]);
    let prev = '0'.repeat(64);
    const all = rows(t);
    expect(all).toHaveLength(4);
    for (const row of all) {
      const [prevHash, entryHash] = row.slice(RECORD_FIELDS.length) as [string, string];
      expect(prevHash).toBe(prev);
      const expected = createHash('sha256')
        .update(prev + canonicalize(recordOf(row)))
        .digest('hex');
      expect(entryHash).toBe(expected);
      prev = entryHash;
    }
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });

  it('numbers seq from 1 without gaps and stamps each entry', () => {
    const receipts = appendEntries(t.db, [explainInput(0), explainInput(1)], {
      now: new Date('2025-02-03T04:05:06.789Z'),
    });
    expect(receipts.map((r) => r.seq)).toEqual([1, 2]);
    expect(recordOf(rows(t)[1]!)).toMatchObject({
      seq: 2,
      timestamp: '2025-02-03T04:05:06.789Z',
      kind: 'explain',
    });
  });

  it('hashes stored rows exactly as canonicalize does, for awkward strings and numbers', () => {
    const awkward: AuditEntryInput[] = [
      {
        ...explainInput(0),
        prediction: -0,
        latencyMs: 1e21,
        topAttributions: [
          { feature: 'é\u0000"\\\n\t\u2028😀', attribution: 1e-7 },
          { feature: 'x', attribution: -123456789.125 },
          { feature: 'y', attribution: 0.1 + 0.2 },
        ],
      },
      {
        kind: 'model_import',
        details: { z: 1, a: [true, null, { ü: 'ü', A: 2, '\u00e9': 3, e: 4 }], '': '', '10': 5, '9': 6 },
      },
      { kind: 'model_rollback', model: { id: 'm', version: 'v', sha256: 's' }, details: {} },
    ];
    appendEntries(t.db, awkward);
    for (const row of rows(t)) expect(canonicalStored(row)).toBe(canonicalize(recordOf(row)));
  });

  it('keeps only feature and attribution from the top attributions', () => {
    // Full attributions, as a document holds them, are accepted: only the two audit fields are kept.
    const attributions = [{ feature: 'income', attribution: 0.5, value: 52000, label: 'Income' }];
    const withValue: AuditEntryInput = { ...explainInput(0), topAttributions: attributions };
    appendEntries(t.db, [withValue]);
    expect(recordOf(rows(t)[0]!).top_attributions).toEqual([{ feature: 'income', attribution: 0.5 }]);
  });

  it('refuses a bad entry, naming the field, and writes nothing', () => {
    const bad: [AuditEntryInput, string][] = [
      [{ ...explainInput(0), inputHash: 'not-hex' }, 'inputHash'],
      [{ ...explainInput(0), prediction: Number.NaN }, 'prediction'],
      [{ ...explainInput(0), cache: 'ram' as 'disk' }, 'cache'],
      [{ ...explainInput(0), documentId: '' }, 'documentId'],
      [{ kind: 'delete_everything' as 'explain' }, 'kind'],
      [{ ...explainInput(0), extra: 1 } as AuditEntryInput, 'extra'],
      [{ ...explainInput(0), documentId: 'bad\ud800' }, 'lone surrogate'],
      [{ kind: 'model_import', details: { note: 'bad\udc00' } }, 'Lone surrogate'],
    ];
    for (const [entry, field] of bad) {
      expect(() => appendEntries(t.db, [explainInput(1), entry])).toThrow(AuditEntryError);
      expect(() => appendEntries(t.db, [entry])).toThrow(field);
    }
    expect(rows(t)).toHaveLength(0);
  });

  it('verifies an intact log and reports its head, checkpoints and unsigned tail', () => {
    for (let i = 0; i < 25; i++)
      appendEntries(t.db, [explainInput(i)], { signingKey: t.key, policy: { every: 10, intervalMs: 1e9 } });
    const v = verifyAudit(t.db, t.key.publicPem);
    expect(v).toMatchObject({ ok: true, entries: 25, checkpoints: 2, unsigned: 5 });
    expect(v.head?.seq).toBe(25);
    expect(v.head?.entryHash).toBe(rows(t)[24]![RECORD_FIELDS.length + 1]);
    expect(v.lastCheckpoint?.seq).toBe(20);
    expect(v.break).toBeUndefined();
  });

  it('verifies an empty log', () => {
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, entries: 0, head: null });
  });
});

describe('inputHash', () => {
  it('is HMAC-SHA256 (hex) over the canonical raw input, whatever its key order', () => {
    const key = Buffer.alloc(32, 7);
    const a = inputHash(key, { income: 52000, age: 41, region: 'Nord' });
    const b = inputHash(key, { region: 'Nord', age: 41, income: 52000 });
    expect(a).toBe(b);
    expect(a).toBe(
      createHmac('sha256', key).update('{"age":41,"income":52000,"region":"Nord"}').digest('hex'),
    );
    expect(inputHash(Buffer.alloc(32, 8), { income: 52000, age: 41, region: 'Nord' })).not.toBe(a);
  });
});

describe('explainEntry', () => {
  it('takes the audit fields from an explanation document', () => {
    const doc = {
      id: 'doc-1',
      created_at: '2025-01-01T00:00:00.000Z',
      model: { id: 'credit-demo', version: '1.0.0', sha256: 'ab'.repeat(32) },
      predictions: [0.7],
      target: { index: 0, name: 'approved' },
      score: 0.7,
      baseline_score: 0.4,
      attributions: [
        {
          feature: 'income',
          label: 'Income',
          value: 52000,
          attribution: 0.2,
          direction: 'positive',
          description: '',
        },
        {
          feature: 'sensitive_ab12',
          value: null,
          attribution: 0.1,
          direction: 'positive',
          description: '',
          masked: true,
        },
      ],
      rest_sum: 0,
      rest_count: 0,
      reasons: [],
      completeness: { sum: 0.3, expected: 0.3, delta: 0 },
      meta: {
        explanation: {
          method: 'integrated_gradients',
          params: {
            method: 'gausslegendre',
            n_steps: 50,
            internal_batch_size: 50,
            target: 0,
            baseline: 'schema',
            top_k: 2,
          },
        },
        explainer_version: '0.1.0',
        backend: 'cpu',
        locale: 'en',
        cache: 'disk',
        latency_ms: 3.5,
      },
      _meta: { watermark: 'cd'.repeat(32), key_id: 'k1', alg: 'HMAC-SHA256/JCS' },
    } as ExplanationDocument;
    expect(explainEntry(doc, 'ef'.repeat(32))).toEqual({
      kind: 'explain',
      model: doc.model,
      explainer: { version: '0.1.0', params: doc.meta.explanation.params },
      inputHash: 'ef'.repeat(32),
      prediction: 0.7,
      topAttributions: [
        { feature: 'income', attribution: 0.2 },
        { feature: 'sensitive_ab12', attribution: 0.1 },
      ],
      cache: 'disk',
      latencyMs: 3.5,
      watermark: 'cd'.repeat(32),
      documentId: 'doc-1',
      details: null,
    });
    // The decision, when the document has one, is kept so the audit page can filter on it.
    const decided = { ...doc, decision: { label: 'good', approved: true, threshold: 0.5 } };
    expect(explainEntry(decided, 'ef'.repeat(32)).details).toEqual({ decision: decided.decision });
  });
});
