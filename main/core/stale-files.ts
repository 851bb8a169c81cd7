// Removing what a killed process left behind (a staging folder, a spool file): entries of a folder that are ours
// by name and have not changed for a while. Best effort: one that cannot be removed now is tried the next time.
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Removes the entries of `folder` whose name `ours` accepts and that have not changed for more than `maxAgeMs`
 * (files, or folders with what they hold). Nothing happens when the folder does not exist; another failure to
 * read it is thrown.
 */
export function removeStale(
  folder: string,
  ours: (name: string) => boolean,
  maxAgeMs: number,
  now = Date.now(),
): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw e;
  }
  for (const name of names.filter(ours)) {
    const path = join(folder, name);
    try {
      if (now - lstatSync(path).mtimeMs > maxAgeMs) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed meanwhile, or not removable now: tried again next time.
    }
  }
}
