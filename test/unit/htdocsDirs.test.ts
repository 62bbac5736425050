import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { fingerprint, reusableAnswer, inputsOf, type CachedAnswer } from '../../src/python/answerCache.js';
import type { PythonRunner } from '../../src/python/askPython.js';
import { htdocsDirs, type HtdocsAnswer } from '../../src/python/htdocsDirs.js';
import { tempDir } from '../helpers/tempDir.js';

const fake = (stdout: string, exitCode = 0, code?: string): PythonRunner => async () => ({ exitCode: code ? undefined : exitCode, stdout, stderr: '', code });

describe('htdocsDirs', () => {
  it('asks --python-home\'s bin/python and passes the egg cache', async () => {
    let asked: { file: string; env: Record<string, string> } | undefined;
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
    expect(asked).toEqual({ file: '/v/bin/python', env: { PYTHON_EGG_CACHE: '/tmp/eggs' } });
  });

  it('turns a Python without Trac into an exit-2 error naming the interpreter', async () => {
    const error = await htdocsDirs('/env', { eggCache: '/e', run: fake('{"error": "import-trac", "message": "No module named \'trac\'"}', 3) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toBe("python3 (from PATH) cannot import Trac: No module named 'trac'");
  });

  it('turns a missing interpreter and garbage output into exit-2 errors', async () => {
    await expect(htdocsDirs('/env', { pythonHome: '/nope', eggCache: '/e', run: fake('', 0, 'ENOENT') })).rejects.toThrow(/cannot run \/nope\/bin\/python \(from --python-home\): no such program/);
    await expect(htdocsDirs('/env', { eggCache: '/e', run: fake('Traceback', 1) })).rejects.toThrow(/did not answer/);
  });
});

describe('the cached answer', () => {
  it('is reused until trac.ini or the plugins directory changes', async () => {
    const env = await tempDir();
    await fs.outputFile(path.join(env, 'conf', 'trac.ini'), '[trac]\n');
    await fs.outputFile(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
    await fs.mkdirp(path.join(env, 'plugins'));
    const answer: HtdocsAnswer = {
      python: { executable: process.execPath, version: '3', prefix: '/p', basePrefix: '/p', sitePackages: [] },
      trac: { version: '1.6', package: env },
      providers: [],
    };
    const question = { python: 'python3', envPath: env, pathEnv: '/bin' };
    const inputs = inputsOf(env, answer, { inheritFiles: [], pluginsDirs: [] });
    const cached: CachedAnswer = { question, ...inputs, fingerprint: await fingerprint(inputs.paths, inputs.dirsWithEntries), answer };
    expect(await reusableAnswer(cached, question)).toEqual(answer);
    expect(await reusableAnswer(cached, { ...question, python: '/other/bin/python' })).toBeNull();
    await fs.writeFile(path.join(env, 'plugins', 'new.py'), '# a plugin\n');
    expect(await reusableAnswer(cached, question)).toBeNull();
  });
});
