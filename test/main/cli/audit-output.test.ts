// Where `branchlens audit export` writes, and what it exports: standard output that cannot be written (a full
// disk, a closed pipe) and an --out file that cannot be completed are exit 1 saying so in one line; --out of a
// pipe, a device or standard output writes into it rather than replacing it; --since/--until cut the log exactly,
// whatever digits the time has, and refuse times no timestamp can have.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../main/cli/index.js';
import { appendEntries, verifyExport } from '../../../main/core/audit/index.js';
import { explainInput, tempLog, type TempLog } from '../core/audit/helpers.js';
import { expectNoStackTrace, removeDir, runCli, tempDir } from './helpers.js';
import { mknod } from '../../helpers/devices.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./run-cli.ts', import.meta.url));

/** 200 entries a millisecond apart from 23:59:59.990 on 31 October: #10 is stamped …59.999Z, #11 00:00:00.000Z. */
let t: TempLog;
let work: string;
beforeAll(() => {
  t = tempLog();
  const t0 = Date.parse('2026-10-31T23:59:59.990Z');
  for (let i = 0; i < 200; i++) {
    appendEntries(t.db, [explainInput(i)], {
      now: new Date(t0 + i),
      signingKey: t.key,
      policy: { every: 50, intervalMs: 60_000 },
    });
  }
  t.db.close();
  work = tempDir('branchlens-audit-output-');
});
afterAll(() => {
  t.cleanup();
  removeDir(work);
});

/** The seqs of the entries an export holds (its seal checked). */
function seqs(bytes: Buffer | string): number[] {
  const v = verifyExport(Buffer.from(bytes), t.key.publicPem);
  expect(v.ok, JSON.stringify(v.break)).toBe(true);
  if (!v.head) return [];
  return Array.from({ length: v.entries }, (_, i) => v.firstSeq! + i);
}

