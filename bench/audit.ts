// Audit log throughput: durable appends through group commit with many concurrent callers, verification
// speed, and the database's size per entry (extrapolated to 1M entries unless that many were written).
// Run: npx tsx bench/audit.ts [--entries N] [--callers C] [--verify-entries N]
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { appendEntries, AuditLog, verifyAudit, type AuditEntryInput } from '../main/core/audit/index.js';
import { dbPath, openWritable } from '../main/core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey } from '../main/core/keys.js';

export interface AuditBenchOptions {
  /** Entries appended through AuditLog. Default 20,000. */
  appendEntries?: number;
  /** Concurrent callers awaiting their appends. Default 64. */
  callers?: number;
  /** Entries in the log when verification and size are measured. Default 100,000. */
  verifyEntries?: number;
  /** Where bench/results/audit.json goes; undefined: not written. */
  resultsFile?: string;
  log?: (line: string) => void;
}

export interface AuditBenchResult {
  append: {
    entries: number;
    callers: number;
    seconds: number;
    entriesPerSecond: number;
    latencyMsP50: number;
    latencyMsP99: number;
    synchronous: string;
  };
  /** The median of three runs (after one warm-up run). */
  verify: { entries: number; seconds: number; entriesPerSecond: number; runsSeconds: number[] };
  size: { entries: number; bytes: number; bytesPerEntry: number; bytesAt1M: number; extrapolated: boolean };
  machine: { cpus: number; node: string };
}

const hex = (n: number) => n.toString(16).padStart(64, '0');

/** An explain entry of realistic size: five masked attributions, full model and explainer fields. */
function entry(i: number): AuditEntryInput {
  return {
    kind: 'explain',
    model: { id: 'credit-demo', version: '1.4.2', sha256: hex(0x5eed) },
    explainer: {
      version: '0.1.0',
      params: {
        method: 'integrated_gradients',
        n_steps: 64,
        internal_batch_size: 64,
        target: null,
        baseline: 'schema',
        top_k: 5,
      },
    },
    inputHash: hex(i * 7919 + 1),
    prediction: ((i * 37) % 1000) / 1000 + 0.000123,
    topAttributions: [
      { feature: 'income', attribution: 0.1234 + (i % 97) / 1e4 },
      { feature: 'debt_to_income', attribution: -0.0876 },
      { feature: 'months_employed', attribution: 0.0312 },
      { feature: 'sensitive_8c1f0a', attribution: -0.0041 },
      { feature: 'existing_loans', attribution: -0.0198 },
    ],
    cache: i % 5 === 0 ? 'memory' : 'miss',
    latencyMs: 18.4 + (i % 13),
    watermark: hex(i * 104729 + 3),
    documentId: `d-${i.toString(36).padStart(8, '0')}`,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

export async function runAuditBench(options: AuditBenchOptions = {}): Promise<AuditBenchResult> {
  const total = options.appendEntries ?? 20_000;
  const callers = options.callers ?? 64;
  const verifyTarget = Math.max(options.verifyEntries ?? 100_000, total);
  const say = options.log ?? ((line: string) => console.log(line));
  const dir = mkdtempSync(join(tmpdir(), 'branchlens-bench-audit-'));
  try {
    const db = openWritable(dir);
    const key = loadOrCreateSigningKey(fileSecretStore(dir));
    const synchronous = String(db.pragma('synchronous', { simple: true }));

    // 1. Durable appends: `callers` loops, each awaiting its own receipt before the next append.
    const log = new AuditLog(db, key);
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (next < total) {
          const i = next++;
          const start = performance.now();
          await log.append(entry(i));
          latencies.push(performance.now() - start);
        }
      }),
    );
    const appendSeconds = (performance.now() - t0) / 1000;
    await log.close();
    latencies.sort((a, b) => a - b);

    // 2. Fill up to verifyTarget in large transactions, then verify the whole chain.
    for (let n = total; n < verifyTarget; n += 5000) {
      const batch = Array.from({ length: Math.min(5000, verifyTarget - n) }, (_, k) => entry(n + k));
      appendEntries(db, batch, { signingKey: key });
    }
    // Three runs, the median reported: one run on a busy 2-core machine says more about its neighbours.
    const runs: number[] = [];
    let verification = verifyAudit(db, key.publicKey);
    for (let r = 0; r < 3; r++) {
      const t1 = performance.now();
      verification = verifyAudit(db, key.publicKey);
      runs.push((performance.now() - t1) / 1000);
      if (!verification.ok) throw new Error(`the bench log does not verify: ${verification.break?.message}`);
    }
    const verifySeconds = runs.sort((a, b) => a - b)[1]!;

    // 3. Size, after moving the WAL into the main file.
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = statSync(dbPath(dir)).size;
    const perEntry = bytes / verification.entries;

    const result: AuditBenchResult = {
      append: {
        entries: total,
        callers,
        seconds: appendSeconds,
        entriesPerSecond: Math.round(total / appendSeconds),
        latencyMsP50: Number(percentile(latencies, 0.5).toFixed(2)),
        latencyMsP99: Number(percentile(latencies, 0.99).toFixed(2)),
        synchronous: synchronous === '2' ? 'FULL' : synchronous,
      },
      verify: {
        entries: verification.entries,
        seconds: verifySeconds,
        entriesPerSecond: Math.round(verification.entries / verifySeconds),
        runsSeconds: runs.map((x) => Number(x.toFixed(3))),
      },
      size: {
        entries: verification.entries,
        bytes,
        bytesPerEntry: Math.round(perEntry),
        bytesAt1M: Math.round(perEntry * 1_000_000),
        extrapolated: verification.entries < 1_000_000,
      },
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    };

    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
    say('audit log benchmark');
    say(`  measure                              value`);
    say(
      `  append (group commit, ${callers} callers)  ${result.append.entriesPerSecond.toLocaleString('en')} entries/s  (${total.toLocaleString('en')} entries, synchronous=${result.append.synchronous}, p50 ${result.append.latencyMsP50} ms, p99 ${result.append.latencyMsP99} ms)`,
    );
    say(
      `  verify                               ${result.verify.entriesPerSecond.toLocaleString('en')} entries/s  (${result.verify.entries.toLocaleString('en')} entries in ${verifySeconds.toFixed(2)} s, median of 3)`,
    );
    say(
      `  size at 1M entries                   ${mb(result.size.bytesAt1M)}  (${result.size.bytesPerEntry} B/entry${result.size.extrapolated ? `, extrapolated from ${result.size.entries.toLocaleString('en')} entries` : ''})`,
    );
    if (options.resultsFile) {
      mkdirSync(dirname(options.resultsFile), { recursive: true });
      writeFileSync(options.resultsFile, JSON.stringify(result, null, 2) + '\n');
      say(`  written to ${options.resultsFile}`);
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string' },
      callers: { type: 'string' },
      'verify-entries': { type: 'string' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  await runAuditBench({
    appendEntries: num(values.entries),
    callers: num(values.callers),
    verifyEntries: num(values['verify-entries']),
    resultsFile: join(dirname(fileURLToPath(import.meta.url)), 'results', 'audit.json'),
  });
}
