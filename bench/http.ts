// `branchlens serve` under load: autocannon (16 connections) against a server in a child process, so that
// client and server do not share one event loop (they do share the machine's cores: report with that in mind).
// Workloads: distinct applicants (cache misses, each computed, signed, cached and audited), repeated
// applicants (cache hits, audited), the server's RSS after 10k and 100k requests (each the median of 20 s more
// of the same load, so that garbage collection's sawtooth does not decide the reading), and the cold start of serve
// (process start → first 200 on /health/ping, and → first 200 explain). Numbers, not pass/fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { appRoot } from '../main/core/paths.js';
import { fmt, quantile, table, writeResult } from './util.js';

const CONNECTIONS = 16;
const EXPLAIN_PATH = '/api/app/explain';

export interface HttpBenchOptions {
  /** Seconds per throughput workload (default 15). */
  duration?: number;
  /** Requests for the RSS check (default 10k then 100k in all). */
  rssRequests?: [number, number];
  /** Worker engines in the server (default: its own default, one per core). */
  workers?: number;
  /** Run the server from TypeScript sources through tsx even when dist/ is built. */
  tsx?: boolean;
}

const sample = JSON.parse(
  readFileSync(join(appRoot(), 'assets', 'samples', 'sample-1.json'), 'utf8'),
) as Record<string, unknown>;

