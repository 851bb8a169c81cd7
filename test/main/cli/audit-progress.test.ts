// `audit verify` and `audit export` draw their progress on stderr only when it is a terminal: never into a pipe,
// a file, or --json output; the line is redrawn in place and cleared when the work ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditExportCommand, auditVerifyCommand } from '../../../main/cli/commands/audit.js';
import type { Command } from '../../../main/cli/command.js';
import { appendEntries } from '../../../main/core/audit/append.js';
import { openWritable } from '../../../main/core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey } from '../../../main/core/keys.js';
import { explainInput } from '../core/audit/helpers.js';

let dir: string;
let outDir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'branchlens-cli-progress-'));
  outDir = mkdtempSync(join(tmpdir(), 'branchlens-cli-progress-out-'));
  const db = openWritable(dir);
  const signingKey = loadOrCreateSigningKey(fileSecretStore(dir));
  appendEntries(
    db,
    Array.from({ length: 5000 }, (_, i) => explainInput(i)),
    { signingKey },
  );
  db.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

async function run(command: Command, argv: string[], tty: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const stream = (into: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        into.push(chunk.toString());
        done();
      },
    });
  const stderr = Object.assign(stream(err), { isTTY: tty });
  const code = await command.run(argv, { stdout: stream(out), stderr, stdin: Readable.from([]), env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('progress on long audit commands', () => {
  it('audit verify draws it on a terminal, in place, and clears it', async () => {
    const r = await run(auditVerifyCommand, ['--data', dir], true);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('\rverifying: 4,096 / 5,000 entries\x1b[K\r\x1b[K');
    expect(r.stdout).toMatch(/^audit log intact: 5000 entries/);
  });

  it('audit verify prints none when stderr is piped, or with --json', async () => {
    expect((await run(auditVerifyCommand, ['--data', dir], false)).stderr).toBe('');
    const json = await run(auditVerifyCommand, ['--data', dir, '--json'], true);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, entries: 5000 });
  });

  it('audit export draws it on a terminal only, cleared before its summary', async () => {
    const args = ['--data', dir, '--format', 'jsonl', '--out', join(outDir, 'a.jsonl')];
    const tty = await run(auditExportCommand, args, true);
    expect(tty.code).toBe(0);
    // Redrawn at most every 250 ms: the export's pages may or may not draw after the check's line.
    expect(tty.stderr.startsWith('\rverifying: 4,096 / 5,000 entries\x1b[K')).toBe(true);
    expect(tty.stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(tty.stderr).not.toContain('\n');
    const piped = await run(auditExportCommand, args, false);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toMatch(/^exported entries #1–#5000 as jsonl/);
  });
});
