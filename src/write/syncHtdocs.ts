import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.js';
import { fillCopySync, openExclusive } from './copyBytes.js';
import { bitsText, mayRead, type Reader } from '../util/modeAccess.js';
import { isBelow, listPinnedSync, lstatOrNull, MAX_STATIC_FILE_BYTES, readConfinedSync, realpathOrNull, stampOf, type ConfinedRead, type DeniedDir } from './confinedRead.js';
import { contentHash, isOurs } from './ownership.js';
import { fdIsIn, inPinned, pinDir, PinError, unpin, type PinnedDir } from './pinnedDir.js';
import type { Staging } from './stageHtdocs.js';
import { changeableBelow, type UnsafeDir } from './unsafeHtdocs.js';

export { MAX_STATIC_FILE_BYTES, readConfined, readConfinedSync, type ConfinedRead } from './confinedRead.js';

/** One static directory to publish as htdocs/<key>, in Trac's provider order. */
export interface HtdocsSource {
  key: string;
  dir: string;
  /**
   * Its real path, taken once when it was decided to publish it (deploy.ts pinSources): what is
   * read is confined below this, never below a path taken again later. Absent: taken here.
   */
  root?: string;
}

/** skipped: --check or --dry-run as root did not compare it (below a directory another user may change; `reason` says which). */
export type SyncStatus = 'added' | 'replaced' | 'unchanged' | 'removed' | 'skipped';

export interface SyncEntry {
  /** Path relative to the htdocs directory, with "/" separators: "common/css/trac.css". */
  rel: string;
  status: SyncStatus;
  /** Where the content comes from (null for removals). */
  source: string | null;
  /** status skipped: why it was not compared. */
  reason?: string;
  /** Copied ahead into the staging directory (see stageHtdocs.ts): published by a rename, no content held. */
  staged?: boolean;
  /** The bytes read from the source (through a descriptor that was checked), and its permission bits. */
  content?: Buffer;
  mode?: number;
  atime?: Date;
  mtime?: Date;
}

export interface SyncPlan {
  htdocs: string;
  /** Every key published; its directory is made even when empty, as trac-admin makes it. */
  keys: string[];
  entries: SyncEntry[];
  /** Files that exist with other content and that trac-deploy did not write (refused without --force). */
  foreign: string[];
  /** What the manifest will record after the sync: rel -> content hash of the content written. */
  manifest: Record<string, string>;
  /** Symbolic links (and other non-files) found in the sources: never followed, never published. */
  skipped: string[];
  /** Keys whose files were copied ahead (Staging): FROM, a directory of the staging, becomes htdocs/<key>. */
  staged: { key: string; from: string }[];
  /**
   * What the reader (the web server's user, deploy as root) may not read, one per directory: a
   * directory it may not enter, or one holding files it may not read. Not copied: the web server
   * could serve none of it.
   */
  denied: DeniedDir[];
  /**
   * As root: existing directories (or links) below htdocs, on the way to a file of the plan or a
   * key's directory, that are not root's or that group or others may write (changeableBelow).
   * deploy refuses to write (without --force), and --check/--dry-run compare nothing below them.
   */
  unsafe: UnsafeDir[];
}

/** Source files read ahead of planSync (prefetchSources): path -> the read and its hash. */
export type Prefetched = Map<string, { root: string; read: ConfinedRead; hash: string }>;

/** The record of what trac-deploy wrote into a deployment directory. */
export const MANIFEST_NAME = '.trac-deploy-manifest.json';

export interface Manifest {
  /** htdocs-relative path -> content hash of the content trac-deploy wrote there. */
  htdocs: Record<string, string>;
  /** Scripts and configuration trac-deploy wrote: path relative to the target -> content hash. */
  files?: Record<string, string>;
}

/**
 * The manifest in TARGET, read as a static file is (a regular file, bounded, never through a
 * link: a FIFO planted under its name would block a plain read). None, unreadable or not such
 * a file: an empty record, so that nothing there counts as ours.
 */
export async function readManifest(target: string): Promise<Manifest> {
  try {
    const read = readConfinedSync(path.join(target, MANIFEST_NAME), await fs.realpath(target));
    if (!read) return { htdocs: {} };
    const data = JSON.parse(read.content.toString('utf8')) as Partial<Manifest>;
    return { htdocs: data.htdocs ?? {}, files: data.files ?? {} };
  } catch {
    return { htdocs: {} };
  }
}

