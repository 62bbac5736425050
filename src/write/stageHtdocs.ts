import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import path from 'node:path';
import { validKey } from '../plan/chromeKey.js';
import { isBelow, listSourceFiles, lstatOrNull, readConfinedSync, realpathOrNull, stampOf } from './confinedRead.js';
import { fillCopySync, openExclusive } from './copyBytes.js';
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
 */

/** The name of a staging directory in TARGET/htdocs, before its random part. */
export const STAGING_PREFIX = '.trac-deploy-staging-';

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
  private wanted: Set<string> | null = null;
  private filling: Promise<void> = Promise.resolve();

  private constructor(
    readonly htdocs: string,
    /** TARGET/htdocs/.trac-deploy-staging-<random>. */
    readonly dir: string,
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
  static start(htdocs: string, candidates: readonly { key: string; dir: string }[], { signal }: { signal?: AbortSignal } = {}): Staging | null {
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
    const made: string[] = [];
    let stagingDir: string;
    try {
      for (const dir of missing) {
        fsSync.mkdirSync(dir);
        made.push(dir);
      }
      stagingDir = path.join(htdocs, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`);
      fsSync.mkdirSync(stagingDir, { mode: 0o700 });
    } catch {
      for (const dir of made.reverse()) rmdirOrKeep(dir);
      return null;
    }
    const staging = new Staging(htdocs, stagingDir, made);
    for (const k of keys) staging.keys.set(k.key, k);
    signal?.addEventListener('abort', () => (staging.stopped = true), { once: true });
    staging.filling = staging.fill().catch(() => {
      staging.stopped = true;
    });
    return staging;
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
      const skipped: string[] = [];
      const rels = await listSourceFiles(staged.dir, skipped);
      const into = path.join(this.dir, staged.key);
      fsSync.mkdirSync(into);
      const dirs = new Set([into]);
      let complete = skipped.length === 0;
      for (const rel of rels) {
        if (this.stopped || (this.wanted && !this.wanted.has(staged.key))) return;
        const read = readConfinedSync(path.join(staged.dir, rel), staged.root);
        if (!read) {
          complete = false;
          continue;
        }
        const file = path.join(into, rel);
        const parent = path.dirname(file);
        if (!dirs.has(parent)) {
          fsSync.mkdirSync(parent, { recursive: true });
          dirs.add(parent);
        }
        fillCopySync(openExclusive(file), read);
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
   * (WANTED: key -> the one source directory of that key, compared by real path), and resolves when the copying of the
   * others is done. What was staged for other keys is left for `remove`.
   */
  async settle(wanted: ReadonlyMap<string, string>): Promise<void> {
    const same = (k: StagedKey) => {
      const dir = wanted.get(k.key);
      return dir !== undefined && (dir === k.dir || realpathOrNull(dir) === k.root);
    };
    this.wanted = new Set([...this.keys.values()].filter(same).map((k) => k.key));
    await this.filling;
  }

  /**
   * The staged copy of KEY when it may be published as htdocs/KEY: staged completely from the
   * directory whose real path is ROOT (DIR, as the answer names it), its files exactly RELS (what the source holds now), each still the
   * file that was read (same device, inode, size, mode, owner and times), and htdocs/KEY absent.
   * Else null: planSync copies that key file by file.
   */
  committable(key: string, dir: string, root: string, rels: readonly string[]): { from: string; files: ReadonlyMap<string, StagedFile> } | null {
    const staged = this.keys.get(key);
    if (!staged || !staged.complete || this.removed || staged.root !== root) return null;
    if (rels.length !== staged.files.size || lstatOrNull(path.join(this.htdocs, key))) return null;
    for (const rel of rels) {
      const file = staged.files.get(rel);
      const stat = file ? lstatOrNull(path.join(dir, rel)) : null;
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

function rmdirOrKeep(dir: string): void {
  try {
    fsSync.rmdirSync(dir);
  } catch {
    // not empty (something else was written there since) or gone: kept as it is
  }
}
