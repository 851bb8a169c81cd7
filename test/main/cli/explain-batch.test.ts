// A CSV batch larger than one service call: every row is checked first (a bad row anywhere refuses the file,
// with nothing decided or audited), then the rows are explained in calls the service accepts, in order, and the
// output is written once at the end. The service refuses more than 4,096 applicants waiting at once as busy,
// which a CLI batch, its only caller, would be forever.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { explanationDocumentSchema, type ExplanationDocument } from '../../../shared/explanation.js';
import { explainCommandWith } from '../../../main/cli/commands/explain.js';
import { BranchLensService } from '../../../main/core/service.js';
import { SPOOL_FOLDER } from '../../../main/cli/spool.js';
import { InputError } from '../../../shared/problems.js';
import { expectInputError, expectSuccess, holdoutApplicants, removeDir, runCli, tempDir } from './helpers.js';

let work: string;
beforeAll(() => {
  work = tempDir('branchlens-explain-batch-');
});
afterAll(() => removeDir(work));
afterEach(() => {
  vi.restoreAllMocks();
});

const COLUMNS = Object.keys(holdoutApplicants(1)[0]!);

/** `count` applicants, each one different (a repeated applicant is answered once, and would not queue). */
function applicants(count: number): Record<string, unknown>[] {
  const base = holdoutApplicants();
  return Array.from({ length: count }, (_, i) => ({ ...base[i % base.length]!, Amount: 100 + i }));
}

