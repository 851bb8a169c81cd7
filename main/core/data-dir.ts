// Where BranchLens keeps its database and keys: --data DIR, else $BRANCHLENS_DATA, else the OS's per-user data dir.
import envPaths from 'env-paths';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.BRANCHLENS_DATA) return resolve(env.BRANCHLENS_DATA);
  return envPaths('BranchLens', { suffix: '' }).data;
}

export function ensureDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
