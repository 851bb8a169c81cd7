import fs, {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../main/cli/index.js';
import { appendEntries, verifyExport } from '../../../main/core/audit/index.js';
import { openWritable } from '../../../main/core/db/open.js';
import {
  appendUnordered,
  explainInput,
  modelInput,
  tamper,
  tempLog,
  type TempLog,
} from '../core/audit/helpers.js';

interface Run {
  code: number;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

async function run(argv: string[], stdin?: Buffer): Promise<Run> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        into.push(Buffer.from(chunk));
        done();
      },
    });
  const code = await main(argv, {
    stdout: sink(out),
    stderr: sink(err),
    stdin: stdin ? Readable.from([stdin]) : new PassThrough(),
    env: {},
  });
  const stdoutBytes = Buffer.concat(out);
  return {
    code,
    stdout: stdoutBytes.toString('utf8'),
    stdoutBytes,
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

describe('branchlens audit', () => {
  let t: TempLog;
  /** Where exports go: never the data folder, which --out refuses. */
  let outDir: string;
  beforeEach(() => {
    t = tempLog();
    outDir = mkdtempSync(join(tmpdir(), 'branchlens-out-'));
    for (let i = 0; i < 30; i++) {
      appendEntries(t.db, [i % 5 === 2 ? modelInput(i) : explainInput(i)], {
        now: new Date(Date.parse('2025-04-01T00:00:00Z') + i * 3_600_000),
        signingKey: t.key,
        policy: { every: 10, intervalMs: 10 * 60_000 },
      });
    }
    t.db.close();
  });
  afterEach(() => {
    t.cleanup();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('verify exits 0 on an intact log', async () => {
    const r = await run(['audit', 'verify', '--data', t.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/audit log intact: 30 entries/);
  });

  it('verify exits 1 naming the first broken entry', async () => {
    tamper(t.dir, (raw) => raw.exec('UPDATE audit_entries SET prediction = 1 WHERE seq = 7'));
    const r = await run(['audit', 'verify', '--data', t.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/BROKEN at entry 7 \(edited\)/);
  });

  it('verify exits 1 on a truncated tail, and reports JSON with --json', async () => {
    tamper(t.dir, (raw) => raw.exec('DELETE FROM audit_entries WHERE seq > 25'));
    const r = await run(['audit', 'verify', '--data', t.dir, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, break: { seq: 26, kind: 'truncated' } });
  });

  it('verify exits 1 when the checkpoints do not match the given public key', async () => {
    const other = tempLog();
    try {
      writeFileSync(join(t.dir, 'other.pem'), other.key.publicPem);
      const r = await run(['audit', 'verify', '--data', t.dir, '--public-key', join(t.dir, 'other.pem')]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/bad_signature/);
    } finally {
      other.cleanup();
    }
  });

  it('export, public-key and verify --export round-trip; a tampered export exits 1', async () => {
    const file = join(outDir, 'audit.jsonl.gz');
    const pem = join(outDir, 'branch.pem');
    const exported = await run([
      'audit',
      'export',
      '--format',
      'jsonl',
      '--gzip',
      '--out',
      file,
      '--data',
      t.dir,
    ]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/exported entries #1–#30 as jsonl/);
    expect((await run(['audit', 'public-key', '--data', t.dir, '--out', pem])).code).toBe(0);
    expect(readFileSync(pem, 'utf8')).toBe(t.key.publicPem);

    const ok = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/intact: jsonl, entries #1–#30/);

    const tampered = gunzipSync(readFileSync(file)).toString('utf8').replace('"doc-3"', '"doc-4"');
    writeFileSync(file, tampered);
    const broken = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/BROKEN at entry 4 \(edited\)/);
  });

  it('export writes to stdout without --out, and --since cuts the front', async () => {
    const r = await run([
      'audit',
      'export',
      '--format',
      'es-bulk',
      '--since',
      '2025-04-01T20:00:00Z',
      '--data',
      t.dir,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/exported entries #21–#30 as es-bulk/);
    expect(verifyExport(r.stdoutBytes, t.key.publicPem)).toMatchObject({
      ok: true,
      entries: 10,
      firstSeq: 21,
    });
  });

  it('export whose checkpoint SQLite refuses as "disk I/O error" on a full disk says the disk is full', async () => {
    // An entry past the last checkpoint: the export signs the head in a checkpoint of its own, its write.
    const db = openWritable(t.dir);
    appendEntries(db, [explainInput(30)], {
      now: new Date('2025-04-03T00:00:00Z'),
      signingKey: t.key,
      policy: { every: 1000, intervalMs: 24 * 3_600_000 },
    });
    db.close();
    // That write finds the disk full; statfs finds 8 KiB left on the data folder's disk.
    const prepare = Database.prototype.prepare;
    vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (
      this: Database.Database,
      sql: string,
    ) {
      if (sql.startsWith('INSERT INTO audit_checkpoints'))
        throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_SHMSIZE');
      return prepare.call(this, sql);
    } as typeof prepare);
    const statfs = fs.statfsSync;
    vi.spyOn(fs, 'statfsSync').mockImplementation(((path: fs.PathLike) => ({
      ...statfs(path),
      bavail: 2,
      bsize: 4096,
    })) as typeof fs.statfsSync);
    syncBuiltinESMExports();
    try {
      const r = await run(['audit', 'export', '--format', 'jsonl', '--data', t.dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        'branchlens audit export: the disk holding the database is full (8192 bytes free): free some space on it\n',
      );
    } finally {
      vi.restoreAllMocks();
      syncBuiltinESMExports();
    }
  });

  it('--since takes a plain date as midnight UTC, and a date-time with an offset', async () => {
    for (const since of ['2025-04-01', '2025-04-01T21:00:00+01:00']) {
      const r = await run(['audit', 'export', '--format', 'jsonl', '--since', since, '--data', t.dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(verifyExport(r.stdoutBytes, t.key.publicPem)).toMatchObject({
        ok: true,
        firstSeq: since === '2025-04-01' ? 1 : 21,
      });
    }
  });

  it.each([
    [
      'Asia/Shanghai',
      'note: --since 2025-04-02 is midnight UTC, 2025-04-02 08:00 on this machine (UTC+08:00); for midnight here, give --since 2025-04-02T00:00:00+08:00\n',
      17,
    ],
    [
      'America/New_York',
      'note: --since 2025-04-02 is midnight UTC, 2025-04-01 20:00 on this machine (UTC-04:00); for midnight here, give --since 2025-04-02T00:00:00-04:00\n',
      29,
    ],
    ['UTC', null, 25],
  ])(
    'a plain --since date on a machine in %s says which local time it is, and how to give local midnight',
    async (zone, note, localFirst) => {
      const tz = process.env.TZ;
      process.env.TZ = zone;
      try {
        const r = await run([
          'audit',
          'export',
          '--format',
          'jsonl',
          '--since',
          '2025-04-02',
          '--data',
          t.dir,
        ]);
        expect(r.code, r.stderr).toBe(0);
        // Still midnight UTC, as documented: the 25th entry is the first stamped on 2 April in UTC.
        expect(verifyExport(r.stdoutBytes, t.key.publicPem)).toMatchObject({ ok: true, firstSeq: 25 });
        const notes = r.stderr.split(/(?=note: )/).filter((l) => l.startsWith('note: '));
        expect(notes).toEqual(note ? [note] : []);
        // The date-time it suggests starts the export at midnight here.
        const given = note ? /give --since (\S+)\n/.exec(note)![1]! : '2025-04-02';
        const local = await run(['audit', 'export', '--format', 'jsonl', '--since', given, '--data', t.dir]);
        expect(verifyExport(local.stdoutBytes, t.key.publicPem)).toMatchObject({ firstSeq: localFirst });
      } finally {
        if (tz === undefined) delete process.env.TZ;
        else process.env.TZ = tz;
      }
    },
  );

  it('--since with --until exports a closed range; --until not after --since, or not a date, is exit 2', async () => {
    const r = await run([
      'audit',
      'export',
      '--format',
      'csv',
      '--since',
      '2025-04-01T21:00:00+01:00',
      '--until',
      '2025-04-01T21:05:00+01:00',
      '--data',
      t.dir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const v = verifyExport(r.stdoutBytes, t.key.publicPem);
    expect(v).toMatchObject({ ok: true, firstSeq: 21 });
    expect(v.entries).toBeGreaterThan(0);
    expect(v.head!.seq).toBeLessThan(21 + 10);
    expect(r.stderr).toMatch(/range end #\d+ signed by/);
    for (const [since, until, message] of [
      ['2025-04-02', '2025-04-01', /- --until: must be after --since \(2025-04-02\), got "2025-04-01"/],
      ['2025-04-01', '2025-04-01', /- --until: must be after --since/],
      [undefined, 'yesterday', /- --until: must be an ISO 8601 date/],
    ] as const) {
      const bad = await run([
        'audit',
        'export',
        '--format',
        'jsonl',
        ...(since ? ['--since', since] : []),
        '--until',
        until,
        '--data',
        t.dir,
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(message);
    }
  });

  it.each([
    ['2026-02-30', /- --since: 2026-02-30 is not a date on the calendar/],
    ['2026-02-30T00:00:00Z', /- --since: 2026-02-30 is not a date on the calendar/],
    ['2026-11-31T00:00:00Z', /- --since: 2026-11-31 is not a date on the calendar/],
    ['2025-02-29', /- --since: 2025-02-29 is not a date on the calendar/],
    ['12/01/2026', /- --since: must be an ISO 8601 date .*"12\/01\/2026"/],
    ['2026-03-01T09:00:00', /- --since: must be an ISO 8601 date .* with Z or an offset/],
    ['2026-03-01T25:00:00Z', /- --since: must be an ISO 8601 date/],
  ])('--since %s is refused with exit 2, naming --since', async (since, message) => {
    const r = await run(['audit', 'export', '--format', 'jsonl', '--since', since, '--data', t.dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  /** The number of signed checkpoints in the log: an export signs one more. */
  async function checkpoints(): Promise<number> {
    const r = await run(['audit', 'verify', '--json', '--data', t.dir]);
    return (JSON.parse(r.stdout) as { checkpoints: number }).checkpoints;
  }

  it.each([
    ['a folder that does not exist', 'missing/d/x.jsonl', 'its folder does not exist'],
    ['a folder', 'out', 'it is a folder'],
    ['a path through a file', 'file.txt/x.jsonl', 'part of the path is a file, not a folder'],
  ])(
    'export --out into %s exits 2 naming --out, signs nothing and leaves no file',
    async (_name, target, reason) => {
      const work = join(outDir, 'work');
      mkdirSync(join(work, 'out'), { recursive: true });
      writeFileSync(join(work, 'file.txt'), 'kept');
      const before = await checkpoints();
      const out = join(work, target);
      const r = await run(['audit', 'export', '--format', 'jsonl', '--out', out, '--data', t.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`- --out: cannot write ${out}: ${reason}`);
      expect(r.stderr).not.toMatch(/^ {4}at /m);
      expect(await checkpoints()).toBe(before);
      expect(readdirSync(work).sort()).toEqual(['file.txt', 'out']);
      expect(readdirSync(join(work, 'out'))).toEqual([]);
    },
  );

  it('public-key --out a folder exits 2 naming --out', async () => {
    const r = await run(['audit', 'public-key', '--out', t.dir, '--data', t.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`- --out: cannot write ${t.dir}: it is a folder`);
  });

  it('refuses an --out inside the data folder: an export or a key written over the database or keys', async () => {
    const db = join(t.dir, 'branchlens.db');
    const before = readFileSync(db);
    const exported = await run(['audit', 'export', '--format', 'jsonl', '--out', db, '--data', t.dir]);
    expect(exported.code).toBe(2);
    expect(exported.stderr).toContain(`- --out: ${db} is inside the data folder ${t.dir}`);
    const keyFile = join(t.dir, 'keys', 'audit-ed25519.pem');
    const keyBefore = readFileSync(keyFile);
    const key = await run(['audit', 'public-key', '--out', keyFile, '--data', t.dir]);
    expect(key.code).toBe(2);
    expect(key.stderr).toContain('is inside the data folder');
    expect(readFileSync(keyFile)).toEqual(keyBefore);
    expect(readFileSync(db)).toEqual(before);
    expect((await run(['audit', 'verify', '--data', t.dir])).code).toBe(0);
  });

  it('refuses to export a folder with no audit log (a mistyped --data) instead of signing an empty export', async () => {
    const typo = join(outDir, 'no-such-branch');
    const r = await run(['audit', 'export', '--format', 'jsonl', '--data', typo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`- --data: ${typo} holds no audit log (no branchlens.db)`);
    expect(r.stdout).toBe('');
    expect(existsSync(typo)).toBe(false);
  });

  it('refuses a flag given twice instead of taking the last one', async () => {
    const r = await run(['audit', 'verify', '--data', t.dir, '--data', outDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('- --data: is given 2 times; give it once');
  });

  it('public-key prints the PEM', async () => {
    const r = await run(['audit', 'public-key', '--data', t.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(t.key.publicPem);
  });

  it.each([
    [['audit', 'verify', '--bogus'], '--bogus'],
    [['audit', 'verify', '--export', 'x.jsonl'], '--public-key'],
    [
      ['audit', 'verify', '--export', '/nonexistent/x.jsonl', '--public-key', '/nonexistent/k.pem'],
      '--public-key',
    ],
    [['audit', 'export'], '--format'],
    [['audit', 'export', '--format', 'xml'], '--format'],
    [['audit', 'export', '--format', 'csv', '--since', 'last tuesday'], '--since'],
    [['audit', 'export', '--format'], '--format'],
    [['audit', 'public-key', '--out'], '--out'],
  ])('bad flags exit 2 naming the flag: %j', async (argv, flag) => {
    const r = await run([...argv, '--data', t.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
  });

  it('verify --export exits 2 naming --export when the file cannot be read', async () => {
    const pem = join(t.dir, 'branch.pem');
    writeFileSync(pem, t.key.publicPem);
    const r = await run(['audit', 'verify', '--export', join(t.dir, 'missing.jsonl'), '--public-key', pem]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--export');
  });

  async function exportFile(format: string): Promise<{ file: string; pem: string }> {
    const file = join(outDir, `audit.${format}`);
    const pem = join(t.dir, 'branch.pem');
    writeFileSync(pem, t.key.publicPem);
    expect((await run(['audit', 'export', '--format', format, '--out', file, '--data', t.dir])).code).toBe(0);
    return { file, pem };
  }

  it('verify --export - reads the export from standard input', async () => {
    const { file, pem } = await exportFile('jsonl');
    const ok = await run(['audit', 'verify', '--export', '-', '--public-key', pem], readFileSync(file));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/export \(standard input\) intact: jsonl, entries #1–#30/);
    const tampered = readFileSync(file, 'utf8').replace('"doc-3"', '"doc-4"');
    const broken = await run(
      ['audit', 'verify', '--export', '-', '--public-key', pem],
      Buffer.from(tampered),
    );
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/BROKEN at entry 4 \(edited\)/);
  });

  it('verify --export refuses a forged es-bulk action with exit 1, naming the line', async () => {
    const { file, pem } = await exportFile('es-bulk');
    writeFileSync(file, readFileSync(file, 'utf8').replace('{"create":', '{"index":'));
    const r = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/BROKEN \(malformed\): line 1: the action is "index", not "create"/);
    expect(r.stderr).toBe('');
  });

  it('verify --export accepts a byte-order mark before the header of a CSV export', async () => {
    const { file, pem } = await exportFile('csv');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(file)]));
    const r = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/intact: csv, entries #1–#30/);
  });

  it('verify --export streams a gzip bomb and stops at its over-long line with exit 2, naming --export', async () => {
    const { pem } = await exportFile('jsonl');
    const bomb = join(t.dir, 'bomb.jsonl.gz');
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < 257; i++) yield chunk;
        })(),
      ),
      createGzip(),
      createWriteStream(bomb),
    );
    const r = await run(['audit', 'verify', '--export', bomb, '--public-key', pem]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('- --export: line 1 is longer than 256 MiB, too long to verify');
    expect(r.stderr).not.toMatch(/^ {4}at /m);
  });

  it('export --since/--until of a log with timestamps out of order names the entries out of place', async () => {
    const db = openWritable(t.dir);
    try {
      // Stamped as BranchLens stamped them before keeping them in order: entry 33 a moment before 31 and 32.
      appendUnordered(
        db,
        ['2025-04-03T00:00:00.000Z', '2025-04-03T00:00:00.000Z', '2025-04-02T23:59:59.999Z'],
        30,
      );
    } finally {
      db.close();
    }
    const until = await run([
      'audit',
      'export',
      '--format',
      'jsonl',
      '--until',
      '2025-04-03',
      '--data',
      t.dir,
    ]);
    expect(until.code, until.stderr).toBe(0);
    expect(verifyExport(until.stdoutBytes, t.key.publicPem)).toMatchObject({ ok: true, head: { seq: 30 } });
    expect(until.stderr).toContain(
      'note: entry #33 is stamped before --until 2025-04-03 but comes after the first entry stamped at or after it',
    );
    expect(until.stderr).toContain('so it is left to the range that starts there');
    const since = await run([
      'audit',
      'export',
      '--format',
      'jsonl',
      '--since',
      '2025-04-03',
      '--data',
      t.dir,
    ]);
    expect(since.code, since.stderr).toBe(0);
    expect(verifyExport(since.stdoutBytes, t.key.publicPem)).toMatchObject({ ok: true, firstSeq: 31 });
    expect(since.stderr).toMatch(
      /note: entry #33 is stamped before --since 2025-04-03 .* so it is in this export/,
    );
    // A log stamped in order has nothing to note (but, off UTC, what the plain date is here).
    const plain = await run([
      'audit',
      'export',
      '--format',
      'jsonl',
      '--until',
      '2025-04-02',
      '--data',
      t.dir,
    ]);
    expect(plain.stderr).not.toMatch(/^note: .*stamped before/m);
  });

  it('export --format es-bulk keeps every entry’s _id when the signing key is replaced', async () => {
    const ids = (r: Run) =>
      r.stdout
        .split('\n')
        .filter((l) => l.includes('"branchlens-audit-entries"'))
        .map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id);
    const before = await run(['audit', 'export', '--format', 'es-bulk', '--data', t.dir]);
    rmSync(join(t.dir, 'keys', 'audit-ed25519.pem'));
    const after = await run(['audit', 'export', '--format', 'es-bulk', '--data', t.dir]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toMatch(/note: earlier checkpoints in this log were signed by/);
    expect(ids(before)).toHaveLength(30);
    expect(ids(after)).toEqual(ids(before));
  });

  it('verify --export blames a forged seal, not the entries: exit 1, bad_signature naming its line', async () => {
    const { file, pem } = await exportFile('jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    const seal = JSON.parse(lines[30]!) as Record<string, unknown>;
    writeFileSync(file, [...lines.slice(0, 30), JSON.stringify({ ...seal, first_seq: 2 }), ''].join('\n'));
    const r = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^export .* BROKEN \(bad_signature\): line 31: the seal's signature does not verify with the given public key/,
    );
    expect(r.stderr).toBe('');
  });

  it('verify --export refuses bytes that are not UTF-8 as malformed, naming the line, not as an edit', async () => {
    const { file, pem } = await exportFile('csv');
    const bytes = readFileSync(file);
    const at = bytes.indexOf('credit-demo', bytes.indexOf('\nentry,4,'));
    bytes[at] = 0xff;
    writeFileSync(file, bytes);
    const r = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/BROKEN \(malformed\): line 5 is not UTF-8 text\n$/);
    expect(r.stderr).toBe('');
  });

  it('verify --export of a date range names its last entry, not a head, with the range’s timestamps', async () => {
    const file = join(outDir, 'range.csv');
    const pem = join(t.dir, 'branch.pem');
    writeFileSync(pem, t.key.publicPem);
    const exported = await run([
      'audit',
      'export',
      '--format',
      'csv',
      '--since',
      '2025-04-01T05:00:00Z',
      '--until',
      '2025-04-01T10:00:00Z',
      '--out',
      file,
      '--data',
      t.dir,
    ]);
    expect(exported.stdout).toMatch(/exported entries #6–#10 as csv .*, range end #10 signed by/);
    const r = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^export .*range\.csv intact: csv, entries #6–#10 stamped 2025-04-01T05:00:00\.000Z to 2025-04-01T09:00:00\.000Z; last entry #10 [0-9a-f]{16}… signed by k[0-9a-f]{15} at \S+\n$/,
    );
    expect(r.stdout).not.toContain('head');
    const json = await run(['audit', 'verify', '--export', file, '--public-key', pem, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      firstSeq: 6,
      head: { seq: 10 },
      firstTimestamp: '2025-04-01T05:00:00.000Z',
      lastTimestamp: '2025-04-01T09:00:00.000Z',
    });
  });

  it('verify --export of an empty range says it is empty', async () => {
    const file = join(outDir, 'empty.jsonl');
    const pem = join(t.dir, 'branch.pem');
    writeFileSync(pem, t.key.publicPem);
    const args = ['--since', '2026-01-01', '--out', file, '--data', t.dir];
    expect((await run(['audit', 'export', '--format', 'jsonl', ...args])).code).toBe(0);
    const r = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /intact: jsonl, no entries: the range is empty \(it starts after entry #30 [0-9a-f]{16}…\); signed by k/,
    );
  });

  it('verify --export of a CSV saved by Excel is malformed, naming the line, the column and the cause (exit 1)', async () => {
    const { file, pem } = await exportFile('csv');
    const lines = readFileSync(file, 'utf8').split('\n');
    // Excel: a byte-order mark, CRLF, 64 zeros as 0, and a signature starting with "+" read as a formula.
    lines[1] = lines[1]!.replace(`,${'0'.repeat(64)},`, ',0,');
    lines[31] = lines[31]!.replace(/,[A-Za-z0-9+/]{86}==$/, ',#NAME?');
    writeFileSync(file, '\ufeff' + lines.join('\r\n'));
    const r = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /BROKEN \(malformed\): line 2: the "prev_hash" cell holds "0", .*: a spreadsheet turned 000…0 into the number 0; verify the file as received/,
    );
    writeFileSync(file, '\ufeff' + lines.join('\r\n').replace(',0,', `,${'0'.repeat(64)},`));
    const sig = await run(['audit', 'verify', '--export', file, '--public-key', pem]);
    expect(sig.code).toBe(1);
    expect(sig.stdout).toMatch(
      /BROKEN \(malformed\): line 32: the "signature" cell holds "#NAME\?", .*read the signature, which may start with "\+", as a formula/,
    );
    expect(sig.stderr).toBe('');
  });

  it.each([
    ['does not exist', (dir: string) => join(dir, 'nonexistent'), 'does not exist'],
    ['holds no database', (dir: string) => mkdtempSync(join(dir, 'empty-')), 'holds no BranchLens database'],
  ])('verify --data DIR that %s exits 2 naming --data', async (_name, dataDir, reason) => {
    const dir = dataDir(t.dir);
    const r = await run(['audit', 'verify', '--data', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`- --data: ${dir} ${reason}`);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
  });
});
