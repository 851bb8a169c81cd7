// Writes a bundle folder: the model in the converter's layout, schema.json, and manifest.json with every sha256.
import { readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BundleSchema, Manifest } from '../../../shared/bundle.js';
import { fileSaver } from './model-io.js';
import { sha256 } from './load.js';

export type ManifestFields = Omit<Manifest, 'files'>;

/** Writes model + schema (+ extra JSON files), then manifest.json pinning them all. Replaces `dir`. */
export async function writeBundle(
  dir: string,
  model: tfl.LayersModel,
  schema: BundleSchema,
  manifest: ManifestFields,
  extraFiles: Record<string, unknown> = {},
): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await model.save(fileSaver(dir));
  writeFileSync(join(dir, 'schema.json'), JSON.stringify(schema, null, 2) + '\n');
  for (const [name, value] of Object.entries(extraFiles))
    writeFileSync(join(dir, name), JSON.stringify(value, null, 2) + '\n');
  sealBundle(dir, manifest);
}

/** (Re)writes manifest.json with the sha256 of every other file in `dir`. */
export function sealBundle(dir: string, manifest: ManifestFields): void {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name !== 'manifest.json') files[name] = sha256(readFileSync(join(dir, name)));
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, files }, null, 2) + '\n');
}