/** A document's attributions, with a masked feature's pseudonym and its tag (keyed by the installation) left out. */
const attributions = (doc: ExplanationDocument) =>
  doc.attributions.map((a) =>
    a.masked ? { ...a, feature: 'masked', description: a.description.replace(/#[0-9a-f]+/, '#') } : a,
  );

function csvOf(rows: readonly Record<string, unknown>[]): string {
  const cell = (v: unknown) =>
    v === undefined || v === null ? '' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

/** The service's third explain call fails with `error`; the others are answered as usual. */
function failThirdCall(error: Error): void {
  const real = BranchLensService.prototype.explainJson;
  let calls = 0;
  vi.spyOn(BranchLensService.prototype, 'explainJson').mockImplementation(function (
    this: BranchLensService,
    ...args: Parameters<typeof real>
  ) {
    return ++calls === 3 ? Promise.reject(error) : real.apply(this, args);
  });
}

/** A command explaining two applicants per service call. */
const inPairs = [explainCommandWith({ chunkSize: 2 })];

function documents(stdout: string): ExplanationDocument[] {
  const out = JSON.parse(stdout) as unknown;
  expect(Array.isArray(out)).toBe(true);
  return (out as unknown[]).map((d) => explanationDocumentSchema.parse(d));
}

/** The audit log's entries (decisions, and the demo model's installation). */
async function auditEntries(data: string): Promise<number> {
  const run = await runCli(['audit', 'verify', '--json', '--data', data]);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { entries: number }).entries;
}

/** A fresh data folder with the demo model installed (its installation is audited too). */
async function freshData(name: string): Promise<string> {
  const data = join(work, name);
  expect((await runCli(['models', 'list', '--data', data])).code).toBe(0);
  return data;
}

describe('explain of a batch larger than one service call', () => {
  it('explains every row, in order, as each row explained alone would be, and audits each once', async () => {
    const rows = applicants(5);
    const batchData = await freshData('pairs');
    const before = await auditEntries(batchData);
    const run = await runCli(
      ['explain', '--data', batchData, '--input', file('five.csv', csvOf(rows))],
      '',
      {},
      inPairs,
    );
    expectSuccess(run);
    const batch = documents(run.stdout);
    expect(batch).toHaveLength(5);
    expect((await auditEntries(batchData)) - before).toBe(5);
    // Each row alone, in a data folder of its own (so none is answered from the batch's cache).
    const aloneData = join(work, 'alone');
    for (const [i, row] of rows.entries()) {
      const one = await runCli(['explain', '--data', aloneData, '--input', '-'], JSON.stringify(row));
      expect(one.code, one.stderr).toBe(0);
      const alone = explanationDocumentSchema.parse(JSON.parse(one.stdout));
      expect(batch[i]!.meta.cache).toBe('miss');
      expect(batch[i]!.score).toBe(alone.score);
      expect(attributions(batch[i]!)).toEqual(attributions(alone));
      expect(batch[i]!.completeness).toEqual(alone.completeness);
    }
    expect(new Set(batch.map((d) => d.score)).size).toBe(5);
  });

  it('refuses a file with a bad row in its last call before explaining any row: nothing is audited', async () => {
    const data = await freshData('bad-last');
    const before = await auditEntries(data);
    const rows = applicants(5);
    const text = csvOf(rows).replace(
      /\n([^\n]*)\n$/,
      (_, last: string) => `\n${last.replace(/^\d+/, 'soon')}\n`,
    );
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('bad-last.csv', text)], '', {}, inPairs),
    );
    expect(stderr).toMatch(/1 problem/);
    expect(stderr).toContain('  - line 6, Seniority: must be a number, got "soon"');
    expect(await auditEntries(data)).toBe(before);
  });

  it('names the line of a row the engine refuses in a later call, also when that call holds it alone', async () => {
    const data = await freshData('engine-refusal');
    // The fifth row goes alone in the third call: the engine names it `applicant`, as its only one.
    failThirdCall(
      new InputError([{ field: 'applicant', code: 'not_finite', message: 'the model computed NaN' }]),
    );
    const run = await runCli(
      ['explain', '--data', data, '--input', file('refused.csv', csvOf(applicants(5)))],
      '',
      {},
      inPairs,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('  - line 6: the model computed NaN');
  });

  it('says how many applicants were decided and audited when a later call fails', async () => {
    const data = await freshData('later-failure');
    const before = await auditEntries(data);
    failThirdCall(new Error('database or disk is full'));
    const run = await runCli(
      ['explain', '--data', data, '--input', file('later.csv', csvOf(applicants(5)))],
      '',
      {},
      inPairs,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'branchlens explain: database or disk is full (4 of the 5 applicants were already decided and audited before this failure; their documents were not printed)\n',
    );
    vi.restoreAllMocks();
    expect((await auditEntries(data)) - before).toBe(4);
  });

  it('explains 4,097 different applicants, more than the service queues at once, in order', async () => {
    const rows = applicants(4097);
    const run = await runCli([
      'explain',
      '--data',
      join(work, 'over-queue'),
      '--input',
      file('4097.csv', csvOf(rows)),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const docs = JSON.parse(run.stdout) as ExplanationDocument[];
    expect(docs).toHaveLength(4097);
    expect(docs.filter((d) => d.meta.cache === 'miss')).toHaveLength(4097);
    // Rows from the first call, the middle and the last, explained on their own elsewhere.
    const picked = [0, 2048, 4096];
    const alone = await runCli(
      ['explain', '--data', join(work, 'over-queue-alone'), '--input', '-'],
      JSON.stringify(picked.map((i) => rows[i])),
    );
    expect(alone.code, alone.stderr).toBe(0);
    const aloneDocs = documents(alone.stdout);
    picked.forEach((i, k) => {
      expect(docs[i]!.score).toBe(aloneDocs[k]!.score);
      expect(attributions(docs[i]!)).toEqual(attributions(aloneDocs[k]!));
    });
  }, 60_000);
});

describe('a file whose mistakes are many, or in its header', () => {
  it('lists the first 100 of 130,000 bad cells and counts the rest, without overflowing the stack', async () => {
    // More problems than a call can take as arguments (push(...problems) overflowed near 125,000).
    const bad = COLUMNS.map(() => 'x').join(',');
    const text = `${COLUMNS.join(',')}\n${`${bad}\n`.repeat(12_000)}`;
    const data = await freshData('many-problems');
    const before = await auditEntries(data);
    const run = await runCli(['explain', '--data', data, '--input', file('many-bad.csv', text)]);
    const stderr = expectInputError(run);
    const total = 12_000 * COLUMNS.length;
    expect(stderr).toContain(`branchlens explain: the input has ${total} problem(s):\n`);
    const listed = stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(listed).toHaveLength(100);
    expect(listed[0]).toBe(`  - line 2, ${COLUMNS[0]}: must be a number, got "x"`);
    expect(stderr.endsWith(`\n  …and ${total - 100} more problems\n`)).toBe(true);
    expect(await auditEntries(data)).toBe(before);
  }, 60_000);

  it("says a header's mistakes once, on line 1, not on every row, and still names the rows' own", async () => {
    const rows = applicants(1000);
    const lower = csvOf(rows).replace(/^[^\n]*/, (header) =>
      header.replace('Seniority', 'seniority').replace('Amount', 'Colour'),
    );
    const text = lower.replace(/\n([^\n]*)\n$/, (_, last: string) => `\n${last.replace(/,[^,]*$/, ',x')}\n`);
    const data = await freshData('header-once');
    const before = await auditEntries(data);
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('lower.csv', text)]),
    );
    const seniority = COLUMNS.indexOf('Seniority') + 1;
    const amount = COLUMNS.indexOf('Amount') + 1;
    const price = COLUMNS.at(-1)!;
    expect(stderr.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      `  - line 1, column ${seniority} "seniority": is not a feature of this model (did you mean "Seniority"?)`,
      expect.stringMatching(
        new RegExp(
          `^ {2}- line 1, column ${amount} "Colour": is not a feature of this model \\(expected one of: Seniority, `,
        ),
      ) as string,
      '  - line 1: has no column "Amount", a feature the model requires',
      `  - line 1001, ${price}: must be a number, got "x"`,
    ]);
    expect(await auditEntries(data)).toBe(before);
  });

  it('holds a --baseline applicant to the rules of --input: a number in quotes is refused, nothing audited', async () => {
    const data = await freshData('quoted-baseline');
    const before = await auditEntries(data);
    const [applicant] = holdoutApplicants(1);
    const baseline = file('quoted-baseline.json', JSON.stringify({ ...applicant, Amount: '1500' }));
    const stderr = expectInputError(
      await runCli([
        'explain',
        '--data',
        data,
        '--input',
        file('batch.csv', csvOf(applicants(3))),
        '--baseline',
        baseline,
      ]),
    );
    expect(stderr).toMatch(
      /1 problem.*\n {2}- --baseline, Amount: must be a JSON number, got the text "1500" \(send 1500 without quotes\)$/m,
    );
    expect(await auditEntries(data)).toBe(before);
    // As a JSON number, it is the baseline.
    const numbers = file('number-baseline.json', JSON.stringify({ ...applicant, Amount: 1500 }));
    const run = await runCli(['explain', '--data', data, '--baseline', numbers]);
    expectSuccess(run);
  });
});

