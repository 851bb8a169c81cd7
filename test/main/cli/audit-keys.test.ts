// `branchlens audit public-key | verify | export` and the installation's signing key: the key of the installation
// named, never one made for a mistyped folder; a damaged key file named as such (exit 2), not taken for a broken
// log; and a log whose key was replaced verified as intact, with the earlier key's checkpoints checked against
// the chain, or by their signatures with the public keys head office holds.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendEntries } from '../../../main/core/audit/index.js';
import { openWritable } from '../../../main/core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey, type SigningKey } from '../../../main/core/keys.js';
import { explainInput, tamper, tempLog, type TempLog } from '../core/audit/helpers.js';
import { expectNoStackTrace, removeDir, runCli, tempDir } from './helpers.js';

const KEY_FILE = join('keys', 'audit-ed25519.pem');
const T0 = Date.parse('2026-10-01T09:00:00.000Z');

/** Appends `n` entries from entry `from` (0-based), stamped a millisecond apart, a checkpoint every 5. */
function append(dir: string, key: SigningKey, from: number, n: number): void {
  const db = openWritable(dir);
  try {
    for (let i = from; i < from + n; i++) {
      appendEntries(db, [explainInput(i)], {
        now: new Date(T0 + i),
        signingKey: key,
        policy: { every: 5, intervalMs: 60_000 },
      });
    }
  } finally {
    db.close();
  }
}

let t: TempLog;
let work: string;
beforeEach(() => {
  t = tempLog();
  t.db.close();
  work = tempDir('branchlens-audit-keys-');
  append(t.dir, t.key, 0, 10);
});
afterEach(() => {
  t.cleanup();
  removeDir(work);
});