/** Runs the CLI from source in a shell of its own: `bl` is the command, `$DATA` the data folder. */
function shell(
  script: string,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-c', `bl() { "$NODE" --import tsx "$CLI" "$@"; }\n${script}`], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      BRANCHLENS_DEBUG: '',
      NODE: process.execPath,
      CLI: CHILD,
      DATA: t.dir,
      WORK: work,
      ...extraEnv,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A standard output whose every write fails with `code`, as process.stdout does on a full disk or closed pipe. */
function failing(code: 'EPIPE' | 'ENOSPC'): Writable {
  const stream = new Writable({
    write(_chunk, _encoding, done) {
      done(Object.assign(new Error(`write ${code}`), { code, syscall: 'write' }));
    },
  });
  return stream;
}

describe('audit export: output that cannot be written is exit 1, saying so in one line', () => {
  it.each(['ENOSPC', 'EPIPE'] as const)('standard output failing with %s', async (code) => {
    const err: Buffer[] = [];
    const exit = await main(['audit', 'export', '--format', 'jsonl', '--data', t.dir], {
      stdout: failing(code),
      stderr: new Writable({
        write(chunk: Buffer, _encoding, done) {
          err.push(Buffer.from(chunk));
          done();
        },
      }),
      stdin: Readable.from([]),
      env: {},
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(exit).toBe(1);
    expect(Buffer.concat(err).toString('utf8')).toBe(
      `branchlens audit export: cannot write standard output: ${code}\n`,
    );
  });

  it('a closed pipe in a real process (`| head -c 100`)', async () => {
    const r = await shell(
      'bl audit export --format jsonl --data "$DATA" | head -c 100 > /dev/null; echo "exit ${PIPESTATUS[0]}"',
    );
    expect(r.stderr).toBe('branchlens audit export: cannot write standard output: EPIPE\n');
    expect(r.stdout).toBe('exit 1\n');
  }, 30_000);

  it('--out FILE that outgrows the file-size limit (ulimit -f): exit 1 naming the file, and no file left', async () => {
    const out = join(work, 'limited.jsonl');
    const r = await shell('ulimit -f 100; bl audit export --format jsonl --data "$DATA" --out "$OUT"', {
      OUT: out,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      `branchlens audit export: cannot write ${out}: the file would be larger than this system allows (the file system, or a limit such as \`ulimit -f\`)\n`,
    );
    expect(readdirSync(work).filter((f) => f.includes('limited'))).toEqual([]);
  }, 30_000);

  it('--out a full device: exit 1, the disk is full, and the device stays a device', async (ctx) => {
    const full = join(work, 'full');
    if (!mknod(full, 1, 7)) ctx.skip();
    const r = await runCli(['audit', 'export', '--format', 'jsonl', '--data', t.dir, '--out', full]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe(`branchlens audit export: cannot write ${full}: the disk is full\n`);
    expect(statSync(full).isCharacterDevice()).toBe(true);
  });
});

describe('audit export --out a pipe, a device or standard output writes into it', () => {
  it('--out /dev/stdout is standard output: the export there, the summary on stderr', async () => {
    const r = await runCli(['audit', 'export', '--format', 'jsonl', '--data', t.dir, '--out', '/dev/stdout']);
    expect(r.code, r.stderr).toBe(0);
    expect(seqs(r.stdout)).toHaveLength(200);
    expect(r.stderr).toMatch(/^exported entries #1–#200 as jsonl to \/dev\/stdout, head #200 signed by/);
  });

  it('--out /dev/stdout inside `{ …; } > file` adds to the file rather than replacing it', async () => {
    const file = join(work, 'combined.txt');
    const r = await shell(
      '{ echo first; bl audit export --format jsonl --data "$DATA" --out /dev/stdout; } > "$FILE"',
      { FILE: file },
    );
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('first\n{"record":"entry","seq":1,')).toBe(true);
    expect(seqs(text.slice('first\n'.length))).toHaveLength(200);
  }, 30_000);

  it('--out >(…) (a pipe as /dev/fd/63) and a FIFO with a reader get the export', async () => {
    const viaFd = join(work, 'via-fd.jsonl');
    const r = await shell('bl audit export --format jsonl --data "$DATA" --out >(cat > "$FILE"); wait', {
      FILE: viaFd,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^exported entries #1–#200 as jsonl to \/dev\/fd\/\d+, head #200/);
    // The reader may still be writing what it read when bash returns.
    for (let i = 0; i < 50 && seqsOrNull(viaFd) === null; i++) await new Promise((r) => setTimeout(r, 100));
    expect(seqs(readFileSync(viaFd))).toHaveLength(200);

    const fifo = join(work, 'export.fifo');
    execFileSync('mkfifo', [fifo]);
    const fromFifo = join(work, 'from-fifo.jsonl');
    const f = await shell(
      'timeout 30 cat "$FIFO" > "$FILE" & bl audit export --format jsonl --data "$DATA" --out "$FIFO"; wait',
      { FIFO: fifo, FILE: fromFifo },
    );
    expect(f.code, f.stderr).toBe(0);
    expect(seqs(readFileSync(fromFifo))).toHaveLength(200);
    expect(statSync(fifo).isFIFO()).toBe(true);
  }, 60_000);

  it('--out /dev/null writes nothing anywhere, and /dev/null stays a character device', async () => {
    const before = statSync('/dev/null');
    const r = await runCli(['audit', 'export', '--format', 'jsonl', '--data', t.dir, '--out', '/dev/null']);
    expect(r.code, r.stderr).toBe(0);
    const after = statSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev]).toEqual([before.ino, before.rdev]);
  });
});

function seqsOrNull(file: string): number[] | null {
  if (!existsSync(file)) return null;
  const v = verifyExport(readFileSync(file), t.key.publicPem);
  return v.ok ? [] : null;
}

describe('audit export --since/--until', () => {
  const exportRange = async (...range: string[]) => {
    const r = await runCli(['audit', 'export', '--format', 'jsonl', '--data', t.dir, ...range]);
    expect(r.code, r.stderr).toBe(0);
    return seqs(r.stdout);
  };

  it.each(['2026-10-31T23:59:59.9995Z', '2026-10-31T23:59:59.999000001Z', '2026-11-01T07:59:59.99901+08:00'])(
    'a time finer than a millisecond (%s) is rounded up: --since never holds an entry stamped before it, and the same T splits the log exactly',
    async (T) => {
      const until = await exportRange('--until', T);
      const since = await exportRange('--since', T);
      // Entry #10 is stamped …59.999Z, before T; #11 00:00:00.000Z, after it.
      expect(until.at(-1)).toBe(10);
      expect(since[0]).toBe(11);
      expect([...until, ...since]).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    },
  );

  it('trailing zeros after the millisecond change nothing', async () => {
    expect((await exportRange('--since', '2026-11-01T00:00:00.000000Z'))[0]).toBe(11);
    expect((await exportRange('--since', '2026-10-31T23:59:59.9990000Z'))[0]).toBe(10);
  });

  it.each([
    ['--since', '9999-12-31T23:00:00-05:00', 'in the year 10000 in UTC'],
    ['--until', '9999-12-31T23:59:59.9995Z', 'in the year 10000 in UTC (rounded up to the next millisecond'],
    ['--since', '0000-01-01T00:30:00+01:00', 'in the year -1 in UTC'],
  ])('%s %s is outside the years 0000–9999 (UTC): exit 2 naming the flag', async (flag, time, year) => {
    const r = await runCli(['audit', 'export', '--format', 'jsonl', '--data', t.dir, flag, time]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`- ${flag}: "${time}" falls ${year}`);
    expect(r.stderr).toContain('times must fall in the years 0000–9999 (UTC)');
    expectNoStackTrace(r.stderr);
  });

  it('the years 0000 and 9999 themselves are taken', async () => {
    expect(
      await exportRange('--since', '0000-01-01T00:00:00Z', '--until', '9999-12-31T23:59:59.999Z'),
    ).toHaveLength(200);
  });

  it('--until in the same millisecond as --since, once rounded up, is exit 2 saying so', async () => {
    const r = await runCli([
      'audit',
      'export',
      '--format',
      'jsonl',
      '--data',
      t.dir,
      '--since',
      '2026-10-31T23:59:59.9991Z',
      '--until',
      '2026-10-31T23:59:59.9995Z',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('- --until: must be at least a millisecond after --since');
  });
});

describe('an empty --out', () => {
  it.each([
    ['audit export', ['audit', 'export', '--format', 'jsonl']],
    ['audit public-key', ['audit', 'public-key']],
  ])('%s --out "" exits 2: --out is empty, before the data folder is read', async (_name, argv) => {
    for (const empty of ['', '  ']) {
      const r = await runCli([
        ...argv,
        '--out',
        empty,
        '--data',
        join(tmpdir(), 'branchlens-no-such-folder'),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('- --out: is empty: name a file (leave --out out for standard output)');
    }
  });
});