export async function writeManifest(target: string, manifest: Manifest): Promise<void> {
  const htdocs = Object.fromEntries(Object.entries(manifest.htdocs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const file = path.join(target, MANIFEST_NAME);
  const temp = path.join(target, tempName(MANIFEST_NAME));
  await fs.mkdir(target, { recursive: true });
  // wx: made here (O_EXCL), never through a link planted under the name.
  await fs.writeFile(temp, JSON.stringify({ generator: 'trac-deploy', files: manifest.files ?? {}, htdocs }, null, 1) + '\n', { flag: 'wx' });
  await fs.rename(temp, file);
}

/**
 * What publishing the sources into htdocs would do, comparing content before copying anything.
 * As trac-admin deploy does, a later source wins over an earlier one for the same file. A file
 * trac-deploy wrote before (per the manifest) and that no source provides any more is removed;
 * files it never wrote are left alone, and refused (listed in `foreign`) if they would change.
 */
export async function planSync(
  htdocs: string,
  sources: HtdocsSource[],
  manifest: Record<string, string>,
  prefetched?: Prefetched,
  staging?: Staging | null,
  { reader = null }: { reader?: Reader | null } = {},
): Promise<SyncPlan> {
  // What is in htdocs is read below its real path only: a directory in it that is a link out
  // (htdocs/common -> elsewhere) is neither read nor written through.
  const htdocsRoot = await fs.realpath(htdocs).catch(() => null);
  const checkedDirs = new Map<string, boolean>();
  /** Whether DIR, or the nearest of its parents that exists, is really below (or is) htdocs. */
  const insideHtdocs = (dir: string): boolean => {
    let known = checkedDirs.get(dir);
    if (known === undefined) {
      const real = realpathOrNull(dir);
      known = real === null ? dir === htdocs || insideHtdocs(path.dirname(dir)) : real === htdocsRoot || isBelow(real, htdocsRoot!);
      checkedDirs.set(dir, known);
    }
    return known;
  };
  const wanted = new Map<string, { root: string; file: string; dir: string; rel: string }>();
  const skipped: string[] = [];
  const denied: DeniedDir[] = [];
  const unreadable = new Map<string, { files: string[]; bits: string }>();
  const entries: SyncEntry[] = [];
  const foreign: string[] = [];
  const next: Record<string, string> = {};
  const staged: SyncPlan['staged'] = [];
  // As root, every existing directory on the way from htdocs to a file of the plan, looked at
  // once (a file's own lstat is the one below): unsafeHtdocs.ts changeableBelow.
  const unsafe: UnsafeDir[] = [];
  const looked = new Set<string>();
  const lookAtDirs = process.geteuid?.() === 0
    ? (dir: string): void => {
        for (let at = dir; isBelow(at, htdocs) && !looked.has(at); at = path.dirname(at)) {
          looked.add(at);
          const why = changeableBelow(at);
          if (why) unsafe.push({ dir: at, why });
        }
      }
    : () => undefined;
  for (const { key } of sources) lookAtDirs(path.join(htdocs, key));
  const perKey = new Map<string, number>();
  for (const { key } of sources) perKey.set(key, (perKey.get(key) ?? 0) + 1);
  for (const { key, dir, root: pinned } of sources) {
    const root = pinned ?? realpathOrNull(dir);
    if (!root) continue;
    const listing = listPinnedSync(dir, root, reader);
    if (!listing) continue;
    skipped.push(...listing.skipped);
    denied.push(...listing.denied);
    const rels = listing.rels;
    // A key of one source, copied ahead and still current, with nothing of it in htdocs yet: added whole.
    const ahead = staging && perKey.get(key) === 1 && listing.skipped.length === 0 && listing.denied.length === 0 ? staging.committable(key, root, rels) : null;
    if (ahead) {
      staged.push({ key, from: ahead.from });
      for (const [rel, { hash }] of ahead.files) {
        next[`${key}/${rel}`] = hash;
        entries.push({ rel: `${key}/${rel}`, status: 'added', source: path.join(dir, rel), staged: true });
      }
      continue;
    }
    for (const rel of rels) wanted.set(`${key}/${rel}`, { root, file: path.join(dir, rel), dir, rel });
  }
  // Each file is a handful of small system calls: made synchronously, one after the other, they
  // cost a fraction of the same calls through the thread pool (a third of a re-run's time).
  for (const [rel, { root, file: source, dir: sourceDir, rel: sourceRel }] of wanted) {
    const dest = path.join(htdocs, rel);
    lookAtDirs(path.dirname(dest));
    const stat = lstatOrNull(dest);
    if (stat && !stat.isFile()) {
      throw usageError(`${dest} exists and is not a regular file${stat.isSymbolicLink() ? ' (a symbolic link)' : ''}; trac-deploy will not replace it. Remove it and re-run`);
    }
    // Read below the pinned root, by its real path: never through the source's name again.
    const file = path.join(root, sourceRel);
    const ahead = fromPrefetch(prefetched, file, root);
    const read = ahead?.read ?? readConfinedSync(file, root);
    if (!read) {
      const now = lstatOrNull(file);
      if (now?.isFile() && now.size > MAX_STATIC_FILE_BYTES) throw tooLarge(source);
      // Swapped for a link (or a non-file) since it was listed: skipped like any link.
      skipped.push(source);
      continue;
    }
    // Judged on the descriptor it was read from: what the web server's user may not read is not published.
    if (reader && !mayRead(read, reader)) {
      const where = path.dirname(path.join(sourceDir, sourceRel));
      const group = unreadable.get(where) ?? { files: [], bits: bitsText({ mode: read.mode, uid: read.uid, gid: read.gid }) };
      group.files.push(path.basename(sourceRel));
      unreadable.set(where, group);
      continue;
    }
    const { content, mode, atime, mtime } = read;
    const hash = ahead?.hash ?? contentHash(content);
    next[rel] = hash;
    if (!stat) {
      if (htdocsRoot && !insideHtdocs(path.dirname(dest))) throw linkedOut(dest, htdocs);
      entries.push({ rel, status: 'added', source, content, mode, atime, mtime });
      continue;
    }
    // The file there, read as a source is (a regular file below htdocs, never through a link)
    // and bounded: larger than anything trac-deploy copies, it is nobody's copy of ours.
    const there = htdocsRoot ? readConfinedSync(dest, htdocsRoot) : null;
    if (!there && !(stat.isFile() && stat.size > MAX_STATIC_FILE_BYTES)) throw linkedOut(dest, htdocs);
    const current = there?.content ?? null;
    if (current && current.equals(content) && (stat.mode & 0o777) === mode) {
      entries.push({ rel, status: 'unchanged', source });
      continue;
    }
    const ours = current !== null && isOurs(manifest[rel], current);
    if (!ours) foreign.push(dest);
    entries.push({ rel, status: 'replaced', source, content, mode, atime, mtime });
  }
  for (const [rel, hash] of Object.entries(manifest)) {
    if (next[rel] !== undefined) continue;
    const dest = path.join(htdocs, rel);
    lookAtDirs(path.dirname(dest));
    // Only a regular file below htdocs, as read above: what a link leads to is never removed.
    const current = htdocsRoot ? readConfinedSync(dest, htdocsRoot)?.content : undefined;
    if (current === undefined) continue;
    if (isOurs(hash, current)) entries.push({ rel, status: 'removed', source: null });
    // Changed since trac-deploy wrote it: someone's edit, left alone and forgotten.
  }
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const [dir, { files, bits }] of unreadable) {
    const named = files.length === 1 ? files[0]! : `${files.length} files (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', ...' : ''})`;
    denied.push({ dir, why: `${named} may not be read by ${reader!.name} (${files.length === 1 ? bits : `the first: ${bits}`})` });
  }
  return {
    htdocs,
    keys: [...new Set(sources.map((s) => s.key))],
    entries,
    foreign: foreign.sort(),
    manifest: next,
    skipped: skipped.sort(),
    staged,
    denied: denied.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0)),
    unsafe,
  };
}

