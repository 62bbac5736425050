import fs from 'fs-extra';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputsOf, questionFor, storeAnswer } from '../../src/python/answerCache.js';
import type { HtdocsAnswer } from '../../src/python/htdocsDirs.js';
import { askHtdocs, mayBeCached, rememberAnswer, removeEggCache } from '../../src/python/htdocsQuestion.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * deploy's Python question: started at once when the cache holds nothing for it (its entry file
 * is missing), the cache looked in first when it may. The "Python" is a script that notes each
 * run and answers like htdocs_dirs.py.
 */
async function setUp(): Promise<{ root: string; env: string; home: string; cache: string; answer: HtdocsAnswer; runs: () => Promise<number> }> {
  const root = await tempDir();
  const env = path.join(root, 'env');
  await fs.outputFile(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
  await fs.outputFile(path.join(env, 'conf', 'trac.ini'), '[trac]\n');
  await fs.mkdirp(path.join(env, 'plugins'));
  const home = path.join(root, 'venv');
  const site = path.join(home, 'lib', 'site-packages');
  await fs.mkdirp(path.join(site, 'trac', 'htdocs'));
  const answer: HtdocsAnswer = {
    python: { executable: path.join(home, 'bin', 'python'), version: '3.11.2', prefix: home, basePrefix: '/usr', sitePackages: [site], path: [site] },
    trac: { version: '1.6', package: path.join(site, 'trac') },
    providers: [{ name: 'trac.web.chrome.Chrome', dirs: [['common', path.join(site, 'trac', 'htdocs')]] }],
    verdict: { problems: [] },
  };
  await fs.outputFile(path.join(home, 'answer.json'), JSON.stringify(answer));
  const runs = path.join(root, 'runs');
  await fs.outputFile(path.join(home, 'bin', 'python'), `#!/bin/sh\necho run >> '${runs}'\ncat '${path.join(home, 'answer.json')}'\n`, { mode: 0o755 });
  const cache = path.join(root, 'cache');
  await fs.mkdir(cache, { mode: 0o700 });
  return {
    root,
    env,
    home,
    cache,
    answer,
    runs: async () => ((await fs.pathExists(runs)) ? (await fs.readFile(runs, 'utf8')).split('\n').filter(Boolean).length : 0),
  };
}

async function withCacheDir<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const before = process.env.TRAC_DEPLOY_CACHE_DIR;
  process.env.TRAC_DEPLOY_CACHE_DIR = dir;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.TRAC_DEPLOY_CACHE_DIR;
    else process.env.TRAC_DEPLOY_CACHE_DIR = before;
  }
}

