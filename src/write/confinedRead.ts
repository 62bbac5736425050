import fsSync, { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { bitsText, maySearch, type Reader } from '../util/modeAccess.js';
import { descriptorPath } from '../util/procfs.js';

/**
 * Reading a static source directory the way deploy publishes it: regular files only, never
 * through a symbolic link, each read through a descriptor whose real path was checked to lie in
 * the source directory (planSync, the read-ahead and the staging all read this way).
 */

/** A source file's bytes as readConfinedSync read them, with the stamp of the file it read. */
export interface ConfinedRead {
  content: Buffer;
  mode: number;
  atime: Date;
  mtime: Date;
  /** Device, inode, size, mode, owner and times of the file read (see stampOf). */
  stamp: string;
  /** Owner and group of the file read (its descriptor's), with `mode`: who else may read it. */
  uid: number;
  gid: number;
}

/**
 * The largest static file deploy copies (each is held in memory from the plan to its copy):
 * far above any of Trac's or its plugins' (Trac's largest is under 1 MiB). A larger one is
 * refused, by name, rather than read.
 */
export const MAX_STATIC_FILE_BYTES = 64 * 1024 * 1024;

/** What identifies a file's inode and its state: a read made earlier is used only while it is equal. */
export function stampOf(stat: fsSync.Stats): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mode}:${stat.uid}:${stat.gid}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

/**
 * A source file's bytes and permission bits, or null when it is not a regular file inside
 * `root`. Opened with O_NOFOLLOW (a link planted under the name is not followed), and the
 * descriptor's real path checked against the source directory's (a directory on the way that
 * was swapped for a link is caught too). What is copied is what was read here, never re-read.
 * maxBytes (MAX_STATIC_FILE_BYTES, or a read-ahead's smaller bound): a larger file is not read,
 * and null returned; nor is one that grows past it while it is read.
 */
export function readConfinedSync(file: string, root: string, maxBytes = MAX_STATIC_FILE_BYTES): ConfinedRead | null {
  let fd: number;
  try {
    fd = fsSync.openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    if (['ELOOP', 'ENOENT', 'ENXIO', 'EACCES', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw error;
  }
  try {
    const stat = fsSync.fstatSync(fd);
    if (!stat.isFile()) return null;
    const real = descriptorPath(fd);
    if (real === null || !isBelow(real, root)) return null;
    if (stat.size > maxBytes) return null;
    const content = readUpTo(fd, stat.size, maxBytes);
    // Grown past the bound since fstat: not read (for a read-ahead, the stamp no longer matches the file, and planSync reads it again).
    if (content === null) return null;
    return { content, mode: stat.mode & 0o777, atime: stat.atime, mtime: stat.mtime, stamp: stampOf(stat), uid: stat.uid, gid: stat.gid };
  } finally {
    fsSync.closeSync(fd);
  }
}

/**
 * The bytes of FD from the start to its end, read in a loop that stops at MAX: null beyond it.
 * Not readFileSync, which reads a file whose size says 0 (a pseudo-file) until it ends, if ever.
 */
function readUpTo(fd: number, sizeHint: number, max: number): Buffer | null {
  let buffer = Buffer.allocUnsafe(Math.min(sizeHint, max) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (buffer.length > max) return null;
      const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, max + 1));
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    const read = fsSync.readSync(fd, buffer, length, buffer.length - length, length);
    if (read === 0) break;
    length += read;
  }
  return length > max ? null : buffer.subarray(0, length);
}

export function realpathOrNull(file: string): string | null {
  try {
    return fsSync.realpathSync(file);
  } catch {
    return null;
  }
}

export async function readConfined(file: string, root: string): Promise<ConfinedRead | null> {
  return readConfinedSync(file, root);
}

export function lstatOrNull(file: string): fsSync.Stats | null {
  try {
    return fsSync.lstatSync(file);
  } catch {
    return null;
  }
}

/** CHILD strictly below PARENT (both resolved). */
export function isBelow(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** A directory of a source the reader may not enter: nothing below it is listed (nor copied). */
export interface DeniedDir {
  /** The directory, as named below the source directory (or the source's own, or one above it). */
  dir: string;
  why: string;
}

/** What listPinnedSync found below a source directory. */
export interface Listing {
  /** Regular files, relative, "/"-separated. */
  rels: string[];
  /** Links, devices, FIFOs (named as below DIR): never followed, never published. */
  skipped: string[];
  /** Directories READER may not enter (the source itself or one above it included). */
  denied: DeniedDir[];
}

const DIR_FLAGS = fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW;

/**
 * The regular files below ROOT (the real path of the source directory DIR, taken once by the
 * caller), listed through descriptors: ROOT is opened without following a link and its
 * descriptor's real path must be ROOT; each directory below is opened through its parent's
 * descriptor (/proc/self/fd/N/name, without following a link). What was swapped in since ROOT
 * was taken is never listed, and each directory is judged by the descriptor it is listed from.
 * READER (deploy as root: the user the web server runs as): directories it may not enter, ROOT's
 * parents among them, are reported in `denied` and not listed (the web server could serve
 * nothing below them). Null when ROOT is no longer that directory.
 */
export function listPinnedSync(dir: string, root: string, reader: Reader | null = null): Listing | null {
  const listing: Listing = { rels: [], skipped: [], denied: [] };
  if (reader) {
    const above = ancestorDenied(root, reader);
    if (above) {
      listing.denied.push(above);
      return listing;
    }
  }
  let fd: number;
  try {
    fd = fsSync.openSync(root, DIR_FLAGS);
  } catch {
    return null;
  }
  try {
    if (descriptorPath(fd) !== root) return null;
    walk(fd, dir, '', 0, reader, listing);
  } finally {
    fsSync.closeSync(fd);
  }
  return listing;
}

function walk(fd: number, dir: string, prefix: string, depth: number, reader: Reader | null, listing: Listing): void {
  const stat = fsSync.fstatSync(fd);
  if (!stat.isDirectory()) return;
  if (reader && !maySearch(stat, reader)) {
    listing.denied.push({ dir: path.join(dir, prefix), why: `${reader.name} may not enter it (${bitsText(stat)})` });
    return;
  }
  if (depth > 64) return;
  const entries = fsSync.readdirSync(`/proc/self/fd/${fd}`, { withFileTypes: true });
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile()) listing.rels.push(rel);
    else if (entry.isDirectory()) {
      let sub: number;
      try {
        sub = fsSync.openSync(`/proc/self/fd/${fd}/${entry.name}`, DIR_FLAGS);
      } catch {
        listing.skipped.push(path.join(dir, rel)); // swapped for a link (or gone) since listed
        continue;
      }
      try {
        walk(sub, dir, rel, depth + 1, reader, listing);
      } finally {
        fsSync.closeSync(sub);
      }
    } else listing.skipped.push(path.join(dir, rel));
  }
}

/** The first directory above ROOT (real path) READER may not pass through, if any. */
function ancestorDenied(root: string, reader: Reader): DeniedDir | null {
  for (let at = path.dirname(root); ; at = path.dirname(at)) {
    const stat = lstatOrNull(at);
    if (stat && !maySearch(stat, reader)) return { dir: at, why: `${reader.name} may not pass through it (${bitsText(stat)}) to reach ${root}` };
    if (at === path.dirname(at)) return null;
  }
}

