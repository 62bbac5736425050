import type { Finding } from '../findings.js';

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

/**
 * A site's host also reaches the main server's (snippets') mount points: every <VirtualHost>
 * inherits the main server's WSGIScriptAlias lines after its own (mod_wsgi's
 * wsgi_merge_server_config). Those of `snippets` that none of the site's own mount points
 * covers answer for the site's host too.
 */
export function inheritedMounts<T extends Mount>(siteMounts: readonly Mount[], snippets: readonly T[]): T[] {
  return snippets.filter((snippet) => !siteMounts.some((own) => covers(own.urlPrefix, snippet.urlPrefix)));
}

/**
 * One warning per site host that also answers a snippet's mount point (inheritedMounts); with
 * `about`, only those that concern the site or snippet of that name.
 */
export function inheritedMountFindings(plans: readonly { name: string; urlPrefix: string; site: { serverName: string; tls: unknown } | null }[], about?: string): Finding[] {
  const snippets = plans.filter((p) => p.site === null);
  const hosts = [...new Set(plans.flatMap((p) => (p.site ? [p.site.serverName] : [])))];
  return hosts.flatMap((host) => {
    const own = plans.filter((p) => p.site?.serverName === host);
    const scheme = own.some((p) => p.site?.tls) ? 'https' : 'http';
    const concerned = about === undefined || own.some((p) => p.name === about) ? snippets : snippets.filter((p) => p.name === about);
    return inheritedMounts(own, concerned).map((snippet) => ({
      code: 'mount-inherited',
      severity: 'warning' as const,
      message: `${snippet.urlPrefix} (${snippet.name}, a snippet of the main server) also answers at ${scheme}://${host}${snippet.urlPrefix}: every <VirtualHost> inherits the main server's WSGIScriptAlias, and ${host}'s own mount points (${own.map((p) => p.urlPrefix).join(', ')}) do not cover it`,
      advice: [`to keep it off ${host}, generate ${snippet.name} as a site of its own (--server-name), or mount ${host}'s site at a path that covers ${snippet.urlPrefix}`],
    }));
  });
}
