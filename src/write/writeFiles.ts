import fs from 'node:fs/promises';
import path from 'node:path';
import { reasonOf, usageError } from '../errors.js';
import type { RenderedFile } from '../plan/types.js';

export type FileStatus = 'new' | 'changed' | 'unchanged';

export interface FileOutcome {
  path: string;
  kind: RenderedFile['kind'];
  status: FileStatus;
  /** True when this run wrote it. */
  written: boolean;
}

export interface WriteOptions {
  force: boolean;
  dryRun: boolean;
}

/** What each file would do to the disk, without touching it. Refuses symlinks and non-files. */
export async function compareFiles(files: RenderedFile[]): Promise<(FileOutcome & { current: string | null })[]> {
  for (const dir of new Set(files.map((f) => path.dirname(f.path)))) await refuseLinkedDir(dir);
  const outcomes = [];
  for (const file of files) {
    const stat = await fs.lstat(file.path).catch(() => null);
    if (stat?.isSymbolicLink()) {
      throw usageError(`${file.path} is a symbolic link; trac-deploy never writes through links. Remove it or choose another --out`);
    }
    if (stat && !stat.isFile()) throw usageError(`${file.path} exists and is not a regular file; remove it or choose another --out`);
    const current = stat ? await fs.readFile(file.path, 'utf8') : null;
    const status: FileStatus = current === null ? 'new' : current === file.content ? 'unchanged' : 'changed';
    outcomes.push({ path: file.path, kind: file.kind, status, written: false, current });
  }
  return outcomes;
}

/**
 * What writeFiles would do, refusing (nothing written) when an existing file would change
 * without `force`: a command that does other work before writing asks this first.
 */
export async function refusedWrite(files: RenderedFile[], options: WriteOptions): Promise<(FileOutcome & { current: string | null })[]> {
  const outcomes = await compareFiles(files);
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
  const results = outcomes.map(({ current, ...result }) => result);
  const writing = options.dryRun ? [] : files.map((file, index) => ({ file, index })).filter(({ index }) => outcomes[index] && outcomes[index].status !== 'unchanged');
  // All at once: each write ends with an fsync, which the file system can then commit together.
  const previous: (Previous | null)[] = [];
  for (const { file } of writing) {
    try {
      previous.push(await readPrevious(file.path));
    } catch (error) {
      // What could not be read could not be put back: nothing is written.
      throw usageError(`cannot write ${file.path}: ${reasonOf(error)}; nothing was written. Choose another --out, or fix its permissions`);
    }
  }
  const written = await Promise.allSettled(writing.map(({ file }) => writeAtomic(file.path, file.content, file.mode)));
  const failed = written.findIndex((w) => w.status === 'rejected');
  if (failed >= 0) {
    // No partial output: put back what this run changed (its bytes, mode and owner), remove
    // the directories it made.
    for (const [i, w] of written.entries()) {
      if (w.status !== 'fulfilled') continue;
      const { file } = writing[i]!;
      const before = previous[i] ?? null;
      if (before === null) await fs.rm(file.path, { force: true }).catch(() => undefined);
      else await writeAtomic(file.path, before.content, before.mode, before.owner).catch(() => undefined);
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

async function readPrevious(file: string): Promise<Previous | null> {
  const stat = await fs.lstat(file).catch(() => null);
  if (!stat?.isFile()) return null;
  const owner = process.getuid?.() === 0 ? { uid: stat.uid, gid: stat.gid } : undefined;
  return { content: await fs.readFile(file), mode: stat.mode & 0o7777, owner };
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
export async function writeAtomic(target: string, content: string | Uint8Array, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    const handle = await fs.open(temp, 'wx', mode);
    try {
      await handle.writeFile(content);
      if (owner) await handle.chown(owner.uid, owner.gid);
      // after chown, which clears set-id bits
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Unified diffs between the disk and what would be written, for --check. Empty when none. */
export async function driftDiffs(files: RenderedFile[]): Promise<{ path: string; status: FileStatus; diff: string }[]> {
  const outcomes = await compareFiles(files);
  // Loaded only here: --check is the one path that needs a diff.
  const { createTwoFilesPatch } = await import('diff');
  return outcomes
    .map((o, index) => ({ o, file: files[index] }))
    .filter(({ o }) => o.status !== 'unchanged')
    .map(({ o, file }) => ({
      path: o.path,
      status: o.status,
      diff: createTwoFilesPatch(o.path, o.path, o.current ?? '', file?.content ?? '', o.current === null ? '(missing)' : 'on disk', 'would be written'),
    }));
}
