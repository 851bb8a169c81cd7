import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { renderDocument } from '../../../main/cli/commands/demo.js';
import { BranchLensService } from '../../../main/core/service.js';
import { installTinyModel } from '../core/registry/tiny-bundle.js';
import { expectSuccess, readSample, removeDir, runCli, tempDir } from './helpers.js';

let data: string;

beforeAll(() => {
  data = tempDir('branchlens-demo-data-');
});
afterAll(() => removeDir(data));

describe('branchlens demo', () => {
  it('--locale en prints every sample’s approval probability and completeness check', async () => {
    const run = await runCli(['demo', '--locale', 'en', '--data', data]);
    expectSuccess(run);
    const samples = readSample<unknown[]>('applicants.json');
    expect(run.stdout).toMatch(/^BranchLens · credit-demo@1\.0\.0 · \w+\n/);
    const probabilities = [...run.stdout.matchAll(/^Applicant (\d+): Approval probability (\d+\.\d)%/gm)];
    expect(probabilities.map((m) => Number(m[1]))).toEqual(samples.map((_, i) => i + 1));
    for (const [, , p] of probabilities) expect(Number(p)).toBeGreaterThanOrEqual(0);
    for (const [, , p] of probabilities) expect(Number(p)).toBeLessThanOrEqual(100);
    expect(run.stdout.match(/^ {2}Completeness: Σ=-?\d\.\d{6} f\(x\)−f\(b\)=-?\d\.\d{6}/gm)).toHaveLength(
      samples.length,
    );
    expect(run.stdout).toMatch(/Sensitive feature masked/);
    expect(run.stdout).not.toMatch(/[\u3000-\u303f\u4e00-\u9fff]/);
    // A declined sample's reasons, listed the English way.
    expect(run.stdout).toMatch(/^ {2}Principal reasons against approval: [^,\n]+, [^\n]+$/m);
  });

  it('--locale zh-CN heads an approved applicant’s adverse factors as such, not as reasons for a refusal', async () => {
    const run = await runCli(['demo', '--locale', 'zh-CN', '--data', data]);
    expectSuccess(run);
    const blocks = run.stdout.split('\n\n').filter((b) => b.startsWith('申请人'));
    expect(blocks.length).toBeGreaterThan(1);
    for (const block of blocks) {
      const approved = /^申请人 \d+：通过率 [\d.]+% · 决定：通过$/m.test(block);
      const declined = /^申请人 \d+：通过率 [\d.]+% · 决定：拒绝$/m.test(block);
      expect(approved || declined, block).toBe(true);
      if (approved) expect(block).not.toMatch(/拒绝原因|拒绝理由/);
      if (declined) expect(block).toMatch(/^ {2}主要拒绝原因：\S+、/m);
    }
    // The samples hold approved applicants with factors against approval.
    expect(run.stdout).toMatch(/^ {2}主要不利因素：\S+/m);
    expect(run.stdout).not.toMatch(/^申请人 \d+: /m);
  });

  it("speaks the branch's stored language without --locale", async () => {
    const branch = tempDir('branchlens-demo-settings-');
    try {
      const fresh = await runCli(['demo', '--data', branch]);
      expectSuccess(fresh);
      expect(fresh.stdout).toMatch(/[\u4e00-\u9fff]/); // a new installation speaks zh-CN
      const service = await BranchLensService.open({ dataDir: branch, workers: 1 });
      service.updateSettings({ locale: 'en' });
      await service.close();
      const en = await runCli(['demo', '--data', branch]);
      expectSuccess(en);
      expect(en.stdout).toMatch(/Sensitive feature masked/);
      expect(en.stdout).not.toMatch(/[\u4e00-\u9fff]/);
    } finally {
      removeDir(branch);
    }
  });

  it("checks the install on the bundled demo model when the branch's own model is active, saying so", async () => {
    const branch = tempDir('branchlens-demo-own-model-');
    try {
      await installTinyModel(join(branch, 'data'), join(branch, 'tiny-bundle'));
      const run = await runCli(['demo', '--locale', 'en', '--data', join(branch, 'data')]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe(
        "note: the active model tiny@1.0.0 does not take the demo's sample applicants: they are explained with the bundled demo model\n",
      );
      expect(run.stdout).toMatch(/^BranchLens · credit-demo@1\.0\.0 · /);
      expect(run.stdout.match(/^Applicant \d+: Approval probability/gm)).toHaveLength(
        readSample<unknown[]>('applicants.json').length,
      );
      // The branch's model stays the active one.
      const models = await runCli(['models', 'list', '--json', '--data', join(branch, 'data')]);
      expect(JSON.parse(models.stdout)).toContainEqual(expect.objectContaining({ id: 'tiny', active: true }));
    } finally {
      removeDir(branch);
    }
  });

  it('lists a masked reason by its tag, as its description says it, never by its pseudonym', async () => {
    const service = await BranchLensService.open({ dataDir: data, workers: 1 });
    try {
      // Sample 1 with next to no income: Income, a sensitive feature, is among the reasons against approval.
      const applicant = { ...readSample<Record<string, unknown>[]>('applicants.json')[0]!, Income: 1 };
      const [doc] = await service.explain([applicant], { locale: 'en', top_k: 3 });
      const masked = doc!.reasons.find((r) => r.feature.startsWith('sensitive_'));
      expect(masked, 'a masked reason').toBeDefined();
      const reasons = renderDocument(doc!, 1, 'en')
        .split('\n')
        .find((line) => line.startsWith('  Principal reasons'));
      expect(reasons).toContain(masked!.description);
      expect(reasons).toMatch(/Sensitive feature masked \(#[0-9a-f]{4,}\)/);
      expect(reasons).not.toContain('sensitive_');
    } finally {
      await service.close();
    }
  });

  it('words the remainder line in each language: "6 other features", "其余 6 项"', async () => {
    const service = await BranchLensService.open({ dataDir: data, workers: 1 });
    try {
      const applicant = readSample<Record<string, unknown>[]>('applicants.json')[0]!;
      for (const [top_k, rest] of [
        [5, '6 other features'],
        [10, '1 other feature'],
      ] as const) {
        const [doc] = await service.explain([applicant], { locale: 'en', top_k });
        expect(doc!.rest_count).toBe(Number(rest[0]));
        const line = renderDocument(doc!, 1, 'en').split('\n')[top_k + 1];
        expect(line).toMatch(new RegExp(`  ${rest}$`));
      }
      const [zh] = await service.explain([applicant], { locale: 'zh-CN', top_k: 5 });
      expect(renderDocument(zh!, 1, 'zh-CN').split('\n')[6]).toMatch(/ {2}其余 6 项$/);
    } finally {
      await service.close();
    }
  });

  it('refuses another locale with exit 2', async () => {
    const run = await runCli(['demo', '--locale', 'fr', '--data', data]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/- --locale: must be one of zh-CN, en/);
  });
});
