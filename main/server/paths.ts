// Which part of the server a request's path belongs to, by the roots that own it.

/** The request URL's path, without its query. */
export function pathOf(url: string): string {
  return url.split('?')[0]!;
}

/** Whether `path` (or a URL) is one of `roots` or lies under one: `/v2` and `/v2/models`, not `/v2x`. */
export function isUnder(path: string, roots: readonly string[]): boolean {
  const p = pathOf(path);
  return roots.some((root) => p === root || p.startsWith(`${root}/`));
}
