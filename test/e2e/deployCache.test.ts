import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';
import { copyFixture } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * deploy keeps the Python answer in the user's cache, not in TARGET: a second deploy to another
 * TARGET does not ask Python again, and any change to what the answer depends on does. The
 * "Python" here is a script that counts its calls and answers like htdocs_dirs.py.
 */
async function fakePython(root: string): Promise<{ home: string; calls: () => Promise<number>; site: string; trac: string; userSite: string }> {
  const home = path.join(root, 'venv');
  const site = path.join(home, 'lib', 'site-packages');
  const trac = path.join(site, 'trac');
  await fs.outputFile(path.join(trac, 'htdocs', 'css', 'trac.css'), 'body {}\n');
  const callsFile = path.join(root, 'calls');
  // Writable by the web server's user, whom deploy asks the "Python" as when run as root.
  await fs.writeFile(callsFile, '');
  await fs.chmod(callsFile, 0o666);
  // Apart from ROOT (whose entries change with every TARGET made there).
  const userSite = path.join(await tempDir(), 'home', '.local', 'lib', 'python3.11', 'site-packages');
  const python = path.join(home, 'bin', 'python');
  const answer = {
    python: { executable: python, version: '3.11.2', prefix: home, basePrefix: '/usr', sitePackages: [site], path: [site], absent: [userSite] },
    trac: { version: '1.6', package: trac },
    providers: [{ name: 'trac.web.chrome.Chrome', dirs: [['common', path.join(trac, 'htdocs')]] }],
  };
  await fs.outputFile(path.join(home, 'answer.json'), JSON.stringify(answer));
  await fs.outputFile(python, `#!/bin/sh\necho asked >> '${callsFile}'\ncat '${path.join(home, 'answer.json')}'\n`, { mode: 0o755 });
  await fs.outputFile(path.join(home, 'pyvenv.cfg'), 'home = /usr/bin\nversion = 3.11.2\n');
  const calls = async () => ((await fs.pathExists(callsFile)) ? (await fs.readFile(callsFile, 'utf8')).split('\n').filter(Boolean).length : 0);
  return { home, calls, site, trac, userSite };
}

