// steadyHeapGrowth() in a long-running process: under an LRU cache's churn the heap stays within ~1.5× of what
// is live (plus the young generation) instead of V8's up to 4×. Measured in child processes, since the flag is
// process-wide and the test runner's own heap is busy with other work.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../helpers/heap-churn.ts', import.meta.url));

async function churn(mode: 'steady' | 'default'): Promise<{ live: number; peak: number }> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, mode], {
    cwd: REPO,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('HEAP '));
  expect(line, `no HEAP line in: ${stdout}`).toBeDefined();
  return JSON.parse(line!.slice('HEAP '.length)) as { live: number; peak: number };
}

describe('steadyHeapGrowth', () => {
  it('keeps the heap under a cache’s churn near its live size, where V8 alone lets it grow several times', async () => {
    const [steady, alone] = await Promise.all([churn('steady'), churn('default')]);
    // 1.5× the live ~50 MB, plus a young generation of up to ~32 MB between scavenges.
    expect(steady.peak / steady.live).toBeLessThan(2.5);
    // The workload is one where growth matters: without the setting the heap grows much further.
    expect(alone.peak / alone.live).toBeGreaterThan(1.5 * (steady.peak / steady.live));
  }, 60_000);
});
