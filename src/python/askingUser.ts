import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findApache } from '../apache/layout.js';
import { usageError } from '../errors.js';
import type { Reader } from '../util/modeAccess.js';

/**
 * Who deploy asks the environment's Python as: "ask Trac as the user that will run it". Running
 * as root, the environment's code (its plugins, trac.ini's [inherit] files) is never run as root
 * because another user may have written it:
 *
 * 1. the web server's user (Apache's User/Group of this machine's layout: www-data, apache),
 *    when that user exists: who will run the site;
 * 2. else the owner of the environment directory, when it is not root: who keeps it;
 * 3. else root, only when everything Trac reads of the environment is root's and nobody else may
 *    change it (the directory, conf/, trac.ini, plugins/ and every directory above them);
 *    otherwise deploy refuses (exit 2) and says what to do.
 *
 * Not running as root: null, Python runs as the caller (who can only read what it may).
 */
export interface AskingUser extends Reader {
  /** The group setpriv takes (a name, or the number when the group has no name). */
  group: string;
  /** Whether setpriv may take the user's groups from the group database (--init-groups). */
  named: boolean;
  why: 'web-server' | 'environment-owner' | 'root';
}

export function askingUser(envPath: string, asRoot = process.geteuid?.() === 0): AskingUser | null {
  if (!asRoot) return null;
  let apache: { user: string; group: string } | null = null;
  try {
    apache = findApache();
  } catch {
    apache = null;
  }
  const server = apache ? lookupUser(apache.user, apache.group) : null;
  if (server) return { ...server, why: 'web-server' };
  const env = path.resolve(envPath);
  const stat = fs.statSync(env, { throwIfNoEntry: false });
  if (stat && stat.uid !== 0) {
    const owner = userOfUid(stat.uid);
    if (owner) return { ...owner, why: 'environment-owner' };
    return { name: String(stat.uid), uid: stat.uid, gid: stat.gid, groups: [stat.gid], group: String(stat.gid), named: false, why: 'environment-owner' };
  }
  const open = othersMayChange(env);
  if (open) {
    throw usageError(
      `${env}: trac-deploy, running as root, found no web server user to ask Trac as (no Apache here), and the environment is root's while ${open}; it will not run the environment's code as root`,
      'give the environment to the user that runs Trac (chown -R USER: ENV), or install Apache, and re-run',
    );
  }
  return { name: 'root', uid: 0, gid: 0, groups: [0], group: '0', named: true, why: 'root' };
}

/** setpriv's arguments before `--`: run as USER with its groups. */
export function setprivArgs(user: AskingUser): string[] {
  return [`--reuid=${user.uid}`, `--regid=${user.gid}`, user.named ? '--init-groups' : '--clear-groups'];
}

/** "www-data (the web server's user)": who, and why that one, for messages. */
export function describeUser(user: AskingUser): string {
  const why = user.why === 'web-server' ? "the web server's user" : user.why === 'environment-owner' ? "the environment's owner; no web server user was found" : 'root: everything Trac reads here is root\'s';
  return `${user.name} (${why})`;
}

/**
 * The first thing Trac reads of ENV (root's) that another user may change, as a phrase; null
 * when there is none. Trac runs the plugins in plugins/ and reads trac.ini (and what it inherits).
 */
function othersMayChange(env: string): string | null {
  for (const p of [path.join(env, 'conf', 'trac.ini'), path.join(env, 'plugins'), path.join(env, 'conf'), env]) {
    for (let at = p; ; at = path.dirname(at)) {
      const stat = fs.lstatSync(at, { throwIfNoEntry: false });
      if (stat) {
        if (stat.uid !== 0) return `${at} is owned by uid ${stat.uid}`;
        const sticky = stat.isDirectory() && (stat.mode & 0o1000) !== 0 && at !== env && isInside(env, at);
        if ((stat.mode & 0o022) !== 0 && !stat.isSymbolicLink() && !sticky) return `${at} is writable by group or others`;
      }
      if (at === path.dirname(at)) break;
    }
  }
  return null;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

interface Account {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
  group: string;
  named: boolean;
}

const MAX_DB = 4 * 1024 * 1024;

function readDb(file: string): string[][] {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > MAX_DB) return [];
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } catch {
    return [];
  }
}

/**
 * USER (and GROUP, when it exists) from /etc/passwd and /etc/group; a user only the system's
 * other databases know (LDAP) is asked of `id`. Null when the user does not exist.
 */
export function lookupUser(user: string, group: string | null = null): Account | null {
  const entry = readDb('/etc/passwd').find((f) => f[0] === user);
  let uid: number;
  let gid: number;
  let groups: number[];
  if (entry && /^\d+$/.test(entry[2] ?? '') && /^\d+$/.test(entry[3] ?? '')) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    groups = [gid, ...readDb('/etc/group').filter((f) => (f[3] ?? '').split(',').includes(user) && /^\d+$/.test(f[2] ?? '')).map((f) => Number(f[2]))];
  } else {
    try {
      const id = (args: string[]) => execFileSync('id', [...args, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
      uid = Number(id(['-u']));
      gid = Number(id(['-g']));
      groups = id(['-G']).split(/\s+/).map(Number);
    } catch {
      return null;
    }
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  }
  // Apache's Group, when it names a group that exists: the daemon runs with it.
  const named = group !== null ? readDb('/etc/group').find((f) => f[0] === group && /^\d+$/.test(f[2] ?? '')) : undefined;
  if (named) gid = Number(named[2]);
  return { name: user, uid, gid, groups: [...new Set([gid, ...groups])], group: named ? group! : String(gid), named: true };
}

function userOfUid(uid: number): Account | null {
  const entry = readDb('/etc/passwd').find((f) => f[2] === String(uid));
  return entry?.[0] ? lookupUser(entry[0]) : null;
}
