import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { cacheDirectory, cachedAnswer, inputsOf, questionFor, storeAnswer, usableCacheDirectory } from '../../src/python/answerCache.js';
import type { PythonRunner } from '../../src/python/askPython.js';
import { htdocsDirs, type HtdocsAnswer } from '../../src/python/htdocsDirs.js';
import { tempDir } from '../helpers/tempDir.js';

const fake = (stdout: string, exitCode = 0, code?: string): PythonRunner => async () => ({ exitCode: code ? undefined : exitCode, stdout, stderr: '', code });

describe('htdocsDirs', () => {
  it('asks --python-home\'s bin/python and passes the egg cache', async () => {
    let asked: { file: string; env: Record<string, string | undefined> } | undefined;
    const answer: HtdocsAnswer = {
      python: { executable: '/v/bin/python', version: '3.11.2', prefix: '/v', basePrefix: '/usr', sitePackages: [] },
      trac: { version: '1.6', package: '/v/lib/trac' },
      providers: [{ name: 'trac.web.chrome.Chrome', dirs: [['common', '/v/lib/trac/htdocs']] }],
    };
    const run: PythonRunner = async (file, _args, options) => {
      asked = { file, env: options.env };
      return { exitCode: 0, stdout: JSON.stringify(answer), stderr: '' };
    };
    expect(await htdocsDirs('/env', { pythonHome: '/v', eggCache: '/tmp/eggs', run })).toEqual(answer);
    // No bytecode written, none read from the caller's PYTHONPYCACHEPREFIX (undefined: removed).
    expect(asked).toStrictEqual({ file: '/v/bin/python', env: { PYTHON_EGG_CACHE: '/tmp/eggs', PYTHONDONTWRITEBYTECODE: '1', PYTHONPYCACHEPREFIX: undefined } });
  });

  it('turns a Python without Trac into an exit-2 error naming the interpreter', async () => {
    const error = await htdocsDirs('/env', { eggCache: '/e', run: fake('{"error": "import-trac", "message": "No module named \'trac\'"}', 3) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toBe("python3 (from PATH) cannot import Trac: No module named 'trac'");
  });

  it("refuses what Trac refuses with Trac's reason and the remedy (exit 2)", async () => {
    const upgrade = JSON.stringify({ error: 'environment', code: 'needs-upgrade', severity: 'error', message: "/srv/my env: Trac says the environment needs an upgrade and will not serve it", advice: ['trac-admin /srv/my env upgrade'] });
    const error = (await htdocsDirs('/srv/my env', { eggCache: '/e', run: fake(upgrade, 4) }).catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('Trac would not serve this environment; nothing was written');
    // The path quoted for the shell, whatever Python wrote.
    expect(error.advice).toEqual(["/srv/my env: Trac says the environment needs an upgrade and will not serve it", "  -> trac-admin '/srv/my env' upgrade"]);
    const duplicate = JSON.stringify({ error: 'environment', code: 'trac-cannot-open', message: '/e: Trac cannot open the environment: DuplicateSectionError: x', advice: ['merge the two sections of that name in trac.ini into one'] });
    const other = (await htdocsDirs('/e', { eggCache: '/e', run: fake(duplicate, 4) }).catch((e: unknown) => e)) as UserError;
    expect(other.advice).toEqual(['/e: Trac cannot open the environment: DuplicateSectionError: x', '  -> merge the two sections of that name in trac.ini into one']);
  });

  it('turns a missing interpreter and garbage output into exit-2 errors', async () => {
    await expect(htdocsDirs('/env', { pythonHome: '/nope', eggCache: '/e', run: fake('', 0, 'ENOENT') })).rejects.toThrow(/cannot run \/nope\/bin\/python \(from --python-home\): no such program/);
    await expect(htdocsDirs('/env', { eggCache: '/e', run: fake('Traceback', 1) })).rejects.toThrow(/did not answer/);
  });
});

describe('the cached answer', () => {
  const setup = async () => {
    const root = await tempDir();
    const env = path.join(root, 'env');
    await fs.outputFile(path.join(env, 'conf', 'trac.ini'), '[trac]\n');
    await fs.outputFile(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
    await fs.mkdirp(path.join(env, 'plugins'));
    const site = path.join(root, 'site-packages');
    await fs.mkdirp(path.join(site, 'trac'));
    const answer: HtdocsAnswer = {
      python: { executable: process.execPath, version: '3', prefix: '/p', basePrefix: '/p', sitePackages: [site], path: [site] },
      trac: { version: '1.6', package: path.join(site, 'trac') },
      providers: [],
    };
    const dir = (await usableCacheDirectory(path.join(root, 'cache'))).dir!;
    const question = questionFor('/v', env, { PATH: '/bin' }, null);
    await storeAnswer(dir, { question, ...inputsOf(question, answer, { inheritFiles: [], pluginsDirs: [] }), answer });
    return { root, env, site, dir, question, answer };
  };

  it('is reused for the same question until something it depends on changes', async () => {
    const { env, site, dir, question, answer } = await setup();
    expect(await cachedAnswer(dir, question)).toEqual(answer);
    expect(await cachedAnswer(dir, questionFor('/other', env, { PATH: '/bin' }, null))).toBeNull();
    expect(await cachedAnswer(dir, questionFor('/v', env, { PATH: '/bin', PYTHONPATH: '/x' }, null))).toBeNull();
    // Asked as another user (deploy as root asks as the web server's user): another question.
    const asUser = { name: 'www-data', uid: 33, gid: 33, groups: [33], group: 'www-data', named: true, why: 'web-server' as const };
    expect(questionFor('/v', env, { PATH: '/bin' }, asUser).user).toEqual(asUser);
    expect(await cachedAnswer(dir, questionFor('/v', env, { PATH: '/bin' }, asUser))).toBeNull();
    expect(await cachedAnswer(dir, questionFor('/v', env, { PATH: '/bin' }, { ...asUser, uid: 34, name: 'other' }))).toBeNull();
    await fs.mkdirp(path.join(site, 'Added-1.0.dist-info'));
    expect(await cachedAnswer(dir, question)).toBeNull();
  });

  it('is not read through a symbolic link or from a file of another user', async () => {
    const { root, dir, question } = await setup();
    const [entry] = await fs.readdir(dir);
    const file = path.join(dir, entry!);
    const moved = path.join(root, 'elsewhere.json');
    await fs.move(file, moved);
    await fs.symlink(moved, file);
    expect(await cachedAnswer(dir, question)).toBeNull();
    await fs.remove(file);
    await fs.move(moved, file);
    expect(await cachedAnswer(dir, question)).not.toBeNull();
    if (process.getuid?.() === 0) {
      await fs.chown(file, 65534, 65534);
      expect(await cachedAnswer(dir, question)).toBeNull();
    }
  });

  it('refuses a cache directory that is a link, open to others, or not ours', async () => {
    const root = await tempDir();
    const real = path.join(root, 'real');
    await fs.mkdirp(real);
    await fs.chmod(real, 0o700);
    expect((await usableCacheDirectory(real)).dir).toBe(real);
    await fs.symlink(real, path.join(root, 'link'));
    expect((await usableCacheDirectory(path.join(root, 'link'))).reason).toMatch(/symbolic link/);
    await fs.chmod(real, 0o750);
    expect((await usableCacheDirectory(real)).reason).toMatch(/open to other users/);
    expect((await fs.stat(real)).mode & 0o777).toBe(0o750);
    const made = path.join(root, 'new', 'cache');
    expect((await usableCacheDirectory(made)).dir).toBe(made);
    expect((await fs.stat(made)).mode & 0o777).toBe(0o700);
  });

  it('lives in /var/cache/trac-deploy for root, else under XDG_CACHE_HOME or ~/.cache', () => {
    expect(cacheDirectory({ TRAC_DEPLOY_CACHE_DIR: '/x/y' })).toBe('/x/y');
    if (process.getuid?.() === 0) expect(cacheDirectory({})).toBe('/var/cache/trac-deploy');
    else expect(cacheDirectory({ XDG_CACHE_HOME: '/c' })).toBe('/c/trac-deploy');
  });
});
