import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPreflight } from '../../src/python/preflight.js';
import { htdocsDirs } from '../../src/python/htdocsDirs.js';
import { configureTrac } from '../../src/write/configureTrac.js';
import { TRAC_ADMIN, VENV } from '../helpers/paths.js';
import { initEnv } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

/** A single-file plugin: Python writes its bytecode to plugins/__pycache__ when it loads it. */
const plugin = (key: string, raise = '') =>
  `from trac.core import Component, implements\nfrom trac.web.chrome import ITemplateProvider\n${raise}\nclass Hello(Component):\n    implements(ITemplateProvider)\n    def get_htdocs_dirs(self):\n        return [('${key}', '/nonexistent')]\n    def get_templates_dirs(self):\n        return []\n`;

/**
 * What trac-deploy runs of Trac as root with root's environment writes no bytecode into the
 * environment (a root-owned plugins/__pycache__ is not the daemon's), and reads none from root's
 * PYTHONPYCACHEPREFIX (the daemon has none: it loads what is beside the sources).
 */
describe("Trac asked with root's environment (real Trac 1.6)", () => {
  const saved = { ...process.env };
  beforeEach(() => {
    // As on a server: this machine's shell exports PYTHONDONTWRITEBYTECODE=1, which would hide it.
    delete process.env.PYTHONDONTWRITEBYTECODE;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  async function envWithPlugin(): Promise<{ root: string; env: string }> {
    const root = await tempDir();
    const env = await initEnv(path.join(root, 'env'));
    await fs.writeFile(path.join(env, 'plugins', 'hello.py'), plugin('hello'));
    return { root, env };
  }

  it('writes no plugins/__pycache__: the htdocs question, the preflight, --configure-trac', async () => {
    const { root, env } = await envWithPlugin();
    const pycache = path.join(env, 'plugins', '__pycache__');
    const answer = await htdocsDirs(env, { pythonHome: VENV, eggCache: path.join(root, 'eggs') });
    expect(answer.providers.flatMap((p) => p.dirs.map(([key]) => key))).toContain('hello');
    expect(await fs.pathExists(pycache), 'the htdocs question wrote bytecode').toBe(false);

    const result = await runPreflight({ environments: [env], pythonHome: VENV, siteDirs: [], eggCache: path.join(root, 'eggs'), asUser: null, svnBindings: null, workers: 1 });
    expect(result.status).toBe('ran');
    expect(await fs.pathExists(pycache), 'the preflight wrote bytecode').toBe(false);

    const url = 'https://trac.example/';
    await configureTrac([{ env, option: 'base_url', current: null, wanted: url, argv: ['trac-admin', env, 'config', 'set', 'trac', 'base_url', url], why: 'test' }], TRAC_ADMIN);
    expect(await fs.readFile(path.join(env, 'conf', 'trac.ini'), 'utf8')).toContain(`base_url = ${url}`);
    expect(await fs.pathExists(pycache), '--configure-trac wrote bytecode').toBe(false);
    // The check can fail: trac-admin as root with this environment does write it.
    await execa(TRAC_ADMIN, [env, 'permission', 'list'], { stdin: 'ignore' });
    expect(await fs.readdir(pycache)).toEqual([expect.stringMatching(/^hello\.cpython-\d+\.pyc$/)]);
  }, 120_000);

  it("reads no bytecode from root's PYTHONPYCACHEPREFIX: the plugin loaded is the one beside its source", async () => {
    const { root, env } = await envWithPlugin();
    // Bytecode of another source (one that fails to import), stamped as the plugin's source is,
    // where Python looks for it under the prefix.
    const prefix = path.join(root, 'pycache-prefix');
    const source = path.join(env, 'plugins', 'hello.py');
    const other = path.join(root, 'other.py');
    await fs.writeFile(other, plugin('bogus', "raise ImportError('bytecode of the prefix')"));
    const make = [
      'import importlib.util, importlib._bootstrap_external as b, os, sys',
      'src, other = sys.argv[1], sys.argv[2]',
      'target = importlib.util.cache_from_source(src)',
      'os.makedirs(os.path.dirname(target), exist_ok=True)',
      'st = os.stat(src)',
      "code = compile(open(other).read(), src, 'exec')",
      "open(target, 'wb').write(b._code_to_timestamp_pyc(code, st.st_mtime, st.st_size))",
      'print(target)',
    ].join('\n');
    const made = await execa(path.join(VENV, 'bin', 'python'), ['-c', make, source, other], { env: { PYTHONPYCACHEPREFIX: prefix }, stdin: 'ignore' });
    expect(made.stdout.startsWith(prefix)).toBe(true);
    // The check can fail: Python with that prefix loads the other bytecode.
    const honoured = await execa(path.join(VENV, 'bin', 'python'), ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); import hello', path.join(env, 'plugins')], {
      reject: false,
      stdin: 'ignore',
      env: { PYTHONPYCACHEPREFIX: prefix, PYTHONDONTWRITEBYTECODE: '1' },
    }).then((r) => r.stderr);
    expect(honoured).toContain('bytecode of the prefix');
    const pluginProblems = (problems: { code: string }[]) => problems.filter((p) => p.code === 'plugin-not-loaded');

    process.env.PYTHONPYCACHEPREFIX = prefix;
    const answer = await htdocsDirs(env, { pythonHome: VENV, eggCache: path.join(root, 'eggs') });
    expect(answer.providers.flatMap((p) => p.dirs.map(([key]) => key))).toContain('hello');
    expect(pluginProblems(answer.verdict?.problems ?? [])).toEqual([]);
    const result = await runPreflight({ environments: [env], pythonHome: VENV, siteDirs: [], eggCache: path.join(root, 'eggs'), asUser: null, svnBindings: null, workers: 1 });
    if (result.status !== 'ran') throw new Error(`preflight ${result.status}`);
    expect(pluginProblems(result.environments[0]!.problems)).toEqual([]);
  }, 120_000);
});
