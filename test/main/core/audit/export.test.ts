import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendEntries,
  AuditBrokenError,
  ES_CHECKPOINT_INDEX,
  ES_ENTRY_INDEX,
  EXPORT_FORMATS,
  exportAudit,
  latestCheckpoint,
  listCheckpoints,
  verifyAudit,
  verifyExport,
  type AuditExportFormat,
} from '../../../../main/core/audit/index.js';
import { openWritable } from '../../../../main/core/db/open.js';
import { explanationParamsSchema } from '../../../../shared/explanation.js';
import { explainInput, modelInput, rewriteSuffix, tamper, tempLog, type TempLog } from './helpers.js';

const START = Date.parse('2025-03-01T00:00:00Z');
const MINUTE = 60_000;
const ENTRIES = 120;

let t: TempLog;
beforeAll(() => {
  t = tempLog();
  // One entry a minute, so that --since has something to cut.
  for (let i = 0; i < ENTRIES; i++) {
    appendEntries(t.db, [i % 9 === 4 ? modelInput(i) : explainInput(i)], {
      now: new Date(START + i * MINUTE),
      signingKey: t.key,
      policy: { every: 50, intervalMs: 10 * MINUTE },
    });
  }
});
afterAll(() => t.cleanup());

let fileNo = 0;
async function exportTo(
  format: AuditExportFormat,
  gzip = false,
  since?: Date,
  until?: Date,
): Promise<Buffer> {
  const out = join(t.dir, `export-${fileNo++}`);
  await exportAudit(t.db, {
    format,
    gzip,
    out,
    signingKey: t.key,
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  });
  return readFileSync(out);
}

const text = (bytes: Buffer) => (bytes[0] === 0x1f ? gunzipSync(bytes) : bytes).toString('utf8');

describe.each(EXPORT_FORMATS)('export as %s', (format) => {
  it.each([false, true])('round-trips through verifyExport (gzip: %s)', async (gzip) => {
    const bytes = await exportTo(format, gzip);
    expect(bytes[0] === 0x1f && bytes[1] === 0x8b).toBe(gzip);
    const v = verifyExport(bytes, t.key.publicPem);
    expect(v).toMatchObject({ ok: true, format, entries: ENTRIES, firstSeq: 1, head: { seq: ENTRIES } });
    expect(v.checkpoint?.keyId).toBe(t.key.id);
  });

  it.each([false, true])('with --since starts mid-chain and still verifies (gzip: %s)', async (gzip) => {
    const bytes = await exportTo(format, gzip, new Date(START + 100 * MINUTE - 1));
    const v = verifyExport(bytes, t.key.publicPem);
    expect(v).toMatchObject({ ok: true, entries: 20, firstSeq: 101, head: { seq: ENTRIES } });
    expect(v.checkpoint?.firstSeq).toBe(101);
  });

  it('with --since and --until holds a closed range, sealed at its last entry, and verifies', async () => {
    // Entries are stamped one a minute: 51–100 fall in [START + 50 min, START + 100 min).
    const bytes = await exportTo(
      format,
      false,
      new Date(START + 50 * MINUTE),
      new Date(START + 100 * MINUTE),
    );
    const v = verifyExport(bytes, t.key.publicPem);
    expect(v).toMatchObject({ ok: true, entries: 50, firstSeq: 51, head: { seq: 100 } });
    expect(v.checkpoint).toMatchObject({ firstSeq: 51, seq: 100 });
    const none = verifyExport(
      await exportTo(format, false, undefined, new Date(START - MINUTE)),
      t.key.publicPem,
    );
    expect(none).toMatchObject({ ok: true, entries: 0 });
    expect(none.checkpoint?.seq).toBe(0);
    // Cutting the range's last entry is caught like any other cut.
    const lines = text(bytes).trimEnd().split('\n');
    const perEntry = format === 'es-bulk' ? 2 : 1;
    const cut = [
      ...lines.slice(0, lines.length - (format === 'es-bulk' ? 2 : 1) - perEntry),
      ...lines.slice(-perEntry),
    ];
    expect(verifyExport(Buffer.from(cut.join('\n') + '\n'), t.key.publicPem).ok).toBe(false);
  });

  it('fails when an exported entry is edited', async () => {
    const lines = text(await exportTo(format)).split('\n');
    const i = lines.findIndex((l) => l.includes('doc-30'));
    lines[i] = lines[i]!.replace('doc-30', 'doc-31');
    expect(verifyExport(Buffer.from(lines.join('\n')), t.key.publicPem)).toMatchObject({
      ok: false,
      break: { seq: 31, kind: 'edited' },
    });
  });

  it('fails when an exported entry is dropped', async () => {
    const lines = text(await exportTo(format)).split('\n');
    const i = lines.findIndex((l) => l.includes('doc-30'));
    lines.splice(format === 'es-bulk' ? i - 1 : i, format === 'es-bulk' ? 2 : 1);
    expect(verifyExport(Buffer.from(lines.join('\n')), t.key.publicPem)).toMatchObject({
      ok: false,
      break: { seq: 31, kind: 'missing' },
    });
  });

  it('fails when the front of a --since export is dropped', async () => {
    const lines = text(await exportTo(format, false, new Date(START + 100 * MINUTE - 1))).split('\n');
    const i = lines.findIndex((l) => l.includes('doc-100'));
    lines.splice(format === 'es-bulk' ? i - 1 : i, format === 'es-bulk' ? 2 : 1);
    expect(verifyExport(Buffer.from(lines.join('\n')), t.key.publicPem)).toMatchObject({ ok: false });
  });

  it('fails when the tail and the signed head are cut off', async () => {
    const lines = text(await exportTo(format))
      .trimEnd()
      .split('\n');
    const cut = lines.slice(0, format === 'es-bulk' ? -4 : -2).join('\n') + '\n';
    expect(verifyExport(Buffer.from(cut), t.key.publicPem)).toMatchObject({
      ok: false,
      break: { kind: 'unsigned' },
    });
  });

  it('fails when the checkpoint signature is forged, or another key is given', async () => {
    const bytes = await exportTo(format, true);
    const raw = text(bytes);
    const sig = /"signature":"([^"]+)"|,([A-Za-z0-9+/]{86}==)/.exec(raw)!;
    const value = sig[1] ?? sig[2]!;
    const forged = raw.replace(value, (value[0] === 'A' ? 'B' : 'A') + value.slice(1));
    expect(verifyExport(gzipSync(forged), t.key.publicPem)).toMatchObject({
      ok: false,
      break: { kind: 'bad_signature' },
    });
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(verifyExport(bytes, other)).toMatchObject({ ok: false, break: { kind: 'bad_signature' } });
  });
});

