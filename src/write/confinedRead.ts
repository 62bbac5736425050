import fsSync, { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

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
    let real: string | null;
    try {
      real = fsSync.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      real = null;
    }
    if (real === null || !isBelow(real, root)) return null;
    if (stat.size > maxBytes) return null;
    const content = readUpTo(fd, stat.size, maxBytes);
    // Grown past the bound since fstat: not read (for a read-ahead, the stamp no longer matches the file, and planSync reads it again).
    if (content === null) return null;
    return { content, mode: stat.mode & 0o777, atime: stat.atime, mtime: stat.mtime, stamp: stampOf(stat) };
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
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Regular files below dir, relative, "/"-separated. Symbolic links are never followed, neither
 * to files nor to directories (Trac's copytree follows them; a link planted in ENV/htdocs by
 * anything running as the Apache user would then publish whatever it points at): they are
 * listed in `skipped` instead.
 */
export async function listSourceFiles(dir: string, skipped: string[], prefix = '', depth = 0): Promise<string[]> {
  const out: string[] = [];
  if (depth > 64) return out;
  const entries = await fs.readdir(path.join(dir, prefix), { withFileTypes: true });
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listSourceFiles(dir, skipped, rel, depth + 1)));
    else if (entry.isFile()) out.push(rel);
    else skipped.push(path.join(dir, rel));
  }
  return out;
}

/**
 * listSourceFiles, synchronously: for a caller on the critical path (deploy, once Python
 * answered), where a directory's listing through the thread pool waits for a turn of the event
 * loop each, and a few synchronous readdirs take well under a millisecond.
 */
export function listSourceFilesSync(dir: string, skipped: string[], prefix = '', depth = 0): string[] {
  const out: string[] = [];
  if (depth > 64) return out;
  for (const entry of fsSync.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listSourceFilesSync(dir, skipped, rel, depth + 1));
    else if (entry.isFile()) out.push(rel);
    else skipped.push(path.join(dir, rel));
  }
  return out;
}
