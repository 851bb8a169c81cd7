import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleSchemaSchema, type Feature, type Locale } from '../../../shared/bundle.js';
import { explanationDocumentSchema, type ExplanationDocument } from '../../../shared/explanation.js';
import { BranchLensService } from '../../../main/core/service.js';
import { main } from '../../../main/cli/index.js';
import { installTinyModel } from '../core/registry/tiny-bundle.js';
import {
  CREDIT_APPLICANTS,
  CREDIT_BASELINE,
  CREDIT_FEATURES,
  CREDIT_WIDTH,
  ensureBackend,
  makeSchema,
  type OutputInput,
  twoLayerModel,
  writeTestBundle,
} from '../../helpers/bundles.js';
import {
  DEMO_BUNDLE,
  demoFeatureCount,
  expectInputError,
  expectSuccess,
  holdoutApplicants,
  readSample,
  removeDir,
  runCli,
  samplePath,
  tempDir,
} from './helpers.js';

let data: string;
let work: string;

beforeAll(() => {
  data = tempDir('branchlens-explain-data-');
  work = tempDir('branchlens-explain-files-');
});
afterAll(() => {
  removeDir(data);
  removeDir(work);
});

const schema = bundleSchemaSchema.parse(JSON.parse(readFileSync(join(DEMO_BUNDLE, 'schema.json'), 'utf8')));
const FEATURES = demoFeatureCount();
const SAMPLE_1 = readSample<Record<string, unknown>>('sample-1.json');

/** Runs `explain --data DATA ARGS` and parses stdout as JSON, expecting success. */
async function explain(args: string[], stdin?: string): Promise<unknown> {
  const run = await runCli(['explain', '--data', data, ...args], stdin);
  expectSuccess(run);
  return JSON.parse(run.stdout) as unknown;
}

async function explainOne(args: string[], stdin?: string): Promise<ExplanationDocument> {
  const out = await explain(args, stdin);
  expect(Array.isArray(out)).toBe(false);
  return explanationDocumentSchema.parse(out);
}

async function explainMany(args: string[], stdin?: string): Promise<ExplanationDocument[]> {
  const out = await explain(args, stdin);
  expect(Array.isArray(out)).toBe(true);
  return (out as unknown[]).map((d) => explanationDocumentSchema.parse(d));
}

const sumOf = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

function byFeature(doc: ExplanationDocument): Map<string, number> {
  return new Map(doc.attributions.map((a) => [a.feature, a.attribution]));
}

/** The bundle's sentence for `feature`, filled in by hand from the schema (independently of the code). */
function expectedDescription(feature: Feature, value: unknown, attribution: number, locale: Locale): string {
  const direction = attribution > 0 ? 'positive' : attribution < 0 ? 'negative' : 'neutral';
  const template =
    direction === 'neutral'
      ? (feature.templates.neutral ?? feature.templates.positive)[locale]
      : feature.templates[direction][locale];
  let shown: string;
  // Digits grouped in both languages (1,500); the sample's values are whole and none is 1 (no singular unit).
  if (feature.type === 'numeric')
    shown = `${Number(value).toLocaleString('en')}${feature.unit ? ` ${feature.unit[locale]}` : ''}`;
  else if (feature.type === 'categorical') shown = feature.category_labels![String(value)]![locale];
  else shown = { en: ['no', 'yes'], 'zh-CN': ['否', '是'] }[locale][value ? 1 : 0]!;
  return template.replaceAll('{label}', feature.label[locale]).replaceAll('{value}', shown);
}

