// Sensitive features (the demo model: Income and Assets) must not leave the core by name or by value: not on
// stdout, not in the cache or the audit log (the SQLite file and its WAL, read as raw bytes), not in any export.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BranchLensService } from '../../../main/core/service.js';
import { explanationDocumentSchema, type ExplanationDocument } from '../../../shared/explanation.js';
import { expectSuccess, readSample, removeDir, runCli, tempDir } from '../cli/helpers.js';

const SENSITIVE_NAMES = ['Income', 'Assets'];
/** Distinctive values: within the features' ranges, and nothing else in the outputs is written this way. */
const SENSITIVE_VALUES = { Income: 18765, Assets: 45678 };
/** Controls: an unmasked feature, and a distinctive value of one, must be found by the same search. */
const VISIBLE_NAME = 'Seniority';
const VISIBLE_VALUE = { Debt: 24680 };

const applicant = {
  ...readSample<Record<string, unknown>>('sample-1.json'),
  ...SENSITIVE_VALUES,
  ...VISIBLE_VALUE,
};

/** A value written as a number of its own: not digits inside a longer number, a hex hash or a float. */
const asNumber = (value: number) => new RegExp(`(?<![0-9A-Za-z.])${value}(?![0-9A-Za-z])`);

let data: string;
let otherData: string;
let work: string;
/** Everything that left the core, by where it was found. */
const outputs = new Map<string, Buffer>();
/** The data dir's files (raw bytes), while the service was open (WAL present) and after everything closed. */
const dataFiles = new Map<string, Buffer>();
const docs: { cliZh?: ExplanationDocument; cliEn?: ExplanationDocument; service?: ExplanationDocument } = {};
let otherDoc: ExplanationDocument;

function snapshot(dir: string, label: string): void {
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else dataFiles.set(`${label}:${relative(dir, path).split(sep).join('/')}`, readFileSync(path));
    }
  };
  walk(dir);
}

async function cliExplain(dir: string, name: string, args: string[]): Promise<ExplanationDocument> {
  const run = await runCli(
    ['explain', '--data', dir, '--input', '-', '--detail', '--top-k', '0', ...args],
    JSON.stringify(applicant),
  );
  expectSuccess(run);
  outputs.set(name, Buffer.from(run.stdout));
  return explanationDocumentSchema.parse(JSON.parse(run.stdout));
}

beforeAll(async () => {
  data = tempDir('branchlens-masking-data-');
  otherData = tempDir('branchlens-masking-other-');
  work = tempDir('branchlens-masking-files-');

  docs.cliZh = await cliExplain(data, 'explain stdout (zh-CN)', []);
  docs.cliEn = await cliExplain(data, 'explain stdout (en)', ['--locale', 'en']);

  const service = await BranchLensService.open({ dataDir: data });
  try {
    // Another method, so that the service computes this one rather than answering from the cache.
    [docs.service] = await service.explain([applicant], {
      detail: true,
      top_k: 0,
      locale: 'en',
      method: 'riemann_middle',
    });
    outputs.set('service document', Buffer.from(JSON.stringify(docs.service)));
    snapshot(data, 'open');
  } finally {
    await service.close();
  }

  otherDoc = await cliExplain(otherData, 'explain stdout (other data dir)', []);

  for (const format of ['jsonl', 'csv', 'es-bulk']) {
    const out = join(work, `audit.${format}`);
    const run = await runCli(['audit', 'export', '--format', format, '--out', out, '--data', data]);
    expectSuccess(run);
    outputs.set(`audit export ${format}`, readFileSync(out));
  }
  snapshot(data, 'closed');
  snapshot(otherData, 'other');
});
afterAll(() => {
  for (const dir of [data, otherData, work]) removeDir(dir);
});

/** The pseudonyms of a document's masked attributions, sorted. */
function pseudonyms(doc: ExplanationDocument): string[] {
  return doc.attributions
    .filter((a) => a.masked)
    .map((a) => a.feature)
    .sort();
}

/** The installed bundle holds the schema itself, which names every feature: it is the model, not output. */
const isInstalledBundle = (name: string) => /^\w+:models\//.test(name);