/** Applicant i of an endless sequence in which no two are alike (all values inside the schema's ranges). */
function distinctApplicant(i: number): Record<string, unknown> {
  return { ...sample, Amount: 100 + (i % 90_000), Price: 1000 + Math.floor(i / 90_000) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** How the child runs `branchlens serve`: the build (`npm run build`) when it is current, else tsx. */
function serveCommand(useTsx: boolean): { argv: string[]; runtime: string } {
  const root = appRoot();
  const built = join(root, 'dist', 'main', 'server', 'start.js');
  const source = join(root, 'main', 'server', 'start.ts');
  if (!useTsx && existsSync(built) && statSync(built).mtimeMs >= statSync(source).mtimeMs) {
    return { argv: [join(root, 'bin', 'branchlens.js'), 'serve'], runtime: 'node (dist)' };
  }
  const entry = pathToFileURL(join(root, 'main', 'cli', 'index.ts')).href;
  const boot = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
  return {
    argv: ['--import', 'tsx', '--input-type=module', '-e', boot, 'serve'],
    runtime: 'node + tsx (sources)',
  };
}

interface Child {
  process: ChildProcess;
  url: string;
  stderr: () => string;
  stop(): Promise<void>;
}

async function waitFor200(url: string, init: RequestInit, deadlineMs: number): Promise<number> {
  for (;;) {
    try {
      const r = await fetch(url, init);
      await r.arrayBuffer();
      if (r.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    if (performance.now() > deadlineMs) throw new Error(`no 200 from ${url} in time`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Starts `serve` in a child; resolves with the cold-start times once it answers an explain request. */
async function startChild(dataDir: string, opts: HttpBenchOptions) {
  const port = await freePort();
  const { argv, runtime } = serveCommand(opts.tsx ?? false);
  const args = [...argv, '--port', String(port), '--data', dataDir, '--backend', 'wasm'];
  if (opts.workers) args.push('--workers', String(opts.workers));
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: appRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${err}`))),
  );
  exited.catch(() => undefined);
  const deadline = t0 + 120_000;
  const pingAt = await Promise.race([waitFor200(`${url}/health/ping`, {}, deadline), exited]);
  const explainAt = await Promise.race([
    waitFor200(
      url + EXPLAIN_PATH,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ applicants: [distinctApplicant(999_999)] }),
      },
      deadline,
    ),
    exited,
  ]);
  const handle: Child = {
    process: child,
    url,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return { child: handle, runtime, coldStart: { ping_ms: pingAt - t0, explain_ms: explainAt - t0 } };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
  return kb / 1024;
}

/** Seconds of load over which each RSS reading is taken (several garbage-collection cycles). */
const RSS_WINDOW_S = 20;

interface RssWindow {
  /** The median of the samples: the level the sawtooth runs at, which the growth target is checked on. */
  median: number;
  low: number;
  peak: number;
  samples: number;
}

/**
 * Runs `work` while sampling the process's RSS five times a second. Garbage collection makes RSS a sawtooth,
 * so a single reading, or the window's peak, lands anywhere on it: the median of ~100 samples is the level.
 */
async function rssWhile(pid: number, work: () => Promise<unknown>): Promise<RssWindow> {
  const samples = [rssMiB(pid)];
  const timer = setInterval(() => samples.push(rssMiB(pid)), 200);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  samples.push(rssMiB(pid));
  samples.sort((a, b) => a - b);
  return {
    median: quantile(samples, 0.5),
    low: samples[0]!,
    peak: samples[samples.length - 1]!,
    samples: samples.length,
  };
}

interface Load {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** Runs autocannon; `body(i)` is the i-th request's body (i counts across all connections). */
async function load(
  url: string,
  body: (i: number) => unknown,
  limit: { duration?: number; amount?: number },
) {
  let i = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    ...limit,
    requests: [
      {
        method: 'POST',
        path: EXPLAIN_PATH,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(body(i++)) }),
      },
    ],
  });
  const out: Load = {
    rps: result.requests.total / result.duration,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  return out;
}

export async function benchHttp(opts: HttpBenchOptions = {}) {
  const duration = opts.duration ?? 15;
  const [rssFirst, rssTotal] = opts.rssRequests ?? [10_000, 100_000];
  const dataDir = mkdtempSync(join(tmpdir(), 'bl-bench-http-'));
  const coldDir = mkdtempSync(join(tmpdir(), 'bl-bench-http-cold-'));
  const started = await startChild(dataDir, opts);
  const { child } = started;
  let next = 0;
  const distinct = () => ({ applicants: [distinctApplicant(next++)] });
  try {
    await load(child.url, distinct, { duration: 3 }); // warm-up
    const misses = await load(child.url, distinct, { duration });
    const repeated = Array.from({ length: 100 }, (_, k) => ({
      applicants: [distinctApplicant(500_000 + k)],
    }));
    await load(child.url, (i) => repeated[i % repeated.length], { duration: 3 }); // warm-up: now cached
    const hits = await load(child.url, (i) => repeated[i % repeated.length], { duration });

    // RSS: distinct applicants (the caches fill to their bounds, the audit log grows on disk). Garbage
    // collection makes RSS a sawtooth (the main heap grows ~80 MB between full collections), so one reading
    // lands anywhere on it: each point is the median over RSS_WINDOW_S more seconds of the same load.
    const pid = child.process.pid!;
    const rssStart = rssMiB(pid);
    await load(child.url, distinct, { amount: rssFirst });
    const afterFirst = await rssWhile(pid, () => load(child.url, distinct, { duration: RSS_WINDOW_S }));
    await load(child.url, distinct, { amount: rssTotal - rssFirst });
    const afterTotal = await rssWhile(pid, () => load(child.url, distinct, { duration: RSS_WINDOW_S }));
    const rssAfterFirst = afterFirst.median;
    const rssAfterTotal = afterTotal.median;
    await child.stop();

    // Cold start on a fresh data dir (first run: installs the demo model), then again on the same dir.
    const fresh = await startChild(coldDir, opts);
    await fresh.child.stop();
    const warm = await startChild(coldDir, opts);
    await warm.child.stop();

    const result = {
      runtime: started.runtime,
      connections: CONNECTIONS,
      duration_s: duration,
      distinct_applicants: misses,
      repeated_applicants: hits,
      rss_mib: {
        at_start: rssStart,
        window_s: RSS_WINDOW_S,
        [`after_${rssFirst}`]: afterFirst,
        [`after_${rssTotal}`]: afterTotal,
        growth: rssAfterTotal / rssAfterFirst - 1,
        peak_growth: afterTotal.peak / afterFirst.peak - 1,
      },
      cold_start: { first_run: fresh.coldStart, existing_data_dir: warm.coldStart },
      targets: {
        distinct_rps: 3000,
        distinct_p99_ms: 25,
        repeated_rps: 8000,
        rss_growth: 0.1,
      },
    };
    console.log(
      `\nHTTP — POST ${EXPLAIN_PATH}, one applicant per request, ${CONNECTIONS} connections, server: ${started.runtime}`,
    );
    console.log(
      table([
        {
          workload: 'distinct applicants (miss, audited)',
          'req/s': misses.rps,
          'p50 ms': misses.p50_ms,
          'p99 ms': misses.p99_ms,
          non2xx: misses.non2xx,
          target: '≥ 3000 req/s, p99 ≤ 25 ms',
        },
        {
          workload: 'repeated applicants (hit, audited)',
          'req/s': hits.rps,
          'p50 ms': hits.p50_ms,
          'p99 ms': hits.p99_ms,
          non2xx: hits.non2xx,
          target: '≥ 8000 req/s',
        },
      ]),
    );
    console.log(
      table([
        {
          'RSS MiB at start': rssStart,
          [`median after ${rssFirst} (low–peak)`]: `${fmt(rssAfterFirst)} (${fmt(afterFirst.low)}–${fmt(afterFirst.peak)})`,
          [`median after ${rssTotal} (low–peak)`]: `${fmt(rssAfterTotal)} (${fmt(afterTotal.low)}–${fmt(afterTotal.peak)})`,
          growth: `${fmt(100 * result.rss_mib.growth)} % (target within 10 %)`,
          'peak growth': `${fmt(100 * result.rss_mib.peak_growth)} %`,
        },
      ]),
    );
    console.log(
      table([
        {
          'cold start': 'fresh data dir',
          '→ ping ms': fresh.coldStart.ping_ms,
          '→ explain ms': fresh.coldStart.explain_ms,
        },
        {
          'cold start': 'existing data dir',
          '→ ping ms': warm.coldStart.ping_ms,
          '→ explain ms': warm.coldStart.explain_ms,
        },
      ]),
    );
    console.log(`→ ${writeResult('http', result)}`);
    return result;
  } finally {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(coldDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? undefined : args[i + 1];
  };
  await benchHttp({
    ...(flag('duration') ? { duration: Number(flag('duration')) } : {}),
    ...(flag('workers') ? { workers: Number(flag('workers')) } : {}),
    ...(flag('rss') ? { rssRequests: flag('rss')!.split(',').map(Number) as [number, number] } : {}),
    tsx: args.includes('--tsx'),
  });
}
