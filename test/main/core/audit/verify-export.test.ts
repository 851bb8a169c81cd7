// verifyExport refuses a file that differs from what the exporter writes, even where the hashes and the seal do
// not reach: extra fields, repeated keys, numbers spelled another way, Elasticsearch actions and timestamps.
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendEntries,
  EXPORT_FORMATS,
  exportAudit,
  verifyExport,
  type AuditExportFormat,
  type ExportVerification,
} from '../../../../main/core/audit/index.js';
import * as verifying from '../../../../main/core/audit/verify-export.js';
import { explainInput, modelInput, tempLog, type TempLog } from './helpers.js';

const ENTRIES = 12;
let t: TempLog;
const exported = new Map<AuditExportFormat, string>();

beforeAll(async () => {
  t = tempLog();
  for (let i = 0; i < ENTRIES; i++) {
    appendEntries(t.db, [i % 5 === 4 ? modelInput(i) : explainInput(i)], {
      now: new Date(Date.parse('2025-03-01T00:00:00Z') + i * 60_000),
      signingKey: t.key,
    });
  }
  for (const format of EXPORT_FORMATS) {
    const out = join(t.dir, `export.${format}`);
    await exportAudit(t.db, { format, out, signingKey: t.key });
    exported.set(format, readFileSync(out, 'utf8'));
  }
});
afterAll(() => t.cleanup());

const verify = (text: string | Buffer) =>
  verifyExport(typeof text === 'string' ? Buffer.from(text) : text, t.key.publicPem);

/** The export's lines (the last is the empty string after the final newline), edited by `edit`. */
function forged(format: AuditExportFormat, edit: (lines: string[]) => void): ExportVerification {
  const lines = exported.get(format)!.split('\n');
  edit(lines);
  return verify(lines.join('\n'));
}

function expectRefused(v: ExportVerification, message: RegExp): void {
  expect(v.ok).toBe(false);
  expect(v.break?.kind).toBe('malformed');
  expect(v.break?.message).toMatch(message);
}

it('the untouched exports verify', () => {
  for (const format of EXPORT_FORMATS)
    expect(verify(exported.get(format)!), format).toMatchObject({ ok: true });
});

it('an es-bulk export written before the seal’s _id carried its range still verifies', () => {
  const v = forged('es-bulk', (l) => {
    l[2 * ENTRIES] = l[2 * ENTRIES]!.replace(
      /"_id":"(\w+)-checkpoint-\d+-(\d+)"/,
      '"_id":"$1-checkpoint-$2"',
    );
  });
  expect(v).toMatchObject({ ok: true, entries: ENTRIES });
  expectRefused(
    forged('es-bulk', (l) => {
      l[2 * ENTRIES] = l[2 * ENTRIES]!.replace(
        /"_id":"(\w+)-checkpoint-\d+-(\d+)"/,
        '"_id":"$1-checkpoint-1"',
      );
    }),
    new RegExp(`line ${2 * ENTRIES + 1}: the action's _id`),
  );
});

