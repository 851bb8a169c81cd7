// A batch's documents wait in a spool file of the data folder's tmp/ (0600) while the batch is explained, and go
// to standard output only once every applicant is decided: byte for byte what holding them in memory printed,
// nothing at all when the batch fails, and no spool file left behind whatever happens.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { explainCommandWith } from '../../../main/cli/commands/explain.js';
import { SPOOL_FOLDER, STALE_SPOOL_MS } from '../../../main/cli/spool.js';
import { BranchLensService } from '../../../main/core/service.js';
import { expectSuccess, holdoutApplicants, removeDir, runCli, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./run-cli.ts', import.meta.url));

let work: string;
let batch: string;
beforeAll(() => {
  work = tempDir('branchlens-spool-');
  batch = join(work, 'five.json');
  writeFileSync(batch, JSON.stringify(holdoutApplicants(5)));
});
afterAll(() => removeDir(work));
afterEach(() => {
  vi.restoreAllMocks();
});

/** A command explaining two applicants per service call: five applicants are three calls. */
const inPairs = [explainCommandWith({ chunkSize: 2 })];

let folders = 0;
/** A fresh data folder with the demo model installed. */
async function freshData(): Promise<string> {
  const data = join(work, `data-${++folders}`);
  expect((await runCli(['models', 'list', '--data', data])).code).toBe(0);
  return data;
}

/** What the data folder's tmp/ holds: a running batch's spool file, and nothing once it ended. */
function spools(data: string): string[] {
  return readdirSync(join(data, SPOOL_FOLDER));
}

async function auditEntries(data: string): Promise<number> {
  const run = await runCli(['audit', 'verify', '--json', '--data', data]);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { entries: number }).entries;
}

/**
 * The documents the service answers, as it answered them, in order; `during(call)` runs before each call (from
 * 1) and may throw to fail it.
 */
function watchExplain(during: (call: number) => void = () => undefined): string[] {
  const answered: string[] = [];
  const real = BranchLensService.prototype.explainJson;
  let calls = 0;
  vi.spyOn(BranchLensService.prototype, 'explainJson').mockImplementation(async function (
    this: BranchLensService,
    ...args: Parameters<typeof real>
  ) {
    during(++calls);
    const docs = await real.apply(this, args);
    answered.push(...docs);
    return docs;
  });
  return answered;
}

describe('explain prints a batch from its spool file', () => {
  it('prints a batch of several calls byte for byte as JSON.stringify(documents, null, 2), leaving no spool', async () => {
    const data = await freshData();
    for (const count of [5, 4, 1]) {
      const answered = watchExplain();
      const input = join(work, `batch-${count}.json`);
      writeFileSync(input, JSON.stringify(holdoutApplicants(count)));
      const run = await runCli(['explain', '--data', data, '--input', input], '', {}, inPairs);
      expectSuccess(run);
      expect(answered).toHaveLength(count);
      expect(run.stdout).toBe(
        JSON.stringify(
          answered.map((doc) => JSON.parse(doc) as unknown),
          null,
          2,
        ) + '\n',
      );
      expect(spools(data)).toEqual([]);
      vi.restoreAllMocks();
    }
  });

  it('prints one applicant as its one document, not an array', async () => {
    const data = await freshData();
    const answered = watchExplain();
    const run = await runCli(
      ['explain', '--data', data, '--input', '-'],
      JSON.stringify(holdoutApplicants(1)[0]),
      {},
      inPairs,
    );
    expectSuccess(run);
    expect(answered).toHaveLength(1);
    expect(run.stdout).toBe(JSON.stringify(JSON.parse(answered[0]!), null, 2) + '\n');
    expect(spools(data)).toEqual([]);
  });

  it("writes each call's documents to the spool before the next call, rather than holding them", async () => {
    const data = await freshData();
    const sizes: number[] = [];
    watchExplain(() => {
      const [spool, ...others] = spools(data);
      expect(others).toEqual([]);
      sizes.push(statSync(join(data, SPOOL_FOLDER, spool!)).size);
    });
    expectSuccess(await runCli(['explain', '--data', data, '--input', batch], '', {}, inPairs));
    expect(sizes).toHaveLength(3);
    expect(sizes[0]).toBe(0);
    expect(sizes[1]).toBeGreaterThan(sizes[0]!);
    expect(sizes[2]).toBeGreaterThan(sizes[1]!);
  });

  it.skipIf(process.platform === 'win32')(
    'keeps the spool readable by its owner alone: the file 0600, in a tmp/ folder 0700',
    async () => {
      const data = await freshData();
      const modes: number[] = [];
      watchExplain(() => {
        for (const spool of spools(data)) modes.push(statSync(join(data, SPOOL_FOLDER, spool)).mode & 0o777);
      });
      expectSuccess(await runCli(['explain', '--data', data, '--input', batch], '', {}, inPairs));
      expect(modes).toEqual([0o600, 0o600, 0o600]);
      expect(statSync(join(data, SPOOL_FOLDER)).mode & 0o777).toBe(0o700);
    },
  );
});

