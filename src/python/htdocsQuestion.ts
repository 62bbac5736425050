import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cacheDirectory, cachedAnswer, environmentInputs, fingerprint, inputsOf, storeAnswer, usableCacheDirectory, type Question } from './answerCache.js';
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
  /** Stamps of the environment's own files taken before Python read them. */
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
  const own = environmentInputs(question.envPath);
  const before = await fingerprint(own.paths, own.dirsWithEntries);
  const cache = await usableCacheDirectory(cacheDirectory());
  const cached = cache.dir && useCache ? await cachedAnswer(cache.dir, question).catch(() => null) : null;
  if (cached) return { answer: cached, fresh: false, eggCache: null, cacheNote: null, before };
  const eggCache = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-eggs-'));
  try {
    const answering = htdocsDirs(question.envPath, { pythonHome, eggCache, signal });
    // The child is spawned a few promise steps on; a turn of the event loop lets them run.
    if (launched) setImmediate(launched);
    const answer = await answering;
    return { answer, fresh: true, eggCache, cacheNote: cache.reason ? `the Python answer cache was not used: ${cache.reason}` : null, before };
  } catch (error) {
    await fs.rm(eggCache, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Keeps a fresh answer for next time, unless it points into this run's temporary egg cache or
 * the environment's own files changed while Python was reading them.
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
  const own = environmentInputs(question.envPath);
  if ((await fingerprint(own.paths, own.dirsWithEntries)) !== asked.before) return;
  const cache = await usableCacheDirectory(cacheDirectory());
  if (!cache.dir) return;
  await storeAnswer(cache.dir, { question, ...inputsOf(question, asked.answer, inputs), answer: asked.answer });
}

export async function removeEggCache(asked: Asked): Promise<void> {
  if (asked.eggCache) await fs.rm(asked.eggCache, { recursive: true, force: true });
}