describe('branchlens explain', () => {
  it('with no --input explains the first sample as one valid document', async () => {
    const doc = await explainOne([]);
    expect(doc.model).toMatchObject({ id: 'credit-demo', version: '1.0.0' });
    expect(doc.attributions).toHaveLength(5);
    expect(doc.rest_count).toBe(FEATURES - 5);
    expect(doc.meta.locale).toBe('zh-CN');
    expect(doc.meta.explanation.params).toMatchObject({
      method: 'gausslegendre',
      n_steps: 50,
      baseline: 'schema',
      target: 'good',
      top_k: 5,
    });
    for (const a of doc.attributions.filter((x) => !x.masked)) expect(a.value).toBe(SAMPLE_1[a.feature]);
    expect(doc.detail).toBeUndefined();
  });

  it('answers a JSON array and a CSV file with one document per applicant, in order', async () => {
    const applicants = readSample<Record<string, unknown>[]>('applicants.json');
    const fromJson = await explainMany(['--input', samplePath('applicants.json')]);
    const fromCsv = await explainMany(['--input', samplePath('applicants.csv')]);
    const csvRows = readFileSync(samplePath('applicants.csv'), 'utf8').trim().split('\n').length - 1;
    expect(fromJson).toHaveLength(applicants.length);
    expect(fromCsv).toHaveLength(csvRows);
    expect(fromCsv.map((d) => d.score)).toEqual(fromJson.map((d) => d.score));
    expect(new Set(fromJson.map((d) => d.score)).size).toBe(applicants.length);
  });

  it('reads the applicant from standard input with --input -', async () => {
    const [applicant] = holdoutApplicants(1);
    const doc = await explainOne(['--input', '-', '--top-k', '0'], JSON.stringify(applicant));
    for (const a of doc.attributions.filter((x) => !x.masked)) expect(a.value).toBe(applicant![a.feature]);
    const batch = await explainMany(['--input', '-'], JSON.stringify(holdoutApplicants(3)));
    expect(batch).toHaveLength(3);
  });

  it('--top-k 3 keeps the three largest attributions and sums the rest into rest_sum', async () => {
    const doc = await explainOne(['--top-k', '3']);
    expect(doc.attributions).toHaveLength(3);
    expect(doc.rest_count).toBe(FEATURES - 3);
    const all = await explainOne(['--top-k', '0']);
    const magnitudes = all.attributions.map((a) => Math.abs(a.attribution)).sort((x, y) => y - x);
    expect(doc.attributions.map((a) => Math.abs(a.attribution))).toEqual(magnitudes.slice(0, 3));
    const top = new Set(doc.attributions.map((a) => a.feature));
    const rest = all.attributions.filter((a) => !top.has(a.feature)).map((a) => a.attribution);
    expect(Math.abs(doc.rest_sum - sumOf(rest))).toBeLessThan(1e-9);
    const kept = sumOf(doc.attributions.map((a) => a.attribution));
    expect(Math.abs(kept + doc.rest_sum - doc.completeness.sum)).toBeLessThan(1e-9);
    expect(Math.abs(doc.rest_sum)).toBeGreaterThan(0);
  });

  it('--top-k 0 keeps every feature', async () => {
    const doc = await explainOne(['--top-k', '0']);
    expect(doc.attributions).toHaveLength(FEATURES);
    expect(new Set(doc.attributions.map((a) => a.feature)).size).toBe(FEATURES);
    expect(doc.rest_count).toBe(0);
    expect(doc.rest_sum).toBe(0);
    expect(Math.abs(sumOf(doc.attributions.map((a) => a.attribution)) - doc.completeness.sum)).toBeLessThan(
      1e-9,
    );
  });

  it("takes the branch's stored settings (language, top-K) as its defaults, and its flags over them", async () => {
    const branch = tempDir('branchlens-explain-settings-');
    try {
      const service = await BranchLensService.open({ dataDir: branch, workers: 1 });
      service.updateSettings({ locale: 'en', top_k: 3 });
      await service.close();
      const run = async (args: string[]) => {
        const r = await runCli(['explain', '--data', branch, ...args]);
        expectSuccess(r);
        return explanationDocumentSchema.parse(JSON.parse(r.stdout));
      };
      const stored = await run([]);
      expect(stored.meta.locale).toBe('en');
      expect(stored.attributions).toHaveLength(3);
      const flagged = await run(['--locale', 'zh-CN', '--top-k', '4']);
      expect(flagged.meta.locale).toBe('zh-CN');
      expect(flagged.attributions).toHaveLength(4);
    } finally {
      removeDir(branch);
    }
  });

  it('--locale en and zh-CN word every attribution with the bundle’s templates', async () => {
    const en = await explainOne(['--top-k', '0', '--locale', 'en']);
    const zh = await explainOne(['--top-k', '0', '--locale', 'zh-CN']);
    expect(en.meta.locale).toBe('en');
    expect(zh.meta.locale).toBe('zh-CN');
    const features = new Map(schema.features.map((f) => [f.name, f]));
    const zhByFeature = new Map(zh.attributions.map((a) => [a.feature, a]));
    let worded = 0;
    for (const a of en.attributions) {
      const other = zhByFeature.get(a.feature)!;
      expect(other.description).not.toBe(a.description);
      if (a.masked) {
        // Tagged with the first digits of the pseudonym, as the pages tag the feature.
        const tag = a.feature.slice('sensitive_'.length, 'sensitive_'.length + 4);
        expect(a.description).toBe(`Sensitive feature masked (#${tag})`);
        expect(other.description).toBe(`敏感特征已脱敏（#${tag}）`);
        continue;
      }
      const f = features.get(a.feature)!;
      expect(a.label).toBe(f.label.en);
      expect(other.label).toBe(f.label['zh-CN']);
      expect(a.description).toBe(expectedDescription(f, SAMPLE_1[f.name], a.attribution, 'en'));
      expect(other.description).toBe(expectedDescription(f, SAMPLE_1[f.name], a.attribution, 'zh-CN'));
      worded++;
    }
    expect(worded).toBe(schema.features.filter((f) => !f.sensitive).length);
  });

  it('--detail adds the model-input vectors, whose raw attributions sum to completeness.sum', async () => {
    const doc = await explainOne(['--detail']);
    const d = doc.detail!;
    expect(d).toBeDefined();
    const width = d.names.length;
    expect(width).toBeGreaterThan(FEATURES);
    expect(d.inputs).toHaveLength(width);
    expect(d.baseline).toHaveLength(width);
    expect(d.attributions_raw).toHaveLength(width);
    expect(d.predictions).toEqual(doc.predictions);
    expect(d.names).toContain('Home=rent');
    expect(d.inputs[d.names.indexOf('Home=rent')]).toBe(1);
    expect(Math.abs(sumOf(d.attributions_raw) - doc.completeness.sum)).toBeLessThan(1e-9);
  });

  it('--method riemann_trapezoid --steps 20 uses that rule, and the sum still nearly completes', async () => {
    const gl = await explainOne(['--top-k', '0']);
    const doc = await explainOne(['--top-k', '0', '--method', 'riemann_trapezoid', '--steps', '20']);
    expect(doc.meta.explanation.params).toMatchObject({ method: 'riemann_trapezoid', n_steps: 20 });
    expect(doc.meta.cache).toBe('miss');
    expect(byFeature(doc)).not.toEqual(byFeature(gl));
    expect(doc.score).toBe(gl.score);
    // Gauss-Legendre converges faster than a 20-step Riemann sum, which still lands within a few percent.
    expect(Math.abs(doc.completeness.delta)).toBeGreaterThan(Math.abs(gl.completeness.delta));
    expect(Math.abs(doc.completeness.delta)).toBeLessThan(0.1 * Math.abs(doc.completeness.expected));
  });

  it('--baseline zeros integrates from the all-zero model input', async () => {
    const schemaBaseline = await explainOne(['--detail']);
    const doc = await explainOne(['--baseline', 'zeros', '--detail']);
    expect(doc.meta.explanation.params.baseline).toBe('zeros');
    expect(doc.detail!.baseline.every((v) => v === 0 || v === null)).toBe(true);
    expect(schemaBaseline.detail!.baseline.some((v) => v !== 0 && v !== null)).toBe(true);
    expect(doc.baseline_score).not.toBe(schemaBaseline.baseline_score);
    expect(doc.score).toBe(schemaBaseline.score);
  });

  it('--target 1 is the class named "1" where classes are named by digits, else the class at index 1', async () => {
    const output: OutputInput = { kind: 'sigmoid', classes: ['1', '2'], explain_class: '2' };
    await ensureBackend();
    const model = await writeTestBundle(
      join(work, 'digit-classes'),
      twoLayerModel(CREDIT_WIDTH, output),
      makeSchema(CREDIT_FEATURES, output, CREDIT_BASELINE),
    );
    const applicant = join(work, 'digit-classes-applicant.json');
    writeFileSync(applicant, JSON.stringify(CREDIT_APPLICANTS[0]));
    const targetOf = async (t: string) =>
      (await explainOne(['--model', model, '--input', applicant, '--target', t])).target;
    expect(await targetOf('1')).toEqual({ index: 0, name: '1' });
    expect(await targetOf('2')).toEqual({ index: 1, name: '2' });
    expect(await targetOf('0')).toEqual({ index: 0, name: '1' }); // digits naming no class: an index
    // On the demo model (bad, good) digits stay an index.
    expect((await explainOne(['--target', '1'])).target).toEqual({ index: 1, name: 'good' });
  });

  it('--target bad explains 1 − p: its attributions are the negation of target good’s', async () => {
    const good = await explainOne(['--top-k', '0', '--target', 'good']);
    const bad = await explainOne(['--top-k', '0', '--target', 'bad']);
    expect(good.target).toEqual({ index: 1, name: 'good' });
    expect(bad.target).toEqual({ index: 0, name: 'bad' });
    expect(bad.meta.explanation.params.target).toBe('bad');
    expect(Math.abs(bad.score - (1 - good.score))).toBeLessThan(1e-9);
    expect(bad.predictions).toEqual(good.predictions);
    const goodBy = byFeature(good);
    expect(bad.attributions).toHaveLength(FEATURES);
    for (const a of bad.attributions) {
      expect(Math.abs(a.attribution + goodBy.get(a.feature)!)).toBeLessThan(1e-12);
    }
    expect(bad.attributions.filter((a) => Math.abs(a.attribution) > 1e-3).length).toBeGreaterThan(3);
    expect(Math.abs(bad.completeness.sum + good.completeness.sum)).toBeLessThan(1e-9);
  });

  it('--backend cpu computes on the cpu backend and says so', async () => {
    // A fresh data dir: a cached document would say which backend computed it the first time.
    const fresh = tempDir('branchlens-explain-cpu-');
    try {
      const run = await runCli(['explain', '--data', fresh, '--backend', 'cpu']);
      expectSuccess(run);
      const doc = explanationDocumentSchema.parse(JSON.parse(run.stdout));
      expect(doc.meta.cache).toBe('miss');
      expect(doc.meta.backend).toBe('cpu');
    } finally {
      removeDir(fresh);
    }
  });
});