describe('a batch that fails prints nothing and leaves no spool file', () => {
  it('a later call that fails: nothing on stdout, no spool', async () => {
    const data = await freshData();
    watchExplain((call) => {
      if (call === 3) throw new Error('database or disk is full');
    });
    const run = await runCli(['explain', '--data', data, '--input', batch], '', {}, inPairs);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('4 of the 5 applicants were already decided and audited');
    expect(spools(data)).toEqual([]);
  });

  it('a spool that cannot be written midway (a full disk): exit 1 naming the file and why, no spool', async () => {
    const data = await freshData();
    const before = await auditEntries(data);
    // FileHandle is not exported: its prototype, from a handle.
    const probe = await open(batch, 'r');
    const fileHandle = Object.getPrototypeOf(probe) as typeof probe;
    await probe.close();
    const realWrite = fileHandle.writeFile;
    let writes = 0;
    vi.spyOn(fileHandle, 'writeFile').mockImplementation(function (
      this: typeof probe,
      ...args: Parameters<typeof realWrite>
    ) {
      if (++writes === 2) {
        return Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      }
      return realWrite.apply(this, args);
    });
    const run = await runCli(['explain', '--data', data, '--input', batch], '', {}, inPairs);
    vi.restoreAllMocks();
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const said =
      /^branchlens explain: cannot write (\S+), where the documents wait until every applicant is decided: the disk is full \(4 of the 5 applicants were already decided and audited before this failure; their documents were not printed\)\n$/.exec(
        run.stderr,
      );
    expect(said, run.stderr).not.toBeNull();
    expect(dirname(said![1]!)).toBe(join(data, SPOOL_FOLDER));
    expect(basename(said![1]!)).toMatch(/^explain-\d+-[0-9a-f]+\.json\.part$/);
    expect(spools(data)).toEqual([]);
    expect((await auditEntries(data)) - before).toBe(4);
  });

  it("a CSV file's copy that cannot be written (a full disk): exit 1 naming it as the input's, nothing decided", async () => {
    const data = await freshData();
    const before = await auditEntries(data);
    const rows = holdoutApplicants(5);
    const columns = Object.keys(rows[0]!);
    const cell = (v: unknown) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v ?? ''));
    const input = join(work, 'five.csv');
    writeFileSync(
      input,
      [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n'),
    );
    const probe = await open(batch, 'r');
    const fileHandle = Object.getPrototypeOf(probe) as typeof probe;
    await probe.close();
    // The first write of a CSV batch is its copy's: no document is written before every row is checked.
    vi.spyOn(fileHandle, 'writeFile').mockRejectedValue(
      Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }),
    );
    const run = await runCli(['explain', '--data', data, '--input', input], '', {}, inPairs);
    vi.restoreAllMocks();
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const said =
      /^branchlens explain: cannot write (\S+), where the input's rows are copied to be checked and explained: the disk is full\n$/.exec(
        run.stderr,
      );
    expect(said, run.stderr).not.toBeNull();
    expect(basename(said![1]!)).toMatch(/^explain-\d+-[0-9a-f]+\.csv\.part$/);
    expect(spools(data)).toEqual([]);
    expect(await auditEntries(data)).toBe(before);
  });

  it('a tmp/ folder that cannot be made: exit 1 naming it and why, before any applicant is decided', async () => {
    const data = await freshData();
    const before = await auditEntries(data);
    writeFileSync(join(data, SPOOL_FOLDER), 'in the way');
    const run = await runCli(['explain', '--data', data, '--input', batch], '', {}, inPairs);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `branchlens explain: cannot create ${join(data, SPOOL_FOLDER)}, where the documents wait until every applicant is decided: it is a file, not a folder\n`,
    );
    expect(await auditEntries(data)).toBe(before);
  });
});

