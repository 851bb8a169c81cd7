// The demo bundle's reference.json: the training rows explained by the serving engine with the default
// explainer settings, summarised for drift monitoring (main/core/monitor/reference.ts, docs/monitoring.md).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RawApplicant } from '../../shared/bundle.js';
import { REFERENCE_FILE, type AttributionReference } from '../../shared/monitoring.js';
import { DEFAULT_EXPLAIN_OPTIONS, EXPLAINER_VERSION, Engine } from '../../main/core/engine.js';
import { sealBundle, type ManifestFields } from '../../main/core/bundle/write.js';
import { buildReference } from '../../main/core/monitor/reference.js';
import type { BackendName } from '../../main/core/tf/backend.js';

/** Rows per engine call: bounds the memory of the path batch (rows × n_steps × inputs). */
const CHUNK = 512;

/** Explains `rows` with the bundle's engine (schema baseline, Gauss–Legendre, 50 steps) and summarises them. */
export async function computeReference(
  bundleDir: string,
  rows: readonly RawApplicant[],
  data: string,
  backend: BackendName = 'cpu',
): Promise<AttributionReference> {
  const engine = await Engine.load(bundleDir, { backend });
  try {
    const attributions: number[][] = [];
    let target: string | null = null;
    for (let start = 0; start < rows.length; start += CHUNK) {
      for (const ex of engine.explain(rows.slice(start, start + CHUNK), DEFAULT_EXPLAIN_OPTIONS)) {
        attributions.push(ex.attributions.map((a) => a.attribution));
        target = ex.target.name;
      }
    }
    return buildReference({
      attributions,
      features: engine.schema.features.map((f) => f.name),
      data,
      explainer: {
        explainer_version: EXPLAINER_VERSION,
        method: DEFAULT_EXPLAIN_OPTIONS.method,
        n_steps: DEFAULT_EXPLAIN_OPTIONS.nSteps,
        baseline: 'schema',
        target,
        backend: engine.backend,
      },
    });
  } finally {
    engine.dispose();
  }
}

/** Adds reference.json to a written bundle and reseals its manifest (the other files stay byte for byte). */
export async function addReference(
  bundleDir: string,
  manifest: ManifestFields,
  rows: readonly RawApplicant[],
  data: string,
): Promise<AttributionReference> {
  const reference = await computeReference(bundleDir, rows, data);
  // The same layout writeBundle gives its extra JSON files.
  writeFileSync(join(bundleDir, REFERENCE_FILE), JSON.stringify(reference, null, 2) + '\n');
  sealBundle(bundleDir, manifest);
  return reference;
}
