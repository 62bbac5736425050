import fsSync, { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { descriptorPath } from '../util/procfs.js';
import { isBelow } from './confinedRead.js';

/**
 * A directory (opened as OPEN: a path, or a name in a pinned parent; DIR is its name for messages) held open by a descriptor, so that what is made, renamed or removed in it lands in
 * that very directory whatever happens to the path meanwhile: names are given to the kernel as
 * `/proc/self/fd/<fd>/<name>` (the descriptor's magic link resolves to the directory it holds, not
 * to a path someone could swap). Opened with O_DIRECTORY|O_NOFOLLOW; its /proc/self/fd link is
 * checked to be WITHIN (or equal to it) and, with RULE (as root, without --force), the directory
 * to be root's and, below WITHIN, writable by nobody else (unsafeHtdocs.ts changeableBelow; WITHIN
 * itself was judged by refuseUnsafeHtdocs, where a sticky one is accepted). Where /proc is missing, the
 * plain path stands in (no pinning possible there).
 */
export interface PinnedDir {
  /** The path it was opened as (for messages). */
  dir: string;
  /** The prefix for names in it: /proc/self/fd/<fd>, or the path where /proc is missing. */
  at: string;
  fd: number | null;
  /** Its real path, as the descriptor says (the path where /proc is missing). */
  real: string;
}

const HAVE_PROC_FD = fsSync.existsSync('/proc/self/fd');

export class PinError extends Error {}

export function pinDir(
  open: string,
  within: string | null,
  { rule = process.geteuid?.() === 0, dir = open }: { rule?: boolean; dir?: string } = {},
): PinnedDir {
  if (!HAVE_PROC_FD) return { dir, at: dir, fd: null, real: dir };
  const fd = fsSync.openSync(open, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW);
  let real: string;
  try {
    real = fsSync.readlinkSync(`/proc/self/fd/${fd}`);
    if (within !== null && real !== within && !isBelow(real, within)) throw new PinError(`${dir} is not below ${within} (it is ${real})`);
    if (rule) {
      const stat = fsSync.fstatSync(fd);
      if (stat.uid !== 0) throw new PinError(`${dir} is owned by uid ${stat.uid}, not root`);
      if ((stat.mode & 0o022) !== 0 && within !== null && real !== within) throw new PinError(`${dir} is writable by group or others (mode ${(stat.mode & 0o7777).toString(8)})`);
    }
  } catch (error) {
    fsSync.closeSync(fd);
    throw error;
  }
  return { dir, at: `/proc/self/fd/${fd}`, fd, real };
}

/** NAME (one component) in a pinned directory. */
export function inPinned(pinned: PinnedDir, name: string): string {
  if (name.includes('/')) throw new Error(`not one name: ${name}`);
  return pinned.fd === null ? path.join(pinned.at, name) : `${pinned.at}/${name}`;
}

export function unpin(pinned: PinnedDir): void {
  if (pinned.fd !== null) fsSync.closeSync(pinned.fd);
}

/** Whether the descriptor FD (a file just made) really is in PINNED (its /proc/self/fd link is below the directory's). */
export function fdIsIn(fd: number, pinned: PinnedDir): boolean {
  if (pinned.fd === null) return true;
  const real = descriptorPath(fd);
  return real !== null && path.dirname(real) === pinned.real;
}