function tooLarge(source: string): Error {
  return usageError(`${source} is larger than ${MAX_STATIC_FILE_BYTES / 1024 / 1024} MiB; trac-deploy copies static files up to that size, and nothing was written`,
    'a static directory holds what browsers load (CSS, scripts, images): serve a file this large from a directory of its own (an Apache Alias), not from a plugin\'s htdocs',
  );
}

function linkedOut(dest: string, htdocs: string): Error {
  return usageError(
    `${dest} cannot be read as a regular file below ${htdocs} (a directory on the way is a symbolic link out of it, or the file is unreadable); trac-deploy neither reads nor writes through a link, and nothing was written`,
    `replace the link with a directory (or remove the file) and re-run`,
  );
}

/** What prefetchSources holds at most: a file larger than this is left to planSync, and all together. */
export const PREFETCH_FILE_LIMIT = 256 * 1024;
export const PREFETCH_BUDGET = 32 * 1024 * 1024;

/**
 * Reads the files of DIRS ahead, as planSync would (confined, never through a link), for a
 * caller that waits on something else meanwhile (deploy, on Python's answer, reads the
 * directories that answer will most likely name). Gives the event loop a turn every few files.
 * Bounded: only files of at most FILE_LIMIT bytes, and no more than BUDGET bytes in all (a file
 * left out is read by planSync itself, one at a time, as without a read-ahead). Stops, keeping
 * what it read, when SIGNAL aborts (the answer came, or the caller failed).
 */
