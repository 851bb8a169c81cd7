// Device nodes for tests of output that is not a regular file: made in the test's temporary folder, never /dev.
import { execFileSync } from 'node:child_process';

/** Makes a character device at `path`; false where this process may not (not root, not Linux). */
export function mknod(path: string, major: number, minor: number): boolean {
  try {
    execFileSync('mknod', [path, 'c', String(major), String(minor)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
