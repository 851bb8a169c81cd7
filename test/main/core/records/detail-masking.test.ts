// --detail of a model whose sensitive feature is categorical (a copy of the demo bundle with Home marked
// sensitive): its one-hot columns would name the category (the one column with a non-zero attribution) and, in
// schema order, which feature each pseudonym is. Each sensitive feature is one column named by its pseudonym,
// after the visible ones, sorted by pseudonym, with its columns' summed attribution and no input or baseline.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputColumns, type BundleSchema } from '../../../../shared/bundle.js';
import { explanationDocumentSchema, type ExplanationDocument } from '../../../../shared/explanation.js';
import { sealBundle, type ManifestFields } from '../../../../main/core/bundle/write.js';
import { pseudonym } from '../../../../main/core/records/mask.js';
import { BranchLensService } from '../../../../main/core/service.js';
import { copyDemoBundle, expectSuccess, readSample, removeDir, runCli, tempDir } from '../../cli/helpers.js';

const SENSITIVE = ['Home', 'Income', 'Assets'];
const HOMES = ['rent', 'owner', 'parents'];
const base = { ...readSample<Record<string, unknown>>('sample-1.json'), Income: 200, Assets: 5000 };

let work: string;
let bundle: string;
let data: string;
let schema: BundleSchema;
let maskKey: Buffer;
const byHome = new Map<string, { cli: ExplanationDocument; service: ExplanationDocument }>();

/** The demo bundle with the categorical Home marked sensitive too, resealed, as the reviewer made it. */
function homeSensitiveBundle(dir: string): string {
  copyDemoBundle(dir);
  const raw = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8')) as {
    features: { name: string; sensitive?: boolean }[];
  };
  raw.features.find((f) => f.name === 'Home')!.sensitive = true;
  writeFileSync(join(dir, 'schema.json'), JSON.stringify(raw, null, 2) + '\n');
  const { files: _files, ...manifest } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    files: unknown;
  } & ManifestFields;
  sealBundle(dir, manifest);
  return dir;
}

beforeAll(async () => {
  work = tempDir('branchlens-detail-masking-');
  bundle = homeSensitiveBundle(join(work, 'bundle-home'));
  data = tempDir('branchlens-detail-masking-data-');
  for (const home of HOMES) {
    const applicant = { ...base, Home: home };
    const run = await runCli(
      [
        'explain',
        '--data',
        data,
        '--model',
        bundle,
        '--input',
        '-',
        '--detail',
        '--top-k',
        '0',
        '--locale',
        'en',
      ],
      JSON.stringify(applicant),
    );
    expectSuccess(run);
    const cli = explanationDocumentSchema.parse(JSON.parse(run.stdout));
    const service = await BranchLensService.open({ dataDir: data, modelDir: bundle });
    try {
      schema = service.schema;
      maskKey = service.hmacKey.key;
      // Another method: computed by the service, not answered from the CLI's cache entry.
      const [doc] = await service.explain([applicant], {
        detail: true,
        top_k: 0,
        method: 'riemann_middle',
      });
      byHome.set(home, { cli, service: doc! });
    } finally {
      await service.close();
    }
  }
});
afterAll(() => {
  removeDir(work);
  removeDir(data);
});

const all = () =>
  [...byHome].flatMap(([home, d]) => [
    [`cli ${home}`, d.cli] as const,
    [`service ${home}`, d.service] as const,
  ]);

describe('--detail with a sensitive categorical feature', () => {
  it('the bundle is the demo model with Home, Income and Assets sensitive', () => {
    expect(schema.features.filter((f) => f.sensitive).map((f) => f.name)).toEqual(SENSITIVE);
    expect(byHome.size).toBe(HOMES.length);
  });

  it('gives each sensitive feature one column, named by its pseudonym, after the visible ones, sorted', () => {
    const pseudonyms = SENSITIVE.map((name) => pseudonym(maskKey, name)).sort();
    const visible = inputColumns(schema)
      .filter((c) => !SENSITIVE.includes(c.feature))
      .map((c) => c.name);
    for (const [name, doc] of all()) {
      const d = doc.detail!;
      expect(d.names, name).toEqual([...visible, ...pseudonyms]);
      expect(
        d.names.some((n) => n.startsWith('Home') || n.includes('=*')),
        name,
      ).toBe(false);
      expect(d.inputs).toHaveLength(d.names.length);
      expect(d.baseline).toHaveLength(d.names.length);
      expect(d.attributions_raw).toHaveLength(d.names.length);
      // Nothing but the masked columns is null, and they have neither input nor baseline.
      d.names.forEach((n, i) => {
        const masked = pseudonyms.includes(n);
        expect(d.inputs[i] === null, `${name} ${n}`).toBe(masked);
        expect(d.baseline[i] === null, `${name} ${n}`).toBe(masked);
      });
      // The visible columns are as computed: Job=freelance is this applicant's job.
      expect(d.inputs[d.names.indexOf('Job=freelance')]).toBe(1);
    }
  });

  it('a masked column’s attribution is its feature’s (the sum of its columns); Σ attributions_raw is still the sum', () => {
    for (const [name, doc] of all()) {
      const d = doc.detail!;
      const masked = doc.attributions.filter((a) => a.masked);
      expect(masked.map((a) => a.feature).sort(), name).toEqual(d.names.slice(-SENSITIVE.length));
      for (const a of masked) {
        const raw = d.attributions_raw[d.names.indexOf(a.feature)]!;
        expect(Math.abs(raw - a.attribution), `${name} ${a.feature}`).toBeLessThan(1e-11);
      }
      const sum = d.attributions_raw.reduce((s, v) => s + v, 0);
      expect(Math.abs(sum - doc.completeness.sum), name).toBeLessThan(1e-9);
    }
  });

  it('neither the document nor its detail tells which home the applicant has', () => {
    for (const [name, doc] of all()) {
      const text = JSON.stringify(doc);
      expect(text, name).not.toMatch(/Home|"(rent|owner|parents)"|Renting|Owner|Parents|租房|自有/);
      for (const home of HOMES) expect(text.includes(`=${home}`), `${name} ${home}`).toBe(false);
    }
    // What changes with the home is the one masked column's number, never which column it is in.
    const homeName = pseudonym(maskKey, 'Home');
    const positions = HOMES.map((h) => byHome.get(h)!.cli.detail!.names.indexOf(homeName));
    expect(new Set(positions).size).toBe(1);
    const shapes = HOMES.map((h) => JSON.stringify(byHome.get(h)!.cli.detail!.names));
    expect(new Set(shapes).size).toBe(1);
    // Which masked columns carry an attribution is the same for every home other than the baseline's (a
    // one-hot column per category would carry it in the applicant's category's column). The baseline's home
    // has no attribution at all, in the detail as in the masked attribution: that is integrated gradients'.
    const carrying = HOMES.filter((h) => h !== schema.baseline.Home).map((h) => {
      const d = byHome.get(h)!.cli.detail!;
      return JSON.stringify(
        d.names.flatMap((n, i) => (n.startsWith('sensitive_') && d.attributions_raw[i] !== 0 ? [i] : [])),
      );
    });
    expect(carrying).toHaveLength(2);
    expect(new Set(carrying).size).toBe(1);
  });
});