describe("deploy's Python question and the answer cache", () => {
  it('names the entry file as answerCache.ts stores it: mayBeCached finds what storeAnswer wrote, and only that', async () => {
    const { env, home, cache, answer } = await setUp();
    const question = questionFor(home, env, process.env, null);
    expect(mayBeCached(question, cache)).toBe(false);
    await storeAnswer(cache, { question, ...inputsOf(question, answer, { inheritFiles: [], pluginsDirs: [] }), answer });
    expect(mayBeCached(question, cache)).toBe(true);
    expect(mayBeCached(questionFor(home, path.join(env, "..", "other"), process.env, null), cache)).toBe(false);
    expect(mayBeCached({ ...question, env: { ...question.env, PYTHONPATH: '/elsewhere' } }, cache)).toBe(false);
  });

  it('asks Python when nothing is kept, and answers from the cache without running it when a current answer is', async () => {
    const { env, home, cache, answer, runs } = await setUp();
    const question = questionFor(home, env, process.env, null);
    await withCacheDir(cache, async () => {
      const first = await askHtdocs(question, home);
      await removeEggCache(first);
      expect(first.fresh).toBe(true);
      expect(first.answer.trac).toEqual(answer.trac);
      expect(await runs()).toBe(1);

      await storeAnswer(cache, { question, ...inputsOf(question, answer, { inheritFiles: [], pluginsDirs: [] }), answer });
      const second = await askHtdocs(question, home);
      expect(second.fresh).toBe(false);
      expect(second.eggCache).toBeNull();
      expect(await runs()).toBe(1);

      // Kept, but stale (trac.ini changed): the cache is looked in first, then Python is asked.
      await fs.appendFile(path.join(env, 'conf', 'trac.ini'), '[components]\n');
      const third = await askHtdocs(question, home);
      await removeEggCache(third);
      expect(third.fresh).toBe(true);
      expect(await runs()).toBe(2);
    });
  });

  it('takes the fingerprint of the environment before Python starts', async () => {
    const { env, home, cache } = await setUp();
    const question = questionFor(home, env, process.env, null);
    // The "Python" changes trac.ini while it answers: the stamps taken before it ran must differ
    // from those taken after, so rememberAnswer keeps nothing.
    const answerFile = path.join(home, 'answer.json');
    await fs.outputFile(path.join(home, 'bin', 'python'), `#!/bin/sh\necho '[x]' >> '${path.join(env, 'conf', 'trac.ini')}'\ncat '${answerFile}'\n`, { mode: 0o755 });
    await withCacheDir(cache, async () => {
      const { fingerprint, questionInputs } = await import('../../src/python/answerCache.js');
      const own = questionInputs(question);
      const asked = await askHtdocs(question, home);
      await removeEggCache(asked);
      expect(asked.fresh).toBe(true);
      expect(await fingerprint(own.paths, own.dirsWithEntries)).not.toBe(asked.before);
    });
  });

  it('starts Python before the look-up ends when the entry is missing, and stops it when the cache answers after all', async () => {
    const { root, env, home, cache, answer } = await setUp();
    const question = questionFor(home, env, process.env, null);
    // The "Python" notes its pid and egg cache, then takes its time (exec: the pid is the sleeper's).
    const noted = path.join(root, 'python.pid');
    await fs.outputFile(path.join(home, 'bin', 'python'), `#!/bin/sh\necho "$$ $PYTHON_EGG_CACHE" > '${noted}.part'\nmv '${noted}.part' '${noted}'\nexec sleep 600\n`, { mode: 0o755 });
    const lstat = fsp.lstat;
    let pythonSeenDuringLookUp = false;
    let hooked = false;
    // While the cache is being looked in (its directory checked), wait for Python to start, then
    // store a current entry: a run that finished meanwhile kept its answer.
    (fsp as { lstat: typeof fsp.lstat }).lstat = (async (...args: Parameters<typeof fsp.lstat>) => {
      if (!hooked && path.resolve(String(args[0])) === path.resolve(cache)) {
        hooked = true;
        for (let i = 0; i < 200 && !(await fs.pathExists(noted)); i++) await new Promise((r) => setTimeout(r, 50));
        pythonSeenDuringLookUp = await fs.pathExists(noted);
        (fsp as { lstat: typeof fsp.lstat }).lstat = lstat;
        await storeAnswer(cache, { question, ...inputsOf(question, answer, { inheritFiles: [], pluginsDirs: [] }), answer });
      }
      return lstat(...args);
    }) as typeof fsp.lstat;
    try {
      expect(mayBeCached(question, cache)).toBe(false);
      const asked = await withCacheDir(cache, () => askHtdocs(question, home));
      expect(hooked).toBe(true);
      expect(pythonSeenDuringLookUp).toBe(true);
      expect(asked.fresh).toBe(false);
      expect(asked.eggCache).toBeNull();
      expect(asked.answer.trac).toEqual(answer.trac);
      const [pid, eggCache] = (await fs.readFile(noted, 'utf8')).trim().split(' ');
      expect(eggCache).toMatch(/trac-deploy-eggs-/);
      expect(() => process.kill(Number(pid), 0)).toThrow(/ESRCH/);
      expect(await fs.pathExists(eggCache!)).toBe(false);
    } finally {
      (fsp as { lstat: typeof fsp.lstat }).lstat = lstat;
      const [pid] = (await fs.readFile(noted, 'utf8').catch(() => '')).split(' ');
      if (pid) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone, as it should be
        }
      }
    }
  }, 120_000);

  it("keeps no answer when the virtualenv's site-packages changed while Python answered (a pip install meanwhile)", async () => {
    const { env, home, cache, answer } = await setUp();
    // A virtualenv's layout: lib/pythonX.Y/site-packages, Trac's package in it.
    const site = path.join(home, 'lib', 'python3.11', 'site-packages');
    await fs.mkdirp(path.join(site, 'trac', 'htdocs'));
    const inVenv: HtdocsAnswer = {
      ...answer,
      python: { ...answer.python, sitePackages: [site], path: [site] },
      trac: { version: '1.6', package: path.join(site, 'trac') },
      providers: [{ name: 'trac.web.chrome.Chrome', dirs: [['common', path.join(site, 'trac', 'htdocs')]] }],
    };
    const answerFile = path.join(home, 'answer.json');
    await fs.outputFile(answerFile, JSON.stringify(inVenv));
    const question = questionFor(home, env, process.env, null);
    const inputs = { inheritFiles: [], pluginsDirs: [] };
    await withCacheDir(cache, async () => {
      // Unchanged while it answered: kept.
      const quiet = await askHtdocs(question, home);
      await removeEggCache(quiet);
      await rememberAnswer(question, quiet, inputs);
      expect(mayBeCached(question, cache)).toBe(true);
      await fs.remove(cache);
      await fs.mkdir(cache, { mode: 0o700 });
      // A distribution installed while it answered: the answer may be of the old state, not kept.
      await fs.outputFile(path.join(home, 'bin', 'python'), `#!/bin/sh\nmkdir -p '${path.join(site, 'NewDist-1.0.dist-info')}'\ncat '${answerFile}'\n`, { mode: 0o755 });
      const busy = await askHtdocs(question, home);
      await removeEggCache(busy);
      expect(busy.fresh).toBe(true);
      await rememberAnswer(question, busy, inputs);
      expect(mayBeCached(question, cache)).toBe(false);
    });
  });
});
