import { firstArgument } from '../apache/readConf.js';
import { shadowedMounts } from '../plan/mounts.js';

/**
 * The order Apache reads the snippets of one directory in, and the names apply gives them so
 * that a deeper mount point is always read first.
 *
 * Facts this rests on (mod_wsgi src/server/mod_wsgi.c, wsgi_hook_intercept and
 * wsgi_merge_server_config; httpd server/config.c, ap_process_fnmatch_configs):
 * - `IncludeOptional conf-enabled/*.conf` reads the matching files sorted by strcmp of their
 *   names (byte order), and each WSGIScriptAlias is appended to the server's alias list in the
 *   order it is read.
 * - mod_wsgi walks that list front to back and the first alias that matches the URL answers it
 *   (a `/` alias matches every URL); a <VirtualHost>'s own aliases come before the main
 *   server's, which it inherits.
 * So within the main server, `/` read before `/git` answers `/git`; the other way round both are
 * reached. A snippet is installed as `<NN>-<name>.conf` with NN = 99 minus the number of path
 * segments of its mount point (`/` 99, `/git` 98, `/a/b` 97): deeper mount points sort first.
 */
export function apacheNameOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function mountDepth(urlPrefix: string): number {
  return urlPrefix.split('/').filter(Boolean).length;
}

/** `/git` + "git" → "98-git.conf". */
export function snippetFileName(name: string, urlPrefix: string): string {
  return `${99 - Math.min(mountDepth(urlPrefix), 89)}-${name}.conf`;
}

/** Whether `file` is already the name snippetFileName gives a snippet mounted at `urlPrefix`. */
export function isOrderedName(file: string, urlPrefix: string): boolean {
  return /^\d\d-/.test(file) && file.slice(0, 3) === snippetFileName('', urlPrefix).slice(0, 3);
}

/** A WSGIScriptAlias of the main server (outside any <VirtualHost>): its URL path, or null for a WSGIScriptAliasMatch (a regular expression). */
export interface ConfMount {
  urlPrefix: string | null;
  line: number;
}

/** The main-server WSGIScriptAlias(Match) lines of a configuration file, in file order. */
export function mainServerMounts(text: string): ConfMount[] {
  const mounts: ConfMount[] = [];
  let vhostDepth = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (/^<VirtualHost[\s>]/i.test(line)) vhostDepth++;
    else if (/^<\/VirtualHost\s*>/i.test(line)) vhostDepth = Math.max(0, vhostDepth - 1);
    if (vhostDepth > 0) return;
    const match = /^(WSGIScriptAlias|WSGIScriptAliasMatch)\s+(.*)$/i.exec(line);
    if (!match?.[1] || match[2] === undefined) return;
    if (match[1].toLowerCase() === 'wsgiscriptaliasmatch') {
      mounts.push({ urlPrefix: null, line: index + 1 });
      return;
    }
    const arg = firstArgument(match[2]);
    if (arg?.startsWith('/')) mounts.push({ urlPrefix: arg, line: index + 1 });
  });
  return mounts;
}

/** One file of the directory Apache includes, as it will be after the install. */
export interface IncludedConf {
  file: string;
  /** URL paths of its main-server WSGIScriptAlias lines, in file order. */
  mounts: string[];
  /** Installed by this apply. */
  fresh: boolean;
  /** Installed by an earlier apply of ours (its content is what a journal says we wrote). */
  ours: boolean;
}

export interface Conflict {
  hidden: { file: string; urlPrefix: string };
  by: { file: string; urlPrefix: string };
}

/** Every mount point read after another that covers it, reading the files in Apache's order. */
export function conflictsIn(confs: readonly IncludedConf[]): Conflict[] {
  const ordered = [...confs].sort((a, b) => apacheNameOrder(a.file, b.file));
  const mounts = ordered.flatMap((conf) => conf.mounts.map((urlPrefix) => ({ name: conf.file, urlPrefix })));
  return shadowedMounts(mounts).map(({ hidden, by }) => ({ hidden: { file: hidden.name, urlPrefix: hidden.urlPrefix }, by: { file: by.name, urlPrefix: by.urlPrefix } }));
}

/**
 * Earlier installs of ours that still carry a name outside the order (an apply before this
 * naming, or a name given by hand to a file of ours) and take part in a conflict: renamed to
 * the ordered name of their one mount point. Returns the renames (old → new base name) that
 * leave no conflict they can solve; repeated until nothing changes.
 */
export function orderingRenames(confs: readonly IncludedConf[]): Map<string, string> {
  const renames = new Map<string, string>();
  let current = [...confs];
  for (let round = 0; round < confs.length; round++) {
    const movable = (file: string) => {
      const conf = current.find((c) => c.file === file);
      const mount = conf?.mounts[0];
      if (!conf || !conf.ours || conf.fresh || conf.mounts.length !== 1 || mount === undefined || isOrderedName(conf.file, mount)) return null;
      const renamed = snippetFileName(conf.file.replace(/\.conf$/, ''), mount);
      return current.some((c) => c.file === renamed) ? null : { conf, renamed };
    };
    const move = conflictsIn(current)
      .flatMap((c) => [movable(c.by.file), movable(c.hidden.file)])
      .find((m) => m !== null);
    if (!move) break;
    renames.set(move.conf.file, move.renamed);
    current = current.map((c) => (c === move.conf ? { ...c, file: move.renamed } : c));
  }
  return renames;
}