describe('audit public-key prints the key of the installation in --data, and never makes one', () => {
  it.each([
    ['a folder that does not exist', () => join(work, 'typo'), 'does not exist'],
    [
      'an empty folder',
      () => {
        mkdirSync(join(work, 'empty'));
        return join(work, 'empty');
      },
      'holds no BranchLens installation (no branchlens.db)',
    ],
  ])('--data naming %s is exit 2 naming --data, and creates nothing', async (_name, dataDir, reason) => {
    const dir = dataDir();
    const existed = existsSync(dir);
    for (const argv of [[], ['--out', join(work, 'branch12.pem')]]) {
      const r = await runCli(['audit', 'public-key', '--data', dir, ...argv]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`- --data: ${dir} ${reason}`);
      expectNoStackTrace(r.stderr);
    }
    expect(existsSync(dir)).toBe(existed);
    if (existed) expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(work, 'branch12.pem'))).toBe(false);
  });

  it('names $BRANCHLENS_DATA when the folder came from it', async () => {
    const dir = join(work, 'typo');
    const r = await runCli(['audit', 'public-key'], '', { BRANCHLENS_DATA: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`- $BRANCHLENS_DATA: ${dir} does not exist`);
    expect(existsSync(dir)).toBe(false);
  });

  it('an installation without a key file is exit 2 naming the key file, and no key is made', async () => {
    rmSync(join(t.dir, KEY_FILE));
    const r = await runCli(['audit', 'public-key', '--data', t.dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `- keys/audit-ed25519.pem: ${join(t.dir, KEY_FILE)} does not exist: this installation has no audit signing key`,
    );
    expect(r.stderr).toContain('restore it from a backup');
    expect(existsSync(join(t.dir, KEY_FILE))).toBe(false);
  });

  it('prints the installation’s own key, and --out /dev/stdout prints it as standard output', async () => {
    const r = await runCli(['audit', 'public-key', '--data', t.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(t.key.publicPem);
    const out = await runCli(['audit', 'public-key', '--data', t.dir, '--out', '/dev/stdout']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe(t.key.publicPem);
    expect(out.stderr).toBe(`wrote the audit public key ${t.key.id} to /dev/stdout\n`);
  });
});

describe('audit public-key --public-key KEY prints the key id of a key file, without a data folder', () => {
  it('prints the id seals name, the same for a copy with a BOM, CRLF or no final newline', async () => {
    const copies = {
      'branch.pem': t.key.publicPem,
      'bom.pem': '\ufeff' + t.key.publicPem,
      'crlf.pem': t.key.publicPem.replace(/\n/g, '\r\n'),
      'nonl.pem': t.key.publicPem.trimEnd(),
    };
    for (const [name, text] of Object.entries(copies)) {
      writeFileSync(join(work, name), text);
      const r = await runCli(['audit', 'public-key', '--public-key', join(work, name)], '', {
        BRANCHLENS_DATA: join(work, 'none'),
      });
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(`${t.key.id}\n`);
      expect(r.stderr).toBe('');
    }
  });

  it('is the formula docs/audit.md gives: k + 15 hex of SHA-256("branchlens/key-id" 0x00 PEM)', () => {
    const id = createHash('sha256')
      .update(Buffer.concat([Buffer.from('branchlens/key-id\0'), Buffer.from(t.key.publicPem)]))
      .digest('hex')
      .slice(0, 15);
    expect(`k${id}`).toBe(t.key.id);
  });

  it.each([['--data'], ['--out']])('with %s is exit 2 naming it', async (flag) => {
    const pem = join(work, 'branch.pem');
    writeFileSync(pem, t.key.publicPem);
    const r = await runCli(['audit', 'public-key', '--public-key', pem, flag, join(work, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`- ${flag}: is not used with --public-key`);
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  it('a file that is not a public key is exit 2 naming --public-key', async () => {
    const bad = join(work, 'bad.pem');
    writeFileSync(bad, 'garbage\n');
    const r = await runCli(['audit', 'public-key', '--public-key', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`- --public-key: ${bad} is not a PEM public key`);
    expectNoStackTrace(r.stderr);
  });
});

describe('a damaged signing key file', () => {
  const garbage = 'garbage\n';
  beforeEach(() => writeFileSync(join(t.dir, KEY_FILE), garbage));

  it.each([
    [['audit', 'verify']],
    [['audit', 'export', '--format', 'jsonl']],
    [['audit', 'export', '--format', 'jsonl', '--out', 'OUT']],
    [['audit', 'public-key']],
    [['audit', 'public-key', '--out', 'OUT']],
  ])('%j is exit 2 naming keys/audit-ed25519.pem as damaged, and changes nothing', async (argv) => {
    const out = join(work, 'out.jsonl');
    const before = readFileSync(join(t.dir, 'branchlens.db'));
    const r = await runCli([...argv.map((a) => (a === 'OUT' ? out : a)), '--data', t.dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `- keys/audit-ed25519.pem: ${join(t.dir, KEY_FILE)} is damaged: it is not an Ed25519 private key in PEM.`,
    );
    expect(r.stderr).toContain('Restore the file from a backup of this data folder');
    expect(r.stderr).toContain('the audit log itself is unchanged');
    expect(r.stderr).not.toContain('DECODER');
    expectNoStackTrace(r.stderr);
    expect(readFileSync(join(t.dir, KEY_FILE), 'utf8')).toBe(garbage);
    expect(readFileSync(join(t.dir, 'branchlens.db'))).toEqual(before);
    expect(existsSync(out)).toBe(false);
  });

  it('verify says the log can still be checked with --public-key, and that works', async () => {
    const r = await runCli(['audit', 'verify', '--data', t.dir]);
    expect(r.stderr).toContain('`branchlens audit verify --public-key FILE`');
    const pem = join(work, 'branch.pem');
    writeFileSync(pem, t.key.publicPem);
    const ok = await runCli(['audit', 'verify', '--data', t.dir, '--public-key', pem]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^audit log intact: 10 entries/);
  });
});

describe('a --public-key that is not an Ed25519 key', () => {
  // Such a key can verify no checkpoint: a wrong file picked at head office (the bank's RSA or EC key, an X25519
  // key) is a bad flag, not a branch whose log or export is broken.
  it.each([
    ['an RSA key', 'rsa', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey],
    ['an EC key', 'ec', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
    ['an X25519 key', 'x25519', () => generateKeyPairSync('x25519').publicKey],
    ['an Ed448 key', 'ed448', () => generateKeyPairSync('ed448').publicKey],
  ])('(%s) is exit 2 naming --public-key, for an export and for the log', async (_name, type, make) => {
    const pem = join(work, `${type}.pem`);
    writeFileSync(pem, make().export({ type: 'spki', format: 'pem' }));
    const exported = join(work, 'all.jsonl');
    expect(
      (await runCli(['audit', 'export', '--data', t.dir, '--format', 'jsonl', '--out', exported])).code,
    ).toBe(0);
    for (const argv of [
      ['--export', exported, '--public-key', pem],
      ['--data', t.dir, '--public-key', pem],
    ]) {
      const r = await runCli(['audit', 'verify', ...argv]);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        `- --public-key: ${pem} holds a key of type ${type}, not an Ed25519 public key`,
      );
      expectNoStackTrace(r.stderr);
    }
  });
});

describe('audit verify of a log whose signing key was replaced', () => {
  /** The first key's public PEM file, the second key, and its PEM file. */
  let first: string;
  let second: SigningKey;
  let secondPem: string;
  beforeEach(() => {
    first = join(work, 'first.pem');
    writeFileSync(first, t.key.publicPem);
    // The key file is lost; the next writer makes a new key and signs the checkpoints after it.
    rmSync(join(t.dir, KEY_FILE));
    second = loadOrCreateSigningKey(fileSecretStore(t.dir));
    append(t.dir, second, 10, 10);
    secondPem = join(work, 'second.pem');
    writeFileSync(secondPem, second.publicPem);
  });

  it('is intact (exit 0), the earlier key’s checkpoints checked against the chain, and says so', async () => {
    const r = await runCli(['audit', 'verify', '--data', t.dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^audit log intact: 20 entries/);
    expect(r.stdout).toContain(
      `; checkpoints signed by earlier key ${t.key.id}: checked against the chain; their signatures can be checked with --public-key`,
    );
    const json = await runCli(['audit', 'verify', '--data', t.dir, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, entries: 20, otherKeyIds: [t.key.id] });
  });

  it('with the earlier and the current public key, checks every checkpoint’s signature', async () => {
    const r = await runCli([
      'audit',
      'verify',
      '--data',
      t.dir,
      '--public-key',
      first,
      '--public-key',
      secondPem,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^audit log intact: 20 entries/);
    expect(r.stdout).toContain(`signatures checked with ${t.key.id}, ${second.id}`);
    expect(r.stdout).not.toContain('checked against the chain');
    const json = await runCli([
      'audit',
      'verify',
      '--data',
      t.dir,
      '--json',
      '--public-key',
      secondPem,
      '--public-key',
      first,
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).not.toHaveProperty('otherKeyIds');
  });

  it('with the given keys, a forged signature of the earlier key is caught (exit 1)', async () => {
    tamper(t.dir, (raw) => {
      const row = raw.prepare('SELECT signature FROM audit_checkpoints WHERE seq = 5').get() as {
        signature: Buffer;
      };
      const forged = Buffer.from(row.signature);
      forged[0] = forged[0]! ^ 1;
      raw.prepare('UPDATE audit_checkpoints SET signature = ? WHERE seq = 5').run(forged);
    });
    const both = ['--public-key', first, '--public-key', secondPem];
    const r = await runCli(['audit', 'verify', '--data', t.dir, ...both]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^audit log BROKEN at entry 5 \(bad_signature\)/);
  });

  it('with the given keys, an edited entry is caught (exit 1)', async () => {
    tamper(t.dir, (raw) => raw.exec('UPDATE audit_entries SET prediction = 1 WHERE seq = 12'));
    for (const keys of [[], ['--public-key', first, '--public-key', secondPem]]) {
      const r = await runCli(['audit', 'verify', '--data', t.dir, ...keys]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^audit log BROKEN at entry 12 \(edited\)/);
    }
  });

  it('a checkpoint naming a key that was not given is a break, as with one key', async () => {
    const onlyNew = await runCli(['audit', 'verify', '--data', t.dir, '--public-key', secondPem]);
    expect(onlyNew.code).toBe(1);
    expect(onlyNew.stdout).toMatch(
      new RegExp(`^audit log BROKEN at entry 5 \\(bad_signature\\): .*names key ${t.key.id}`),
    );
    const other = tempLog();
    try {
      const otherPem = join(work, 'other.pem');
      writeFileSync(otherPem, other.key.publicPem);
      const r = await runCli([
        'audit',
        'verify',
        '--data',
        t.dir,
        '--public-key',
        first,
        '--public-key',
        otherPem,
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `audit log BROKEN at entry 15 (bad_signature): the checkpoint at entry 15 names key ${second.id}, none of the given public keys (${t.key.id}, ${other.key.id})`,
      );
    } finally {
      other.cleanup();
    }
  });

  it('with no key file at all, is intact, every checkpoint checked against the chain, and says so', async () => {
    rmSync(join(t.dir, KEY_FILE));
    const r = await runCli(['audit', 'verify', '--data', t.dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `this installation has no audit signing key (keys/audit-ed25519.pem): checkpoints signed by ${t.key.id}, ${second.id}: checked against the chain only`,
    );
    expect(existsSync(join(t.dir, KEY_FILE))).toBe(false);
  });

  it('verify --export --after holds the new key’s export against the earlier key’s (--after-public-key)', async () => {
    // The export head office received before the key was replaced: the same first 10 entries, sealed by the first
    // key (the same entries, stamps and checkpoints make the same chain).
    const before = join(work, 'before.jsonl');
    const firstOnly = tempLog();
    try {
      firstOnly.db.close();
      writeFileSync(
        join(firstOnly.dir, KEY_FILE),
        t.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      );
      append(firstOnly.dir, t.key, 0, 10);
      const r0 = await runCli([
        'audit',
        'export',
        '--data',
        firstOnly.dir,
        '--format',
        'jsonl',
        '--out',
        before,
      ]);
      expect(r0.code, r0.stderr).toBe(0);
    } finally {
      firstOnly.cleanup();
    }
    const after = join(work, 'after.jsonl');
    const r1 = await runCli([
      'audit',
      'export',
      '--data',
      t.dir,
      '--format',
      'jsonl',
      '--since',
      '2026-10-01T09:00:00.010Z',
      '--out',
      after,
    ]);
    expect(r1.code, r1.stderr).toBe(0);
    const verify = (...more: string[]) =>
      runCli(['audit', 'verify', '--export', after, '--public-key', secondPem, '--after', before, ...more]);
    const withoutKey = await verify();
    expect(withoutKey.code).toBe(2);
    expect(withoutKey.stderr).toContain('give the public key that sealed it with --after-public-key');
    const r = await verify('--after-public-key', first);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^export .*after\.jsonl intact: jsonl, entries #11–#20/m);
    expect(r.stdout).toMatch(
      /^after .*before\.jsonl: continues: it continues the previous export \(entries 11–20 after 10\)$/m,
    );
    // The --after export is verified with that key, as it is with --public-key.
    const wrongPrevious = await verify('--after-public-key', secondPem);
    expect(wrongPrevious.code).toBe(2);
    expect(wrongPrevious.stderr).toMatch(
      /- --after: .*before\.jsonl does not verify with --after-public-key \(bad_signature/,
    );
    const alone = await runCli([
      'audit',
      'verify',
      '--export',
      after,
      '--public-key',
      secondPem,
      '--after-public-key',
      first,
    ]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain(
      '- --after-public-key: is the key of the --after export: give --after PREVIOUS too',
    );
  });

  it('verify --export takes one --public-key: more is exit 2 naming it', async () => {
    const r = await runCli([
      'audit',
      'verify',
      '--export',
      join(work, 'x.jsonl'),
      '--public-key',
      first,
      '--public-key',
      secondPem,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('- --public-key: is given 2 times: an export is sealed by one key');
  });
});
