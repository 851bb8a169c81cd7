// Explains fixed applicants with a bundle on the wasm backend and prints the attributions as the hex of their
// Float64Array bytes, so that two processes can be compared bit for bit:
//   node --import tsx test/helpers/explain-hex.ts <bundle-dir>
import { fileURLToPath } from 'node:url';
import { DEFAULT_EXPLAIN_OPTIONS, Engine } from '../../main/core/engine.js';
import { CREDIT_APPLICANTS } from './bundles.js';

export const HEX_PREFIX = 'attributions-hex:';

/** Attributions, scores and deltas of CREDIT_APPLICANTS under two integration rules, as one hex string. */
export function attributionsHex(engine: Engine): string {
  const numbers: number[] = [];
  for (const method of ['gausslegendre', 'riemann_trapezoid'] as const) {
    for (const e of engine.explain(CREDIT_APPLICANTS, { ...DEFAULT_EXPLAIN_OPTIONS, method, nSteps: 50 })) {
      numbers.push(...e.detail.attributions_raw, e.score, e.baseline_score, e.completeness.delta);
    }
  }
  return Buffer.from(new Float64Array(numbers).buffer).toString('hex');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const engine = await Engine.load(process.argv[2]!, { backend: 'wasm' });
  process.stdout.write(`${HEX_PREFIX}${engine.backend}:${attributionsHex(engine)}\n`);
  engine.dispose();
}