/** The sample CSV batch with `column` repeated at the end, its value changed in every row. */
function csvWithColumnTwice(column: string): string {
  const [header, ...rows] = readFileSync(samplePath('applicants.csv'), 'utf8').trim().split('\n');
  const at = header!.split(',').indexOf(column);
  expect(at).toBeGreaterThanOrEqual(0);
  return [`${header},${column}`, ...rows.map((row) => `${row},${Number(row.split(',')[at]) + 1}`)].join('\n');
}

describe('branchlens explain refuses bad input with exit 2, naming every problem', () => {
  const file = (name: string, text: string) => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };

  it('lists an unknown feature and a wrongly typed value of the same applicant together', async () => {
    const input = file(
      'two-problems.json',
      JSON.stringify({ ...SAMPLE_1, Colour: 'red', Seniority: 'many' }),
    );
    const stderr = expectInputError(await runCli(['explain', '--data', data, '--input', input]));
    expect(stderr).toMatch(/2 problem/);
    expect(stderr).toMatch(/- Colour: is not a feature of this model/);
    expect(stderr).toMatch(/- Seniority: must be a number, got "many"/);
  });

  it('names the line and column of an unknown category in a CSV batch', async () => {
    const input = file(
      'bad-category.csv',
      'Seniority,Home,Time,Job,Records,Expenses,Amount,Price\n' +
        '2,rent,60,fixed,no,60,1500,1800\n3,castle,36,fixed,no,45,900,1200\n4,owner,48,fixed,yes,50,800,1000\n',
    );
    const stderr = expectInputError(await runCli(['explain', '--data', data, '--input', input]));
    expect(stderr).toMatch(/1 problem/);
    expect(stderr).toMatch(/- line 3, Home: must be one of .*got "castle"/);
  });

  it('reads a CSV cell as the number it spells, and names a cell that spells none', async () => {
    const input = file(
      'bad-number.csv',
      'Seniority,Time,Records,Expenses,Price,Amount\n2,60,no,60,1800, 1500 \n3,36,no,45,1200,lots\n',
    );
    const stderr = expectInputError(await runCli(['explain', '--data', data, '--input', input]));
    expect(stderr).toMatch(/1 problem/);
    expect(stderr).toMatch(/- line 3, Amount: must be a number, got "lots"/);
  });

  it("names a CSV row's problems by the line the row starts on in the file, as an editor numbers it", async () => {
    const header = 'Seniority,Time,Records,Expenses,Amount,Price,Home';
    const input = file(
      'lines.csv',
      '\uFEFF\r\n' + // a BOM and a blank line before the header: line 2
        `${header}\r\n` +
        '2,60,no,60,1500,1800,"rent\r\nand more"\r\n' + // a quoted cell over lines 3-4
        '\r\n' + // skipped
        '3,soon,no,45,900,1200,rent\r\n' + // line 6
        '4,48,maybe,50,800,1000,owner\r\n' + // line 7
        ',,,,,,\r\n' + // line 8: what Excel leaves of a row it cleared, skipped as a blank line
        '5,36,no,45,,1200,rent\r\n', // line 9: a row with an empty cell is still a row
    );
    const stderr = expectInputError(await runCli(['explain', '--data', data, '--input', input]));
    const problems = stderr.split('\n').filter((l) => l.startsWith('  - '));
    // The quoted cell's line break is escaped in the value it quotes, which stays one line; its row starts on
    // line 3.
    expect(problems.filter((p) => p.startsWith('  - line 3, '))).toEqual([
      expect.stringMatching(/^ {2}- line 3, Home: must be one of .*, got "rent\\r\\nand more"$/) as string,
    ]);
    expect(problems).toContain('  - line 6, Time: must be a number, got "soon"');
    expect(problems).toContain(
      '  - line 7, Records: must be true or false (for true: yes, true, 1, 是; for false: no, false, 0, 否), got "maybe"',
    );
    expect(problems).toContain('  - line 9, Amount: is required');
    expect(problems.filter((p) => p.includes('line 8'))).toEqual([]);
    expect(problems).toHaveLength(4);
    expect(stderr).not.toMatch(/\[\d+\]/);
  });

  it('quotes a cell in a problem cut short and escaped: a 2 MB cell is not 2 MB of stderr', async () => {
    const huge = 'castle'.repeat(350_000);
    const input = file(
      'huge-cell.csv',
      `Seniority,Home,Time,Records,Expenses,Amount,Price\n2,"${huge}\ttower\nhall",60,no,60,1500,1800\n`,
    );
    const stderr = expectInputError(await runCli(['explain', '--data', data, '--input', input]));
    expect(stderr.length).toBeLessThan(1000);
    expect(stderr.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      `  - line 2, Home: must be one of ignore, other, owner, parents, priv, rent (or a category's label, as the page shows it), got "${huge.slice(0, 64)}…(${huge.length + '\ttower\nhall'.length} characters)"`,
    ]);
    // Escaped, so the problem stays one line; short values are quoted whole.
    const tab = expectInputError(
      await runCli([
        'explain',
        '--data',
        data,
        '--input',
        file(
          'tab-cell.csv',
          'Seniority,Home,Time,Records,Expenses,Amount,Price\n2,"a\tb\nc",60,no,60,1500,1800\n',
        ),
      ]),
    );
    expect(tab).toContain(
      '- line 2, Home: must be one of ignore, other, owner, parents, priv, rent (or a category\'s label, as the page shows it), got "a\\tb\\nc"\n',
    );
  });

  it("asks for --input when the branch's own model is active: the built-in sample is the demo model's", async () => {
    const branch = join(work, 'own-model');
    await installTinyModel(branch, join(work, 'tiny-bundle'));
    const stderr = expectInputError(await runCli(['explain', '--data', branch]));
    expect(stderr).toContain(
      "- --input: is needed for tiny@1.0.0: the built-in sample applicant is the demo model's",
    );
    const own = file('tiny.json', JSON.stringify({ income: 2, debt: 1 }));
    const run = await runCli(['explain', '--data', branch, '--input', own]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ model: { id: 'tiny', version: '1.0.0' } });
  });

  it('names the line of a one-row CSV file too, and keeps [k] for a JSON array', async () => {
    const csv = file('one-row.csv', '\n\nSeniority,Time,Records,Expenses,Amount,Price\n1,x,no,3,1000,1200\n');
    const one = expectInputError(await runCli(['explain', '--data', data, '--input', csv]));
    expect(one).toMatch(/^ {2}- line 4, Time: must be a number, got "x"$/m);
    const json = file('array.json', JSON.stringify([SAMPLE_1, { ...SAMPLE_1, Amount: 'lots' }]));
    const arr = expectInputError(await runCli(['explain', '--data', data, '--input', json]));
    expect(arr).toMatch(/- \[1\]\.Amount: must be a (JSON )?number/);
  });

  it('names each row of too many or too few cells, and a quote never closed, by the line the row starts on', async () => {
    const header = 'Seniority,Time,Records,Expenses,Amount,Price,Home';
    const cells = file(
      'cells.csv',
      '\uFEFF\r\n' + // a BOM and a blank line before the header: line 2
        `${header}\r\n` +
        '2,60,no,60,1500,1800,"rent\r\nand more"\r\n' + // a quoted cell over lines 3-4
        '\r\n' + // skipped
        '3,36,no,45,900,1200\r\n' + // line 6: a cell short
        '4,48,no,50,800,1000,owner\r\n' +
        '5,48,no,50,800,1000,owner,extra\r\n', // line 8: a cell too many
    );
    const stderr = expectInputError(await runCli(['explain', '--data', data, '--input', cells]));
    expect(stderr.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      '  - line 6: has 6 cells where the header has 7 columns',
      '  - line 8: has 8 cells where the header has 7 columns',
    ]);
    const quote = file(
      'quote.csv',
      `\n${header}\r\n2,60,no,60,1500,1800,rent\r\n3,36,no,45,900,1200,"rent\r\n\r\n`,
    );
    expect(expectInputError(await runCli(['explain', '--data', data, '--input', quote]))).toMatch(
      /^ {2}- line 4: is not valid CSV: Quote Not Closed/m,
    );
  });

  it("names a flag's problem by the flag, not by line, even when the one row has a column of its name", async () => {
    const csv = file(
      'target-column.csv',
      'Seniority,Time,Records,Expenses,Amount,Price,target\n1,2,no,3,1000,1200,x\n',
    );
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', csv, '--target', 'nobody']),
    );
    // Both are reported: the flag's problem, and the header's column that is no feature of the model.
    expect(stderr.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      expect.stringMatching(/^ {2}- --target: must be one of bad, good.*"nobody"$/) as string,
      expect.stringMatching(/^ {2}- line 1, column 7 "target": is not a feature of this model/) as string,
    ]);
  });

  it('refuses a CSV --baseline, naming --baseline: a baseline is one applicant as JSON', async () => {
    const csv = file('baseline.csv', 'Seniority,Time,Records,Expenses,Amount,Price\n1,2,no,3,1000\n');
    const stderr = expectInputError(await runCli(['explain', '--data', data, '--baseline', csv]));
    expect(stderr).toMatch(
      /1 problem.*\n {2}- --baseline: must be "schema", "zeros" or a JSON file holding one applicant object; .*baseline\.csv holds no JSON object$/m,
    );
  });

  it('fails, saying so, when the output cannot be written (a full disk), instead of exiting 0', async () => {
    const err: Buffer[] = [];
    const full = new Writable({
      write(_chunk, _enc, done) {
        done(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      },
    });
    full.on('error', () => undefined); // what process.stdout would emit; the command reports it itself
    const code = await main(['explain', '--data', data], {
      stdout: full,
      stderr: new Writable({
        write(chunk: Buffer, _enc, done) {
          err.push(Buffer.from(chunk));
          done();
        },
      }),
      stdin: Readable.from([]),
      env: {},
    });
    expect(code).toBe(1);
    expect(Buffer.concat(err).toString()).toBe('branchlens explain: cannot write standard output: ENOSPC\n');
  });

  it('checks the options before the data folder is opened: a mistyped flag creates nothing', async () => {
    for (const args of [
      ['--method', 'bogus'],
      ['--steps', '99999999999'],
      ['--top-k', '99999'],
      ['--locale', 'fr'],
      ['--encoding', 'klingon'],
      ['--model', join(work, 'no-such-bundle')],
      ['--model', file('not-a-bundle.txt', 'a file')],
      // The least a Riemann rule takes is checked with the flags, not once the engine is asked.
      ['--steps', '1', '--method', 'riemann_left'],
      ['--input', ''],
    ]) {
      const dir = join(work, 'never-made');
      const stderr = expectInputError(await runCli(['explain', '--data', dir, ...args]));
      expect(stderr).toContain(`- ${args[0]}: `);
      expect(existsSync(dir), args.join(' ')).toBe(false);
    }
  });

  it('checks $BRANCHLENS_CACHE_TTL_SECONDS before the data folder is opened: a whole number of seconds', async () => {
    for (const ttl of ['abc', '1.0005', '0.0001', '1e16', '0', '-5', String(400 * 24 * 3600)]) {
      const dir = join(work, 'never-made');
      const stderr = expectInputError(
        await runCli(['explain', '--data', dir], '', { BRANCHLENS_CACHE_TTL_SECONDS: ttl }),
      );
      expect(stderr).toContain(
        `- $BRANCHLENS_CACHE_TTL_SECONDS: must be a whole number of seconds from 1 to 31536000 (a year), got "${ttl}"`,
      );
      expect(existsSync(dir), ttl).toBe(false);
    }
    // A whole number of seconds is taken: the answer is cached (and audited) as ever.
    expectSuccess(await runCli(['explain', '--data', data], '', { BRANCHLENS_CACHE_TTL_SECONDS: '60' }));
  });

  it('refuses an applicant that gives a feature twice, instead of taking the last', async () => {
    const text = JSON.stringify(SAMPLE_1).replace(/^\{/, '{"Amount": 99999,');
    const stderr = expectInputError(
      await runCli(['explain', '--data', data, '--input', file('twice.json', text)]),
    );
    expect(stderr).toMatch(/- --input: the key "Amount" appears more than once in the top-level object/);
  });

  it('holds a JSON file to JSON types: a number in quotes is refused, saying so', async () => {
    const input = file('quoted.json', JSON.stringify({ ...SAMPLE_1, Amount: '1500' }));
    const stderr = expectInputError(await runCli(['explain', '--data', data, '--input', input]));
    expect(stderr).toMatch(
      /- Amount: must be a JSON number, got the text "1500" \(send 1500 without quotes\)/,
    );
  });

  const cases: [string, () => string[], RegExp][] = [
    ['--steps abc', () => ['--steps', 'abc'], /- --steps: .*"abc"/],
    [
      '--method nope',
      () => ['--method', 'nope'],
      /- --method: must be one of gausslegendre, .*riemann_trapezoid, got "nope"/,
    ],
    ['--locale fr', () => ['--locale', 'fr'], /- --locale: .*zh-CN.*"fr"/],
    ['--backend gpu', () => ['--backend', 'gpu'], /- --backend: .*wasm.*"gpu"/],
    ['--target nobody', () => ['--target', 'nobody'], /- --target: must be one of bad, good.*"nobody"/],
    [
      '--target 5',
      () => ['--target', '5'],
      /- --target: must be one of bad, good \(or an index 0–1\), got "5"/,
    ],
    ['--target ""', () => ['--target', ''], /- --target: is empty/],
    [
      '--steps 99999999999',
      () => ['--steps', '99999999999'],
      /- --steps: must be at most 10000, got "99999999999"$/m,
    ],
    [
      '--steps of 400 digits',
      () => ['--steps', '9'.repeat(400)],
      /- --steps: must be at most 10000, got "9{19}…"$/m,
    ],
    [
      '--steps 1 with a Riemann rule',
      () => ['--steps', '1', '--method', 'riemann_left'],
      /- --steps: must be a whole number ≥ 2 with riemann_left \(a Riemann rule needs two points\), got "1"$/m,
    ],
    ['--steps 0', () => ['--steps', '0'], /- --steps: must be a whole number ≥ 1, got "0"$/m],
    [
      '--steps of 26 digits, beyond a safe integer: one problem, not two',
      () => ['--steps', '9'.repeat(26)],
      /1 problem.*\n {2}- --steps: must be at most 10000, got "9{19}…"$/m,
    ],
    ['--input ""', () => ['--input', ''], /1 problem.*\n {2}- --input: is empty: name a JSON or CSV file/m],
    [
      '--model ""',
      () => ['--model', ''],
      /1 problem.*\n {2}- --model: is empty: name a model bundle folder/m,
    ],
    ['--baseline ""', () => ['--baseline', ''], /1 problem.*\n {2}- --baseline: is empty: give "schema"/m],
    [
      '--model naming no folder',
      () => ['--model', join(work, 'no-such-bundle')],
      /1 problem.*\n {2}- --model: .*no-such-bundle does not exist$/m,
    ],
    ['--top-k 99999', () => ['--top-k', '99999'], /- --top-k: must be at most 10000, got "99999"$/m],
    [
      '--internal-batch-size 99999999',
      () => ['--internal-batch-size', '99999999'],
      /- --internal-batch-size: must be at most 1000000, got "99999999"$/m,
    ],
    ['--layer 99', () => ['--layer', '99'], /- --layer: layer 99 is not a layer of this model/],
    [
      'a --baseline applicant with bad values',
      () => [
        '--baseline',
        file('bad-baseline.json', JSON.stringify({ ...SAMPLE_1, Amount: 'x', Colour: 1 })),
      ],
      /- --baseline, Colour: is not a feature of this model.*\n.*- --baseline, Amount: must be a number, got "x"/,
    ],
    ['an unknown flag', () => ['--bogus'], /- --bogus: Unknown option/],
    ['--layer-inputs without --layer', () => ['--layer-inputs'], /- --layer-inputs: needs --layer/],
    [
      'a missing input file',
      () => ['--input', join(work, 'no-such-file.json')],
      /- --input: cannot read .*no-such-file\.json/,
    ],
    [
      'invalid JSON',
      () => ['--input', file('broken.json', '{"Seniority": 2,')],
      /- --input: is not valid JSON/,
    ],
    ['an empty array', () => ['--input', file('empty.json', '[]')], /- --input: holds no applicants/],
    ...['42', 'null', 'true', '"Seniority"'].map((json): [string, () => string[], RegExp] => [
      `the JSON scalar ${json}`,
      () => ['--input', file('scalar.json', `${json}\n`)],
      /- --input: must be a JSON object \(one applicant\) or an array of them, got /,
    ]),
    [
      'a CSV column named twice',
      () => ['--input', file('twice.csv', csvWithColumnTwice('Seniority'))],
      /1 problem.*\n.*- --input: column \d+ of the header repeats "Seniority"/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, problem) => {
    const stderr = expectInputError(await runCli(['explain', '--data', data, ...args()]));
    expect(stderr).toMatch(problem);
  });
});
