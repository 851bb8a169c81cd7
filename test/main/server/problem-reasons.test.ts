// A refused import or activation answers 400 with each problem's reason and params beside its English message,
// so that a UI can word it in the user's language; problems without a reason are answered as before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../../main/core/bundle/load.js';
import { readSample, removeDir, tamperedDemoBundle, tempDir } from '../cli/helpers.js';
import { expectProblems, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
let work: string;

beforeAll(async () => {
  t = await startTestServer();
  work = tempDir('branchlens-reasons-');
});
afterAll(async () => {
  await t?.close();
  removeDir(work);
});

describe('the 400 body of a refused importModel', () => {
  it('gives the reason and params of a folder that does not exist', async () => {
    const dir = join(work, 'no-such-bundle');
    const problems = expectProblems(await t.app('importModel', { path: dir }), 400);
    expect(problems).toEqual([
      { field: dir, code: 'missing', message: 'is not a folder', reason: 'not_a_folder', params: { dir } },
    ]);
  });

  it('gives the reason and params of a tampered file: the sha256 manifest.json lists, and the file’s', async () => {
    const dir = tamperedDemoBundle(join(work, 'tampered'), 'model.json');
    const answer = await t.app('importModel', { path: dir });
    const problems = expectProblems(answer, 400);
    const listed = (
      JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, string> }
    ).files['model.json'];
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'model.json',
        reason: 'sha256_mismatch',
        params: {
          file: 'model.json',
          expected: listed,
          actual: sha256(readFileSync(join(dir, 'model.json'))),
        },
      }),
    ]);
    expect(answer.json.message).toMatch(/^invalid model bundle:\n/);
  });
});

describe('the 400 body of a refused activateModel', () => {
  it('gives the reason and params of a model that is not installed', async () => {
    const problems = expectProblems(await t.app('activateModel', { ref: 'no-such-model@9.9.9' }), 400);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'model',
        reason: 'model_not_installed',
        params: { ref: 'no-such-model@9.9.9', installed: expect.stringMatching(/^credit-demo@/) as string },
      }),
    ]);
  });
});

describe('a problem without a reason', () => {
  it('is answered as before: field, code and message only', async () => {
    const sample = readSample<Record<string, unknown>>('sample-1.json');
    const answer = await t.app('explain', { applicants: [{ ...sample, Amount: 'abc' }] });
    for (const p of expectProblems(answer, 400))
      expect(Object.keys(p).sort()).toEqual(['code', 'field', 'message']);
  });
});
