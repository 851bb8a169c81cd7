// Shared by the renderer's unit tests: the demo model's schema, parsed as the service parses it (defaults filled).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleSchemaSchema, type BundleSchema } from '../../shared/bundle.js';
import { appRoot, demoModelDir } from '../../main/core/paths.js';

export function demoSchema(): BundleSchema {
  return bundleSchemaSchema.parse(JSON.parse(readFileSync(join(demoModelDir(), 'schema.json'), 'utf8')));
}

export function sampleApplicants(): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(appRoot(), 'assets', 'samples', 'applicants.json'), 'utf8')) as Record<
    string,
    unknown
  >[];
}
