// A child process's heap under the churn of an LRU cache: a live set of ~2 KB JSON texts in which each new text
// replaces the oldest, so every one dies after it has been promoted to the old generation, as the service's memory
// cache entries do. Prints `HEAP {"live":…,"peak":…}` (bytes): the heap used after a full collection with the
// live set built, and the most used during the churn. With the argument `steady`, steadyHeapGrowth() runs first.
// Run with --expose-gc.
import { steadyHeapGrowth } from '../../main/core/heap-growth.js';

const LIVE = 20_000;
const CHURN = 200_000;
if (process.argv[2] === 'steady') steadyHeapGrowth();
const pad = 'a'.repeat(2_000);
const text = (i: number) => JSON.stringify({ i, pad });
const live = Array.from({ length: LIVE }, (_, i) => text(i));
(globalThis as { gc?: () => void }).gc!();
const liveBytes = process.memoryUsage().heapUsed;
let peak = liveBytes;
for (let i = LIVE; i < LIVE + CHURN; i++) {
  live[i % LIVE] = text(i);
  if (i % 500 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
}
process.stdout.write(`HEAP ${JSON.stringify({ live: liveBytes, peak, kept: live.length })}\n`);
