// `branchlens audit verify --export NEW --public-key KEY --after PREVIOUS`: head office holds each export of a
// branch against the last one it verified, and is told when they continue, overlap, leave a gap or diverge.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEntries } from '../../../main/core/audit/index.js';
import { explainInput, tempLog, type TempLog } from '../core/audit/helpers.js';
import { runCli } from './helpers.js';

const DAY = 86_400_000;
const START = Date.parse('2026-01-01T00:00:00Z');

let t: TempLog;
let out: string;
let pem: string;
const file = (name: string) => join(out, name);

beforeAll(async () => {
  t = tempLog();
  out = mkdtempSync(join(tmpdir(), 'branchlens-after-'));
  // Five entries a day through January, February and March.
  for (let d = 0; d < 90; d++) {
    for (let i = 0; i < 5; i++) {
      appendEntries(t.db, [explainInput(d * 5 + i)], {
        signingKey: t.key,
        now: new Date(START + d * DAY + i * 60_000),
      });
    }
  }
  t.db.close();
  pem = file('branch.pem');
  expect((await runCli(['audit', 'public-key', '--data', t.dir, '--out', pem])).code).toBe(0);
  const exportRange = async (name: string, ...range: string[]) =>
    expect(
      (await runCli(['audit', 'export', '--data', t.dir, '--format', 'jsonl', '--out', file(name), ...range]))
        .code,
    ).toBe(0);
  await exportRange('jan.jsonl', '--since', '2026-01-01', '--until', '2026-02-01');
  await exportRange('feb.jsonl', '--since', '2026-02-01', '--until', '2026-03-01');
  await exportRange('mar.jsonl', '--since', '2026-03-01', '--until', '2026-04-01');
  await exportRange('all.jsonl');
}, 60_000);
afterAll(() => {
  t.cleanup();
  rmSync(out, { recursive: true, force: true });
});

const verifyAfter = (next: string, previous: string, ...more: string[]) =>
  runCli([
    'audit',
    'verify',
    '--export',
    file(next),
    '--public-key',
    pem,
    '--after',
    file(previous),
    ...more,
  ]);

describe('audit verify --export --after', () => {
  it('the next month continues the last: exit 0, said on a second line', async () => {
    const r = await verifyAfter('feb.jsonl', 'jan.jsonl');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^export .*feb\.jsonl intact: jsonl, entries #156–#295/m);
    expect(r.stdout).toMatch(
      /^after .*jan\.jsonl: continues: it continues the previous export \(entries 156–295 after 155\)$/m,
    );
  });

  it('an export to the head overlaps January and agrees', async () => {
    const r = await verifyAfter('all.jsonl', 'jan.jsonl');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/after .*: overlaps: it agrees with the previous export up to entry 155/);
  });

  it('January again after the export to the head is within it, and says what that may mean (exit 0)', async () => {
    const r = await verifyAfter('jan.jsonl', 'all.jsonl');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/within: .*cut back/);
  });

  it('March after January leaves February out: exit 1 naming the entries', async () => {
    const r = await verifyAfter('mar.jsonl', 'jan.jsonl');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /after .*jan\.jsonl: BROKEN at entry 156 \(gap\): entries 156–295 are in neither export/,
    );
  });

  it('--json carries the continuity, and ok is false for a gap', async () => {
    const r = await verifyAfter('mar.jsonl', 'jan.jsonl', '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { ok: boolean; continuity: { ok: boolean; kind: string } };
    expect(json.ok).toBe(false);
    expect(json.continuity).toMatchObject({ ok: false, kind: 'gap' });
  });

  it('an export of another log (not this branch’s history) diverges: exit 1', async () => {
    // February's first line edited and the seal left as it was does not verify; so take another branch's export
    // with the same key instead: a second log written with different entries.
    const other = tempLog();
    try {
      for (let i = 0; i < 300; i++) {
        appendEntries(other.db, [explainInput(10_000 + i)], {
          signingKey: t.key,
          now: new Date(START + i * 60_000),
        });
      }
      other.db.close();
      writeFileSync(
        join(other.dir, 'keys', 'audit-ed25519.pem'),
        readFileSync(join(t.dir, 'keys', 'audit-ed25519.pem')),
      );
      const r1 = await runCli([
        'audit',
        'export',
        '--data',
        other.dir,
        '--format',
        'jsonl',
        '--out',
        file('other.jsonl'),
      ]);
      expect(r1.code, r1.stderr).toBe(0);
      const r = await verifyAfter('other.jsonl', 'jan.jsonl');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/BROKEN at entry 155 \(diverged\)/);
    } finally {
      other.cleanup();
    }
  });

  it('refuses --after without --export, from standard input, or one that does not verify (exit 2)', async () => {
    const alone = await runCli(['audit', 'verify', '--data', t.dir, '--after', file('jan.jsonl')]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/- --after: .*--export FILE/);
    const stdin = await runCli([
      'audit',
      'verify',
      '--export',
      file('feb.jsonl'),
      '--public-key',
      pem,
      '--after',
      '-',
    ]);
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toMatch(/- --after: must be a file/);
    writeFileSync(
      file('cut.jsonl'),
      readFileSync(file('jan.jsonl'), 'utf8').split('\n').slice(0, 10).join('\n') + '\n',
    );
    const cut = await verifyAfter('feb.jsonl', 'cut.jsonl');
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/- --after: .*cut\.jsonl does not verify with this --public-key \(unsigned/);
    const missing = await verifyAfter('feb.jsonl', 'nope.jsonl');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/- --after: cannot read .*nope\.jsonl \(ENOENT\)/);
  });
});
