// The engine benchmark's choice of the largest engine call, which the micro-batcher uses by default. Written by
// `npm run bench -- engine --write-tuning` (bench/engine.ts): the smallest batch whose throughput with one engine
// per core comes within 5 % of the best, since a smaller call answers its callers sooner at the same rate.
// docs/benchmarks.md records the runs. Also: how many engines to run (engineCount).
import { availableParallelism } from 'node:os';
import { InputError, wholeNumber } from '../../shared/problems.js';

export const ENGINE_TUNING = {
  maxBatch: 32,
  measured: '2026-11-26',
  machine: 'AMD EPYC, 2 cores, Node 20.20.2, wasm backend, demo model, gausslegendre n_steps 50',
  /** Explanations per second by batch size with one engine per core, from that run. */
  throughput: { 1: 3813, 8: 23083, 16: 30549, 32: 34801, 64: 32269, 128: 31703 },
} as const;

/**
 * How many engine threads to run: one per core, or `raw` (the text of --workers or $BRANCHLENS_WORKERS, named by
 * `source`), a whole number from 1 to 4 per core (at least 8). Anything else is an InputError naming `source`,
 * never silently replaced: an officer who set the variable must learn that it did not take.
 */
export function engineCount(raw: string | undefined, source: string, cores = availableParallelism()): number {
  const perCore = Math.max(1, cores);
  if (raw === undefined || raw.trim() === '') return perCore;
  const max = Math.max(8, 4 * perCore);
  const n = wholeNumber(source, raw, 1);
  if (n > max) {
    throw new InputError([
      {
        field: source,
        code: 'invalid',
        message: `must be at most ${max} (4 per core on this machine's ${perCore}), got ${raw.trim()}`,
      },
    ]);
  }
  return n;
}
