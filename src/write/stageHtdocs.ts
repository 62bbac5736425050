import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import path from 'node:path';
import { validKey } from '../plan/chromeKey.js';
import { mayRead, type Reader } from '../util/modeAccess.js';
import { descriptorPath, startTicksOf } from '../util/procfs.js';
import { isBelow, listPinnedSync, lstatOrNull, readConfinedSync, realpathOrNull, stampOf } from './confinedRead.js';
import { fillCopySync, openExclusive } from './copyBytes.js';
import { dirsOthersMayChange } from './unsafeHtdocs.js';
import { contentHash } from './ownership.js';

/**
 * Making files is the slow part of copying static resources (each creation in a journaled
 * directory costs a few tenths of a millisecond; Trac's own htdocs are ~140 files), and deploy
 * spends up to half a second waiting on the environment's Python. The static directories that
 * do not exist in TARGET yet (a first deploy) are therefore copied meanwhile, into a private
 * directory beside them, TARGET/htdocs/.trac-deploy-staging-<random>/<key>/. Nothing is
 * published there: once the answer names the same source directory for a key, and every file
 * staged is still the one read (planSync, `committable`), the staged directory is renamed to
 * htdocs/<key> in one step (applySync). Otherwise, and when deploy refuses or fails, the staging
 * directory is removed, with TARGET and TARGET/htdocs when it made them, so that a refused run
 * leaves nothing behind. A signal (SIGINT, SIGTERM, SIGHUP) while it exists removes it too.
 *
 * Files are made there by path, so staging happens only where nobody else can rename or replace
 * a directory on the way (`safeToStage`); each file made is checked to be where it was meant to
 * be (its descriptor's real path), else it is removed and the staging abandoned. A run killed
 * outright (SIGKILL) leaves its staging directory: its name holds the process id and start time,
 * and a later deploy removes it once that process is gone (`removeStaleStaging`).
 */

/** The name of a staging directory in TARGET/htdocs: this prefix, then `<pid>-<start time>-<12 hex digits>`. */
export const STAGING_PREFIX = '.trac-deploy-staging-';
const STAGING_NAME = /^\.trac-deploy-staging-(\d+)-(\d+)-[0-9a-f]{12}$/;

