// CSV files as Excel saves them for a branch: GB18030 ("CSV (逗号分隔)" on Chinese Windows), UTF-16 with a
// byte-order mark ("Unicode text"), semicolons (where the decimal mark is a comma), tabs, and a `sep=;` first
// line. Each is read as it is, or refused saying what it is and what to do: never a misleading "unknown category".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explanationDocumentSchema } from '../../../shared/explanation.js';
import { expectInputError, removeDir, runCli, samplePath, tempDir } from './helpers.js';

let data: string;
let work: string;
beforeAll(() => {
  data = tempDir('branchlens-explain-files-data-');
  work = tempDir('branchlens-explain-files-');
});
afterAll(() => {
  removeDir(data);
  removeDir(work);
});

const CSV = readFileSync(samplePath('applicants.csv'), 'utf8');

function file(name: string, bytes: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

/** The scores of explaining `path`, which must succeed. */
async function scores(path: string, ...flags: string[]): Promise<number[]> {
  const run = await runCli(['explain', '--data', data, '--input', path, ...flags]);
  expect(run.code, run.stderr).toBe(0);
  const docs = JSON.parse(run.stdout) as unknown[];
  return docs.map((d) => explanationDocumentSchema.parse(d).score);
}

/** 租房 ("rent", as an officer might type it) in GB18030. */
const ZUFANG_GB18030 = Buffer.from([0xd7, 0xe2, 0xb7, 0xbf]);
const HEADER = 'Seniority,Home,Time,Records,Job,Expenses,Income,Assets,Debt,Amount,Price\n';
const gb18030Csv = Buffer.concat([
  Buffer.from(`${HEADER}2,`),
  ZUFANG_GB18030,
  Buffer.from(',60,no,freelance,60,200,5000,0,1500,1800\n'),
]);

describe('explain --input in the encodings Excel saves', () => {
  let expected: number[];
  beforeAll(async () => {
    expected = await scores(samplePath('applicants.csv'));
    expect(expected.length).toBeGreaterThan(1);
  });

  it('reads UTF-16 with a byte-order mark, little- and big-endian, as the same applicants', async () => {
    const le = Buffer.from(`\uFEFF${CSV}`, 'utf16le');
    expect(await scores(file('utf16le.csv', le))).toEqual(expected);
    const be = Buffer.from(le).swap16();
    expect(be.subarray(0, 2)).toEqual(Buffer.from([0xfe, 0xff]));
    expect(await scores(file('utf16be.csv', be))).toEqual(expected);
  });

  it('refuses GB18030 without --encoding, saying it is not UTF-8 and what to do, before anything starts', async () => {
    const fresh = join(work, 'never-made');
    const stderr = expectInputError(
      await runCli(['explain', '--data', fresh, '--input', file('gb.csv', gb18030Csv)]),
    );
    expect(stderr).toMatch(/1 problem/);
    expect(stderr).toContain(
      '- --input: is not UTF-8 text: line 2 holds bytes that are not (a file Excel saved as "CSV" on Chinese Windows is GB18030). Save it as "CSV UTF-8 (逗号分隔)", or give its encoding: --encoding gb18030',
    );
    expect(stderr).not.toContain('\uFFFD');
    expect(existsSync(fresh)).toBe(false);
  });

  it('--encoding gb18030 (or gbk) reads the file as it is: its 租房 is read as 租房, the label of rent', async () => {
    // Decoded right, the officer's Chinese word is the label the page shows for rent, and explains as rent does.
    const asCode = await scores(
      file('rent.csv', `${HEADER}2,rent,60,no,freelance,60,200,5000,0,1500,1800\n`),
    );
    for (const encoding of ['gb18030', 'gbk']) {
      expect(await scores(file('gb.csv', gb18030Csv), '--encoding', encoding)).toEqual(asCode);
    }
    const fromStdin = await runCli(
      ['explain', '--data', data, '--input', '-', '--encoding', 'gb18030'],
      gb18030Csv,
    );
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    // A word that is no label is named as it was typed (城堡, "castle", in GB18030).
    const castle = Buffer.concat([
      Buffer.from(`${HEADER}2,`),
      Buffer.from([0xb3, 0xc7, 0xb1, 0xa4]),
      Buffer.from(',60,no,freelance,60,200,5000,0,1500,1800\n'),
    ]);
    const stderr = expectInputError(
      await runCli([
        'explain',
        '--data',
        data,
        '--input',
        file('castle.csv', castle),
        '--encoding',
        'gb18030',
      ]),
    );
    expect(stderr).toMatch(/^ {2}- line 2, Home: must be one of .*rent.*, got "城堡"$/m);
    // ASCII is the same in GB18030: a file of it explains as it would in UTF-8.
    expect(await scores(file('ascii.csv', CSV), '--encoding', 'gb18030')).toEqual(expected);
  });

  it('refuses UTF-16 without its byte-order mark as not UTF-8, naming the --encoding to give', async () => {
    const fresh = join(work, 'never-made');
    const le = Buffer.from(CSV, 'utf16le');
    const stderr = expectInputError(
      await runCli(['explain', '--data', fresh, '--input', file('u16le.csv', le)]),
    );
    expect(stderr.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      '  - --input: is not UTF-8 text: every other byte is zero, as in UTF-16 text saved without its byte-order mark; give its encoding: --encoding utf-16le',
    ]);
    expect(existsSync(fresh)).toBe(false);
    const be = Buffer.from(le).swap16();
    expect(
      expectInputError(await runCli(['explain', '--data', fresh, '--input', file('u16be.csv', be)])),
    ).toContain('give its encoding: --encoding utf-16be');
    // Named, it is read as the same applicants.
    expect(await scores(file('u16le.csv', le), '--encoding', 'utf-16le')).toEqual(expected);
  });

  it('--encoding names an encoding the bytes are not: refused naming the line', async () => {
    const bad = Buffer.concat([Buffer.from(HEADER), Buffer.from([0xff, 0xff, 0x0a])]);
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('bad-gb.csv', bad), '--encoding', 'gb18030']),
    );
    expect(stderr).toContain(
      '- --input: is not gb18030 text (read as gb18030): line 2 holds bytes that are not; check --encoding',
    );
  });
});

