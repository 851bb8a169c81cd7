// The bundle folder as the officer typed or pasted it. Windows Explorer's "Copy as path" (and a path copied from
// a terminal) comes in quotes, which no folder name has: the service would answer that there is no such folder.

/** `text` without the spaces around it and without one pair of quotes enclosing all of it. */
export function folderFromInput(text: string): string {
  const trimmed = text.trim();
  const quoted = /^(["'])(.*)\1$/s.exec(trimmed);
  return quoted ? quoted[2]!.trim() : trimmed;
}
