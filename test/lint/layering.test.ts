// The layering the lint enforces (eslint.config.js): the core imports no transport, a transport no other one,
// only main/electron imports electron, and renderer/ and shared/ no Node built-ins.
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

/** The no-restricted-imports messages for `code` as if it were the file at `path`. */
async function restricted(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the lint’s layering', () => {
  it.each([
    [
      'main/core/x.ts',
      "import { startServer } from '../server/start.js';",
      /main\/core imports no transport/,
    ],
    ['main/core/db/x.ts', "import { main } from '../../cli/index.js';", /main\/core imports no transport/],
    ['main/core/x.ts', "import { app } from 'electron';", /Only main\/electron/],
    [
      'main/electron/x.ts',
      "import { isKServePath } from '../server/errors.js';",
      /imports no other transport/,
    ],
    ['main/server/x.ts', "import { x } from '../electron/ipc-adapter.js';", /imports no other transport/],
    ['main/server/x.ts', "import { main } from '../cli/index.js';", /imports no other transport/],
    ['renderer/src/x.ts', "import { readFileSync } from 'node:fs';", /No Node built-ins here/],
    ['shared/x.ts', "import { app } from 'electron';", /Only main\/electron/],
  ])('refuses in %s: %s', async (path, code, message) => {
    const messages = await restricted(path, `${code}\nexport {};\n`);
    expect(
      messages.some((m) => message.test(m)),
      messages.join('\n'),
    ).toBe(true);
  });

  it.each([
    ['main/cli/commands/x.ts', "import { startServer } from '../../server/start.js';"],
    ['main/server/x.ts', "import { errorResult } from '../core/api.js';"],
    ['main/electron/x.ts', "import { app } from 'electron';"],
    ['main/electron/x.ts', "import { boundedErrorBody } from '../core/error-body.js';"],
  ])('allows in %s: %s', async (path, code) => {
    expect(await restricted(path, `${code}\nexport {};\n`)).toEqual([]);
  });
});
