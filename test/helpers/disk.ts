// A full disk for tests: statfs made to report little free space, as the ESM imports of node:fs see it too.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { vi } from 'vitest';

/** The disk holding any path has `free` bytes left, as statfs says it; undo with `diskRestored`. */
export function diskWith(free: number): void {
  const real = fs.statfsSync;
  vi.spyOn(fs, 'statfsSync').mockImplementation(((path: fs.PathLike) => ({
    ...real(path),
    bavail: free / 4096,
    bsize: 4096,
  })) as typeof fs.statfsSync);
  syncBuiltinESMExports();
}

/** Every mock undone, and node:fs's ESM exports with them. */
export function diskRestored(): void {
  vi.restoreAllMocks();
  syncBuiltinESMExports();
}
