import { spawnSync } from 'node:child_process';
import fsSync from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answerFile, cacheDirectory, cachedAnswer, fingerprint, inputsOf, questionInputs, storeAnswer, usableCacheDirectory, type Question } from './answerCache.js';
import type { AskingUser } from './askingUser.js';
import { htdocsDirs, type HtdocsAnswer } from './htdocsDirs.js';

/** The answer to "which static directories does this environment serve", and where it came from. */
export interface Asked {
  answer: HtdocsAnswer;
  /** True when Python was asked in this run (false: the cache answered). */
  fresh: boolean;
  /** This run's temporary egg cache when Python was asked (zipped eggs unpack there); the caller removes it. */
  eggCache: string | null;
  /** Why the cache was not used, when it was not. */
  cacheNote: string | null;
  /** Stamps of what is known to change the answer (questionInputs) taken before Python read it. */
  before: string;
}

let early: { key: string; asking: Promise<Asked>; abort: AbortController } | null = null;

/**
 * Asks (or finds in the cache) the answer to QUESTION. A question started early for the same
 * QUESTION (startEarly, before the CLI's modules load) is taken over instead of asked twice.
 */
export function askHtdocs(question: Question, pythonHome: string | null, { useCache = true }: { useCache?: boolean } = {}): Promise<Asked> {
  const key = JSON.stringify(question);
  if (!useCache) return ask(question, pythonHome, new AbortController().signal, false);
  if (early) {
    const taken = early;
    early = null;
    if (taken.key === key) return taken.asking;
    abandon(taken);
  }
  return ask(question, pythonHome, new AbortController().signal);
}

/**
 * Starts QUESTION now; askHtdocs takes it over if the command asks the same. Resolves once
 * Python was started (or the cache answered, or it failed): loading the CLI's modules is
 * synchronous work that would otherwise hold the start back until it is done.
 */
export function startEarly(question: Question, pythonHome: string | null): Promise<void> {
  const abort = new AbortController();
  let launched!: () => void;
  const started = new Promise<void>((resolve) => (launched = resolve));
  const asking = ask(question, pythonHome, abort.signal, true, launched);
  asking.catch(() => undefined).finally(launched);
  early = { key: JSON.stringify(question), asking, abort };
  return started;
}

/** An early question nobody took (the command was another, or failed first): stop it, clean up. */
export function abandonEarly(): void {
  if (early) abandon(early);
  early = null;
}

function abandon(taken: { asking: Promise<Asked>; abort: AbortController }): void {
  taken.abort.abort();
  taken.asking.then((asked) => removeEggCache(asked), () => undefined).catch(() => undefined);
}

async function ask(question: Question, pythonHome: string | null, signal: AbortSignal, useCache = true, launched?: () => void): Promise<Asked> {
  const known = questionInputs(question);
  // Taken before Python starts: it may read these files from then on.
  const before = await fingerprint(known.paths, known.dirsWithEntries);
  const looking = lookInCache(question, useCache);
  if (useCache && mayBeCached(question)) {
    const { cached } = await looking;
    if (cached) return { answer: cached, fresh: false, eggCache: null, cacheNote: null, before };
  }
  // Nothing kept for this question (its file is missing: a first deploy), or what was kept is
  // stale: Python is asked, and when the cache was not looked in yet, it is looked in meanwhile;
  // should it answer after all (a file made since), Python is stopped and the cache answers.
  const stop = new AbortController();
  const { eggCache, eggs } = makeEggCache(question.user ?? null);
  const answering = htdocsDirs(question.envPath, { pythonHome, eggCache: eggs, signal: AbortSignal.any([signal, stop.signal]), asUser: question.user ?? null });
  answering.catch(() => undefined);
  track(eggCache, stop, answering);
  // The child is spawned a few promise steps on; a turn of the event loop lets them run.
  if (launched) setImmediate(launched);
  try {
    const { cached, reason } = await looking;
    if (cached) {
      stop.abort();
      await answering.catch(() => undefined);
      removeEggTree(eggCache);
      untrack(eggCache);
      return { answer: cached, fresh: false, eggCache: null, cacheNote: null, before };
    }
    const answer = await answering;
    return { answer, fresh: true, eggCache, cacheNote: reason ? `the Python answer cache was not used: ${reason}` : null, before };
  } catch (error) {
    // Python stopped and gone before its egg cache is removed (it could still be unpacking there).
    stop.abort();
    await settled(answering, CHILD_GRACE_MS);
    removeEggTree(eggCache);
    untrack(eggCache);
    throw error;
  }
}

/**
 * This run's egg cache: a private temporary directory. Python run as another user (USER, as
 * root) gets EGGS, a directory of its own inside it (0700, that user's), in a directory only
 * root may change (0711): that user may fill EGGS but never rename it or put a link in its way.
 */
