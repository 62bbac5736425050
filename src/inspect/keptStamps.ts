import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { assumeMissing, fingerprintSync, type StatMemo } from '../python/answerCache.js';
import { logCheckOf, logCheckPassesHere, type Inputs } from './preflightCache.js';

/**
 * One environment's kept verdict looked at again (directoryVerdicts.ts): whether the stamps of
 * what Trac read of it still hold, then, as the user Trac was asked as, whether the environment
 * can be reached and Trac's log check. Made right after the environment is
 * judged, by the thread that judged it (parallelCandidates.ts: a worker thread in a large
 * directory), so that 100,000 of them are spread over the cores and each is stamped after the
 * inspection read its files, as a lookup made after the inspection would be.
 */

/** An environment's own paths, "./relative" to it ("." itself) where under it, else absolute. */
export interface StoredLists {
  paths: string[];
  dirsWithEntries: string[];
  accessOnly: string[];
  /**
   * Those of `paths` that were missing when stamped and whose directory `paths` stamps whole
   * (the database's -wal, -shm and -journal, plugins/__pycache__): while that directory's stamp
   * holds (no entry made in it since: its mtime), they are missing still, and are not looked at.
   */
  missing?: string[];
}

/** What every lookup of one run shares: the stored lists, and the log paths Trac named per answer. */
export interface RestampTable {
  lists: StoredLists[];
  /** By stored answer: the paths of Trac's log check (relative as the lists), or null. */
  logPaths: (string[] | null)[];
  /** Trac was asked as another user (root asking as the web server's): its log check is that user's to make. */
  asOtherUser: boolean;
}

/** One environment's kept record: [index into lists, its stamps, index into answers]. */
export type RestampItem = [list: number, stamps: string, answer: number];

/** A test the user Trac was asked as must pass for a kept verdict to hold (`test -w` / `test -x`). */
export interface AccessTest {
  path: string;
  test: '-w' | '-x';
}

/**
 * What the look found: the stamps changed (or a test failed here), or they hold and TESTS are
 * left for the web server's user to pass (none when Trac was asked as this user: made here).
 */
export type Restamped = { held: false } | { held: true; tests: AccessTest[] };

const CHANGED: Restamped = { held: false };
const PASSES: Restamped = { held: true, tests: [] };

/**
 * ENV_PATH's kept record ITEM looked at again now (see the module's comment): its stamps, then,
 * as the user Trac was asked as, that the environment can be reached (`-x ENV`: search
 * permission on it and every directory above it, which the stamps leave to this test for the
 * directory of environments, whose entries change whenever one is added) and Trac's log check.
 */
export function restamp(table: RestampTable, envPath: string, item: RestampItem): Restamped {
  const [listIndex, stamps, answerIndex] = item;
  const lists = table.lists[listIndex];
  if (!lists || answerIndex < 0 || answerIndex >= table.logPaths.length) return CHANGED;
  const own = absoluteLists(lists, envPath);
  const memo: StatMemo = new Map();
  if (lists.missing) assumeMissing(memo, lists.missing.map((p) => absolutePath(p, envPath)).filter((p) => own.paths.includes(path.dirname(p))));
  if (stampsOf(own, memo) !== stamps) return CHANGED;
  // The stored paths are "./relative" to the environment or absolute: resolved against it.
  const check = logCheckOf(table.logPaths[answerIndex], envPath);
  if (check === 'unsure') return CHANGED;
  if (!table.asOtherUser) {
    if (!passesHere(() => accessSync(envPath, constants.X_OK))) return CHANGED;
    return check === 'none' || logCheckPassesHere(check) ? PASSES : CHANGED;
  }
  const tests: AccessTest[] = [{ path: envPath, test: '-x' }];
  if (check === 'none') return { held: true, tests };
  // Whether the log file is there is seen here (as root: the same answer, since a file the web
  // server user cannot reach fails its own test as well); its access is that user's to test.
  if (statSync(check.file, { throwIfNoEntry: false })) return { held: true, tests: [...tests, { path: check.file, test: '-w' }] };
  const dir = statSync(check.dir, { throwIfNoEntry: false });
  return dir?.isDirectory() ? { held: true, tests: [...tests, { path: check.dir, test: '-w' }, { path: check.dir, test: '-x' }] } : CHANGED;
}

function passesHere(test: () => void): boolean {
  try {
    test();
    return true;
  } catch {
    return false;
  }
}

export function stampsOf(inputs: Inputs, memo?: StatMemo): string {
  return fingerprintSync(inputs.paths, inputs.dirsWithEntries, inputs.accessOnly, memo);
}

/** A path under ENV_PATH as "./relative" ("." for itself), any other as it is (absolute). */
export function relativePath(p: string, envPath: string): string {
  return p === envPath ? '.' : p.startsWith(`${envPath}/`) ? `./${p.slice(envPath.length + 1)}` : p;
}

/** relativePath undone. */
export function absolutePath(p: string, envPath: string): string {
  return p === '.' ? envPath : p.startsWith('./') ? `${envPath}/${p.slice(2)}` : p;
}

/** INPUTS relative to ENV_PATH, with MISSING: those of its paths found missing whose directory it stamps whole (StoredLists). */
export function relativeLists(inputs: Inputs, envPath: string, missing: string[] = []): StoredLists {
  const rel = (p: string) => relativePath(p, envPath);
  const whole = new Set(inputs.paths);
  const alone = missing.filter((p) => whole.has(p) && whole.has(path.dirname(p)));
  return { paths: inputs.paths.map(rel), dirsWithEntries: inputs.dirsWithEntries.map(rel), accessOnly: inputs.accessOnly.map(rel), ...(alone.length ? { missing: alone.map(rel) } : {}) };
}

export function absoluteLists(lists: StoredLists, envPath: string): Inputs {
  const abs = (p: string) => absolutePath(p, envPath);
  return { paths: lists.paths.map(abs), dirsWithEntries: lists.dirsWithEntries.map(abs), accessOnly: lists.accessOnly.map(abs) };
}