describe('a log that fails verification', () => {
  let b: TempLog;
  beforeAll(() => {
    b = tempLog();
    for (let i = 0; i < 30; i++) {
      appendEntries(b.db, [explainInput(i)], { signingKey: b.key, policy: { every: 10, intervalMs: 1e12 } });
    }
    b.db.close();
  });
  afterAll(() => b.cleanup());

  async function refused(expected: { seq: number; kind: string }) {
    const db = openWritable(b.dir);
    try {
      const before = listCheckpoints(db).length;
      const out = join(b.dir, `refused-${fileNo++}`);
      const error = await exportAudit(db, { format: 'jsonl', out, signingKey: b.key }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AuditBrokenError);
      expect((error as AuditBrokenError).found).toMatchObject(expected);
      expect((error as Error).message).toContain(`entry ${expected.seq} (${expected.kind})`);
      // Nothing signed, nothing written.
      expect(listCheckpoints(db)).toHaveLength(before);
      expect(existsSync(out)).toBe(false);
    } finally {
      db.close();
    }
  }

  it('is not exported: a chain rewritten with fresh hashes would otherwise leave with a valid seal', async () => {
    tamper(b.dir, (raw) => rewriteSuffix(raw, 15, 0.999));
    await refused({ seq: 20, kind: 'checkpoint_mismatch' });
  });
});

