import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';

/** Owners root trusts with a directory on the way: root alone. */
export const ROOT_ONLY: ReadonlySet<number> = new Set([0]);

/**
 * Refuses (exit 2, nothing written) a TARGET/htdocs that root cannot write safely. Only when
 * running as root: another user cannot make trac-deploy write where that user could not.
 *
 * - TARGET/htdocs a symbolic link that is not root's own: never followed, not even with --force
 *   (as a database link planted in an environment is not: src/inspect/sqlitePath.ts). A link
 *   root made itself, to a directory only root can write, is an administrator's choice: followed.
 * - Any directory on the way to htdocs, textual or real (TARGET, its parents up to /, htdocs and
 *   where a link leads), owned by another user, or writable by group or others without the sticky
 *   bit: that user could swap a directory for a link while root copies, and root's files would
 *   land outside. Refused unless --force (the administrator then vouches for that user).
 */
export function refuseUnsafeHtdocs(htdocs: string, { force = false, asRoot = process.geteuid?.() === 0 } = {}): void {
  if (!asRoot) return;
  const link = fs.lstatSync(htdocs, { throwIfNoEntry: false });
  if (link?.isSymbolicLink() && link.uid !== 0) {
    throw usageError(
      `${htdocs} is a symbolic link (owned by uid ${link.uid}, not root) to ${fs.readlinkSync(htdocs)}; trac-deploy, running as root, does not write through a link another user could have made, and nothing was written`,
      `if the static files belong there, make the link as root (ln -sfn DIR ${htdocs}) to a directory only root can write, or remove the link and re-run`,
    );
  }
  if (force) return;
  const unsafe = dirsOthersMayChange(htdocs, ROOT_ONLY);
  if (unsafe.length === 0) return;
  const [first] = unsafe;
  throw usageError(
    `${first!.dir} ${first!.why}; trac-deploy, running as root, cannot write ${htdocs} safely (that user could swap a directory there for a link while files are copied), and nothing was written`,
    `make ${first!.dir} root's own and writable by root only (chown root: ; chmod go-w), choose another TARGET, or use --force if you trust that user`,
  );
}

/**
 * The places on the way to DIR, as named and as it really is (every directory up to /, and a link
 * on the way), that a user other than OWNERS may change: a directory or link owned by another
 * user, or a directory writable by group or others without the sticky bit (like /tmp: there only
 * an entry's owner may rename it, and the next entry must be OWNERS' too). A missing one is
 * skipped (made later, by us). Nearest to / first: the one to fix first. Shared by the refusal
 * above (OWNERS: root) and the staging of deploy's copies (stageHtdocs.ts safeToStage).
 */
export function dirsOthersMayChange(dir: string, owners: ReadonlySet<number>): { dir: string; why: string }[] {
  const out: { dir: string; why: string }[] = [];
  const seen = new Set<string>();
  for (const end of [path.resolve(dir), realOfNearest(dir)]) {
    for (let at = end; ; at = path.dirname(at)) {
      if (!seen.has(at)) {
        seen.add(at);
        const why = changeableBy(at, owners);
        if (why) out.push({ dir: at, why });
      }
      if (at === path.dirname(at)) break;
    }
  }
  return out.sort((a, b) => a.dir.length - b.dir.length);
}

function changeableBy(at: string, owners: ReadonlySet<number>): string | null {
  let link: fs.Stats | undefined;
  let stat: fs.Stats | undefined;
  try {
    link = fs.lstatSync(at, { throwIfNoEntry: false });
    stat = link?.isSymbolicLink() ? fs.statSync(at, { throwIfNoEntry: false }) : link;
  } catch (error) {
    return `cannot be looked at (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  if (link?.isSymbolicLink() && !owners.has(link.uid)) return `is a symbolic link owned by uid ${link.uid}`;
  if (!stat?.isDirectory()) return null;
  if (!owners.has(stat.uid)) return `is owned by uid ${stat.uid}, not ${owners.has(0) && owners.size === 1 ? 'root' : 'root or this user'}`;
  if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) return `is writable by ${stat.mode & 0o002 ? 'all users' : `group ${stat.gid}`} (mode ${(stat.mode & 0o7777).toString(8)}, no sticky bit)`;
  return null;
}

/** The real path of DIR, or of its nearest existing parent joined with the rest. */
function realOfNearest(dir: string): string {
  const abs = path.resolve(dir);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realOfNearest(parent), path.basename(abs));
  }
}

/** A place below TARGET/htdocs or at TARGET/cgi-bin that root should not write into, and why. */
export interface UnsafeDir {
  dir: string;
  why: string;
}

/**
 * The rule for what is below TARGET/htdocs and at TARGET/cgi-bin, where root writes and removes
 * files: an existing directory there must be root's and writable by nobody else, sticky or not
 * (in a sticky directory its other users still make entries of their own: a directory root
 * then writes into, a link in the way); a link there must be root's and lead to such a
 * directory. STAT is the lstat of AT when the caller has it. Null: safe, or missing.
 */
export function changeableBelow(at: string, stat: fs.Stats | null = lstatQuiet(at)): string | null {
  if (!stat) return null;
  let dir = stat;
  if (stat.isSymbolicLink()) {
    if (stat.uid !== 0) return `is a symbolic link owned by uid ${stat.uid}`;
    const target = statQuiet(at);
    if (!target) return null;
    dir = target;
  }
  if (!dir.isDirectory()) return null;
  if (dir.uid !== 0) return `is owned by uid ${dir.uid}, not root`;
  if ((dir.mode & 0o022) !== 0) return `is writable by ${dir.mode & 0o002 ? 'all users' : `group ${dir.gid}`} (mode ${(dir.mode & 0o7777).toString(8)})`;
  return null;
}

/**
 * Refuses (exit 2, nothing written), as root and without --force, the first of UNSAFE: deploy
 * writes and removes files below TARGET/htdocs and in TARGET/cgi-bin, and another user who may
 * change a directory there could put a link in the way.
 */
export function refuseUnsafeBelow(unsafe: readonly UnsafeDir[], { force = false, asRoot = process.geteuid?.() === 0 } = {}): void {
  if (!asRoot || force || unsafe.length === 0) return;
  const [first] = [...unsafe].sort((a, b) => a.dir.length - b.dir.length || (a.dir < b.dir ? -1 : 1));
  throw usageError(
    `${first!.dir} ${first!.why}; trac-deploy, running as root, does not write into a directory another user may change (that user could put a link in the way), and nothing was written${unsafe.length > 1 ? ` (${unsafe.length - 1} more like it)` : ''}`,
    `make it root's and writable by root only (chown -R root: ${first!.dir}; chmod -R go-w ${first!.dir}), remove it, or use --force if you trust that user`,
  );
}

function lstatQuiet(at: string): fs.Stats | null {
  try {
    return fs.lstatSync(at, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

function statQuiet(at: string): fs.Stats | null {
  try {
    return fs.statSync(at, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}
