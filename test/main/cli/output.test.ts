// Standard output that cannot be written (a closed pipe, as `| head -1` leaves; a full disk): every command
// says so in one line on stderr and exits 1, never crashing with "Unhandled 'error' event" and a stack.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonArrayValues, writeJson, type CliIo } from '../../../main/cli/command.js';
import { explainCommandWith } from '../../../main/cli/commands/explain.js';
import { main } from '../../../main/cli/index.js';
import { SPOOL_FOLDER } from '../../../main/cli/spool.js';
import { expectNoStackTrace, holdoutApplicants, removeDir, runCli, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./run-cli.ts', import.meta.url));

let work: string;
let data: string;
let docs: string;
let batch: string;
beforeAll(async () => {
  work = tempDir('branchlens-output-');
  data = join(work, 'data');
  batch = join(work, 'batch.json');
  // More documents than go out in one write.
  writeFileSync(batch, JSON.stringify(holdoutApplicants(600)));
  const run = await runCli(['explain', '--data', data, '--input', batch]);
  expect(run.code, run.stderr).toBe(0);
  docs = join(work, 'docs.json');
  writeFileSync(docs, run.stdout);
});
afterAll(() => removeDir(work));

/**
 * A standard output whose every write fails with `code`, as process.stdout does on a closed pipe or a full disk:
 * the write's callback gets the error, then the stream emits 'error' on a later tick. An 'error' emitted with
 * no listener, which would end the process with a stack, is kept in `unheard` instead.
 */
function failing(code: 'EPIPE' | 'ENOSPC'): Writable & { unheard: unknown[] } {
  const stream = Object.assign(
    new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error(`write ${code}`), { code, syscall: 'write' }));
      },
    }),
    { unheard: [] as unknown[] },
  );
  const emit = stream.emit.bind(stream);
  stream.emit = (event: string | symbol, ...args: unknown[]) => {
    if (event === 'error' && stream.listenerCount('error') === 0) {
      stream.unheard.push(args[0]);
      return false;
    }
    return emit(event, ...args);
  };
  return stream;
}

async function runInto(
  stdout: Writable,
  argv: string[],
  commands?: Parameters<typeof main>[2],
): Promise<{ code: number; stderr: string }> {
  const err: Buffer[] = [];
  const io: CliIo = {
    stdout,
    stderr: new Writable({
      write(chunk: Buffer, _encoding, done) {
        err.push(Buffer.from(chunk));
        done();
      },
    }),
    stdin: Readable.from([]),
    env: {},
  };
  const code = await main(argv, io, commands);
  // Whatever the stream emits after its write failed, it emits now, inside this test.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { code, stderr: Buffer.concat(err).toString('utf8') };
}

describe('a standard output that cannot be written', () => {
  const commands: [string, () => string[]][] = [
    ['explain', () => ['explain', '--data', data]],
    ['explain', () => ['explain', '--data', data, '--input', batch]],
    ['verify', () => ['verify', docs, '--data', data]],
    ['demo', () => ['demo', '--data', data]],
    ['models list', () => ['models', 'list', '--data', data]],
    ['models list', () => ['models', 'list', '--json', '--data', data]],
    ['audit verify', () => ['audit', 'verify', '--data', data]],
    ['audit public-key', () => ['audit', 'public-key', '--data', data]],
    ['explain', () => ['explain', '--help']],
    ['', () => ['--help']],
  ];

  for (const code of ['EPIPE', 'ENOSPC'] as const) {
    it.each(commands)(`%s (%#) says ${code} in one line and exits 1`, async (name, argv) => {
      const stdout = failing(code);
      const run = await runInto(stdout, argv());
      expect(stdout.unheard).toEqual([]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toBe(`branchlens${name ? ` ${name}` : ''}: cannot write standard output: ${code}\n`);
    });
  }

  it('explain of a batch of several calls removes its spool file from the data folder', async () => {
    const stdout = failing('ENOSPC');
    const run = await runInto(
      stdout,
      ['explain', '--data', data, '--input', batch],
      [explainCommandWith({ chunkSize: 256 })],
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toBe('branchlens explain: cannot write standard output: ENOSPC\n');
    expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
  });

  it('a closed pipe in a real process: one line on stderr, exit 1, no stack', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, 'explain', '--data', data, '--input', batch],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, BRANCHLENS_DEBUG: '', XDG_CONFIG_HOME: work, APPDATA: work },
      },
    );
    // The reader goes before anything is written, as `| head -0` would.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exitCode = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('branchlens explain: cannot write standard output: EPIPE\n');
    expectNoStackTrace(stderr);
    expect(exitCode).toBe(1);
    expect(readdirSync(join(data, SPOOL_FOLDER))).toEqual([]);
  }, 30_000);
});

describe('writeJson', () => {
  it('writes a long array in parts, byte for byte as JSON.stringify(value, null, 2)', async () => {
    const out: Buffer[] = [];
    let writes = 0;
    const io: CliIo = {
      stdout: new Writable({
        write(chunk: Buffer, _encoding, done) {
          writes++;
          out.push(Buffer.from(chunk));
          done();
        },
      }),
      stderr: process.stderr,
      stdin: Readable.from([]),
      env: {},
    };
    for (const value of [
      Array.from({ length: 1300 }, (_, i) => ({
        i,
        text: `line\nbreak "${i}" 租房`,
        nested: { list: [i, [i]] },
      })),
      [],
      [[], {}, 'x'],
      { a: [1, 2] },
    ]) {
      out.length = 0;
      await writeJson(io, value);
      expect(Buffer.concat(out).toString('utf8')).toBe(JSON.stringify(value, null, 2) + '\n');
    }
    expect(writes).toBeGreaterThan(4);
  });
});

describe('jsonArrayValues', () => {
  it('spells an array written in parts byte for byte as JSON.stringify(array, null, 2) + a line end', () => {
    const values = Array.from({ length: 7 }, (_, i) => ({
      i,
      text: `line\nbreak "${i}" 租房`,
      nested: { list: [i, [i], {}] },
    }));
    for (const size of [1, 2, 3, 7]) {
      let out = '';
      for (let at = 0; at < values.length; at += size) {
        out += jsonArrayValues(values.slice(at, at + size), {
          first: at === 0,
          last: at + size >= values.length,
        });
      }
      expect(out, `parts of ${size}`).toBe(JSON.stringify(values, null, 2) + '\n');
    }
    expect(jsonArrayValues([], { first: true, last: true })).toBe('[]\n');
    expect(jsonArrayValues([[], 'x', null], { first: true, last: true })).toBe(
      JSON.stringify([[], 'x', null], null, 2) + '\n',
    );
  });
});
