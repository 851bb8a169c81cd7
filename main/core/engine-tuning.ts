// The engine benchmark's choice of the largest engine call, which the micro-batcher uses by default. Written by
// `npm run bench -- engine --write-tuning` (bench/engine.ts): the smallest batch whose throughput with one engine
// per core comes within 5 % of the best, since a smaller call answers its callers sooner at the same rate.
// docs/benchmarks.md records the runs.
export const ENGINE_TUNING = {
  maxBatch: 32,
  measured: '2026-11-26',
  machine: 'AMD EPYC, 2 cores, Node 20.20.2, wasm backend, demo model, gausslegendre n_steps 50',
  /** Explanations per second by batch size with one engine per core, from that run. */
  throughput: { 1: 3813, 8: 23083, 16: 30549, 32: 34801, 64: 32269, 128: 31703 },
} as const;