describe('explain --input with the separators Excel uses', () => {
  let expected: number[];
  beforeAll(async () => {
    expected = await scores(samplePath('applicants.csv'));
  });

  it('reads a file separated by semicolons, or by tabs, as the same applicants', async () => {
    expect(CSV).not.toMatch(/[;\t]/);
    expect(await scores(file('semi.csv', CSV.replaceAll(',', ';')))).toEqual(expected);
    expect(await scores(file('tabs.csv', CSV.replaceAll(',', '\t')))).toEqual(expected);
  });

  it("honours Excel's sep= first line, and counts it as the file's line 1", async () => {
    expect(await scores(file('sep-semi.csv', `sep=;\r\n${CSV.replaceAll(',', ';')}`))).toEqual(expected);
    expect(await scores(file('sep-comma.csv', `sep=,\n${CSV}`))).toEqual(expected);
    const [header, first, ...rest] = CSV.trim().split('\n');
    const bad = [
      'sep=;',
      header!.replaceAll(',', ';'),
      first!.replaceAll(',', ';'),
      first!.replaceAll(',', ';').replace(/^\d+/, 'soon'),
      ...rest.map((row) => row.replaceAll(',', ';')),
    ].join('\n');
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('sep-bad.csv', bad)]),
    );
    expect(stderr).toMatch(/1 problem/);
    expect(stderr).toContain('- line 4, Seniority: must be a number, got "soon"');
  });

  it('reads a decimal comma in a semicolon file as text, and names the cell', async () => {
    const [header, first] = CSV.trim().split('\n');
    const semi = `${header!.replaceAll(',', ';')}\n${first!.replaceAll(',', ';').replace(/;(\d+)$/, ';$1,50')}\n`;
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('decimal.csv', semi)]),
    );
    expect(stderr).toMatch(/- line 2, Price: must be a number, got "\d+,50"/);
  });

  it('reads an amount Excel saved with a thousands separator in a comma file, and no grouping in a semicolon file', async () => {
    const [header, ...rows] = CSV.trim().split('\n');
    // Price is the last column, 1800 and 1500 in the first rows: Excel writes them "1,800" and "1,500".
    const grouped = rows.map((row) => row.replace(/,(\d)(\d{3})$/, ',"$1,$2"'));
    expect(grouped[0]).toMatch(/,"1,800"$/);
    expect(await scores(file('grouped.csv', `${header}\n${grouped.join('\n')}\n`))).toEqual(expected);
    // Where the separator is a semicolon the decimal mark is a comma: "1,800" may be 1.8, and is not guessed at.
    const semi = `${header!.replaceAll(',', ';')}\n${rows[0]!.replaceAll(',', ';').replace(/;(\d)(\d{3})$/, ';$1,$2')}\n`;
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('grouped-semi.csv', semi)]),
    );
    expect(stderr).toContain('- line 2, Price: must be a number, got "1,800"');
  });
});

describe('explain --input with the empty cells Excel leaves', () => {
  let expected: number[];
  beforeAll(async () => {
    expected = await scores(samplePath('applicants.csv'));
  });

  const rows = CSV.trim().split('\n');

  it("reads a header ending in a separator (Excel's empty last column) as the same applicants", async () => {
    const trailing = rows.map((row) => `${row},`).join('\r\n');
    expect(await scores(file('trailing.csv', trailing))).toEqual(expected);
    const twice = rows.map((row) => `${row},,`).join('\n');
    expect(await scores(file('trailing-twice.csv', twice))).toEqual(expected);
    // Rows that leave out the empty cells the header ends with are read the same.
    const headerOnly = [`${rows[0]!},`, ...rows.slice(1)].join('\n');
    expect(await scores(file('trailing-header.csv', headerOnly))).toEqual(expected);
  });

  it('refuses a column with no name whose cells hold values, once, naming it and a line with a value', async () => {
    const [header, ...body] = rows;
    const valued = [`${header!},`, ...body.map((row, i) => `${row},${i === 1 ? 'note' : ''}`)].join('\n');
    const columns = header!.split(',').length;
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('valued.csv', valued)]),
    );
    expect(stderr.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      `  - line 1, column ${columns + 1}: has no name, but line 3 has a value in it: name the column, or delete it`,
    ]);
  });

  it('skips rows of separators only (what Excel leaves of rows it cleared) as blank lines', async () => {
    const [header, ...body] = rows;
    const empty = ','.repeat(header!.split(',').length - 1);
    const cleared = [header, body[0], empty, empty, ...body.slice(1), empty, ` ${empty} `].join('\n');
    expect(await scores(file('cleared.csv', cleared))).toEqual(expected);
    // A bad row after them is still named by its own line.
    const bad = [header, empty, body[0]!.replace(/^\d+/, 'soon')].join('\n');
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('cleared-bad.csv', bad)]),
    );
    expect(stderr).toMatch(/1 problem.*\n {2}- line 3, Seniority: must be a number, got "soon"$/m);
    // A file of nothing else has no rows.
    const none = expectInputError(
      await runCli([
        'explain',
        '--data',
        data,
        '--input',
        file('no-rows.csv', [header, empty, empty].join('\n')),
      ]),
    );
    expect(none).toContain('- --input: has a header but no rows');
  });
});
