import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/core/engine.js';
import { initBackend } from '../../../main/core/tf/backend.js';
import { creditBundle, removeDir, tempDir } from '../../helpers/bundles.js';
import { HEX_PREFIX, attributionsHex } from '../../helpers/explain-hex.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../helpers/explain-hex.ts', import.meta.url));

let dir: string;
let engine: Engine;

beforeAll(async () => {
  await initBackend('wasm');
  dir = await creditBundle(tempDir(), 'sigmoid');
  engine = await Engine.load(dir, { backend: 'wasm' });
});
afterAll(() => {
  engine?.dispose();
  removeDir(dir);
});

async function explainInChildProcess(): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', SCRIPT, dir], { cwd: REPO });
  const line = stdout.split('\n').find((l) => l.startsWith(HEX_PREFIX));
  expect(line, `no ${HEX_PREFIX} line in: ${stdout}`).toBeDefined();
  const [backend, hex] = line!.slice(HEX_PREFIX.length).split(':');
  expect(backend).toBe('wasm');
  return hex!;
}

describe('on the wasm backend, attributions are bit-identical', () => {
  it('across runs in one process', () => {
    expect(engine.backend).toBe('wasm');
    const first = attributionsHex(engine);
    // 3 applicants × 2 rules × (6 attributions + score + baseline score + delta), 8 bytes each.
    expect(first).toHaveLength(3 * 2 * 9 * 8 * 2);
    for (let i = 0; i < 3; i++) expect(attributionsHex(engine)).toBe(first);
  });

  it('across two separate processes', async () => {
    const [a, b] = await Promise.all([explainInChildProcess(), explainInChildProcess()]);
    expect(a).toBe(b);
    expect(a).toBe(attributionsHex(engine));
  });
});