export async function prefetchSources(
  dirs: readonly string[],
  { signal, fileLimit = PREFETCH_FILE_LIMIT, budget = PREFETCH_BUDGET, reader = null }: { signal?: AbortSignal; fileLimit?: number; budget?: number; reader?: Reader | null } = {},
): Promise<Prefetched> {
  const out: Prefetched = new Map();
  let held = 0;
  for (const dir of dirs) {
    if (signal?.aborted) break;
    const root = await fs.realpath(dir).catch(() => null);
    if (!root) continue;
    let files: string[];
    try {
      files = listPinnedSync(dir, root, reader)?.rels ?? [];
    } catch {
      files = [];
    }
    for (const [index, rel] of files.entries()) {
      if (signal?.aborted) return out;
      // Keyed by the real path: planSync looks reads up below the root it pinned (used only when equal to this one).
      const file = path.join(root, rel);
      const read = readConfinedSync(file, root, Math.min(fileLimit, budget - held));
      if (read) {
        out.set(file, { root, read, hash: contentHash(read.content) });
        held += read.content.length;
      }
      if (held >= budget) return out;
      if (index % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return out;
}

/**
 * The read of FILE made ahead, when it was made below the same ROOT and FILE is still the file
 * that was read (same device, inode, size, mode, owner and times): the same bytes, read through
 * the same checks, only earlier. Anything else is read again.
 */
function fromPrefetch(prefetched: Prefetched | undefined, file: string, root: string): { read: ConfinedRead; hash: string } | null {
  const ahead = prefetched?.get(file);
  if (!ahead || ahead.root !== root) return null;
  const stat = lstatOrNull(file);
  return stat?.isFile() && stampOf(stat) === ahead.read.stamp ? ahead : null;
}

/**
 * Carry out a sync plan: copy added and replaced files (temp file + rename), delete removed ones.
 * Every directory written into is held open (pinnedDir.ts): each is made, opened and checked once
 * (its descriptor's real path below htdocs' and, as root without FORCE, root's and writable by
 * nobody else), and its files are made, renamed and removed through that descriptor, so a
 * directory swapped for a link after the plan changes nothing of where they land.
 */
export async function applySync(plan: SyncPlan, { force = false }: { force?: boolean } = {}): Promise<void> {
  const rule = process.geteuid?.() === 0 && !force;
  await fs.mkdir(plan.htdocs, { recursive: true });
  const htdocsReal = fsSync.realpathSync(plan.htdocs);
  const pins = new Map<string, PinnedDir | null>();
  /** The directory REL ('' for htdocs) held open; MAKE: made first when missing (else null). */
  const pinned = (rel: string, make: boolean): PinnedDir | null => {
    const known = pins.get(rel);
    if (known) return known;
    if (known === null && !make) return null;
    const dir = path.join(plan.htdocs, rel);
    try {
      let pin: PinnedDir | null;
      if (rel === '') {
        pin = pinDir(htdocsReal, null, { rule, dir });
      } else {
        const parent = pinned(path.dirname(rel) === '.' ? '' : path.dirname(rel), make);
        if (!parent) pin = null;
        else {
          const open = inPinned(parent, path.basename(rel));
          if (make) {
            try {
              fsSync.mkdirSync(open);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
            }
          }
          pin = lstatOrNull(open) ? pinDir(open, htdocsReal, { rule, dir }) : null;
        }
      }
      pins.set(rel, pin);
      return pin;
    } catch (error) {
      throw unsafeNow(dir, error);
    }
  };
  try {
    const top = pinned('', true)!;
    // Keys copied ahead: their staged directory becomes htdocs/<key>, one rename for all its files.
    // That fails when htdocs/<key> appeared since it was planned (another run, someone's files, a
    // link): nothing is written into it, the staged copy stays for the caller to remove, and the
    // run stops for a new plan (which checks what is there now).
    const moved = new Set<string>();
    for (const { key, from } of plan.staged) {
      const dest = path.join(plan.htdocs, key);
      try {
        fsSync.renameSync(from, inPinned(top, key));
      } catch (error) {
        // The staged copy gone instead (removed by hand): that error, as it is.
        if (!lstatOrNull(dest)) throw error;
        throw usageError(`${dest} appeared while deploy ran; run again`, 'nothing was written into it; the next run compares what is there');
      }
      moved.add(key);
    }
    for (const key of plan.keys) pinned(key, true);
    const jobs: (() => void)[] = [];
    for (const entry of plan.entries) {
      const relDir = path.dirname(entry.rel) === '.' ? '' : path.dirname(entry.rel);
      const name = path.basename(entry.rel);
      if (entry.status === 'removed') {
        const dir = pinned(relDir, false);
        if (dir) jobs.push(() => unlinkQuiet(inPinned(dir, name)));
        continue;
      }
      if (entry.staged) {
        if (!moved.has(entry.rel.slice(0, entry.rel.indexOf('/')))) throw new Error(`no staged copy of ${entry.rel}`);
        continue;
      }
      if (entry.status === 'unchanged' || entry.status === 'skipped' || !entry.source) continue;
      // Directories first, in order; then the files.
      const dir = pinned(relDir, true)!;
      jobs.push(() => writeEntry(entry, dir, name));
    }
    // One after the other, synchronously: each file is a few small system calls, cheaper made
    // directly than through the thread pool. A failure stops the rest, its own temp file removed.
    for (const job of jobs) job();
  } finally {
    for (const pin of pins.values()) if (pin) unpin(pin);
  }
}

function unlinkQuiet(file: string): void {
  try {
    fsSync.unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** A directory that failed its check when it was opened for writing: the run stops (exit 2). */
function unsafeNow(dir: string, error: unknown): Error {
  if (error instanceof PinError || ['ELOOP', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) {
    const why = error instanceof PinError ? error.message : `${dir} is not a directory (a symbolic link, or a file)`;
    return usageError(`${why}; it changed since deploy looked at it, and trac-deploy, running as root, stopped writing there`, 'make it root\'s and writable by root only, then run again');
  }
  return error as Error;
}

/**
 * One file: written beside its destination under a private temporary name, then renamed over
 * it, an added file as a replaced one. Who reads it meanwhile gets the old bytes or the new,
 * never a part; and a deploy killed half-way (Ctrl-C) leaves no partial file under a published
 * name, which the next run would take for someone else's file and refuse to replace (a file
 * that is whole under its name is recognised as unchanged by content). Made, checked (its
 * descriptor's real path in DIR), renamed and on failure removed through DIR's descriptor.
 */
function writeEntry(entry: SyncEntry, dir: PinnedDir, name: string): void {
  if (!entry.content || entry.mode === undefined) throw new Error(`no content read for ${entry.rel}`);
  // A name with this run's process id and time (leftoverTemps.ts leaves it alone while this
  // process runs) and a random part: a temp file left by a killed earlier run never stands in
  // the way. Should one collide all the same, another is drawn.
  let temp = tempName(name);
  let fd: number;
  try {
    fd = openExclusive(inPinned(dir, temp));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    temp = tempName(name);
    fd = openExclusive(inPinned(dir, temp));
  }
  try {
    if (!fdIsIn(fd, dir)) {
      fsSync.closeSync(fd);
      throw usageError(`${path.join(dir.dir, temp)} was not made in ${dir.dir}; trac-deploy stopped writing there`, 'run again');
    }
    fillCopySync(fd, { content: entry.content, mode: entry.mode, atime: entry.atime, mtime: entry.mtime });
    fsSync.renameSync(inPinned(dir, temp), inPinned(dir, name));
  } catch (error) {
    fsSync.rmSync(inPinned(dir, temp), { force: true });
    throw error;
  }
}

/** `.<name>.<pid>.<ms since 1970>.<6 base-36 chars>.tmp`: the temporary name leftoverTemps.ts knows by its process id. */
export function tempName(name: string): string {
  return `.${name}.${process.pid}.${Date.now()}.${randomBytes(4).readUInt32BE(0).toString(36).padStart(6, '0').slice(-6)}.tmp`;
}