describe('a log whose earlier checkpoints another key signed (the key was replaced)', () => {
  it('is exported, naming that key, and a rewrite is still caught by those checkpoints', async () => {
    const c = tempLog();
    const replaced = tempLog();
    try {
      for (let i = 0; i < 12; i++) {
        appendEntries(c.db, [explainInput(i)], { signingKey: c.key, policy: { every: 5, intervalMs: 1e12 } });
      }
      // The installation now has another key: its old checkpoints cannot be signature-checked with it.
      const summary = await exportAudit(c.db, {
        format: 'jsonl',
        out: join(c.dir, 'new-key.jsonl'),
        signingKey: replaced.key,
      });
      expect(summary.otherKeyIds).toEqual([c.key.id]);
      expect(summary.checkpoint.keyId).toBe(replaced.key.id);
      expect(verifyExport(readFileSync(join(c.dir, 'new-key.jsonl')), replaced.key.publicPem).ok).toBe(true);
      c.db.close();
      tamper(c.dir, (raw) => rewriteSuffix(raw, 2, 0.5));
      const db = openWritable(c.dir);
      try {
        const error = await exportAudit(db, {
          format: 'jsonl',
          out: join(c.dir, 'rewritten.jsonl'),
          signingKey: replaced.key,
        }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AuditBrokenError);
        expect((error as AuditBrokenError).found).toMatchObject({ seq: 5, kind: 'checkpoint_mismatch' });
      } finally {
        db.close();
      }
    } finally {
      c.cleanup();
      replaced.cleanup();
    }
  });
});

describe('a log cut below its last checkpoint', () => {
  it('is refused as truncated, naming the first removed entry (not a database error)', async () => {
    const c = tempLog();
    try {
      for (let i = 0; i < 12; i++) {
        appendEntries(c.db, [explainInput(i)], {
          signingKey: c.key,
          policy: { every: 10, intervalMs: 1e12 },
        });
      }
      c.db.close();
      tamper(c.dir, (raw) => raw.exec('DELETE FROM audit_entries WHERE seq > 7'));
      const db = openWritable(c.dir);
      try {
        const out = join(c.dir, 'cut.jsonl');
        const error = await exportAudit(db, { format: 'jsonl', out, signingKey: c.key }).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(AuditBrokenError);
        expect((error as AuditBrokenError).found).toMatchObject({ seq: 8, kind: 'truncated' });
        expect(existsSync(out)).toBe(false);
      } finally {
        db.close();
      }
    } finally {
      c.cleanup();
    }
  });
});