describe('sensitive features are masked', () => {
  it('each masked attribution carries a keyed pseudonym, no value, no label and the masked wording with its tag', () => {
    const tag = (a: { feature: string }) => a.feature.slice('sensitive_'.length, 'sensitive_'.length + 4);
    const cases = [
      [docs.cliZh!, (a: { feature: string }) => `敏感特征已脱敏（#${tag(a)}）`],
      [docs.cliEn!, (a: { feature: string }) => `Sensitive feature masked (#${tag(a)})`],
      [docs.service!, (a: { feature: string }) => `Sensitive feature masked (#${tag(a)})`],
    ] as const;
    for (const [doc, description] of cases) {
      const masked = doc.attributions.filter((a) => a.masked);
      expect(masked).toHaveLength(SENSITIVE_NAMES.length);
      for (const a of masked) {
        expect(a.feature).toMatch(/^sensitive_[0-9a-f]{12}$/);
        expect(a.value).toBeNull();
        expect(a).not.toHaveProperty('label');
        expect(a.description).toBe(description(a));
        expect(a.attribution).not.toBe(0);
      }
      const d = doc.detail!;
      const columns = masked.map((a) => d.names.indexOf(a.feature));
      expect(columns.every((i) => i >= 0)).toBe(true);
      for (const i of columns) {
        expect(d.inputs[i]).toBeNull();
        expect(d.baseline[i]).toBeNull();
      }
      expect(d.inputs.filter((v) => v === null)).toHaveLength(SENSITIVE_NAMES.length);
    }
  });

  it('the pseudonyms are stable within a data dir and differ under another data dir’s key', () => {
    const here = pseudonyms(docs.cliZh!);
    expect(new Set(here).size).toBe(SENSITIVE_NAMES.length);
    expect(docs.cliEn!.meta.cache).toBe('miss');
    expect(docs.service!.meta.cache).toBe('miss');
    expect(pseudonyms(docs.cliEn!)).toEqual(here);
    expect(pseudonyms(docs.service!)).toEqual(here);
    const there = pseudonyms(otherDoc);
    expect(there).toHaveLength(SENSITIVE_NAMES.length);
    expect(there.filter((p) => here.includes(p))).toEqual([]);
  });

  it('the byte search finds what is there: an unmasked feature’s name and value', () => {
    expect(outputs.size).toBe(7);
    for (const [name, bytes] of outputs) expect(bytes.includes(VISIBLE_NAME), name).toBe(true);
    const text = (name: string) => outputs.get(name)!.toString('latin1');
    for (const name of ['explain stdout (zh-CN)', 'explain stdout (en)', 'service document'])
      expect(text(name), name).toMatch(asNumber(VISIBLE_VALUE.Debt));
    const db = Buffer.concat(
      [...dataFiles].filter(([n]) => /^closed:branchlens\.db/.test(n)).map(([, b]) => b),
    );
    expect(db.includes(VISIBLE_NAME)).toBe(true);
    expect(db.toString('latin1')).toMatch(asNumber(VISIBLE_VALUE.Debt));
    // The walk reaches every folder: the installed bundle's schema does name the sensitive features.
    const schema = dataFiles.get('closed:models/credit-demo/1.0.0/schema.json');
    expect(schema?.includes('Income')).toBe(true);
    // While the service was open, its writes sat in the WAL, and the snapshot read it.
    expect(dataFiles.get('open:branchlens.db-wal')?.includes(VISIBLE_NAME)).toBe(true);
  });

  it('no output, export or data-dir file holds a sensitive feature’s name or value', () => {
    expect(existsSync(join(data, 'branchlens.db-wal'))).toBe(false);
    const sources = [...outputs, ...dataFiles];
    expect(dataFiles.size).toBeGreaterThanOrEqual(6);
    const leaks: string[] = [];
    for (const [source, bytes] of sources) {
      const text = bytes.toString('latin1');
      for (const name of SENSITIVE_NAMES) {
        if (!isInstalledBundle(source) && bytes.includes(name)) leaks.push(`${source}: the name ${name}`);
      }
      for (const [name, value] of Object.entries(SENSITIVE_VALUES)) {
        if (asNumber(value).test(text)) leaks.push(`${source}: the value of ${name} (${value})`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
