import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExplanationDocument } from '../../../shared/explanation.js';
import { expectInputError, expectSuccess, removeDir, runCli, samplePath, tempDir } from './helpers.js';

let data: string;
let other: string;
let work: string;
/** What `explain` printed: one document, and an array of four. */
let single: string;
let batch: string;

async function explainText(dataDir: string, args: string[] = []): Promise<string> {
  const run = await runCli(['explain', '--data', dataDir, ...args]);
  expectSuccess(run);
  return run.stdout;
}

beforeAll(async () => {
  data = tempDir('branchlens-verify-data-');
  other = tempDir('branchlens-verify-other-');
  work = tempDir('branchlens-verify-files-');
  single = await explainText(data);
  batch = await explainText(data, ['--input', samplePath('applicants.json')]);
});
afterAll(() => {
  for (const dir of [data, other, work]) removeDir(dir);
});

function file(name: string, text: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

const verify = (target: string, stdin?: string, dataDir = data) =>
  runCli(['verify', target, '--data', dataDir], stdin);

/** `value` with its last decimal digit changed. */
function lastDigitChanged(value: number): number {
  const text = String(value);
  expect(text).toMatch(/\d$/);
  const changed = Number(text.slice(0, -1) + String((Number(text.at(-1)) + 1) % 10));
  expect(changed).not.toBe(value);
  return changed;
}

describe('branchlens verify', () => {
  it('an empty array is bad input: exit 2, the file holds no documents', async () => {
    const stderr = expectInputError(await verify(file('empty.json', '[]\n')));
    expect(stderr).toMatch(/- FILE: holds no documents/);
  });

  it('a document as explain printed it verifies: exit 0', async () => {
    const run = await verify(file('single.json', single));
    expectSuccess(run);
    const id = (JSON.parse(single) as ExplanationDocument).id;
    expect(run.stdout).toBe(`valid: ${join(work, 'single.json')} (${id})\n`);
  });

  it('a document saved with a byte-order mark verifies', async () => {
    expectSuccess(await verify(file('bom.json', '\uFEFF' + single)));
  });

  it('a document saved as UTF-16 with a byte-order mark (PowerShell 5 `>`) verifies, LE and BE', async () => {
    const le = Buffer.from(`\uFEFF${single}`, 'utf16le');
    expectSuccess(await verify(file('utf16le.json', le)));
    expectSuccess(await verify(file('utf16be.json', Buffer.from(le).swap16())));
    // Read from standard input the same way.
    expectSuccess(await runCli(['verify', '-', '--data', data], le));
  });

  it('bytes that are not UTF-8 are refused naming FILE and the line, not verified as "�"', async () => {
    const latin1 = Buffer.from(single.replace('"id"', '"id\u00e9"'), 'latin1');
    const stderr = expectInputError(await verify(file('latin1.json', latin1)));
    expect(stderr).toMatch(/- FILE: is not UTF-8 text: line \d+ holds bytes that are not/);
    // UTF-16 without its mark: every other byte is zero.
    const unmarked = expectInputError(
      await verify(file('utf16-unmarked.json', Buffer.from(single, 'utf16le'))),
    );
    expect(unmarked).toContain('- FILE: is not UTF-8 text: every other byte is zero, as in UTF-16 text');
  });

  it('an empty FILE is refused as empty, not as a file that cannot be read', async () => {
    expect(expectInputError(await verify(''))).toMatch(
      /- FILE: is empty: give a file, or - for standard input$/m,
    );
  });

  it('a $BRANCHLENS_DATA holding no installation is named as such, and no key is made there', async () => {
    const typo = join(work, 'no-installation-from-env');
    const run = await runCli(['verify', file('for-env.json', single)], '', { BRANCHLENS_DATA: typo });
    expect(expectInputError(run)).toContain(
      `- $BRANCHLENS_DATA: ${typo} holds no BranchLens installation (no keys/hmac.key): point $BRANCHLENS_DATA at the installation that signed the documents`,
    );
    expect(existsSync(typo)).toBe(false);
  });

  it('a forged score and decision in front of the signed ones (repeated keys) is INVALID: exit 1', async () => {
    const forged = single.replace(/^\{/, '{"score": 0.99, "decision": {"approved": true},');
    expect(JSON.parse(forged)).toEqual(JSON.parse(single)); // JSON.parse keeps the signed values
    const run = await verify(file('forged.json', forged));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^INVALID: .*forged\.json: the key "(score|decision)" appears more than once/);
  });

  it('key order and whitespace do not matter: the parsed and re-serialised document verifies', async () => {
    const doc = JSON.parse(single) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(doc).reverse());
    expectSuccess(await verify(file('reordered.json', JSON.stringify(reordered))));
  });

  const edits: [string, (doc: ExplanationDocument) => void][] = [
    ['a float’s last digit', (d) => void (d.score = lastDigitChanged(d.score))],
    [
      'an attribution’s last digit',
      (d) => void (d.attributions[0]!.attribution = lastDigitChanged(d.attributions[0]!.attribution)),
    ],
    ['a description', (d) => void (d.attributions[0]!.description += '。')],
    ['meta.cache', (d) => void (d.meta.cache = d.meta.cache === 'miss' ? 'disk' : 'miss')],
    ['a removed attribution', (d) => void d.attributions.pop()],
    ['an added field', (d) => void Object.assign(d, { note: 'approved by hand' })],
  ];
  it.each(edits)('after editing %s: exit 1', async (_name, edit) => {
    const doc = JSON.parse(single) as ExplanationDocument;
    edit(doc);
    const run = await verify(file('edited.json', JSON.stringify(doc, null, 2)));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^INVALID: .*edited\.json: watermark does not match the content/);
  });

  it('an array of documents: one line each; one edited document makes the exit 1', async () => {
    const docs = JSON.parse(batch) as ExplanationDocument[];
    expect(docs).toHaveLength(4);
    const ok = await verify(file('batch.json', batch));
    expectSuccess(ok);
    expect(ok.stdout.split('\n').filter(Boolean)).toEqual(docs.map((d, i) => `valid: [${i}] (${d.id})`));

    docs[2]!.rest_sum = lastDigitChanged(docs[2]!.rest_sum);
    const bad = await verify(file('batch-edited.json', JSON.stringify(docs)));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^valid: \[0\]/m);
    expect(bad.stdout).toMatch(/^INVALID: \[2\]: watermark does not match/m);
    expect(bad.stdout.match(/^valid:/gm)).toHaveLength(3);
  });

  it('reads the document from standard input with -', async () => {
    const ok = await verify('-', single);
    expectSuccess(ok);
    expect(ok.stdout).toMatch(/^valid: - \(/);
    const edited = JSON.parse(single) as ExplanationDocument;
    edited.meta.locale = 'en';
    const bad = await verify('-', JSON.stringify(edited));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^INVALID: -: /);
  });

  it('a document signed by another installation (another data dir, another key) fails', async () => {
    const foreign = await explainText(other);
    expectSuccess(await verify(file('foreign.json', foreign), undefined, other));
    const run = await verify(file('foreign.json', foreign));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^INVALID: .*signed with key k[0-9a-f]+, this installation's key is k[0-9a-f]+/,
    );
  });

  it('a --data holding no installation (a typo) is bad input, and no key is made there', async () => {
    const typo = join(work, 'no-such-installation');
    const run = await verify(file('for-typo.json', single), undefined, typo);
    expect(expectInputError(run)).toContain(`- --data: ${typo} holds no BranchLens installation`);
    expect(existsSync(typo)).toBe(false);
  });

  it('a document without a watermark fails', async () => {
    const { _meta: _dropped, ...unsigned } = JSON.parse(single) as ExplanationDocument;
    const run = await verify(file('unsigned.json', JSON.stringify(unsigned)));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/_meta\.watermark is missing/);
  });

  it('bad JSON exits 2 naming the file argument', async () => {
    const stderr = expectInputError(await verify(file('broken.json', single.slice(0, 40))));
    expect(stderr).toMatch(/- FILE: is not valid JSON/);
  });

  it('a missing file exits 2 naming it', async () => {
    const stderr = expectInputError(await verify(join(work, 'nowhere.json')));
    expect(stderr).toMatch(/- FILE: cannot read .*nowhere\.json/);
  });
});