describe('deploy caches the Python answer per user', () => {
  it('htdocs_dirs.py names the import paths that are missing: the user site-packages Python would read', async () => {
    const home = await tempDir();
    const program = `import sys; sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))}); import htdocs_dirs, json; print(json.dumps(htdocs_dirs.absent_import_paths()))`;
    const absent = JSON.parse(execFileSync('/usr/bin/python3', ['-c', program], { env: { PATH: process.env.PATH ?? '', HOME: home, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8' })) as string[];
    expect(absent.some((p) => p.startsWith(path.join(home, '.local', 'lib', 'python3')) && p.endsWith('site-packages'))).toBe(true);
    // Python run without it (-s): not a path it reads.
    const without = JSON.parse(execFileSync('/usr/bin/python3', ['-s', '-c', program], { env: { PATH: process.env.PATH ?? '', HOME: home, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8' })) as string[];
    expect(without.some((p) => p.startsWith(home))).toBe(false);
  });

  it('reuses it for another TARGET and asks again after each change it depends on', async () => {
    const root = await tempDir();
    const env = await copyFixture('trac16-sqlite', root);
    const { home, calls, site, userSite } = await fakePython(root);
    const cache = path.join(root, 'cache');
    const deploy = async (target: string) => {
      const r = await runCli(['deploy', env, path.join(root, target), '--python-home', home, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
      expect(r.code, r.stderr).toBe(0);
      return r;
    };
    await deploy('a');
    expect(await calls()).toBe(1);
    expect(await fs.pathExists(path.join(root, 'a', 'htdocs', 'common', 'css', 'trac.css'))).toBe(true);
    expect((await fs.stat(cache)).mode & 0o777).toBe(0o700);
    await deploy('b');
    expect(await calls()).toBe(1);
    expect(await fs.readFile(path.join(root, 'b', 'htdocs', 'common', 'css', 'trac.css'), 'utf8')).toBe('body {}\n');

    // Each change below must make the next deploy ask again (and the one after it not).
    const changes: [string, () => Promise<void>][] = [
      ['trac.ini', () => fs.appendFile(path.join(env, 'conf', 'trac.ini'), '\n[components]\nfoo.* = enabled\n')],
      ['a plugin added', () => fs.outputFile(path.join(env, 'plugins', 'new_plugin.py'), '# plugin\n')],
      ['site-packages', () => fs.mkdirp(path.join(site, 'NewDist-1.0.dist-info'))],
      ['a user site-packages made since (pip install --user)', () => fs.mkdirp(userSite)],
      ['the interpreter', () => fs.appendFile(path.join(home, 'bin', 'python'), '# upgraded\n')],
      ['an inherited file that did not exist', async () => {
        await fs.appendFile(path.join(env, 'conf', 'trac.ini'), '\n[inherit]\nfile = ../../shared.ini\n');
        await deploy('c');
        await fs.outputFile(path.join(root, 'shared.ini'), '[components]\nbar.* = enabled\n');
      }],
      ['the inherited file', () => fs.appendFile(path.join(root, 'shared.ini'), 'baz.* = enabled\n')],
    ];
    for (const [what, change] of changes) {
      const before = await calls();
      await change();
      const afterChange = await calls();
      await deploy(`after-${what.replace(/\W+/g, '-')}`);
      expect(await calls(), `${what} must invalidate the cached answer`).toBe(afterChange + 1);
      await deploy('again');
      expect(await calls(), `after ${what}, the new answer is cached`).toBe(afterChange + 1);
      expect(afterChange).toBeGreaterThanOrEqual(before);
    }

    // Another Python question (another --python-home or PYTHONPATH) is another key.
    const r = await runCli(['deploy', env, path.join(root, 'd'), '--python-home', home, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: cache, PYTHONPATH: '/nonexistent' } });
    expect(r.code, r.stderr).toBe(0);
    const n = await calls();
    await runCli(['deploy', env, path.join(root, 'e'), '--python-home', home, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
    expect(await calls()).toBe(n);
  });

  it('uses no cache directory that is a symbolic link or open to others, and still deploys', async () => {
    const root = await tempDir();
    const env = await copyFixture('trac16-sqlite', root);
    const { home, calls } = await fakePython(root);
    const real = path.join(root, 'real-cache');
    await fs.mkdirp(real);
    await fs.chmod(real, 0o700);
    const link = path.join(root, 'link-cache');
    await fs.symlink(real, link);
    const open = path.join(root, 'open-cache');
    await fs.mkdirp(open);
    await fs.chmod(open, 0o777);
    for (const cache of [link, open]) {
      for (const target of ['x', 'y']) {
        const r = await runCli(['deploy', env, path.join(root, `${path.basename(cache)}-${target}`), '--python-home', home], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain('the Python answer cache was not used');
      }
    }
    expect(await calls()).toBe(4);
    expect(await fs.readdir(real)).toEqual([]);
    expect(await fs.readdir(open)).toEqual([]);
    expect((await fs.stat(open)).mode & 0o777).toBe(0o777);
  });

  it('says, on a cached run of a MySQL or PostgreSQL environment, that the database server was not asked', async () => {
    const root = await tempDir();
    const env = await copyFixture('trac16-mysql', root);
    const { home, calls } = await fakePython(root);
    const cache = path.join(root, 'cache');
    const note = 'the database server was not asked in this run';
    const first = await runCli(['deploy', env, path.join(root, 'a'), '--python-home', home], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain(note);
    const second = await runCli(['deploy', env, path.join(root, 'b'), '--python-home', home], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
    expect(second.code, second.stderr).toBe(0);
    expect(await calls()).toBe(1);
    expect(second.stderr).toContain(`its mysql database answers and needs no upgrade) is the cached one of an earlier run: ${note}`);
  });
});
