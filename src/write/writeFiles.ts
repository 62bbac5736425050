import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { reasonOf, usageError } from '../errors.js';
import type { RenderedFile } from '../plan/types.js';
import { readConfinedSync, realpathOrNull } from './confinedRead.js';
import { fdIsIn, inPinned, pinDir, unpin } from './pinnedDir.js';
import { changeableBelow, dirsOthersMayChange, ROOT_ONLY } from './unsafeHtdocs.js';

/** skipped: --check or --dry-run as root did not read it (see compareFiles); `reason` says why. */
export type FileStatus = 'new' | 'changed' | 'unchanged' | 'skipped';

/** The largest script or configuration file compared or read back (ours are a few KiB). */
export const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

export interface FileOutcome {
  path: string;
  kind: RenderedFile['kind'];
  status: FileStatus;
  /** True when this run wrote it. */
  written: boolean;
  /** Why a file was not compared (status skipped). */
  reason?: string;
}

export interface CompareOptions {
  /**
   * --check or --dry-run: a file that cannot be looked at safely is reported (status skipped,
   * with the reason) instead of refused. As root, that is every file in a directory another user
   * may change (dirsOthersMayChange on the way, and the directory itself root's and writable by
   * nobody else): not read at all.
   */
  looking?: boolean;
  asRoot?: boolean;
}

export interface WriteOptions {
  force: boolean;
  dryRun: boolean;
}

/**
 * What each file would do to the disk, without touching it. Refuses symlinks and non-files. An
 * existing file is read as a static file is (write/confinedRead.ts: O_NOFOLLOW|O_NONBLOCK, a
 * regular file by its descriptor, bounded, its real path below the real path of the directory
 * all the files share): a FIFO or a link swapped in after the lstat is never read through.
 */
export async function compareFiles(files: RenderedFile[], { looking = false, asRoot = process.geteuid?.() === 0 }: CompareOptions = {}): Promise<(FileOutcome & { current: string | null })[]> {
  for (const dir of new Set(files.map((f) => path.dirname(f.path)))) await refuseLinkedDir(dir);
  const base = commonDir(files);
  const realBase = realpathOrNull(base);
  const unsafeIn = new Map<string, string | null>();
  const unsafeWhy = (dir: string): string | null => {
    if (!looking || !asRoot) return null;
    let why = unsafeIn.get(dir);
    if (why === undefined) {
      const first = dirsOthersMayChange(dir, ROOT_ONLY)[0];
      const here = dir !== base ? changeableBelow(dir) : null;
      why = first ? `${first.dir} ${first.why}` : here ? `${dir} ${here}` : null;
      unsafeIn.set(dir, why);
    }
    return why;
  };
  const outcomes = [];
  for (const file of files) {
    const stat = await fs.lstat(file.path).catch(() => null);
    const unsafe = unsafeWhy(path.dirname(file.path));
    if (unsafe) {
      outcomes.push({ path: file.path, kind: file.kind, status: 'skipped' as const, written: false, current: null, reason: `not compared: ${unsafe} (trac-deploy, running as root, does not read files another user could swap)` });
      continue;
    }
    if (stat?.isSymbolicLink()) {
      throw usageError(`${file.path} is a symbolic link; trac-deploy never writes through links. Remove it or choose another --out`);
    }
    if (stat && !stat.isFile()) throw usageError(`${file.path} exists and is not a regular file; remove it or choose another --out`);
    let current: string | null = null;
    if (stat) {
      const read = realBase ? readConfinedSync(file.path, realBase, MAX_SCRIPT_BYTES) : null;
      if (!read) {
        const why = `${file.path} could not be read as a regular file of at most ${MAX_SCRIPT_BYTES / 1024 / 1024} MiB below ${base} (unreadable, too large, or swapped for a link or another kind of file)`;
        if (!looking) throw usageError(`${why}; nothing was written`, 'remove it or choose another --out, and re-run');
        outcomes.push({ path: file.path, kind: file.kind, status: 'skipped' as const, written: false, current: null, reason: `not compared: ${why}` });
        continue;
      }
      current = read.content.toString('utf8');
    }
    const status: FileStatus = current === null ? 'new' : current === file.content ? 'unchanged' : 'changed';
    outcomes.push({ path: file.path, kind: file.kind, status, written: false, current });
  }
  return outcomes;
}


