// `branchlens verify` of a document that has no canonical JSON (a number beyond a double, a lone surrogate):
// INVALID with the reason, exit 1, as any other document that does not verify; never a crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoStackTrace, expectSuccess, removeDir, runCli, tempDir } from './helpers.js';

let data: string;
let single: string;

beforeAll(async () => {
  data = tempDir('branchlens-verify-canonical-');
  const run = await runCli(['explain', '--data', data]);
  expectSuccess(run);
  single = run.stdout;
});
afterAll(() => removeDir(data));

describe('branchlens verify of a document that has no canonical JSON', () => {
  it.each([
    [
      'a number beyond a double',
      (d: string) => d.replace(/"score": ?[^,\n]+/, '"score": 1e400'),
      'score holds',
    ],
    ['a lone surrogate', (d: string) => d.replace(/"id": ?"[^"]+"/, '"id": "\\ud800"'), 'id holds'],
  ])('%s: exit 1, INVALID with the reason', async (_name, change, where) => {
    const changed = change(single);
    expect(changed).not.toBe(single);
    const run = await runCli(['verify', '-', '--data', data], changed);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`INVALID: -: the document cannot be canonical JSON: ${where}`);
    expectNoStackTrace(run.stderr);
  });
});
