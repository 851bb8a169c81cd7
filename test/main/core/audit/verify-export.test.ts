// verifyExport refuses a file that differs from what the exporter writes, even where the hashes and the seal do
// not reach: extra fields, repeated keys, numbers spelled another way, Elasticsearch actions and timestamps.
import { parse as parseCsv } from 'csv-parse/sync';
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
import { signExportCheckpoint } from '../../../../main/core/audit/checkpoint.js';
import {
  checkpointCsv,
  checkpointObject,
  CSV_COLUMNS,
  esCheckpointLines,
} from '../../../../main/core/audit/export-format.js';
import { canonicalRecord, chainHash, type AuditRecord } from '../../../../main/core/audit/entry.js';
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
      'the _id of another entry',
      (l: string[]) => (l[2] = l[2]!.replace(/"_id":"[0-9a-f]{64}"/, `"_id":"${'e'.repeat(64)}"`)),
      /line 3: the action's _id is "e{64}", not "[0-9a-f]{64}"/,
    ],
    [
      'the _id of another key, as earlier exports made it',
      (l: string[]) => (l[2] = l[2]!.replace(/"_id":"[0-9a-f]{64}"/, '"_id":"0123456789abcdef-2"')),
      /line 3: the action's _id is "0123456789abcdef-2", not "[0-9a-f]{64}"/,
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

describe('a line where another kind of line belongs is named as such, not as an unknown record type', () => {
  it.each([
    [
      'an es-bulk action line deleted: the document stands where an action belongs',
      'es-bulk' as const,
      (l: string[]) => l.splice(2, 1),
      /^line 3: a document where an action line belongs \(each document follows its action line\)$/,
    ],
    [
      'an es-bulk document deleted: the next action stands where the document belongs',
      'es-bulk' as const,
      (l: string[]) => l.splice(3, 1),
      /^line 4: an action line where the document of line 3’s action belongs \(a document is missing\)$/,
    ],
    [
      'an es-bulk action and its document swapped',
      'es-bulk' as const,
      (l: string[]) => l.splice(2, 2, l[3]!, l[2]!),
      /^line 3: a document where an action line belongs/,
    ],
    [
      'a JSONL line without "record"',
      'jsonl' as const,
      (l: string[]) => (l[1] = JSON.stringify({ create: { _index: 'x', _id: 'y' } })),
      /^line 2: the object has no "record" member \(an entry or a checkpoint\)$/,
    ],
    [
      'a second CSV header (two exports pasted together)',
      'csv' as const,
      (l: string[]) => l.splice(3, 0, l[0]!),
      /^line 4: a second header row$/,
    ],
  ])('%s', (_name, format, edit, message) => {
    const v = forged(format, edit);
    expectRefused(v, message);
    expect(v.break?.message).not.toMatch(/unknown record type/);
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
    expectRefused(
      v,
      /line 1: the CSV header is not as the exporter writes it: it has a column the format does not define: "applicant_income"/,
    );
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

describe('Elasticsearch _ids', () => {
  const ids = (text: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith('{"create"'))
      .map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id);

  it('are the entries’ entry_hash, the same whichever key signs the export', async () => {
    const other = tempLog();
    try {
      // The installation's key file was lost or replaced: the entries keep their _ids, only the seal's changes.
      const out = join(t.dir, 'rekeyed.es-bulk');
      await exportAudit(t.db, { format: 'es-bulk', out, signingKey: other.key });
      const before = ids(exported.get('es-bulk')!);
      const after = ids(readFileSync(out, 'utf8'));
      expect(after.slice(0, ENTRIES)).toEqual(before.slice(0, ENTRIES));
      const hashes = exported
        .get('jsonl')!
        .trimEnd()
        .split('\n')
        .slice(0, ENTRIES)
        .map((l) => (JSON.parse(l) as { entry_hash: string }).entry_hash);
      expect(before.slice(0, ENTRIES)).toEqual(hashes);
      expect(after[ENTRIES]).not.toBe(before[ENTRIES]);
    } finally {
      other.cleanup();
    }
  });

  /** The es-bulk export with its entries' _ids as exports made them before: `<key_id>-<seq>`. */
  const earlier = (lines: string[], upTo = ENTRIES) => {
    for (let i = 0; i < upTo; i++) {
      lines[2 * i] = lines[2 * i]!.replace(/"_id":"[0-9a-f]{64}"/, `"_id":"${t.key.id}-${i + 1}"`);
    }
  };

  it('made as earlier exports made them (<key_id>-<seq>) still verify', () => {
    expect(forged('es-bulk', (l) => earlier(l))).toMatchObject({ ok: true, entries: ENTRIES });
  });

  it('made both ways in one file are refused', () => {
    expectRefused(
      forged('es-bulk', (l) => earlier(l, 3)),
      /line 7: the action's _id is its entry_hash, but line 1's is <key_id>-<seq>/,
    );
    expectRefused(
      forged('es-bulk', (l) => (l[2] = l[2]!.replace(/"_id":"[0-9a-f]{64}"/, `"_id":"${t.key.id}-2"`))),
      /line 3: the action's _id is <key_id>-<seq>, but line 1's is its entry_hash/,
    );
  });
});

describe('a forged seal is reported as a bad signature, naming its line, before what its fields would say', () => {
  /** Replaces the seal's fields in `format`'s export (the document only, in es-bulk: its action is left). */
  function editSeal(format: AuditExportFormat, edit: (o: Record<string, unknown>) => void) {
    return forged(format, (l) => {
      const i = l.length - 2;
      if (format === 'csv') {
        const cells = l[i]!.split(',');
        const o = Object.fromEntries(CSV_COLUMNS.map((c, j) => [c, cells[j]!])) as Record<string, unknown>;
        edit(o);
        l[i] = CSV_COLUMNS.map((c) => String(o[c])).join(',');
      } else {
        const o = JSON.parse(l[i]!) as Record<string, unknown>;
        edit(o);
        if (format === 'es-bulk') o.timestamp = o.created_at;
        l[i] = JSON.stringify(o);
      }
    });
  }
  const sealLine = (format: AuditExportFormat) => exported.get(format)!.split('\n').length - 1;

  type SealEdit = (o: Record<string, unknown>) => void;
  const sealEdits: [string, SealEdit][] = [
    ['first_seq', (o) => (o.first_seq = 2)],
    ['seq and count', (o) => (o.seq = o.count = ENTRIES - 1)],
    ['first_prev_hash', (o) => (o.first_prev_hash = 'a'.repeat(64))],
    ['entry_hash', (o) => (o.entry_hash = 'b'.repeat(64))],
    ['count', (o) => (o.count = ENTRIES + 1)],
    ['created_at', (o) => (o.created_at = '2020-01-01T00:00:00.000Z')],
  ];

  it.each(EXPORT_FORMATS.flatMap((format) => sealEdits.map(([name, edit]) => [format, name, edit] as const)))(
    '%s: the seal’s %s changed',
    (format, _name, edit) => {
      const v = editSeal(format, edit);
      expect(v).toMatchObject({ ok: false, break: { kind: 'bad_signature', seq: null } });
      expect(v.break!.message).toMatch(
        new RegExp(
          `^line ${sealLine(format)}: the seal's signature does not verify with the given public key ${t.key.id}`,
        ),
      );
    },
  );

  it.each(EXPORT_FORMATS)('%s: another installation’s seal over these entries names both keys', (format) => {
    const other = tempLog();
    try {
      const head = exported.get('jsonl')!.trimEnd().split('\n').at(-1)!;
      const mine = JSON.parse(head) as {
        seq: number;
        entry_hash: string;
        first_seq: number;
        first_prev_hash: string;
      };
      const theirs = signExportCheckpoint(
        other.key,
        { seq: mine.seq, entryHash: mine.entry_hash },
        { seq: mine.first_seq, prevHash: mine.first_prev_hash },
        new Date(),
      );
      const v = forged(format, (l) => {
        if (format === 'jsonl') l[l.length - 2] = JSON.stringify(checkpointObject(theirs));
        else if (format === 'csv') l[l.length - 2] = checkpointCsv(theirs);
        else l.splice(l.length - 3, 2, ...esCheckpointLines(theirs).trimEnd().split('\n'));
      });
      expect(v).toMatchObject({ ok: false, break: { kind: 'bad_signature', seq: null } });
      expect(v.break!.message).toBe(
        `line ${sealLine(format)}: the seal is signed by key ${other.key.id}, not by the given public key ${t.key.id} (another installation's export, or the seal's key_id was changed)`,
      );
    } finally {
      other.cleanup();
    }
  });

  it('a seal that verifies is still held to the exporter’s text', () => {
    const v = forged(
      'es-bulk',
      (l) => (l[l.length - 3] = l[l.length - 3]!.replace('-checkpoint-', '-seal-')),
    );
    expectRefused(v, new RegExp(`line ${2 * ENTRIES + 1}: the action's _id`));
  });
});

describe('lines the exporter does not write', () => {
  const blanks = [
    '',
    ' ',
    '   \t',
    '\u2000',
    '\u3000',
    '\u00a0',
    '\ufeff',
    '\u2028',
    '\u3000\u3000\u3000',
    ' \u00a0\u2000\t',
  ];

  it.each(EXPORT_FORMATS.flatMap((format) => blanks.map((blank) => [format, blank] as const)))(
    '%s: a blank or whitespace line (%j) between records is refused, naming it',
    (format, blank) => {
      // After the first record (es-bulk: after its first pair).
      const at = format === 'es-bulk' ? 2 : 1;
      expectRefused(
        forged(format, (l) => l.splice(at, 0, blank)),
        new RegExp(`^line ${at + 1} is blank`),
      );
    },
  );

  it.each(EXPORT_FORMATS)('%s: blank lines at the start or after the final newline are refused', (format) => {
    const text = exported.get(format)!;
    const lines = text.split('\n').length;
    expectRefused(verify('\n' + text), /^line 1 is blank/);
    expectRefused(verify(' \u3000\n' + text), /^line 1 is blank \(only whitespace: U\+0020 U\+3000\)/);
    expectRefused(verify(text + '\n'), new RegExp(`^line ${lines} is blank`));
    expectRefused(verify(text + '\u00a0'), new RegExp(`^line ${lines} is blank`));
    expectRefused(verify(text.replace(/\n/g, '\r\n') + '\r\n'), new RegExp(`^line ${lines} is blank`));
  });

  it.each(EXPORT_FORMATS)(
    '%s: the tolerated differences still verify (BOM, CRLF, final newline)',
    (format) => {
      const text = exported.get(format)!;
      const crlf = text.replace(/\n/g, '\r\n');
      expect(verify('\uFEFF' + crlf)).toMatchObject({ ok: true, entries: ENTRIES });
      if (format !== 'es-bulk') expect(verify(text.trimEnd())).toMatchObject({ ok: true, entries: ENTRIES });
    },
  );

  it('a blank line inside a quoted CSV cell is the cell’s text, checked as such', () => {
    const v = forged('csv', (l) => (l[5] = l[5]!.replace('""by"":', '""by""\n\n:')));
    expectRefused(v, /line 6: the "details" cell holds/);
  });
});

describe('gzip', () => {
  const text = () => exported.get('jsonl')!;
  /** A gzip header with `flags` and the `fields` they announce, before the exporter's deflate data and trailer. */
  const withHeader = (flags: number, fields: Buffer) => {
    const gz = gzipSync(text());
    const header = Buffer.from(gz.subarray(0, 10));
    header[3] = flags;
    return Buffer.concat([header, fields, gz.subarray(10)]);
  };
  const both = async (bytes: Buffer) => {
    const inMemory = verify(bytes);
    const streamed = await verifying.verifyExportStream(
      Readable.from(
        [...Array(Math.ceil(bytes.length / 7)).keys()].map((i) => bytes.subarray(i * 7, i * 7 + 7)),
      ),
      t.key.publicPem,
    );
    expect(streamed).toEqual(inMemory);
    return inMemory;
  };

  it('with the file name gzip stores (gzip FILE) verifies', async () => {
    const named = withHeader(8, Buffer.from('audit.jsonl\0', 'latin1'));
    expect(await both(named)).toMatchObject({ ok: true, entries: ENTRIES });
    expect(await both(gzipSync(text()))).toMatchObject({ ok: true, entries: ENTRIES });
  });

  it.each([
    ['a comment', 16, Buffer.from('approved by HQ\0'), /the gzip header has a comment \(FCOMMENT\)/],
    ['an extra field', 4, Buffer.from([4, 0, 1, 2, 3, 4]), /the gzip header has an extra field \(FEXTRA\)/],
    ['a file name and a comment', 8 | 16, Buffer.from('a\0b\0'), /a comment/],
    [
      'a file name of 2 KB',
      8,
      Buffer.concat([Buffer.alloc(2048, 0x61), Buffer.from([0])]),
      /file name is longer than 1024 bytes/,
    ],
  ])('with %s in its header is refused', async (_name, flags, fields, message) => {
    expectRefused(await both(withHeader(flags, fields)), message);
  });

  it.each([
    ['NUL bytes', Buffer.alloc(16)],
    ['a byte', Buffer.from('x')],
    ['a second gzip stream of whitespace', gzipSync('   \n')],
    ['a second, empty gzip stream', gzipSync('')],
    ['the export again', gzipSync('x')],
  ])('followed by %s is refused', async (name, more) => {
    expectRefused(
      await both(Buffer.concat([gzipSync(text()), more])),
      name.includes('gzip') || name.includes('again')
        ? /the file holds a second gzip stream after the first/
        : /the file goes on after the end of its gzip stream/,
    );
  });

  it('cut short, or damaged, is refused as such', async () => {
    const gz = gzipSync(text());
    expectRefused(await both(gz.subarray(0, gz.length - 4)), /cut short: it ends before its checksum/);
    expectRefused(await both(gz.subarray(0, 6)), /cut short: it ends in its header/);
    expectRefused(await both(gz.subarray(0, gz.length - 20)), /the gzip stream does not decompress/);
    const crc = Buffer.from(gz);
    crc.writeUInt8(crc.readUInt8(crc.length - 8) ^ 1, crc.length - 8);
    expectRefused(await both(crc), /checksum does not match its content/);
  });
});

describe('a CSV header as a spreadsheet saves it', () => {
  it('with every cell quoted is named as such', () => {
    const v = forged(
      'csv',
      (l) =>
        (l[0] = l[0]!
          .split(',')
          .map((c) => `"${c}"`)
          .join(',')),
    );
    expectRefused(v, /^line 1: the CSV header is not as the exporter writes it: its column names are quoted/);
  });

  it('with its columns reordered names the first out of place', () => {
    const v = forged('csv', (l) => (l[0] = l[0]!.replace('timestamp,kind', 'kind,timestamp')));
    expectRefused(
      v,
      /^line 1: the CSV header is not as the exporter writes it: its columns are in another order: "kind" stands where "timestamp" belongs/,
    );
  });

  it('with a column missing, or twice, names it', () => {
    expectRefused(
      forged('csv', (l) => (l[0] = l[0]!.replace(',watermark', ''))),
      /^line 1: the CSV header is not as the exporter writes it: it has no "watermark" column/,
    );
    expectRefused(
      forged('csv', (l) => (l[0] = l[0]!.replace(',watermark', ',watermark,watermark'))),
      /^line 1: the CSV header is not as the exporter writes it: the "watermark" column comes twice/,
    );
  });
});

describe('text that is not UTF-8', () => {
  /** The export's bytes with the byte `b` in place of the first "e" of line `line`'s "credit-demo". */
  const withByte = (line: number, b: number[]) => {
    const lines = exported
      .get('jsonl')!
      .split('\n')
      .map((l) => Buffer.from(l));
    const i = lines[line - 1]!.indexOf('credit-demo') + 7;
    lines[line - 1] = Buffer.concat([
      lines[line - 1]!.subarray(0, i),
      Buffer.from(b),
      lines[line - 1]!.subarray(i + 1),
    ]);
    return Buffer.concat(lines.flatMap((l, j) => (j === 0 ? [l] : [Buffer.from('\n'), l])));
  };
  const streamed = (bytes: Buffer, size: number) =>
    verifying.verifyExportStream(
      Readable.from(
        [...Array(Math.ceil(bytes.length / size)).keys()].map((i) =>
          bytes.subarray(i * size, i * size + size),
        ),
      ),
      t.key.publicPem,
    );

  it.each([
    ['a stray byte', [0xff]],
    ['a cut character', [0xe2, 0x82]],
    ['an overlong encoding', [0xc0, 0xae]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('%s is refused naming its line, not read as an edit', async (_name, b) => {
    const bytes = withByte(3, b);
    expectRefused(verify(bytes), /^line 3 is not UTF-8 text$/);
    for (const size of [1, 2, 3, 5, 64 * 1024])
      expectRefused(await streamed(bytes, size), /^line 3 is not UTF-8 text$/);
    expectRefused(verify(gzipSync(bytes)), /^line 3 is not UTF-8 text$/);
  });

  it('a character cut off at the end of the file names the last line', async () => {
    const bytes = Buffer.concat([Buffer.from(exported.get('jsonl')!.trimEnd()), Buffer.from([0xe2, 0x82])]);
    const last = exported.get('jsonl')!.trimEnd().split('\n').length;
    expectRefused(verify(bytes), new RegExp(`^line ${last} is not UTF-8 text$`));
    expectRefused(await streamed(bytes, 3), new RegExp(`^line ${last} is not UTF-8 text$`));
  });

  it('an earlier fault in the same chunk is reported first', async () => {
    const bytes = withByte(5, [0xff]);
    const text = bytes.toString('latin1').replace('"seq":2,', '"seq": 2,');
    const edited = Buffer.from(text, 'latin1');
    expectRefused(verify(edited), /^line 2: "seq" is not written as the export writes it/);
    expectRefused(await streamed(edited, 1 << 20), /^line 2: "seq" is not written as the export writes it/);
  });

  it('characters of several bytes split across chunks still verify', async () => {
    const bytes = Buffer.from(exported.get('csv')!);
    expect(exported.get('csv')).toMatch(/opérateur.*années_emploi/s);
    for (const size of [1, 2, 3]) expect(await streamed(bytes, size)).toMatchObject({ ok: true });
  });
});

describe('es-bulk with CRLF line ends', () => {
  it('verifies, as JSONL and CSV do, in memory and streamed', async () => {
    const crlf = exported.get('es-bulk')!.replace(/\n/g, '\r\n');
    expect(verify(crlf)).toMatchObject({ ok: true, format: 'es-bulk', entries: ENTRIES });
    const v = await verifying.verifyExportStream(Readable.from([Buffer.from(crlf)]), t.key.publicPem);
    expect(v).toMatchObject({ ok: true, format: 'es-bulk', entries: ENTRIES });
  });

  it('and text after a record is still refused', () => {
    const v = forged('es-bulk', (l) => (l[1] = l[1]! + ' \r'));
    expectRefused(v, /^line 2 is not written as the export writes it \(text after the record\)/);
  });
});

/** The CSV export's cells of line `i` (0-based), edited by `edit` and written back bare, as a spreadsheet saves. */
function csvCellsEdited(l: string[], i: number, edit: (o: Record<string, string>) => void): void {
  const cells = (parseCsv(l[i]!) as string[][])[0]!;
  const o = Object.fromEntries(CSV_COLUMNS.map((c, j) => [c, cells[j]!]));
  edit(o);
  l[i] = CSV_COLUMNS.map((c) => (/[",]/.test(o[c]!) ? `"${o[c]!.replace(/"/g, '""')}"` : o[c]!)).join(',');
}

describe('a CSV opened and saved by a spreadsheet is named as such, not as an edit or a forged seal', () => {
  const SEAL_LINE = ENTRIES + 2;
  const spreadsheetAdvice = /; verify the file as received, not a copy opened and saved in a spreadsheet$/;

  it('64 zeros saved as 0: entry 1’s prev_hash, and the seal’s first_prev_hash', () => {
    const entry = forged('csv', (l) => csvCellsEdited(l, 1, (o) => (o.prev_hash = '0')));
    expectRefused(
      entry,
      /^line 2: the "prev_hash" cell holds "0", where the export writes a SHA-256 in 64 lowercase hex characters: a spreadsheet turned 000…0 into the number 0; verify the file as received/,
    );
    expect(entry.break!.message).toMatch(spreadsheetAdvice);
    const seal = forged('csv', (l) => csvCellsEdited(l, l.length - 2, (o) => (o.first_prev_hash = '0')));
    expectRefused(
      seal,
      new RegExp(`^line ${SEAL_LINE}: the "first_prev_hash" cell holds "0", .*000…0 into the number 0`),
    );
  });

  it('a signature read as a formula (#NAME?), a hash turned into a number, a date rewritten', () => {
    expectRefused(
      forged('csv', (l) => csvCellsEdited(l, l.length - 2, (o) => (o.signature = '#NAME?'))),
      new RegExp(
        `^line ${SEAL_LINE}: the "signature" cell holds "#NAME\\?", where the export writes the base64 of a 64-byte Ed25519 signature: a spreadsheet read the signature, which may start with "\\+", as a formula`,
      ),
    );
    expectRefused(
      forged('csv', (l) => csvCellsEdited(l, 3, (o) => (o.entry_hash = '1.23457E+63'))),
      /^line 4: the "entry_hash" cell holds "1.23457E\+63", .*: a spreadsheet turned the hash into a number/,
    );
    expectRefused(
      forged('csv', (l) => csvCellsEdited(l, l.length - 2, (o) => (o.created_at = '01/03/2025 00:12'))),
      new RegExp(
        `^line ${SEAL_LINE}: the "created_at" cell holds "01/03/2025 00:12", .*a spreadsheet rewrote`,
      ),
    );
  });

  it('a cell changed otherwise is still judged by the hashes and the signature', () => {
    const upper = forged('csv', (l) =>
      csvCellsEdited(l, 3, (o) => (o.entry_hash = o.entry_hash!.toUpperCase())),
    );
    expect(upper).toMatchObject({ ok: false, break: { seq: 3, kind: 'edited' } });
    const sig = forged('csv', (l) =>
      csvCellsEdited(
        l,
        l.length - 2,
        (o) => (o.signature = `${o.signature![0] === 'A' ? 'B' : 'A'}${o.signature!.slice(1)}`),
      ),
    );
    expect(sig).toMatchObject({ ok: false, break: { kind: 'bad_signature' } });
  });

  it.each([
    [';', "';'"],
    ['\t', 'tabs'],
  ])('a CSV re-saved with %j between cells names the separator', (separator, name) => {
    const v = forged('csv', (l) => (l[0] = l[0]!.split(',').join(separator)));
    expectRefused(
      v,
      new RegExp(
        `^line 1: a CSV separated by ${name} \\(a spreadsheet re-saved it\\); the export is comma-separated: verify the file as received$`,
      ),
    );
  });

  it.each(['sep=,', 'sep=;'])('a CSV starting with Excel’s "%s" line names it', (line) => {
    expectRefused(
      verify(`${line}\r\n${exported.get('csv')!}`),
      new RegExp(`^line 1: Excel's "${line}" line, which a spreadsheet writes when it re-saves a CSV`),
    );
  });

  it('an empty row of commas is named as such, after the checkpoint too', () => {
    const empty = ','.repeat(CSV_COLUMNS.length - 1);
    expectRefused(
      forged('csv', (l) => l.splice(l.length - 1, 0, empty)),
      new RegExp(
        `^line ${SEAL_LINE + 1}: an empty row \\(only commas\\) after the checkpoint, which the export ends with: a spreadsheet left it`,
      ),
    );
    expectRefused(
      forged('csv', (l) => l.splice(3, 0, empty)),
      /^line 4: an empty row \(only commas\), which the export never writes/,
    );
  });
});

describe('an entry that appears twice', () => {
  it.each(EXPORT_FORMATS)('in a row, in %s, is named with both its lines', (format) => {
    const v = forged(format, (l) => {
      if (format === 'es-bulk') l.splice(6, 0, l[4]!, l[5]!);
      else l.splice(format === 'csv' ? 4 : 3, 0, l[format === 'csv' ? 3 : 2]!);
    });
    const lines = format === 'es-bulk' ? [6, 8] : format === 'csv' ? [4, 5] : [3, 4];
    expect(v).toMatchObject({ ok: false, break: { seq: 3, kind: 'out_of_order' } });
    expect(v.break!.message).toBe(`entry 3 appears twice (lines ${lines[0]} and ${lines[1]})`);
  });

  it('further on, is out of order as before', () => {
    const v = forged('jsonl', (l) => l.splice(6, 0, l[2]!));
    expect(v.break).toMatchObject({
      seq: 7,
      kind: 'out_of_order',
      message: 'entry 3 stands where entry 7 belongs',
    });
  });
});

it('an entry changed with every later hash recomputed names the whole range, not only the last entry', () => {
  const v = forged('jsonl', (l) => {
    let prev: string | undefined;
    for (let i = 0; i < ENTRIES; i++) {
      const o = JSON.parse(l[i]!) as Record<string, unknown>;
      if (o.seq === 5) o.document_id = 'doc-forged';
      const { record: _record, prev_hash, entry_hash: _hash, ...fields } = o;
      o.prev_hash = prev ?? prev_hash;
      o.entry_hash = chainHash(o.prev_hash as string, canonicalRecord(fields as unknown as AuditRecord));
      prev = o.entry_hash as string;
      l[i] = JSON.stringify(o);
    }
  });
  expect(v).toMatchObject({ ok: false, break: { seq: ENTRIES, kind: 'checkpoint_mismatch' } });
  expect(v.break!.message).toBe(
    `the exported chain does not end in the signed head: an entry in #1–#${ENTRIES} was changed (or removed, or added) and the hashes of the entries after it recomputed, so each entry still matches its own hash and only the signed head shows it; the change may be in any entry of that range, not only #${ENTRIES}`,
  );
});

it('a file gzipped twice is named as gzip inside gzip, in memory and streamed', async () => {
  const twice = gzipSync(gzipSync(exported.get('jsonl')!));
  const message =
    'the file is gzip inside gzip (it was compressed twice): decompress it once more (gunzip) and verify what comes out';
  expect(verify(twice).break).toEqual({ seq: null, kind: 'malformed', message });
  const streamed = await verifying.verifyExportStream(
    Readable.from([...twice].map((b) => Buffer.of(b))),
    t.key.publicPem,
  );
  expect(streamed.break).toEqual({ seq: null, kind: 'malformed', message });
});

describe('the first and last entries’ timestamps', () => {
  it.each(EXPORT_FORMATS)('are given for %s, which show the range', (format) => {
    expect(verify(exported.get(format)!)).toMatchObject({
      ok: true,
      firstTimestamp: '2025-03-01T00:00:00.000Z',
      lastTimestamp: new Date(Date.parse('2025-03-01T00:00:00Z') + (ENTRIES - 1) * 60_000).toISOString(),
    });
  });

  it('are null for an empty range, and for a file not read', async () => {
    const out = join(t.dir, 'empty.jsonl');
    await exportAudit(t.db, { format: 'jsonl', out, signingKey: t.key, since: new Date('2030-01-01') });
    expect(verify(readFileSync(out))).toMatchObject({
      ok: true,
      entries: 0,
      head: null,
      firstTimestamp: null,
      lastTimestamp: null,
    });
    expect(verify('nonsense')).toMatchObject({ ok: false, firstTimestamp: null, lastTimestamp: null });
  });
});