/** The directory all FILES are in or below. */
function commonDir(files: readonly RenderedFile[]): string {
  const dirs = files.map((f) => path.resolve(path.dirname(f.path)));
  let common = dirs[0] ?? path.resolve('.');
  for (const dir of dirs) while (dir !== common && !dir.startsWith(common.endsWith(path.sep) ? common : common + path.sep)) common = path.dirname(common);
  return common;
}

/**
 * What writeFiles would do, refusing (nothing written) when an existing file would change
 * without `force`: a command that does other work before writing asks this first.
 */
export async function refusedWrite(files: RenderedFile[], options: WriteOptions): Promise<(FileOutcome & { current: string | null })[]> {
  const outcomes = await compareFiles(files, { looking: options.dryRun });
  const clobbered = outcomes.filter((o) => o.status === 'changed');
  if (clobbered.length > 0 && !options.force && !options.dryRun) {
    throw usageError(
      `${clobbered.map((o) => o.path).join(', ')} already exist${clobbered.length === 1 ? 's' : ''} with other content; nothing was written. Use --force to replace, or --check to see the difference`,
    );
  }
  return outcomes;
}

/**
 * The only code that writes deployment files. Existing files that would change are refused
 * (all named, nothing written) unless `force`; identical files are left alone; each write is
 * a temp file in the same directory renamed over the target, so a reader never sees half a file.
 */
export async function writeFiles(files: RenderedFile[], options: WriteOptions): Promise<FileOutcome[]> {
  const outcomes = await refusedWrite(files, options);
  const created = options.dryRun ? [] : await missingDirs(files);
  const results = outcomes.map(({ current: _current, ...result }) => result);
  const root = realpathOrNull(commonDir(files));
  const writing = options.dryRun ? [] : files.map((file, index) => ({ file, index })).filter(({ index }) => outcomes[index] && outcomes[index].status !== 'unchanged');
  // All at once: each write ends with an fsync, which the file system can then commit together.
  const previous: (Previous | null)[] = [];
  for (const { file } of writing) {
    try {
      previous.push(readPrevious(file.path, root));
    } catch (error) {
      // What could not be read could not be put back: nothing is written.
      throw usageError(`cannot write ${file.path}: ${reasonOf(error)}; nothing was written. Choose another --out, or fix its permissions`);
    }
  }
  const written = await Promise.allSettled(writing.map(({ file }) => writeAtomic(file.path, file.content, file.mode, undefined, { pinned: true })));
  const failed = written.findIndex((w) => w.status === 'rejected');
  if (failed >= 0) {
    // No partial output: put back what this run changed (its bytes, mode and owner), remove
    // the directories it made.
    for (const [i, w] of written.entries()) {
      if (w.status !== 'fulfilled') continue;
      const { file } = writing[i]!;
      const before = previous[i] ?? null;
      if (before === null) await fs.rm(file.path, { force: true }).catch(() => undefined);
      else await writeAtomic(file.path, before.content, before.mode, before.owner, { pinned: true }).catch(() => undefined);
    }
    for (const dir of created) await fs.rmdir(dir).catch(() => undefined);
    const reason = (written[failed] as PromiseRejectedResult).reason;
    throw usageError(`cannot write ${writing[failed]!.file.path}: ${reasonOf(reason)}; nothing was written. Choose another --out, or fix its permissions`);
  }
  for (const { index } of writing) results[index]!.written = true;
  return results;
}

/** What a file held before this run wrote it: bytes, permission bits, owner. */
interface Previous {
  content: Buffer;
  mode: number;
  owner: { uid: number; gid: number } | undefined;
}

