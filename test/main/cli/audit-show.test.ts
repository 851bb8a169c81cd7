// `branchlens audit show`: a compliance officer finds one decision in the audit log from the command line, as
// the Audit page finds it: by the document id on a printout (whole, or its first 8 hex digits) or by its entry
// No. It reads the data folder without changing it, prints what the entry stores (sensitive features under their
// pseudonyms), and refuses a bad, unknown or ambiguous id naming the argument.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEntries } from '../../../main/core/audit/index.js';
import { dbPath } from '../../../main/core/db/open.js';
import { explanationDocumentSchema } from '../../../shared/explanation.js';
import { explainInput, modelInput, tempLog, type TempLog } from '../core/audit/helpers.js';
import { expectInputError, expectSuccess, removeDir, runCli, tempDir } from './helpers.js';

const DOC_A = '3f2a1b9c-0d4e-4f1a-9b2c-5d6e7f8a9b0c';
/** Shares DOC_A's first 8 hex digits: those 8 alone name two documents. */
const DOC_A2 = '3f2a1b9c-ffff-4aaa-8bbb-0123456789ab';
const DOC_B = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

/** #1 DOC_A, #2 DOC_B, #3 a model activation, #4 DOC_A again (a cache hit), #5 DOC_A2. */
let t: TempLog;
beforeAll(() => {
  t = tempLog();
  const docs = [DOC_A, DOC_B, null, DOC_A, DOC_A2];
  docs.forEach((id, i) => {
    appendEntries(t.db, [id === null ? modelInput(i) : { ...explainInput(i), documentId: id }], {
      now: new Date(Date.parse('2026-11-28T09:00:00Z') + i * 60_000),
      signingKey: t.key,
    });
  });
  t.db.close();
});
afterAll(() => t.cleanup());

const show = (...args: string[]) => runCli(['audit', 'show', ...args, '--data', t.dir]);

/** The entry at `seq` as the table stores it, read without BranchLens code, JSON columns parsed. */
function stored(seq: number): Record<string, unknown> {
  const raw = new Database(dbPath(t.dir), { readonly: true });
  try {
    const row = raw.prepare('SELECT * FROM audit_entries WHERE seq = ?').get(seq) as Record<string, unknown>;
    for (const c of ['explainer_params', 'top_attributions', 'details']) {
      if (typeof row[c] === 'string') row[c] = JSON.parse(row[c]);
    }
    return row;
  } finally {
    raw.close();
  }
}

