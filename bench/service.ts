// Audited explanations per second through the service façade (what the CLI, HTTP and IPC share): distinct
// applicants (cache misses), concurrent single-applicant requests micro-batched onto one engine per core,
// every answer signed, cached and audited with durable group commits. Also cache-hit answers per second.
// Callers take each signed document as the JSON text the HTTP server sends (explainJson); explain() would
// parse it into an object as well, for the CLI and IPC.
//
// Misses are measured at two loads: 64 concurrent callers, and 256, which saturates the two cores (sustained
// throughput). With 64, each engine's batch waits on its group commit before its callers can ask again, so
// the cores are ~75 % busy.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { BranchLensService } from '../main/core/service.js';
import { appRoot } from '../main/core/paths.js';
import { summarize, table, writeResult } from './util.js';

/** Distinct applicants: held-out rows with the loan amount varied, so no two share a cache key. */
export function distinctApplicants(n: number): Record<string, unknown>[] {
  const rows = JSON.parse(readFileSync(join(appRoot(), 'assets', 'data', 'holdout.json'), 'utf8')) as Record<
    string,
    unknown
  >[];
  return Array.from({ length: n }, (_, i) => {
    const { Status: _s, ...r } = rows[i % rows.length]!;
    return { ...r, Amount: 100 + i };
  });
}

/** How many distinct applicants the hit workload repeats: well within the memory level's 10,000 entries. */
const HIT_WINDOW = 5000;

/** Requests before measuring: the engine workers' JIT needs several hundred batches to settle. */
const WARM_UP = 15_000;

async function drive(service: BranchLensService, applicants: Record<string, unknown>[], concurrency: number) {
  let next = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < applicants.length) {
        const a = applicants[next++]!;
        const t = performance.now();
        await service.explainJson([a]);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { perSecond: applicants.length / ((performance.now() - t0) / 1000), latency: summarize(latencies) };
}

/** Concurrent callers of the saturated miss workload. */
const SATURATING = 256;

export async function benchService(opts: { requests?: number; concurrency?: number } = {}) {
  const requests = opts.requests ?? 30_000;
  const concurrency = opts.concurrency ?? 64;
  const dataDir = mkdtempSync(join(tmpdir(), 'bl-bench-service-'));
  const workers = availableParallelism();
  const service = await BranchLensService.open({ dataDir, workers, backend: 'wasm' });
  try {
    await drive(
      service,
      distinctApplicants(WARM_UP).map((a) => ({ ...a, Price: 1 })),
      concurrency,
    ); // warm-up
    const applicants = distinctApplicants(requests);
    const misses = await drive(service, applicants, concurrency);
    // Other applicants again (another purchase price), with enough callers to keep both cores busy.
    const others = distinctApplicants(requests).map((a) => ({ ...a, Price: 2 }));
    const saturated = await drive(service, others, SATURATING);
    // The most recently explained applicants again, round and round: they fit the memory level, so these are
    // hits (asking for all of them again would cycle through more entries than either level keeps).
    const recent = others.slice(-Math.min(HIT_WINDOW, requests));
    const hits = await drive(
      service,
      Array.from({ length: requests }, (_, i) => recent[i % recent.length]!),
      concurrency,
    );
    const stats = service.cacheStats();
    const result = {
      requests,
      concurrency,
      workers,
      audited_misses: misses,
      audited_misses_saturated: { concurrency: SATURATING, ...saturated },
      audited_hits: hits,
      cache: stats,
    };
    console.log(
      `\nService — audited explanations (wasm, ${workers} engines, 1 applicant a request, callers as shown)`,
    );
    console.log(
      table([
        {
          workload: `distinct applicants (miss), ${concurrency} callers`,
          'explanations/s': misses.perSecond,
          'p50 ms': misses.latency.p50,
          'p99 ms': misses.latency.p99,
        },
        {
          workload: `distinct applicants (miss), ${SATURATING} callers (sustained)`,
          'explanations/s': saturated.perSecond,
          'p50 ms': saturated.latency.p50,
          'p99 ms': saturated.latency.p99,
        },
        {
          workload: `repeated applicants (hit), ${concurrency} callers`,
          'explanations/s': hits.perSecond,
          'p50 ms': hits.latency.p50,
          'p99 ms': hits.latency.p99,
        },
      ]),
    );
    console.log(`→ ${writeResult('service', result)}`);
    return result;
  } finally {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchService();