describe('an es-bulk action line that is not the exporter’s is refused', () => {
  const entryAction = (lines: string[]) => JSON.parse(lines[2]!) as { create: Record<string, unknown> };
  it.each([
    [
      'index instead of create',
      (l: string[]) => (l[2] = l[2]!.replace('"create"', '"index"')),
      /line 3: .*"index".*not "create"/,
    ],
    [
      'a pipeline',
      (l: string[]) => (l[2] = JSON.stringify({ create: { ...entryAction(l).create, pipeline: 'strip' } })),
      /line 3: the action has "pipeline"/,
    ],
    [
      'a routing',
      (l: string[]) => (l[2] = JSON.stringify({ create: { ...entryAction(l).create, routing: 'x' } })),
      /line 3: the action has "routing"/,
    ],
    [
      'both create and index',
      (l: string[]) => (l[2] = JSON.stringify({ ...entryAction(l), index: entryAction(l).create })),
      /line 3: the action has "index" besides "create"/,
    ],
    [
      'the _id of another key',
      (l: string[]) => (l[2] = l[2]!.replace(`"${t.key.id}-2"`, '"0123456789abcdef-2"')),
      /line 3: the action's _id is "0123456789abcdef-2", not ".*-2"/,
    ],
    [
      'the _id of another seq',
      (l: string[]) => (l[2] = l[2]!.replace(`"${t.key.id}-2"`, `"${t.key.id}-7"`)),
      /line 3: the action's _id is ".*-7", not ".*-2"/,
    ],
    [
      'the checkpoint’s _id changed',
      (l: string[]) => (l[2 * ENTRIES] = l[2 * ENTRIES]!.replace('-checkpoint-', '-seal-')),
      new RegExp(`line ${2 * ENTRIES + 1}: the action's _id`),
    ],
    [
      'the checkpoint’s action on the entries index',
      (l: string[]) => (l[2 * ENTRIES] = l[2 * ENTRIES]!.replace('-checkpoints"', '-entries"')),
      new RegExp(`line ${2 * ENTRIES + 1}: the action is on "branchlens-audit-entries"`),
    ],
  ])('%s', (_name, edit, message) => {
    expectRefused(forged('es-bulk', edit), message);
  });

  it('entries carrying another key id than the seal’s', () => {
    const other = '0123456789abcdef';
    const v = forged('es-bulk', (l) => {
      for (let i = 0; i < 2 * ENTRIES; i++) l[i] = l[i]!.replaceAll(t.key.id, other);
    });
    expectRefused(
      v,
      /line 2: the entries carry key_id "0123456789abcdef", but the checkpoint is signed by key/,
    );
  });

  it('a checkpoint timestamp other than its signed created_at', () => {
    const v = forged('es-bulk', (l) => {
      l[2 * ENTRIES + 1] = l[2 * ENTRIES + 1]!.replace(
        /"timestamp":"[^"]+"/,
        '"timestamp":"2030-01-01T00:00:00.000Z"',
      );
    });
    expectRefused(
      v,
      new RegExp(`line ${2 * ENTRIES + 2}: "timestamp" is not written as the export writes it`),
    );
  });

  it('a file without its final newline, or with a blank line', () => {
    expectRefused(verify(exported.get('es-bulk')!.trimEnd()), /does not end with a newline/);
    expectRefused(
      forged('es-bulk', (l) => l.splice(4, 0, '')),
      /line 5 is blank/,
    );
  });
});

describe('a record with a field the format does not define is refused, naming it', () => {
  const addTo = (line: string, member: string) => line.replace(/}$/, `,${member}}`);
  it.each([
    ['jsonl', 0, /line 1: the entry has a field the format does not define: "applicant_income"/],
    ['es-bulk', 1, /line 2: the entry has a field the format does not define: "applicant_income"/],
  ] as const)('an entry in %s', (format, i, message) => {
    expectRefused(
      forged(format, (l) => (l[i] = addTo(l[i]!, '"applicant_income":13579'))),
      message,
    );
  });

  it.each(['jsonl', 'es-bulk'] as const)('a note on the checkpoint in %s', (format) => {
    const v = forged(format, (l) => (l[l.length - 2] = addTo(l[l.length - 2]!, '"note":"approved by HQ"')));
    expectRefused(v, /the checkpoint has a field the format does not define: "note"/);
  });

  it('an extra CSV column', () => {
    const v = forged('csv', (l) => {
      l[0] += ',applicant_income';
      for (let i = 1; i < l.length - 1; i++) l[i] += ',13579';
    });
    expectRefused(v, /line 1: the CSV header has a column the format does not define: "applicant_income"/);
  });

  it('an extra CSV cell', () => {
    expectRefused(
      forged('csv', (l) => (l[3] += ',13579')),
      /line 4 has \d+ cells, where the header has \d+/,
    );
  });

  it('a checkpoint cell filled in on a CSV entry row', () => {
    expectRefused(
      forged('csv', (l) => (l[3] = l[3]!.replace(/,{7}$/, ',13579,,,,,,'))),
      /line 4: the "count" cell holds "13579", where the export writes ""/,
    );
  });
});

