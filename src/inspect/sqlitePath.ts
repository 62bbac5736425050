import fs from 'node:fs';
import path from 'node:path';
import type { Problem } from './types.js';

/** The file an environment's SQLite database is read from, or why it is not read. */
export type SqliteFile = { file: string } | { skipped: Problem };

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
    real = fs.realpathSync(configured);
  } catch {
    // Missing or unreachable: the reader reports it under the configured name.
    return { file: configured };
  }
  if (!asRoot || !isWithin(configured, env)) return { file: real };
  const planted = plantedLinkOut(env, configured);
  if (!planted) return { file: real };
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
 * The symbolic link not root's own that leads PATH (inside ENV) out of ENV, if any: what root
 * does not follow. Null when PATH stays inside, is missing, or every link on the way is root's.
 */
export function plantedLinkOut(envPath: string, file: string): { path: string; real: string } | null {
  const env = path.resolve(envPath);
  let real: string;
  let envReal: string;
  try {
    real = fs.realpathSync(file);
    envReal = fs.realpathSync(env);
  } catch {
    return null;
  }
  if (real === envReal || isWithin(real, envReal)) return null;
  const planted = linksOnTheWay(env, path.resolve(file)).find((link) => link.uid !== 0);
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