describe('exports', () => {
  it('sign the head in the database as well, so that local truncation below it is caught', async () => {
    appendEntries(t.db, [explainInput(999)], { now: new Date(START + ENTRIES * MINUTE) });
    await exportTo('jsonl');
    expect(latestCheckpoint(t.db)?.seq).toBe(ENTRIES + 1);
    expect(verifyAudit(t.db, t.key.publicKey)).toMatchObject({ ok: true, unsigned: 0 });
  });

  it('write to a stream and leave it open', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const summary = await exportAudit(t.db, { format: 'jsonl', gzip: true, out, signingKey: t.key });
    expect(out.writableEnded).toBe(false);
    expect(verifyExport(Buffer.concat(chunks), t.key.publicPem)).toMatchObject({
      ok: true,
      entries: summary.entries,
    });
  });

  it('of an empty log carry a signed empty head', async () => {
    const empty = tempLog();
    try {
      const out = join(empty.dir, 'empty.jsonl');
      await exportAudit(empty.db, { format: 'jsonl', out, signingKey: empty.key });
      expect(verifyExport(readFileSync(out), empty.key.publicPem)).toMatchObject({ ok: true, entries: 0 });
    } finally {
      empty.cleanup();
    }
  });

  it('with --since after the last entry hold no entries and still verify', async () => {
    const v = verifyExport(await exportTo('csv', false, new Date('2030-01-01')), t.key.publicPem);
    expect(v).toMatchObject({ ok: true, entries: 0 });
  });

  it('in JSONL hold each entry as one JSON object with its links', async () => {
    const lines = text(await exportTo('jsonl'))
      .trimEnd()
      .split('\n');
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({
      record: 'entry',
      seq: 1,
      timestamp: '2025-03-01T00:00:00.000Z',
      kind: 'explain',
      model_id: 'credit-demo',
      prev_hash: '0'.repeat(64),
      document_id: 'doc-0',
      top_attributions: explainInput(0).topAttributions,
    });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      record: 'checkpoint',
      alg: 'Ed25519',
      key_id: t.key.id,
    });
  });

  it('in CSV survive a spreadsheet-style round trip of quoted JSON cells', async () => {
    const csv = text(await exportTo('csv'));
    expect(csv.split('\n')[0]).toMatch(/^record,seq,timestamp,kind,/);
    expect(csv).toContain('"{""by"":""opérateur \\""A\\"", agence 12""');
    const crlf = csv.replace(/\n/g, '\r\n');
    expect(verifyExport(Buffer.from(crlf), t.key.publicPem)).toMatchObject({ ok: true });
  });

  it('for Elasticsearch match the shipped index template', async () => {
    const template = JSON.parse(
      readFileSync(
        new URL('../../../../docs/elasticsearch/audit-index-template.json', import.meta.url),
        'utf8',
      ),
    ) as {
      index_patterns: string[];
      template: {
        mappings: {
          dynamic: string;
          properties: Record<string, { type: string; properties?: Record<string, { type: string }> }>;
        };
      };
    };
    const props = template.template.mappings.properties;
    expect(props).toMatchObject({
      timestamp: { type: 'date' },
      model_version: { type: 'keyword' },
      explainer_params: { type: 'object', dynamic: false },
      input_hash: { type: 'keyword' },
      top_attributions: { type: 'nested' },
    });
    const patterns = template.index_patterns.map((p) => new RegExp(`^${p.replace(/\*/g, '.*')}$`));
    const lines = text(await exportTo('es-bulk'))
      .trimEnd()
      .split('\n');
    expect(lines.length % 2).toBe(0);
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!) as { create: { _index: string; _id: string } };
      const doc = JSON.parse(lines[i + 1]!) as Record<string, unknown>;
      expect([ES_ENTRY_INDEX, ES_CHECKPOINT_INDEX]).toContain(action.create._index);
      expect(patterns.some((p) => p.test(action.create._index))).toBe(true);
      expect(action.create._id).toBe(
        doc.record === 'entry' ? doc.entry_hash : `${t.key.id}-checkpoint-${doc.first_seq}-${doc.seq}`,
      );
      for (const [field, value] of Object.entries(doc)) {
        const mapping = props[field];
        expect(mapping, `field ${field} is mapped`).toBeDefined();
        if (value === null) continue;
        switch (mapping!.type) {
          case 'date':
            expect(Number.isNaN(Date.parse(value as string))).toBe(false);
            break;
          case 'long':
          case 'double':
            expect(typeof value).toBe('number');
            break;
          case 'keyword':
            expect(typeof value).toBe('string');
            break;
          case 'flattened':
            expect(typeof value === 'object' && !Array.isArray(value)).toBe(true);
            break;
          case 'object':
            // Each parameter is mapped by its type, so that numbers compare as numbers (n_steps > 50).
            for (const [key, param] of Object.entries(value as Record<string, unknown>)) {
              const type = mapping!.properties?.[key]?.type;
              expect(type, `${field}.${key} is mapped`).toBeDefined();
              if (param === null) continue;
              if (type === 'long') expect(Number.isSafeInteger(param), `${field}.${key}`).toBe(true);
              else if (type === 'boolean') expect(typeof param, `${field}.${key}`).toBe('boolean');
              else expect(['string', 'number'], `${field}.${key}`).toContain(typeof param);
            }
            break;
          case 'nested':
            for (const item of value as Record<string, unknown>[]) {
              for (const key of Object.keys(item)) expect(mapping!.properties).toHaveProperty(key);
            }
            break;
          default:
            throw new Error(`unexpected mapping type ${mapping!.type}`);
        }
      }
    }
  });

  it('for Elasticsearch map every explanation parameter, its numbers as longs', () => {
    const template = JSON.parse(
      readFileSync(
        new URL('../../../../docs/elasticsearch/audit-index-template.json', import.meta.url),
        'utf8',
      ),
    ) as { template: { mappings: { properties: { explainer_params: { properties: object } } } } };
    const params = template.template.mappings.properties.explainer_params.properties;
    expect(Object.keys(params).sort()).toEqual(Object.keys(explanationParamsSchema.shape).sort());
    expect(params).toMatchObject({
      n_steps: { type: 'long' },
      top_k: { type: 'long' },
      internal_batch_size: { type: 'long' },
      method: { type: 'keyword' },
    });
  });

  it('refuse a file that is not an export', () => {
    writeFileSync(join(t.dir, 'junk'), 'hello');
    expect(verifyExport(readFileSync(join(t.dir, 'junk')), t.key.publicPem)).toMatchObject({
      ok: false,
      break: { kind: 'malformed' },
    });
    expect(verifyExport(Buffer.alloc(0), t.key.publicPem)).toMatchObject({
      ok: false,
      break: { kind: 'malformed' },
    });
  });
});