/** Whether process PID, started at START, still runs (when it cannot be told: yes). */
function stillRuns(pid: number, start: string): boolean {
  const now = startTicksOf(pid);
  if (now !== null) return now === start;
  if (fsSync.existsSync('/proc/self/stat')) return false; // /proc works: no such process
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether files may be made by path below DIR (an existing directory): DIR and every directory
 * above it, as named and as it really is, are owned by root or the user running this, and none
 * is writable by group or others, except a sticky one (like /tmp) whose next directory on the way
 * is owned by root or this user (nobody else may rename that one). Else someone else could put a
 * link in the way while files are made. ACLs are not seen (see README).
 */
export function safeToStage(dir: string): boolean {
  return realpathOrNull(dir) !== null && dirsOthersMayChange(dir, new Set([0, process.geteuid?.() ?? 0])).length === 0;
}

/**
 * Removes the staging directories killed runs left in HTDOCS: a real directory (not a link)
 * with our name, owned by the user running this, whose process is gone (or the process id is
 * now another's: another start time). A live run's, this one's included, is left alone; so is
 * everything when HTDOCS is not `safeToStage`. Returns the paths removed.
 */
export function removeStaleStaging(htdocs: string): string[] {
  const uid = process.geteuid?.() ?? -1;
  const removed: string[] = [];
  let names: string[];
  try {
    if (!fsSync.lstatSync(htdocs).isDirectory() || !safeToStage(htdocs)) return [];
    names = fsSync.readdirSync(htdocs);
  } catch {
    return [];
  }
  for (const name of names) {
    const match = STAGING_NAME.exec(name);
    if (!match || stillRuns(Number(match[1]), match[2]!)) continue;
    const dir = path.join(htdocs, name);
    const stat = lstatOrNull(dir);
    if (!stat?.isDirectory() || (uid !== -1 && stat.uid !== uid)) continue;
    try {
      fsSync.rmSync(dir, { recursive: true });
      removed.push(dir);
    } catch {
      // gone already, or not removable: left
    }
  }
  return removed.sort();
}

/** One staged file: what was read (its stamp, for the check that it is still the file), what was written. */
export interface StagedFile {
  stamp: string;
  hash: string;
}

interface StagedKey {
  key: string;
  /** The source directory as named, and its real path. */
  dir: string;
  root: string;
  files: Map<string, StagedFile>;
  /** Every file of the source was staged (none skipped as a link, none failed). */
  complete: boolean;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class Staging {
  private readonly keys = new Map<string, StagedKey>();
  private stopped = false;
  private removed = false;
  /** A file or directory was made elsewhere than meant (a link put in the way): nothing is published. */
  private abandoned = false;
  private wanted: Set<string> | null = null;
  private filling: Promise<void> = Promise.resolve();
  /** Who must be able to read what is staged (deploy as root: the web server's user); null: anyone. */
  private reader: Reader | null = null;

  private constructor(
    readonly htdocs: string,
    /** TARGET/htdocs/.trac-deploy-staging-<random>. */
    readonly dir: string,
    /** Its real path: where every file made must be. */
    private readonly realDir: string,
    /** Directories made for the staging (TARGET, TARGET/htdocs when missing), outermost first. */
    private readonly made: string[],
  ) {
    for (const s of SIGNALS) process.on(s, this.onSignal);
  }

  /**
   * Starts copying CANDIDATES (key -> source directory) into a new staging directory of HTDOCS;
   * null when nothing may be staged: no candidate whose htdocs/<key> is missing, a path on the
   * way that is a link or not a directory, or a source and the target inside one another.
   * SIGNAL stops the copying (what was staged stays until `remove`).
   */
  static start(htdocs: string, candidates: readonly { key: string; dir: string }[], options: { signal?: AbortSignal; reader?: Reader | null } = {}): Staging | null {
    try {
      return Staging.begin(htdocs, candidates, options);
    } catch {
      return null; // a path that cannot be looked at: not staged (the copy file by file reports it)
    }
  }

  private static begin(htdocs: string, candidates: readonly { key: string; dir: string }[], { signal, reader = null }: { signal?: AbortSignal; reader?: Reader | null }): Staging | null {
    const startTime = startTicksOf('self');
    if (startTime === null || !fsSync.existsSync(`/proc/self/fd`)) return null; // where files are made could not be checked
    const target = path.dirname(htdocs);
    // TARGET and TARGET/htdocs: each missing, or a directory itself (never a link to one).
    const missing: string[] = [];
    for (const dir of [htdocs, target]) {
      const stat = lstatOrNull(dir);
      if (!stat) missing.unshift(dir);
      else if (!stat.isDirectory()) return null;
      else break;
    }
    const parent = missing.length > 0 ? path.dirname(missing[0]!) : htdocs;
    const realParent = realpathOrNull(parent);
    if (!realParent || !lstatOrNull(parent)?.isDirectory()) return null;
    // Where htdocs really is, for comparing with the sources' real paths.
    const realHtdocs = path.join(realParent, path.relative(parent, htdocs));
    const counted = new Map<string, number>();
    for (const c of candidates) counted.set(c.key, (counted.get(c.key) ?? 0) + 1);
    const keys: StagedKey[] = [];
    for (const { key, dir } of candidates) {
      // One source per key (with several, a later one wins per file: left to planSync).
      if (!validKey(key) || counted.get(key) !== 1 || lstatOrNull(path.join(htdocs, key))) continue;
      const root = realpathOrNull(dir);
      if (!root || !fsSync.statSync(root, { throwIfNoEntry: false })?.isDirectory()) continue;
      if (root === realHtdocs || isBelow(realHtdocs, root) || isBelow(root, realHtdocs)) continue;
      keys.push({ key, dir, root, files: new Map(), complete: false });
    }
    if (keys.length === 0) return null;
    if (!safeToStage(parent)) return null;
    const made: string[] = [];
    let stagingDir: string;
    let realDir: string | null;
    try {
      for (const dir of missing) {
        fsSync.mkdirSync(dir);
        made.push(dir);
      }
      if (made.length > 0 && !safeToStage(htdocs)) throw new Error('made writable by others (umask)');
      stagingDir = path.join(htdocs, `${STAGING_PREFIX}${process.pid}-${startTime}-${randomBytes(6).toString('hex')}`);
      fsSync.mkdirSync(stagingDir, { mode: 0o700 });
      realDir = realpathOrNull(stagingDir);
      if (realDir === null || path.dirname(realDir) !== realHtdocs) {
        rmdirOrKeep(stagingDir);
        throw new Error('not where it was made');
      }
    } catch {
      for (const dir of made.reverse()) rmdirOrKeep(dir);
      return null;
    }
    const staging = new Staging(htdocs, stagingDir, realDir, made);
    staging.reader = reader;
    for (const k of keys) staging.keys.set(k.key, k);
    signal?.addEventListener('abort', () => (staging.stopped = true), { once: true });
    staging.filling = staging.fill().catch(() => {
      staging.stopped = true;
    });
    return staging;
  }

  /** Makes DIR (in the staging): false, the staging abandoned, when it was made elsewhere. */
  private madeDir(dir: string): boolean {
    fsSync.mkdirSync(dir);
    const real = realpathOrNull(dir);
    if (real !== null && isBelow(real, this.realDir)) return true;
    if (real !== null) rmdirOrKeep(real);
    this.abandon();
    return false;
  }

  /**
   * Whether the file just made, open as FD, is in the staging (its descriptor's real path is
   * below the staging directory's). Else it is removed, closed, and the staging abandoned.
   */
  private isInside(fd: number): boolean {
    // Unknown: taken as elsewhere.
    const real = descriptorPath(fd);
    if (real !== null && isBelow(real, this.realDir)) return true;
    try {
      const made = fsSync.fstatSync(fd);
      const there = real === null ? null : lstatOrNull(real);
      if (there && there.dev === made.dev && there.ino === made.ino) fsSync.unlinkSync(real!);
    } catch {
      // gone already
    }
    fsSync.closeSync(fd);
    this.abandon();
    return false;
  }

  private abandon(): void {
    this.abandoned = true;
    this.stopped = true;
    for (const k of this.keys.values()) k.complete = false;
  }

  /** The keys being staged, with their source directories. */
  get staged(): { key: string; dir: string }[] {
    return [...this.keys.values()].map(({ key, dir }) => ({ key, dir }));
  }

  /**
   * The copying, a few files at a time, giving the event loop a turn in between (deploy
   * inspects the environment and waits on Python meanwhile).
   */
  private async fill(): Promise<void> {
    let sinceTurn = 0;
    for (const staged of this.keys.values()) {
      if (this.stopped) return;
      if (this.wanted && !this.wanted.has(staged.key)) continue;
      // Listed below the root taken at the start, through descriptors (confinedRead.ts).
      const listing = listPinnedSync(staged.dir, staged.root, this.reader);
      // Something of it is not copied (a link, what the reader may not read): planSync copies it file by file and says so.
      if (!listing || listing.skipped.length > 0 || listing.denied.length > 0) continue;
      const rels = listing.rels;
      const into = path.join(this.dir, staged.key);
      if (!this.madeDir(into)) return;
      const dirs = new Set([into]);
      let complete = true;
      for (const rel of rels) {
        if (this.stopped) return;
        if (this.wanted && !this.wanted.has(staged.key)) {
          complete = false;
          break; // not published: the next key
        }
        const read = readConfinedSync(path.join(staged.root, rel), staged.root);
        if (!read || (this.reader && !mayRead(read, this.reader))) {
          complete = false;
          continue;
        }
        const file = path.join(into, rel);
        const parent = path.dirname(file);
        if (!dirs.has(parent)) {
          for (const dir of dirsToMake(parent, into)) if (!this.madeDir(dir)) return;
          dirs.add(parent);
        }
        const fd = openExclusive(file);
        if (!this.isInside(fd)) return;
        fillCopySync(fd, read);
        staged.files.set(rel, { stamp: read.stamp, hash: contentHash(read.content) });
        if (++sinceTurn >= 4) {
          sinceTurn = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      staged.complete = complete && !this.stopped;
    }
  }

  /**
   * Once the answer is known: stops copying keys it does not publish from the staged directory
   * (WANTED: key -> the real path of the one source directory of that key, as the caller pinned
   * it: never taken again here), and resolves when the copying of the others is done. What was
   * staged for other keys is left for `remove`.
   */
  async settle(wanted: ReadonlyMap<string, string>): Promise<void> {
    const same = (k: StagedKey) => wanted.get(k.key) === k.root;
    this.wanted = new Set([...this.keys.values()].filter(same).map((k) => k.key));
    await this.filling;
  }

  /**
   * The staged copy of KEY when it may be published as htdocs/KEY: staged completely from the
   * directory whose real path is ROOT (as the caller pinned it), its files exactly RELS (what
   * the source holds now), each still the file that was read (same device, inode, size, mode,
   * owner and times, looked at below ROOT), and htdocs/KEY absent. Else null: planSync copies
   * that key file by file.
   */
  committable(key: string, root: string, rels: readonly string[]): { from: string; files: ReadonlyMap<string, StagedFile> } | null {
    const staged = this.keys.get(key);
    if (!staged || !staged.complete || this.removed || this.abandoned || staged.root !== root) return null;
    if (rels.length !== staged.files.size || lstatOrNull(path.join(this.htdocs, key))) return null;
    for (const rel of rels) {
      const file = staged.files.get(rel);
      const stat = file ? lstatOrNull(path.join(root, rel)) : null;
      if (!file || !stat?.isFile() || stampOf(stat) !== file.stamp) return null;
    }
    return { from: path.join(this.dir, key), files: staged.files };
  }

  /**
   * Removes the staging directory (what was not renamed into place) and, unless KEEP_MADE, the
   * directories made for it when they are empty. Synchronous: also called from a signal handler.
   */
  remove({ keepMade = false }: { keepMade?: boolean } = {}): void {
    this.stopped = true;
    if (!this.removed) {
      this.removed = true;
      for (const s of SIGNALS) process.off(s, this.onSignal);
      fsSync.rmSync(this.dir, { recursive: true, force: true });
    }
    if (!keepMade) for (const dir of [...this.made].reverse()) rmdirOrKeep(dir);
  }

  /**
   * A signal: the staging goes. When nothing else handles the signal (Python is not being
   * asked, whose handler stops it and exits), the process then ends as the signal ends it.
   */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.remove();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
}

/** The directories from INTO (made already) down to DIR, outermost first, that are to be made. */
function dirsToMake(dir: string, into: string): string[] {
  const out: string[] = [];
  for (let d = dir; d !== into && isBelow(d, into); d = path.dirname(d)) out.unshift(d);
  return out.filter((d) => !lstatOrNull(d));
}

function rmdirOrKeep(dir: string): void {
  try {
    fsSync.rmdirSync(dir);
  } catch {
    // not empty (something else was written there since) or gone: kept as it is
  }
}