describe('spool files left by a run that was killed', () => {
  it('are removed by a later run once a day old; newer ones and other files stay', async () => {
    const data = await freshData();
    const folder = join(data, SPOOL_FOLDER);
    mkdirSync(folder, { recursive: true });
    const aged = (name: string, ms: number) => {
      writeFileSync(join(folder, name), '[\n  {');
      const then = (Date.now() - ms) / 1000;
      utimesSync(join(folder, name), then, then);
    };
    aged('explain-123-00aa11bb22cc.json.part', STALE_SPOOL_MS + 60_000);
    aged('explain-456-33dd44ee55ff.json.part', STALE_SPOOL_MS - 60 * 60_000);
    aged('explain-789-66ee77ff8899.csv.part', STALE_SPOOL_MS + 60_000);
    aged('notes.txt', 2 * STALE_SPOOL_MS);
    expectSuccess(await runCli(['explain', '--data', data, '--input', batch], '', {}, inPairs));
    expect(readdirSync(folder).sort()).toEqual(['explain-456-33dd44ee55ff.json.part', 'notes.txt']);
  });
});

describe('a batch interrupted by Ctrl-C', () => {
  /**
   * Runs `explain --input FILE` in a process of its own, interrupts it once tmp/ holds `files` spool files
   * (a CSV file's copy, then the documents' spool), and returns what it printed and the signal it ended by.
   */
  async function interrupted(
    data: string,
    input: string,
    files: number,
  ): Promise<{ signal: NodeJS.Signals | null; stdout: string }> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, 'explain', '--data', data, '--input', input],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, BRANCHLENS_DEBUG: '' },
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const closed = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('close', (_code, signal) => resolve(signal)),
    );
    const folder = join(data, SPOOL_FOLDER);
    // Interrupted once its spool exists (the rows are checked and the explaining has begun).
    for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 5))) {
      if (existsSync(folder) && readdirSync(folder).length >= files) break;
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error('the batch never started its spool');
    }
    child.kill('SIGINT');
    return { signal: await closed, stdout };
  }

  /** 3,000 distinct applicants: three calls, long enough to be interrupted midway. */
  const many = () =>
    Array.from({ length: 3000 }, (_, i) => {
      const base = holdoutApplicants(600)[i % 600]!;
      return { ...base, Amount: Number(base.Amount) + Math.floor(i / 600) };
    });

  it('removes its spool file, prints nothing and ends by the signal', async () => {
    const data = await freshData();
    const input = join(work, 'many.json');
    writeFileSync(input, JSON.stringify(many()));
    const { signal, stdout } = await interrupted(data, input, 1);
    expect(signal).toBe('SIGINT');
    expect(stdout).toBe('');
    expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
  }, 90_000);

  it("removes a CSV file's copy and the documents' spool both", async () => {
    const data = await freshData();
    const rows = many();
    const columns = Object.keys(rows[0]!);
    const cell = (v: unknown) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v ?? ''));
    const input = join(work, 'many.csv');
    writeFileSync(
      input,
      [
        columns.join(','),
        ...rows.map((r) => columns.map((c) => cell(r[c as keyof typeof r])).join(',')),
      ].join('\n'),
    );
    const { signal, stdout } = await interrupted(data, input, 2);
    expect(signal).toBe('SIGINT');
    expect(stdout).toBe('');
    expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
  }, 90_000);
});
