// Explanation cache latency: memory hits, disk hits (memory bypassed), misses and writes, on a ~3 KB document.
// Targets: a memory hit ≤ 0.1 ms, a disk hit ≤ 1 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ExplanationCache } from '../main/core/cache/explanation-cache.js';
import { cacheKey } from '../main/core/cache/key.js';
import { openWritable } from '../main/core/db/open.js';
import type { Attribution, ExplanationDocument } from '../shared/explanation.js';
import { summarize, table, writeResult } from './util.js';

const MODEL_SHA256 = 'c'.repeat(64);
/** The installation's HMAC key, which keys cache keys. */
const KEY = Buffer.alloc(32, 7);

const FEATURES: [string, string, number][] = [
  ['seniority', '工作年限', 2],
  ['home', '住房情况', 0],
  ['time', '贷款期限', 60],
  ['records', '不良记录', 1],
  ['job', '职业类型', 0],
  ['expenses', '月支出', 75],
  ['income', '月收入', 110],
  ['assets', '资产', 3000],
  ['debt', '负债', 500],
  ['amount', '贷款金额', 1200],
  ['price', '商品价格', 1500],
];

/** A document shaped like a real one for the demo model: 11 features, 4 reasons, no detail. */
export function realisticDocument(n: number): ExplanationDocument {
  const attributions: Attribution[] = FEATURES.map(([feature, label, value], i) => {
    const attribution = Math.sin(n * 7 + i) * 0.12345678901;
    return {
      feature,
      label,
      value: value + (n % 97),
      attribution,
      direction: attribution >= 0 ? 'positive' : 'negative',
      description: `${label}为 ${value + (n % 97)}，${attribution >= 0 ? '提高' : '降低'}了通过率`,
    };
  });
  const reasons = attributions
    .filter((a) => a.attribution < 0)
    .sort((a, b) => a.attribution - b.attribution)
    .slice(0, 4)
    .map(({ feature, label, attribution, description }) => ({ feature, label, attribution, description }));
  const sum = attributions.reduce((s, a) => s + a.attribution, 0);
  return {
    id: `01J${String(n).padStart(23, '0')}`,
    created_at: '2025-01-01T08:00:00.000Z',
    model: { id: 'credit-demo', version: '1.0.0', sha256: MODEL_SHA256 },
    predictions: [0.5 + sum],
    target: { index: 0, name: 'good' },
    score: 0.5 + sum,
    baseline_score: 0.5,
    decision: { label: sum >= 0 ? '通过' : '拒绝', approved: sum >= 0, threshold: 0.5 },
    attributions,
    rest_sum: 0,
    rest_count: 0,
    reasons,
    completeness: { sum, expected: sum, delta: 1.2e-9 },
    meta: {
      explanation: {
        method: 'integrated_gradients',
        params: {
          method: 'gausslegendre',
          n_steps: 50,
          internal_batch_size: 1000,
          target: 'good',
          baseline: 'schema',
          top_k: 11,
        },
      },
      explainer_version: '1.0.0',
      backend: 'wasm',
      locale: 'zh-CN',
      cache: 'miss',
      latency_ms: 41.7,
    },
    _meta: { watermark: 'e'.repeat(64), key_id: 'k-2025-01', alg: 'HMAC-SHA256/JCS' },
  };
}

function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

export interface CacheBenchResult {
  document_bytes: number;
  entries: number;
  gets: number;
  latency_ms: Record<'memory_hit' | 'disk_hit' | 'miss' | 'set', ReturnType<typeof summarize>>;
  targets_ms: { memory_hit: number; disk_hit: number };
}

export async function benchCache(opts: { gets?: number; entries?: number } = {}): Promise<CacheBenchResult> {
  const gets = opts.gets ?? 20_000;
  const entries = opts.entries ?? 2_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'branchlens-bench-cache-'));
  const db = openWritable(dataDir);
  try {
    const keys = Array.from({ length: entries }, (_, i) =>
      cacheKey(KEY, { modelSha256: MODEL_SHA256, params: { n_steps: 50 }, input: [i, i / 3, -i] }),
    );
    const cache = new ExplanationCache(db);
    const sets = keys.map((key, i) =>
      time(() => cache.set(key, realisticDocument(i), { modelSha256: MODEL_SHA256 })),
    );

    const run = (c: ExplanationCache, n: number, pick: (i: number) => string, level?: string) => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const key = pick(i);
        let hit: ReturnType<ExplanationCache['get']>;
        samples.push(time(() => (hit = c.get(key))));
        if (hit?.level !== level)
          throw new Error(`expected a ${level ?? 'miss'}, got ${hit?.level ?? 'miss'}`);
      }
      return samples;
    };
    const roundRobin = (i: number) => keys[i % keys.length]!;

    run(cache, 1000, roundRobin, 'memory'); // warm-up
    const memory = run(cache, gets, roundRobin, 'memory');
    // A one-entry memory level and keys in turn: every get goes to SQLite (and puts the document back in memory).
    const diskOnly = new ExplanationCache(db, { memoryMaxEntries: 1 });
    run(diskOnly, 1000, roundRobin, 'disk');
    const disk = run(diskOnly, gets, roundRobin, 'disk');
    const absent = (i: number) =>
      cacheKey(KEY, { modelSha256: MODEL_SHA256, params: { n_steps: 50 }, input: [-1, i, i / 7] });
    const miss = run(cache, gets, absent);

    return {
      document_bytes: Buffer.byteLength(JSON.stringify(realisticDocument(0))),
      entries,
      gets,
      latency_ms: {
        memory_hit: summarize(memory),
        disk_hit: summarize(disk),
        miss: summarize(miss),
        set: summarize(sets),
      },
      targets_ms: { memory_hit: 0.1, disk_hit: 1 },
    };
  } finally {
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Prints the result as a table and records it in bench/results/cache.json. */
export function reportCache(result: CacheBenchResult): void {
  const target = (name: string) => result.targets_ms[name as keyof CacheBenchResult['targets_ms']];
  console.log(
    `\nExplanation cache — ${result.document_bytes} B documents, ${result.entries} entries, ${result.gets} gets per level`,
  );
  console.log(
    table(
      Object.entries(result.latency_ms).map(([name, s]) => ({
        operation: name,
        'p50 (µs)': s.p50 * 1000,
        'p99 (µs)': s.p99 * 1000,
        'mean (µs)': s.mean * 1000,
        n: s.n,
        target: target(name) === undefined ? '' : `≤ ${target(name)} ms`,
        'p99 meets it': target(name) === undefined ? '' : s.p99 <= target(name)! ? 'yes' : 'NO',
      })),
    ),
  );
  console.log(`→ ${writeResult('cache', result)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) reportCache(await benchCache());
