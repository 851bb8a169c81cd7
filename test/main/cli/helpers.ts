// Shared by the CLI and service tests: the CLI run in-process with captured output, fresh data dirs, the demo
// model's files (samples, held-out rows) and copies of the demo bundle, resealed or tampered with.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { expect } from 'vitest';
import type { Command } from '../../../main/cli/command.js';
import { main } from '../../../main/cli/index.js';
import { sealBundle, type ManifestFields } from '../../../main/core/bundle/write.js';
import { appRoot, demoModelDir, samplesDir } from '../../../main/core/paths.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      into.push(Buffer.from(chunk));
      done();
    },
  });
}

/**
 * Runs `branchlens ARGV` in this process; `stdin` is what standard input holds (empty by default, text or
 * bytes). `commands` replaces the CLI's own (a command made with test settings).
 */
export async function runCli(
  argv: string[],
  stdin: string | Buffer = '',
  env: NodeJS.ProcessEnv = {},
  commands?: readonly Command[],
): Promise<CliRun> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const io = {
    stdout: sink(out),
    stderr: sink(err),
    stdin: Readable.from([Buffer.from(stdin)]),
    env,
  };
  const code = await (commands ? main(argv, io, commands) : main(argv, io));
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** A run that succeeded: exit 0 and nothing on stderr. */
export function expectSuccess(run: CliRun): void {
  expect(run.stderr, run.stderr).toBe('');
  expect(run.code).toBe(0);
}

/** A run refused as bad input: exit 2, nothing on stdout, no stack trace; returns stderr. */
export function expectInputError(run: CliRun): string {
  expect(run.stdout).toBe('');
  expect(run.code, run.stderr).toBe(2);
  expectNoStackTrace(run.stderr);
  return run.stderr;
}

export function expectNoStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/^ {4}at /m);
}

export function tempDir(prefix = 'branchlens-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export const DEMO_BUNDLE = demoModelDir();

export function samplePath(name: string): string {
  return join(samplesDir(), name);
}

export function readSample<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(samplePath(name), 'utf8')) as T;
}

/** The demo model's held-out rows, as applicants (without the `Status` label). */
export function holdoutApplicants(count?: number): Record<string, unknown>[] {
  const rows = JSON.parse(readFileSync(join(appRoot(), 'assets', 'data', 'holdout.json'), 'utf8')) as Record<
    string,
    unknown
  >[];
  return rows.slice(0, count).map(({ Status: _label, ...applicant }) => applicant);
}

/** The number of raw features of the demo model. */
export function demoFeatureCount(): number {
  const schema = JSON.parse(readFileSync(join(DEMO_BUNDLE, 'schema.json'), 'utf8')) as {
    features: unknown[];
  };
  return schema.features.length;
}

/** Copies the demo bundle's files into `dest` (created), unchanged. */
export function copyDemoBundle(dest: string): string {
  mkdirSync(dest, { recursive: true });
  for (const name of readdirSync(DEMO_BUNDLE)) copyFileSync(join(DEMO_BUNDLE, name), join(dest, name));
  return dest;
}

/**
 * A copy of the demo bundle with another manifest version, resealed: a valid bundle with a new sha256. With
 * `outputBiasShift`, its output unit's bias (the shard's last weight) is shifted too, so that its predictions
 * tell it from the demo model's.
 */
export function demoBundleVersion(dest: string, version: string, outputBiasShift = 0): string {
  copyDemoBundle(dest);
  if (outputBiasShift !== 0) {
    const shard = join(dest, 'group1-shard1of1.bin');
    const bytes = readFileSync(shard);
    const weights = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    weights[weights.length - 1]! += outputBiasShift;
    writeFileSync(shard, bytes);
  }
  const { files: _files, ...manifest } = JSON.parse(readFileSync(join(dest, 'manifest.json'), 'utf8')) as {
    files: unknown;
  } & ManifestFields;
  sealBundle(dest, { ...manifest, version });
  return dest;
}

/** A copy of the demo bundle with one byte of `file` flipped and the manifest left as it was. */
export function tamperedDemoBundle(dest: string, file: string, offset = 100): string {
  copyDemoBundle(dest);
  const bytes = readFileSync(join(dest, file));
  bytes[offset] = bytes[offset]! ^ 0x01;
  writeFileSync(join(dest, file), bytes);
  return dest;
}
