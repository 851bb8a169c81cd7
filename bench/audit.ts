// Audit log throughput: durable appends through group commit with many concurrent callers, verification
// speed, and the database's size per entry (extrapolated to 1M entries unless that many were written).
// Verification is measured on two logs of the same size: one filled in large batches stamped at one instant
// (a checkpoint per 1,000 entries, as the policy's count closes them), and one stamped at a branch's pace (500
// decisions over an 8-hour day, so the 10-minute rule closes a run every ~11 entries), whose ~90 times as many
// checkpoint signatures are a good part of the work. Each is verified as verifyAudit (signatures checked on the
// walk's thread) and as verifyAuditAsync (in libuv's thread pool, as `audit verify` and the service run it).
// Run: npx tsx bench/audit.ts [--entries N] [--callers C] [--verify-entries N]
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { appendPrepared } from '../main/core/audit/append.js';
import { prepareEntry } from '../main/core/audit/entry.js';
import { appendEntries, AuditLog, verifyAudit, type AuditEntryInput } from '../main/core/audit/index.js';
import { verifyAuditAsync } from '../main/core/audit/verify.js';
import { dbPath, openWritable, type WritableDb } from '../main/core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey, type SigningKey } from '../main/core/keys.js';

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
  /** Entries stamped at one instant (a checkpoint per 1,000 entries). */
  verify: VerifyMeasure;
  /** Entries stamped at a branch's pace (a checkpoint every ~11 entries). */
  verifyPaced: VerifyMeasure;
  size: { entries: number; bytes: number; bytesPerEntry: number; bytesAt1M: number; extrapolated: boolean };
  machine: { cpus: number; node: string };
}

/** The median of three runs (after one warm-up run), of verifyAudit and of verifyAuditAsync. */
export interface VerifyMeasure {
  entries: number;
  checkpoints: number;
  seconds: number;
  entriesPerSecond: number;
  runsSeconds: number[];
  asyncSeconds: number;
  asyncEntriesPerSecond: number;
  asyncRunsSeconds: number[];
}

const hex = (n: number) => n.toString(16).padStart(64, '0');

/** A branch's pace: 500 decisions a day, over 8 hours from 09:00 UTC. */
const PACE = { perDay: 500, dayMs: 86_400_000, spacingMs: (8 * 3_600_000) / 500 };

/** When the branch logged its `i`th decision, counted from 2021-01-01. */
export function pacedStamp(i: number): Date {
  const day = Math.floor(i / PACE.perDay);
  return new Date(Date.UTC(2021, 0, 1, 9) + day * PACE.dayMs + (i % PACE.perDay) * PACE.spacingMs);
}

/** Fills `db` with `count` entries stamped at a branch's pace, through the writer's own append path. */
function fillPaced(db: WritableDb, key: SigningKey, count: number): void {
  for (let n = 0; n < count; n += 5000) {
    const batch = Array.from({ length: Math.min(5000, count - n) }, (_, k) =>
      prepareEntry(entry(n + k), pacedStamp(n + k)),
    );
    appendPrepared(db, batch, { signingKey: key, now: pacedStamp(n + batch.length - 1) });
  }
}

const median = (runs: number[]) => [...runs].sort((a, b) => a - b)[1]!;

/** Three timed runs of each verification after a warm-up; throws if the log does not verify. */
async function measureVerify(db: WritableDb, key: SigningKey): Promise<VerifyMeasure> {
  let v = verifyAudit(db, key.publicKey);
  if (!v.ok) throw new Error(`the bench log does not verify: ${v.break?.message}`);
  const runs: number[] = [];
  const asyncRuns: number[] = [];
  for (let r = 0; r < 3; r++) {
    let t = performance.now();
    v = verifyAudit(db, key.publicKey);
    runs.push((performance.now() - t) / 1000);
    t = performance.now();
    const a = await verifyAuditAsync(db, key.publicKey);
    asyncRuns.push((performance.now() - t) / 1000);
    if (!v.ok || !a.ok) throw new Error(`the bench log does not verify: ${(v.break ?? a.break)?.message}`);
  }
  const seconds = median(runs);
  const asyncSeconds = median(asyncRuns);
  const round = (x: number) => Number(x.toFixed(3));
  return {
    entries: v.entries,
    checkpoints: v.checkpoints,
    seconds,
    entriesPerSecond: Math.round(v.entries / seconds),
    runsSeconds: runs.map(round),
    asyncSeconds,
    asyncEntriesPerSecond: Math.round(v.entries / asyncSeconds),
    asyncRunsSeconds: asyncRuns.map(round),
  };
}

/** An explain entry of realistic size: five masked attributions, full model and explainer fields (also bench/audit-page.ts). */
export function entry(i: number): AuditEntryInput {
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
    const verify = await measureVerify(db, key);
    const verification = { entries: verify.entries };

    // 2b. The same number of entries stamped at a branch's pace, in a log of its own.
    const pacedDir = join(dir, 'paced');
    mkdirSync(pacedDir);
    const pacedDb = openWritable(pacedDir);
    fillPaced(pacedDb, key, verifyTarget);
    const verifyPaced = await measureVerify(pacedDb, key);
    pacedDb.close();

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
      verify,
      verifyPaced,
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
    for (const [label, m] of [
      ['verify, one instant ', result.verify],
      ['verify, branch pace ', result.verifyPaced],
    ] as const) {
      say(
        `  ${label}                 ${m.entriesPerSecond.toLocaleString('en')} entries/s, thread pool ${m.asyncEntriesPerSecond.toLocaleString('en')}  (${m.entries.toLocaleString('en')} entries, ${m.checkpoints.toLocaleString('en')} checkpoints: ${m.seconds.toFixed(2)} s, ${m.asyncSeconds.toFixed(2)} s; medians of 3)`,
      );
    }
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
