// Engine benchmark (numbers, not pass/fail): the demo model at n_steps 50 on the chosen backend.
// Single-explanation latency, throughput by batch size (one engine, and one engine per core), cold start, peak RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../main/core/engine.js';
import { EnginePool } from '../main/core/engine-pool.js';
import { ENGINE_TUNING } from '../main/core/engine-tuning.js';
import { demoModelDir, appRoot } from '../main/core/paths.js';
import type { BackendName } from '../main/core/tf/backend.js';
import { machine, summarize, table, writeResult } from './util.js';

const BATCH_SIZES = [1, 8, 16, 32, 64, 128];

/**
 * The micro-batcher's largest engine call: the smallest batch whose throughput comes within 5 % of the best
 * (single runs move by more than that, and a smaller call answers its callers sooner at the same rate).
 */
export function chooseMaxBatch(throughput: Readonly<Record<number, number>>): number {
  const sizes = Object.keys(throughput)
    .map(Number)
    .sort((a, b) => a - b);
  const best = Math.max(...sizes.map((s) => throughput[s]!));
  return sizes.find((s) => throughput[s]! >= 0.95 * best)!;
}

/** Rewrites main/core/engine-tuning.ts with this run's choice (`--write-tuning`). */
async function writeTuning(throughput: Record<number, number>, backend: BackendName): Promise<string> {
  const m = machine();
  const file = join(appRoot(), 'main', 'core', 'engine-tuning.ts');
  const rates = Object.entries(throughput)
    .map(([size, rate]) => `${size}: ${Math.round(rate)}`)
    .join(', ');
  const head = readFileSync(file, 'utf8').split('export const ENGINE_TUNING')[0]!;
  const source = `${head}export const ENGINE_TUNING = {
  maxBatch: ${chooseMaxBatch(throughput)},
  measured: '${m.date.slice(0, 10)}',
  machine: ${JSON.stringify(`${m.cpu}, ${m.cores} cores, Node ${m.node}, ${backend} backend, demo model, ${DEFAULT_EXPLAIN_OPTIONS.method} n_steps ${DEFAULT_EXPLAIN_OPTIONS.nSteps}`)},
  /** Explanations per second by batch size with one engine per core, from that run. */
  throughput: { ${rates} },
} as const;
`;
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(source, { ...config, filepath: file }));
  return file;
}

function applicants(): Record<string, unknown>[] {
  const rows = JSON.parse(readFileSync(join(appRoot(), 'assets', 'data', 'holdout.json'), 'utf8')) as Record<
    string,
    unknown
  >[];
  return rows.map(({ Status: _status, ...rest }) => rest);
}

function batchOf(pool: Record<string, unknown>[], size: number, offset: number): Record<string, unknown>[] {
  return Array.from({ length: size }, (_, i) => pool[(offset + i) % pool.length]!);
}

async function coldStart(runs: number): Promise<number[]> {
  const times: number[] = [];
  const bin = join(appRoot(), 'bin', 'branchlens.js');
  for (let i = 0; i < runs; i++) {
    const data = mkdtempSync(join(tmpdir(), 'bl-cold-'));
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'explain', '--data', data, '--backend', 'wasm'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.once('data', () => times.push(performance.now() - t0));
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`cold-start run failed (${code}): ${err}`)),
      );
    });
    rmSync(data, { recursive: true, force: true });
  }
  return times;
}

export async function benchEngine(
  opts: { backend?: BackendName; runs?: number; writeTuning?: boolean } = {},
) {
  const backend = opts.backend ?? 'wasm';
  const runs = opts.runs ?? 2000;
  const pool = applicants();
  const engine = await Engine.load(demoModelDir(), { backend });
  const options = DEFAULT_EXPLAIN_OPTIONS;

  // Single explanation, in-process: the latency a loan officer sees.
  for (let i = 0; i < 200; i++) engine.explain([pool[i % pool.length]], options);
  const single: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    engine.explain([pool[i % pool.length]], options);
    single.push(performance.now() - t);
  }
  const latency = summarize(single);

  // Throughput by batch size on one engine (one core).
  const oneCore: Record<number, number> = {};
  for (const size of BATCH_SIZES) {
    const iters = Math.max(20, Math.ceil(4000 / size));
    engine.explain(batchOf(pool, size, 0), options);
    const t = performance.now();
    for (let i = 0; i < iters; i++) engine.explain(batchOf(pool, size, i * size), options);
    oneCore[size] = (iters * size) / ((performance.now() - t) / 1000);
  }
  engine.dispose();

  // Throughput by batch size with one engine per core, each kept busy with two batches in flight.
  const cores = availableParallelism();
  const workers = await EnginePool.start({ bundleDir: demoModelDir(), size: cores, backend });
  const allCores: Record<number, number> = {};
  for (const size of BATCH_SIZES) {
    const total = Math.max(40, Math.ceil(16000 / size));
    await workers.explain(batchOf(pool, size, 0), options);
    let next = 0;
    const t = performance.now();
    const lane = async () => {
      while (next < total) {
        const i = next++;
        await workers.explain(batchOf(pool, size, i * size), options);
      }
    };
    await Promise.all(Array.from({ length: cores * 2 }, lane));
    allCores[size] = (total * size) / ((performance.now() - t) / 1000);
  }
  await workers.close();

  const cold = summarize(await coldStart(5));
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;

  const result = {
    backend,
    n_steps: options.nSteps,
    method: options.method,
    single_latency_ms: latency,
    throughput_per_s: BATCH_SIZES.map((size) => ({
      batch: size,
      one_core: oneCore[size]!,
      all_cores: allCores[size]!,
    })),
    cores,
    cold_start_ms: cold,
    peak_rss_mib: peakRssMiB,
  };
  console.log(
    `\nEngine — demo model, ${backend}, ${options.method} n_steps=${options.nSteps}, ${cores} cores`,
  );
  console.log(
    table([
      {
        measure: 'single latency (ms)',
        p50: latency.p50,
        p90: latency.p90,
        p99: latency.p99,
        runs: latency.n,
      },
    ]),
  );
  console.log();
  console.log(
    table(
      result.throughput_per_s.map((r) => ({
        batch: r.batch,
        'explanations/s, 1 core': r.one_core,
        [`explanations/s, ${cores} cores`]: r.all_cores,
      })),
    ),
  );
  const chosen = chooseMaxBatch(allCores);
  console.log(
    `largest engine call: this run chooses ${chosen}; the service uses ${ENGINE_TUNING.maxBatch} (main/core/engine-tuning.ts, ${ENGINE_TUNING.measured})`,
  );
  if (opts.writeTuning) console.log(`→ ${await writeTuning(allCores, backend)} (batch ${chosen})`);
  console.log();
  console.log(
    table([
      { 'cold start p50 (ms)': cold.p50, 'cold start max (ms)': cold.p99, 'peak RSS (MiB)': peakRssMiB },
    ]),
  );
  console.log(`→ ${writeResult(`engine-${backend}`, result)}`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const backend = (process.argv.find((a) => a.startsWith('--backend='))?.split('=')[1] ??
    'wasm') as BackendName;
  await benchEngine({ backend, writeTuning: process.argv.includes('--write-tuning') });
}