function makeEggCache(user: AskingUser | null): { eggCache: string; eggs: string } {
  const eggCache = fsSync.mkdtempSync(path.join(os.tmpdir(), 'trac-deploy-eggs-'));
  if (!user || user.uid === 0) return { eggCache, eggs: eggCache };
  try {
    const eggs = path.join(eggCache, 'eggs');
    fsSync.mkdirSync(eggs, { mode: 0o700 });
    fsSync.chownSync(eggs, user.uid, user.gid);
    fsSync.chmodSync(eggCache, 0o711);
    return { eggCache, eggs };
  } catch (error) {
    fsSync.rmSync(eggCache, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Removes an egg cache made by makeEggCache. What another user's Python unpacked is removed as
 * that user (setpriv rm -rf): root never walks a tree another user may change while it is walked.
 * An empty one (no zipped egg: the usual case) costs no process.
 */
function removeEggTree(eggCache: string): void {
  const eggs = path.join(eggCache, 'eggs');
  const stat = fsSync.lstatSync(eggs, { throwIfNoEntry: false });
  if (stat?.isDirectory() && stat.uid !== process.geteuid?.()) {
    try {
      fsSync.rmdirSync(eggs);
    } catch {
      spawnSync('setpriv', [`--reuid=${stat.uid}`, `--regid=${stat.gid}`, '--clear-groups', '--', 'rm', '-rf', '--', eggs], { stdio: 'ignore', cwd: '/', timeout: 60_000 });
      // Not all removed as that user: left as it is, rather than walked by root.
      if (fsSync.lstatSync(eggs, { throwIfNoEntry: false })) return;
    }
  }
  try {
    fsSync.rmSync(eggCache, { recursive: true, force: true });
  } catch {
    // left (the other user's files could not be removed): a temporary directory
  }
}

/** How long a stopped Python is waited for before its egg cache is removed all the same. */
const CHILD_GRACE_MS = 10_000;

function settled(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    promise.then(
      () => resolve(),
      () => resolve(),
    );
  });
}

/**
 * This process's egg caches not removed yet, with the Python that fills each. While there is
 * one, SIGINT, SIGTERM and SIGHUP (as src/apply/interrupt.ts does for apply) do not end the
 * process at once: Python is stopped and waited for, the egg caches removed, and the process then
 * ends as the signal would have ended it (exit code 128 + its number).
 */
const live = new Map<string, { stop: AbortController; answering: Promise<unknown> }>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let interrupted = false;

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  void (async () => {
    const running = [...live.entries()];
    for (const [, { stop }] of running) stop.abort();
    await Promise.all(running.map(([, { answering }]) => settled(answering, CHILD_GRACE_MS)));
    for (const [dir] of running) removeEggTree(dir);
    process.exit(128 + (os.constants.signals[signal] ?? 1));
  })();
}

function track(eggCache: string, stop: AbortController, answering: Promise<unknown>): void {
  if (live.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  live.set(eggCache, { stop, answering });
}

function untrack(eggCache: string): void {
  if (!live.delete(eggCache) || live.size > 0) return;
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** The kept answer to QUESTION, if the cache may be used and holds a current one; else why not. */
async function lookInCache(question: Question, useCache: boolean): Promise<{ cached: HtdocsAnswer | null; reason: string | null }> {
  const cache = await usableCacheDirectory(cacheDirectory());
  const cached = cache.dir && useCache ? await cachedAnswer(cache.dir, question).catch(() => null) : null;
  return { cached, reason: cache.reason };
}

/**
 * Whether the cache may hold an answer to QUESTION: its entry file exists. A hint for what to
 * start first, never a verdict: the cache is looked in either way.
 */
export function mayBeCached(question: Question, dir = cacheDirectory()): boolean {
  try {
    fsSync.lstatSync(answerFile(dir, question));
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * Keeps a fresh answer for next time, unless it points into this run's temporary egg cache or
 * what it is known to depend on (the environment's files, the interpreter, a virtualenv's
 * site-packages) changed while Python was reading it.
 */
export async function rememberAnswer(question: Question, asked: Asked, inputs: { inheritFiles: string[]; pluginsDirs: string[] }): Promise<void> {
  if (!asked.fresh) return;
  const eggCache = asked.eggCache;
  const within = (dir: string) => {
    if (eggCache === null) return false;
    const rel = path.relative(eggCache, dir);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  if (asked.answer.providers.some((p) => p.dirs.some(([, dir]) => dir && within(dir)))) return;
  const known = questionInputs(question);
  if ((await fingerprint(known.paths, known.dirsWithEntries)) !== asked.before) return;
  const cache = await usableCacheDirectory(cacheDirectory());
  if (!cache.dir) return;
  await storeAnswer(cache.dir, { question, ...inputsOf(question, asked.answer, inputs), answer: asked.answer });
}

export async function removeEggCache(asked: Asked): Promise<void> {
  if (!asked.eggCache) return;
  removeEggTree(asked.eggCache);
  untrack(asked.eggCache);
}
