import fs from 'node:fs';
import path from 'node:path';
import { descriptorPath } from '../util/procfs.js';
import type { Problem } from './types.js';

/**
 * The file an environment's SQLite database is read from, or why it is not read. As root, FILE
 * names it through its directory held open (pinDatabase): `real` is where that is, for messages;
 * `release` closes the directory once the database was read.
 */
export type SqliteFile = { file: string; real?: string; release?: () => void } | { skipped: Problem };

/**
 * Where `[trac] database = sqlite:NAME` leads, resolved to its real path (no symbolic link left
 * for SQLite, or the file reader, to follow later).
 *
 * A database outside the environment by Trac's own configuration (an absolute path, or `..`) is
 * the administrator's choice, and read where it is. A path inside the environment (the default
 * db/trac.db) that a symbolic link leads out of it (db/ or db/trac.db a link) is read only when
 * it cannot make root read what the environment's owner chose: when trac-deploy does not run as
 * root (it reads nothing its user could not), or every link on the way inside the environment is
 * root's own. A link that anyone else planted there is not followed by root: the database is not
 * read, and a warning says so and what to do.
 */
export function sqliteFileToRead(envPath: string, name: string, asRoot = process.geteuid?.() === 0): SqliteFile {
  const env = path.resolve(envPath);
  const configured = path.resolve(env, name);
  let real: string;
  try {
    real = fs.realpathSync.native(configured);
  } catch {
    // Missing or unreachable: the reader reports it under the configured name. Not as root: a
    // name that would not resolve a moment ago (a link swapped while realpath read it) is not
    // read by root unresolved.
    if (!asRoot) return { file: configured };
    return { skipped: { code: 'database-missing', severity: 'error', message: `SQLite database ${configured} does not exist or cannot be opened`, path: configured } };
  }
  if (!asRoot) return { file: real };
  const planted = isWithin(configured, env) ? plantedLinkOut(env, configured, real) : null;
  if (!planted) return pinDatabase(real);
  return {
    skipped: {
      code: 'database-link-outside',
      severity: 'warning',
      message: `${configured} ${planted.path === configured ? 'is a symbolic link' : `leads through the symbolic link ${planted.path}`} (not root's) to ${real}, outside the environment; trac-deploy, running as root, did not follow it: the database version and the repositories stored in it were not read`,
      path: configured,
      advice: [
        `if the database belongs at ${real}, name it in ${path.join(env, 'conf', 'trac.ini')}: [trac] database = sqlite:${real} (Trac accepts an absolute path)`,
        'or run inspect as the environment\'s owner, or replace the link with the database itself',
      ],
    },
  };
}

/**
 * REAL (a database's real path, as just resolved) read by root through its directory held open:
 * `/proc/self/fd/<dir>/<name>`, a name no one can redirect once the directory is open (a
 * directory on the way swapped for a link by its owner after the checks above would otherwise
 * make root read what that link leads to). SQLite finds the journal and WAL files beside it
 * there too. The directory is opened without following a link, and used only when the kernel says
 * it is the one resolved; else the database is not read (a problem says it changed meanwhile).
 * The last name is checked by each reader: the file reader opens it with O_NOFOLLOW, SQLite's
 * open is checked after the fact (readTracTablesWithSqlite's `real`).
 */
export function pinDatabase(real: string): SqliteFile {
  const dir = path.dirname(real);
  let fd: number;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  } catch {
    return { skipped: changedMeanwhile(real) };
  }
  const held = descriptorPath(fd);
  const release = () => {
    try {
      fs.closeSync(fd);
    } catch {
      // closed already
    }
  };
  if (held !== dir) {
    release();
    return { skipped: changedMeanwhile(real) };
  }
  return { file: `/proc/self/fd/${fd}/${path.basename(real)}`, real, release };
}

function changedMeanwhile(real: string): Problem {
  return {
    code: 'database-unreadable',
    severity: 'error',
    message: `SQLite database ${real}: a directory on its way changed while trac-deploy read it (a link put in its place); it was not read`,
    path: real,
    advice: ['inspect again; if it recurs, look at who changes the directories of that path'],
  };
}

/**
 * The symbolic link not root's own that leads PATH (inside ENV) out of ENV, if any: what root
 * does not follow. Null when PATH stays inside, is missing, or every link on the way is root's.
 * RESOLVED: PATH's real path as the caller resolved it (and will use); when it lies outside but
 * no link on the way is there any more, the way changed since: PATH itself is named, as a way
 * nobody vouched for.
 */
export function plantedLinkOut(envPath: string, file: string, resolved?: string): { path: string; real: string } | null {
  const env = path.resolve(envPath);
  let real: string;
  let envReal: string;
  try {
    real = resolved ?? fs.realpathSync.native(file);
    envReal = fs.realpathSync.native(env);
  } catch {
    return null;
  }
  if (real === envReal || isWithin(real, envReal)) return null;
  const links = linksOnTheWay(env, path.resolve(file));
  const planted = links.find((link) => link.uid !== 0) ?? (links.length === 0 ? { path: path.resolve(file) } : undefined);
  return planted ? { path: planted.path, real } : null;
}

/**
 * The symbolic links among the paths from ENV (excluded) down to FILE, with their owners: each
 * path's last component, as lstat sees it through the links before it (a link to another link
 * is counted too).
 */
function linksOnTheWay(env: string, file: string): { path: string; uid: number }[] {
  const links: { path: string; uid: number }[] = [];
  let at = env;
  for (const part of path.relative(env, file).split(path.sep)) {
    at = path.join(at, part);
    const stat = fs.lstatSync(at, { throwIfNoEntry: false });
    // Gone since realpath: count it as a link nobody vouched for.
    if (stat === undefined) return [{ path: at, uid: -1 }];
    if (stat.isSymbolicLink()) links.push({ path: at, uid: stat.uid });
  }
  return links;
}

function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel);
}