describe('audit show finds a decision', () => {
  it('by its whole document id, printing entry No., local time, kind, model, score and hash', async () => {
    // Entry #2 is stamped 09:01 UTC: a branch in Beijing reads it at 17:01, with the offset that says so.
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Shanghai';
    let r;
    try {
      r = await show(DOC_B);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    expectSuccess(r);
    const e = stored(2);
    const decision = (e.details as { decision?: unknown } | null)?.decision;
    expect(r.stdout).toMatch(/^entry #2\n/);
    expect(r.stdout).toContain('time               2026-11-28T17:01:00.000+08:00\n');
    expect(r.stdout).toContain('kind               explain\n');
    expect(r.stdout).toContain('model              credit-demo@1.2.0\n');
    expect(r.stdout).toContain(`document           ${DOC_B}\n`);
    expect(r.stdout).toContain(`score              ${e.prediction as number}\n`);
    expect(r.stdout).toContain(`entry hash         ${e.entry_hash as string}\n`);
    // explainInput records no decision (a model without one): no line for it, rather than a made-up one.
    expect(decision).toBeUndefined();
    expect(r.stdout).not.toContain('decision');
  });

  it('by the first 8 hex digits, as typed off a printout (upper case)', async () => {
    const r = await show(DOC_B.slice(0, 8).toUpperCase());
    expectSuccess(r);
    expect(r.stdout).toMatch(/^entry #2\n/);
    expect(r.stdout).toContain(`document           ${DOC_B}\n`);
  });

  it('lists every serving of a document (a cache hit is an entry of its own), newest first', async () => {
    const r = await show(DOC_A);
    expectSuccess(r);
    expect(r.stdout).toMatch(new RegExp(`^2 entries: every serving of document ${DOC_A}, newest first\n`));
    expect([...r.stdout.matchAll(/^entry #(\d+)$/gm)].map((m) => Number(m[1]))).toEqual([4, 1]);
  });

  it('by its entry No. with --seq, a model change with its details', async () => {
    const r = await show('--seq', '3');
    expectSuccess(r);
    expect(r.stdout).toMatch(/^entry #3\n/);
    expect(r.stdout).toContain('kind               model_activate\n');
    expect(r.stdout).toContain(`details            ${JSON.stringify(stored(3).details)}\n`);
    expect(r.stdout).not.toContain('document');
  });

  it('prints the attributions as recorded: a sensitive feature under its pseudonym', async () => {
    const r = await show(DOC_B);
    expect(r.stdout).toContain('top attributions (as recorded: sensitive features under their pseudonyms)');
    expect(r.stdout).toMatch(/^ {4}sensitive_3f2a {2}\+0\.004$/m);
  });

  it('--json prints the entries found, each as stored', async () => {
    const one = await show(DOC_B.slice(0, 8), '--json');
    expectSuccess(one);
    expect(JSON.parse(one.stdout)).toEqual([stored(2)]);
    const servings = await show(DOC_A, '--json');
    expect(JSON.parse(servings.stdout)).toEqual([stored(4), stored(1)]);
    const bySeq = await show('--seq', '3', '--json');
    expect(JSON.parse(bySeq.stdout)).toEqual([stored(3)]);
  });
});

describe('audit show refuses, naming the argument', () => {
  it.each([
    ['3f2a1b9', /DOCUMENT-ID: must have at least 8 hex digits/],
    ['3f2a1b9z', /DOCUMENT-ID: must be a document id: hex digits 0-9 and a-f, dashes allowed/],
    ['a'.repeat(33), /DOCUMENT-ID: must have at most 32 hex digits/],
  ])('%s', async (id, message) => {
    expect(expectInputError(await show(id))).toMatch(message);
  });

  it('a document id no entry has', async () => {
    const err = expectInputError(await show('deadbeef'));
    expect(err).toMatch(
      /DOCUMENT-ID: no entry has a document id starting deadbeef: check it against the printout/,
    );
    const whole = expectInputError(await show(DOC_B.replace('7c9e', '7c9f')));
    expect(whole).toContain(`DOCUMENT-ID: no entry has a document id ${DOC_B.replace('7c9e', '7c9f')}:`);
  });

  it('an entry No. past the log’s last, or not a whole number', async () => {
    expect(expectInputError(await show('--seq', '6'))).toMatch(
      /--seq: no entry #6: the log's entries are #1–#5/,
    );
    expect(expectInputError(await show('--seq', '0'))).toMatch(/--seq: must be a whole number ≥ 1, got "0"/);
    expect(expectInputError(await show('--seq', 'x'))).toMatch(/--seq: must be a whole number ≥ 1/);
  });

  it('8 digits that start two documents’ ids: both named with their entries, none picked', async () => {
    const err = expectInputError(await show('3f2a1b9c'));
    expect(err).toContain(
      `DOCUMENT-ID: 3f2a1b9c starts the ids of 2 documents: ${DOC_A2} (entry #5); ${DOC_A} (entries #4, #1). Give more of the id`,
    );
    // More digits tell them apart.
    const r = await show('3f2a1b9c-f');
    expectSuccess(r);
    expect(r.stdout).toMatch(/^entry #5\n/);
  });

  it('nothing to look up, or both a document id and --seq', async () => {
    expect(expectInputError(await show())).toMatch(/DOCUMENT-ID: give the document id from the printout/);
    expect(expectInputError(await show(DOC_A, '--seq', '1'))).toMatch(/--seq: .*not both/);
  });

  it('a data folder holding no installation, which it does not create', async () => {
    const empty = tempDir('branchlens-show-');
    try {
      const missing = join(empty, 'nope');
      const err = expectInputError(await runCli(['audit', 'show', DOC_A, '--data', missing]));
      expect(err).toMatch(/--data: .*nope does not exist/);
      expect(existsSync(missing)).toBe(false);
    } finally {
      removeDir(empty);
    }
  });
});

describe('audit show of a real explanation', () => {
  it('finds the document `explain` printed, its sensitive features masked as the log stores them', async () => {
    const data = tempDir('branchlens-show-data-');
    try {
      const explained = await runCli(['explain', '--data', data, '--top-k', '0', '--locale', 'en']);
      expectSuccess(explained);
      const doc = explanationDocumentSchema.parse(JSON.parse(explained.stdout));
      const r = await runCli(['audit', 'show', doc.id.slice(0, 8), '--data', data]);
      expectSuccess(r);
      expect(r.stdout).toContain(`document           ${doc.id}\n`);
      expect(r.stdout).toMatch(/^ {2}decision {11}(approved|declined) \(class "[^"]+", threshold [\d.]+\)$/m);
      const masked = doc.attributions.filter((a) => a.masked).map((a) => a.feature);
      expect(masked).toHaveLength(2);
      for (const pseudonym of masked) expect(r.stdout).toMatch(new RegExp(`^ {4}${pseudonym} `, 'm'));
      // The demo model's sensitive features, Income and Assets, are never named.
      expect(r.stdout).not.toMatch(/Income|Assets/);
    } finally {
      removeDir(data);
    }
  });
});

describe('audit show in the help', () => {
  it('is listed by `audit --help` with its usage', async () => {
    const r = await runCli(['audit', '--help']);
    expectSuccess(r);
    expect(r.stdout).toContain('branchlens audit show DOCUMENT-ID | --seq N [--json] [--data DIR]');
  });
});