describe('a CSV batch read as a stream', () => {
  it('refuses a file that changed after it was checked, naming it: nothing is decided or audited', async () => {
    const data = await freshData('changed');
    const before = await auditEntries(data);
    const path = file('changing.csv', csvOf(applicants(5)));
    // The file is read through (its rows checked against its header) before the service opens, and read
    // again to be checked against the model and copied: it changes in between.
    const open = BranchLensService.open.bind(BranchLensService);
    vi.spyOn(BranchLensService, 'open').mockImplementation((options) => {
      writeFileSync(path, csvOf(applicants(6)));
      return open(options);
    });
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', path], '', {}, inPairs),
    );
    expect(stderr).toContain(
      `  - --input: ${path} changed while it was read (once to check every row, then again to explain them): nothing was decided; run again once nothing is writing to it\n`,
    );
    vi.restoreAllMocks();
    expect(await auditEntries(data)).toBe(before);
    expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
  });

  it('explains the rows it checked, from its copy, whatever becomes of the file once they are', async () => {
    const data = await freshData('copied');
    const rows = applicants(5);
    const path = file('copied.csv', csvOf(rows));
    // Once the first call is explained, the file is emptied: the batch goes on from its copy.
    const real = BranchLensService.prototype.explainJson;
    vi.spyOn(BranchLensService.prototype, 'explainJson').mockImplementation(async function (
      this: BranchLensService,
      ...args: Parameters<typeof real>
    ) {
      const texts = await real.apply(this, args);
      writeFileSync(path, '');
      return texts;
    });
    const run = await runCli(['explain', '--data', data, '--input', path], '', {}, inPairs);
    expectSuccess(run);
    expect(documents(run.stdout)).toHaveLength(5);
    expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
  });

  it('reads standard input through a private copy, removed afterwards, byte for byte as a file', async () => {
    const data = await freshData('stdin');
    const before = await auditEntries(data);
    const rows = applicants(5);
    const run = await runCli(['explain', '--data', data, '--input', '-'], csvOf(rows), {}, inPairs);
    expectSuccess(run);
    const docs = documents(run.stdout);
    expect(docs).toHaveLength(5);
    // One JSON array, spelled as JSON.stringify spells it, whatever the calls.
    expect(run.stdout).toBe(JSON.stringify(JSON.parse(run.stdout), null, 2) + '\n');
    expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
    expect((await auditEntries(data)) - before).toBe(5);
    // A bad row at the end of standard input refuses it all, named by its line.
    const bad = csvOf(applicants(7)).replace(
      /\n([^\n]*)\n$/,
      (_, last: string) => `\n${last.replace(/^\d+/, 'soon')}\n`,
    );
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', '-'], bad, {}, inPairs),
    );
    expect(stderr).toContain('  - line 8, Seniority: must be a number, got "soon"');
    expect((await auditEntries(data)) - before).toBe(5);
    expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
  });

  it('refuses standard input that is not CSV of its header before the data folder is opened: a mistyped --data creates nothing', async () => {
    const data = join(work, 'never-made');
    const ours = () =>
      readdirSync(tmpdir()).filter((n) => n.startsWith(`branchlens-explain-${process.pid}-`));
    const run = await runCli(['explain', '--data', data, '--input', '-'], `${COLUMNS.join(',')}\n1,2\n`);
    expect(expectInputError(run)).toContain('  - line 2: has 2 cells where the header has');
    expect(run.stderr).not.toContain('note:');
    expect(existsSync(data)).toBe(false);
    // Its copy, in the system's temporary folder, is removed as the data folder's would be.
    expect(ours()).toEqual([]);
    // Good rows are explained from that copy, which is removed afterwards too.
    const good = await runCli(
      ['explain', '--data', await freshData('stdin-good'), '--input', '-'],
      csvOf(applicants(3)),
    );
    expectSuccess(good);
    expect(documents(good.stdout)).toHaveLength(3);
    expect(ours()).toEqual([]);
  });

  it(
    'reads a pipe named by its path (--input /dev/stdin, <(…)) once, as standard input: CSV and JSON',
    { timeout: 20_000 },
    async () => {
      const data = await freshData('fifo');
      const rows = applicants(3);
      // A FIFO gives its bytes once: opened again to be read, it gives what is left of it (here, nothing).
      const pipe = (name: string, text: string) => {
        const path = join(work, name);
        execFileSync('mkfifo', [path]);
        // Opening a FIFO to write waits for its reader, as the shell's `<(…)` does.
        const written = writeFile(path, text);
        return { path, written };
      };
      const csv = pipe('rows.fifo', csvOf(rows));
      const run = await runCli(['explain', '--data', data, '--input', csv.path], '', {}, inPairs);
      await csv.written;
      expectSuccess(run);
      expect(documents(run.stdout)).toHaveLength(3);
      expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
      const json = pipe('rows-json.fifo', JSON.stringify(rows));
      const fromJson = await runCli(['explain', '--data', data, '--input', json.path], '', {}, inPairs);
      await json.written;
      expectSuccess(fromJson);
      expect(documents(fromJson.stdout)).toHaveLength(3);
    },
  );
});
