import fs from 'node:fs';
import path from 'node:path';
import { isBelow, lstatOrNull, realpathOrNull } from './confinedRead.js';
import type { HtdocsSource } from './syncHtdocs.js';

/**
 * The static directories deploy publishes, each pinned to its real path ONCE, when it is decided
 * to publish it: planSync, the read-ahead and the staging read below that path and never take it
 * again (a directory swapped for a link afterwards is read through nowhere: every read's
 * descriptor must lie below the pinned path, confinedRead.ts).
 */

/**
 * The environment's own static directory, ENV/htdocs, as it is now: its real path (taken once)
 * and, when root runs this, the symbolic link not root's own that leads it out of the
 * environment (the rule of the database link). Decided on ENV/htdocs itself, not on how an
 * answer spells it: Trac names it by its real path (Environment._get_path_to_dir).
 */
export interface SiteDir {
  dir: string;
  /** Its real path; null when it does not exist. */
  real: string | null;
  /** The link (another user's) that leads it out of ENV: it is not published. */
  planted: { path: string; real: string } | null;
}

export function siteDir(envPath: string, asRoot = process.geteuid?.() === 0): SiteDir {
  const env = path.resolve(envPath);
  const dir = path.join(env, 'htdocs');
  const envReal = realpathOrNull(env);
  const first = lstatOrNull(dir);
  if (!envReal || !first) return { dir, real: null, planted: null };
  // A directory itself: its real path is the environment's joined with its name, never
  // resolved again (a link swapped in from now on is not followed by anything that reads it).
  if (!first.isSymbolicLink()) return { dir, real: first.isDirectory() ? path.join(envReal, 'htdocs') : null, planted: null };
  const real = realpathOrNull(dir);
  if (real === null) return { dir, real: null, planted: null };
  const inside = real === envReal || isBelow(real, envReal);
  if (!asRoot || inside) return { dir, real, planted: null };
  // Out of the environment through a link: root's own link (an administrator's choice) is
  // followed, as long as it is still that link now (another one put in its place meanwhile is not).
  const again = lstatOrNull(dir);
  const same = again?.isSymbolicLink() && again.ino === first.ino && again.dev === first.dev && again.uid === 0;
  if (first.uid === 0 && same) return { dir, real, planted: null };
  return { dir, real, planted: { path: dir, real } };
}

/**
 * SOURCES with their real paths (sources already pinned keep theirs; one that no longer exists
 * is left out, as a missing one is), and those not published because they are the environment's
 * static directory led out of it by another user's link: any source whose real path is the
 * site's, and any of key `site`.
 */
export function pinSources(sources: readonly HtdocsSource[], site: SiteDir): { pinned: HtdocsSource[]; linkedOut: HtdocsSource[] } {
  const pinned: HtdocsSource[] = [];
  const linkedOut: HtdocsSource[] = [];
  for (const source of sources) {
    const isSite = source.dir === site.dir || (site.real !== null && source.dir === site.real);
    const root = source.root ?? (isSite ? site.real : realpathOrNull(source.dir));
    if (site.planted && (source.key === 'site' || isSite || (root !== null && root === site.planted.real))) {
      linkedOut.push(source);
      continue;
    }
    if (root === null || !fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) continue;
    pinned.push({ ...source, root });
  }
  return { pinned, linkedOut };
}
