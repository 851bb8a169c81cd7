// How far V8 lets the main heap grow past what survived its last full collection, for a long-running process
// (serve, the desktop app). Left to itself V8 grows it up to 4× on a machine with memory to spare: under a stream
// of distinct applicants ~90 MB stays live (the memory cache, the model, the server) and the heap swung between
// that and ~350 MB, so the process's RSS swung by ~250 MB with nothing leaking. At 1.5× it swings by ~45 MB; the
// full collections come ~6× as often, each ~5 ms on this thread plus concurrent marking (docs/benchmarks.md:
// throughput within the noise). The flag is the process's, so the engine and writer threads follow it too.
import { setFlagsFromString } from 'node:v8';

/** The main heap may grow by this percentage over its live size before the next full collection. */
export const HEAP_GROWING_PERCENT = 50;

let applied = false;

/** Applies HEAP_GROWING_PERCENT to this process (once; later calls do nothing). */
export function steadyHeapGrowth(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** Whether steadyHeapGrowth() has run in this process. */
export function heapGrowthSteadied(): boolean {
  return applied;
}
