import fs from 'fs-extra';
import path from 'node:path';
import { usageError } from '../errors.js';
import { writeAtomic } from '../write/writeFiles.js';

/**
 * What one path holds: nothing, a regular file (its bytes, permission bits and owner), or a
 * symbolic link. Directories are refused.
 */
export type PathState =
  | { type: 'absent' }
  | { type: 'file'; content: Buffer; mode: number; uid?: number; gid?: number }
  | { type: 'symlink'; target: string };

/** Read a path's state without following a link. */
export async function readState(file: string): Promise<PathState> {
  const stat = await fs.lstat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (!stat) return { type: 'absent' };
  if (stat.isSymbolicLink()) return { type: 'symlink', target: await fs.readlink(file) };
  if (stat.isFile()) return { type: 'file', content: await fs.readFile(file), mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
  throw usageError(`${file} exists and is neither a file nor a symbolic link; trac-deploy will not replace it`);
}

export function sameState(a: PathState, b: PathState): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'file' && b.type === 'file') {
    const owner = a.uid === undefined || b.uid === undefined || (a.uid === b.uid && a.gid === b.gid);
    return a.content.equals(b.content) && a.mode === b.mode && owner;
  }
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  return true;
}

/**
 * Make a path hold exactly `state`, atomically where the file system allows: a file or link is
 * made under a temporary name beside it and renamed over the path, which replaces a link
 * itself and never writes through one.
 */
export async function putState(file: string, state: PathState): Promise<void> {
  if (state.type === 'absent') {
    await fs.rm(file, { force: true });
    return;
  }
  if (state.type === 'file') {
    // Owner set on the temp file before it is renamed into place: never a moment with the wrong owner.
    const owner = state.uid !== undefined && state.gid !== undefined && process.getuid?.() === 0 ? { uid: state.uid, gid: state.gid } : undefined;
    await writeAtomic(file, state.content, state.mode, owner);
    return;
  }
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.lnk`);
  await fs.symlink(state.target, temp);
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