/**
 * Read as compareFiles reads (confined below ROOT, the real directory the files share, bounded,
 * never through a link nor from a FIFO): what cannot be read so cannot be put back, and nothing
 * is written.
 */
function readPrevious(file: string, root: string | null): Previous | null {
  const stat = fsSync.lstatSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile()) return null;
  const read = root ? readConfinedSync(file, root, MAX_SCRIPT_BYTES) : null;
  if (!read) throw new Error(`${file} could not be read back as a regular file of at most ${MAX_SCRIPT_BYTES / 1024 / 1024} MiB below ${root ?? path.dirname(file)}`);
  const owner = process.getuid?.() === 0 ? { uid: stat.uid, gid: stat.gid } : undefined;
  return { content: read.content, mode: stat.mode & 0o7777, owner };
}

/** Directories the write would create, deepest first. */
async function missingDirs(files: RenderedFile[]): Promise<string[]> {
  const missing = new Set<string>();
  for (const file of files) {
    let dir = path.dirname(file.path);
    while (path.dirname(dir) !== dir && !(await fs.lstat(dir).then(() => true, () => false))) {
      missing.add(dir);
      dir = path.dirname(dir);
    }
  }
  return [...missing].sort((a, b) => b.length - a.length);
}

/**
 * An output directory that is itself a symbolic link (or whose path ends in one) is refused:
 * whoever can replace the link decides where the files land. Name the real directory instead.
 */
async function refuseLinkedDir(dir: string): Promise<void> {
  const stat = await fs.lstat(dir).catch(() => null);
  if (stat?.isSymbolicLink()) {
    const real = await fs.realpath(dir).catch(() => null);
    throw usageError(`${dir} is a symbolic link${real ? ` to ${real}` : ''}; trac-deploy never writes through links. Give the real directory${real ? ` (${real})` : ''} instead`);
  }
  if (stat && !stat.isDirectory()) throw usageError(`${dir} exists and is not a directory; choose another --out`);
}

/**
 * Write through a temp file in the same directory, created with O_EXCL (so a link planted
 * under the temp name is never followed), flushed to disk, then renamed over the target
 * (which replaces a link itself rather than writing through it).
 */
export async function writeAtomic(
  target: string,
  content: string | Uint8Array,
  mode: number,
  owner?: { uid: number; gid: number },
  { pinned = false }: { pinned?: boolean } = {},
): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  // pinned: the directory held open (write/pinnedDir.ts; no owner rule: deploy's refusal judged
  // it), the temp file made, checked and renamed through its descriptor.
  const pin = pinned ? pinDir(dir, null, { rule: false }) : null;
  const name = `.${path.basename(target)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  const temp = pin ? inPinned(pin, name) : path.join(dir, name);
  const into = pin ? inPinned(pin, path.basename(target)) : target;
  try {
    const handle = await fs.open(temp, 'wx', mode);
    try {
      if (pin && !fdIsIn(handle.fd, pin)) throw new Error(`${path.join(dir, name)} was not made in ${dir}`);
      await handle.writeFile(content);
      if (owner) await handle.chown(owner.uid, owner.gid);
      // after chown, which clears set-id bits
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, into);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  } finally {
    if (pin) unpin(pin);
  }
}

/** Unified diffs between the disk and what would be written, for --check. Empty when none. */
export async function driftDiffs(files: RenderedFile[]): Promise<{ path: string; status: FileStatus; diff: string; reason?: string }[]> {
  const outcomes = await compareFiles(files, { looking: true });
  // Loaded only here: --check is the one path that needs a diff.
  const { createTwoFilesPatch } = await import('diff');
  return outcomes
    .map((o, index) => ({ o, file: files[index] }))
    .filter(({ o }) => o.status !== 'unchanged')
    .map(({ o, file }) => ({
      path: o.path,
      status: o.status,
      ...(o.reason ? { reason: o.reason } : {}),
      diff: o.status === 'skipped' ? '' : createTwoFilesPatch(o.path, o.path, o.current ?? '', file?.content ?? '', o.current === null ? '(missing)' : 'on disk', 'would be written'),
    }));
}
