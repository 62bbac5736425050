/**
 * Mount points that hide one another. Apache tries WSGIScriptAlias (and Alias) in the order it
 * reads them and the first that matches wins: a site at `/` read before one at `/git` answers
 * `/git` too. `mounts` is in the order Apache reads them.
 */
export interface Mount {
  name: string;
  urlPrefix: string;
}

export interface Shadowed {
  /** The mount that is never reached (for the URLs under it). */
  hidden: Mount;
  /** The one read first that matches them. */
  by: Mount;
}

export function covers(outer: string, inner: string): boolean {
  if (outer === '/') return true;
  return inner === outer || inner.startsWith(`${outer}/`);
}

export function shadowedMounts(mounts: readonly Mount[]): Shadowed[] {
  const found: Shadowed[] = [];
  mounts.forEach((mount, index) => {
    const by = mounts.slice(0, index).find((earlier) => covers(earlier.urlPrefix, mount.urlPrefix));
    if (by) found.push({ hidden: mount, by });
  });
  return found;
}

/** The order in which deeper mount points come first, so each is reached. */
export function deepestFirst<T extends Mount>(mounts: readonly T[]): T[] {
  const depth = (m: Mount) => (m.urlPrefix === '/' ? 0 : m.urlPrefix.split('/').length);
  return [...mounts].sort((a, b) => depth(b) - depth(a));
}
