// Plain words for the file-system errors a user causes by naming a path (a flag, a variable): what the data
// folder and `--out` report instead of a raw errno.
const REASONS: Partial<Record<string, string>> = {
  ENOTDIR: 'part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'it is on a read-only file system',
  ENOSPC: 'the disk is full',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'the path has a loop of symbolic links',
};

/** Why `e` happened, in plain words (`specific` first, for codes whose meaning depends on the use); else undefined. */
export function fsReason(e: unknown, specific: Partial<Record<string, string>> = {}): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
  return specific[code] ?? REASONS[code];
}
