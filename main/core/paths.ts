// Where the app's own files are: the package root (source, dist/ or a packaged app's resources).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder holding BranchLens's package.json and assets/ ($BRANCHLENS_HOME overrides, e.g. in a packaged app). */
export function appRoot(): string {
  if (root) return root;
  if (process.env.BRANCHLENS_HOME) return (root = process.env.BRANCHLENS_HOME);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'branchlens')
      return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the BranchLens installation folder (set BRANCHLENS_HOME)');
    dir = up;
  }
}

export function demoModelDir(): string {
  return join(appRoot(), 'assets', 'models', 'credit-demo');
}

export function samplesDir(): string {
  return join(appRoot(), 'assets', 'samples');
}