describe('a record not written as the exporter writes it is refused', () => {
  it.each(['jsonl', 'es-bulk'] as const)('a repeated key in %s (JSON.parse keeps the last)', (format) => {
    const v = forged(format, (l) => {
      const i = format === 'jsonl' ? 2 : 5;
      l[i] = l[i]!.replace('"prediction":', '"prediction":0.01,"prediction":');
    });
    expectRefused(v, /line [36]: "prediction" is not written as the export writes it/);
  });

  it.each([
    ['a \\u escape', (line: string) => line.replace('"kind":"explain"', '"kind":"\\u0065xplain"'), /"kind"/],
    ['a padded number', (line: string) => line.replace('"seq":1,', '"seq": 1,'), /"seq"/],
    ['5.0 for 5', (line: string) => line.replace('"seq":1,', '"seq":1.0,'), /"seq"/],
    [
      'reordered fields',
      (line: string) => line.replace(/("timestamp":"[^"]+"),("kind":"explain")/, '$2,$1'),
      /"timestamp"/,
    ],
  ])('%s in JSONL', (_name, edit, field) => {
    const v = forged('jsonl', (l) => (l[0] = edit(l[0]!)));
    expectRefused(v, field);
  });

  it.each([
    ['1.0', /the "seq" cell holds "1.0", where the export writes "1"/],
    ['1e0', /the "seq" cell holds "1e0"/],
    ['0x1', /the "seq" cell holds "0x1"/],
    [' 1', /the "seq" cell holds " 1"/],
    ['"1"', /line 2: the cells are quoted otherwise/],
  ])('seq written %s in CSV', (seq, message) => {
    expectRefused(
      forged('csv', (l) => (l[1] = l[1]!.replace(/^entry,1,/, `entry,${seq},`))),
      message,
    );
  });

  it('a JSON cell spelled another way in CSV', () => {
    const v = forged('csv', (l) => (l[1] = l[1]!.replace('""method"":', '""m\\u0065thod"":')));
    expectRefused(v, /line 2: the "explainer_params" cell holds/);
  });

  it('a checkpoint count written as a string in JSONL', () => {
    const v = forged(
      'jsonl',
      (l) => (l[l.length - 2] = l[l.length - 2]!.replace(/"count":(\d+)/, '"count":"$1"')),
    );
    expectRefused(v, /"count" is not written as the export writes it/);
  });
});

describe('a byte-order mark at the start', () => {
  it.each(EXPORT_FORMATS)('is skipped in %s, plain or gzipped', (format) => {
    const withBom = '\uFEFF' + exported.get(format)!;
    expect(verify(withBom)).toMatchObject({ ok: true, format, entries: ENTRIES });
    expect(verify(gzipSync(withBom))).toMatchObject({ ok: true, format, entries: ENTRIES });
  });
});

describe('verifyExportStream', () => {
  it.each(EXPORT_FORMATS)(
    'verifies %s as it arrives, in chunks of any size, gzipped or not',
    async (format) => {
      const text = exported.get(format)!;
      for (const bytes of [Buffer.from(text), gzipSync(text)]) {
        // One byte at a time: lines, UTF-8 characters and the gzip magic split across chunks.
        const chunks = Readable.from([...bytes].map((b) => Buffer.of(b)));
        const v = await verifying.verifyExportStream(chunks, t.key.publicPem);
        expect(v).toMatchObject({ ok: true, format, entries: ENTRIES, head: { seq: ENTRIES } });
      }
      const file = join(t.dir, `stream.${format}.gz`);
      writeFileSync(file, gzipSync(text));
      await expect(
        verifying.verifyExportStream(createReadStream(file), t.key.publicPem),
      ).resolves.toMatchObject({
        ok: true,
      });
    },
  );

  it('finds the same break as verifyExport', async () => {
    const text = exported.get('jsonl')!.replace('"doc-3"', '"doc-4"');
    const v = await verifying.verifyExportStream(Readable.from([Buffer.from(text)]), t.key.publicPem);
    expect(v).toMatchObject({ ok: false, break: { seq: 4, kind: 'edited' } });
  });
});

describe('entries in the wrong order', () => {
  it.each(EXPORT_FORMATS)('two entries swapped in %s are out of order, not missing', (format) => {
    const v = forged(format, (l) => {
      const [a, b] = format === 'es-bulk' ? [4, 6] : format === 'csv' ? [3, 4] : [2, 3];
      const width = format === 'es-bulk' ? 2 : 1;
      const first = l.slice(a, a + width);
      l.splice(a, width, ...l.slice(b, b + width));
      l.splice(b, width, ...first);
    });
    expect(v).toMatchObject({ ok: false, break: { seq: 3, kind: 'out_of_order' } });
    expect(v.break?.message).toBe('entry 4 stands where entry 3 belongs');
  });

  it('an entry taken out is still missing', () => {
    expect(forged('jsonl', (l) => l.splice(2, 1))).toMatchObject({ break: { seq: 3, kind: 'missing' } });
  });
});
