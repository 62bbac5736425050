import { execa } from 'execa';
import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThrowawayServer } from '../../src/apache/throwawayServer.js';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { TRAC_ADMIN, VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * `trac-admin ENV deploy` and `trac-deploy deploy` on the same real environment, with a real
 * single-file plugin in ENV/plugins that ships static files, then the result served through a
 * real Apache from the generated configuration.
 */
const PLUGIN = `
import os
from trac.core import Component, implements
from trac.web.chrome import ITemplateProvider


class HelloHtdocs(Component):
    implements(ITemplateProvider)

    def get_htdocs_dirs(self):
        return [('hellohtdocs', os.path.join(os.path.dirname(__file__), 'hello_htdocs'))]

    def get_templates_dirs(self):
        return []
`;

const SECOND_PLUGIN = PLUGIN.replace(/HelloHtdocs/g, 'SecondHtdocs').replace(/hellohtdocs/g, 'second').replace(/'hello_htdocs'/g, "'second_htdocs'");

let root: string;
let env: string;
let adminTarget: string;
let target: string;
let deployed: { code: number; stdout: string; stderr: string };
let adminRun: { exitCode?: number | undefined };

/** Every regular file below dir, relative, with its content. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string) => {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(r);
      else out.set(r, await fs.readFile(path.join(dir, r)));
    }
  };
  await walk('');
  return out;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-deploy-'));
  await fs.chmod(root, 0o755);
  env = await initEnv(path.join(root, 'env'), 'Deploy Project');
  await fs.writeFile(path.join(env, 'plugins', 'hello_htdocs.py'), PLUGIN);
  await fs.outputFile(path.join(env, 'plugins', 'hello_htdocs', 'hello.css'), 'body { color: #123456; }\n');
  await fs.outputFile(path.join(env, 'plugins', 'hello_htdocs', 'img', 'dot.gif'), Buffer.from('R0lGODlhAQABAAAAACw=', 'base64'));
  await fs.outputFile(path.join(env, 'htdocs', 'site.txt'), 'site file\n');
  adminTarget = path.join(root, 'admin');
  target = path.join(root, 'ours');
  adminRun = await execa(TRAC_ADMIN, [env, 'deploy', adminTarget], { stdin: 'ignore', reject: false });
  // Trac (as Apache) writes in the environment, and deploy as root asks Trac as that user (who
  // must be able to use the database); the deployment stays root's, as an administrator keeps it
  // (deploy, as root, refuses a TARGET another user may change).
  await chownToApache(env);
  deployed = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4']);
});

afterAll(async () => {
  if (root) await fs.remove(root);
});

describe('deploy compared with trac-admin deploy', () => {
  it('writes the same htdocs files with the same content', async () => {
    expect(adminRun.exitCode).toBe(0);
    expect(deployed.stderr).not.toMatch(/error/i);
    expect(deployed.code).toBe(0);
    const theirs = await tree(path.join(adminTarget, 'htdocs'));
    const ours = await tree(path.join(target, 'htdocs'));
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [rel, content] of theirs) expect(ours.get(rel)?.equals(content), rel).toBe(true);
    expect(ours.has('hellohtdocs/hello.css')).toBe(true);
    expect(ours.has('common/css/trac.css')).toBe(true);
    expect(ours.has('site/site.txt')).toBe(true);
    expect(deployed.stdout).toContain('plugins.hello_htdocs.HelloHtdocs'.replace('plugins.', ''));
  });

  it('writes the three scripts, executable, with the environment\'s Python on the #! line', async () => {
    for (const name of ['trac.wsgi', 'trac.cgi', 'trac.fcgi']) {
      expect(await fs.pathExists(path.join(adminTarget, 'cgi-bin', name))).toBe(true);
      const file = path.join(target, 'cgi-bin', name);
      const stat = await fs.stat(file);
      expect(stat.mode & 0o111, name).not.toBe(0);
      const first = (await fs.readFile(file, 'utf8')).split('\n')[0];
      expect(first).toBe(`#!${path.join(VENV, 'bin', 'python')}`);
      await execa(path.join(VENV, 'bin', 'python'), ['-m', 'py_compile', file]);
    }
    // trac.wsgi makes the virtualenv importable itself, which Trac's does not.
    expect(await fs.readFile(path.join(target, 'cgi-bin', 'trac.wsgi'), 'utf8')).toContain('site.addsitedir(_venv_site)');
  });

  it('trac.cgi answers a CGI request with the wiki page', async () => {
    const result = await execa(path.join(target, 'cgi-bin', 'trac.cgi'), [], {
      stdin: 'ignore',
      reject: false,
      env: { REQUEST_METHOD: 'GET', PATH_INFO: '/wiki', SCRIPT_NAME: '/trac', SERVER_NAME: 'localhost', SERVER_PORT: '80', QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.0' },
      extendEnv: false,
    });
    expect(result.stdout).toMatch(/^Status: 200/m);
    expect(result.stdout).toContain('Deploy Project');
  });

  it('trac.fcgi imports Trac\'s FastCGI frontend under its own Python', async () => {
    const script = path.join(target, 'cgi-bin', 'trac.fcgi');
    const check = `import runpy, sys; g = runpy.run_path(${JSON.stringify(script)}, run_name='not_main'); import trac.web.fcgi_frontend; print('ok', callable(g['main']))`;
    const result = await execa(path.join(VENV, 'bin', 'python'), ['-c', check], { stdin: 'ignore', extendEnv: false });
    expect(result.stdout).toBe('ok True');
  });

  it('Apache serves /chrome itself, and Trac the rest, through the generated configuration', async () => {
    const conf = path.join(target, 'env.conf');
    const text = await fs.readFile(conf, 'utf8');
    expect(text.indexOf('Alias "/trac/chrome/hellohtdocs"')).toBeGreaterThan(-1);
    expect(text.indexOf('Alias "/trac/chrome/common"')).toBeLessThan(text.indexOf('WSGIScriptAlias'));
    const server = await ThrowawayServer.start({ includes: [conf] });
    try {
      for (const [url, file] of [
        ['/trac/chrome/common/css/trac.css', 'htdocs/common/css/trac.css'],
        ['/trac/chrome/hellohtdocs/hello.css', 'htdocs/hellohtdocs/hello.css'],
        ['/trac/chrome/site/site.txt', 'htdocs/site/site.txt'],
      ] as const) {
        const response = await fetch(server.url(url));
        const body = Buffer.from(await response.arrayBuffer());
        expect(response.status, url).toBe(200);
        expect(body.equals(await fs.readFile(path.join(target, file))), url).toBe(true);
        // mod_expires adds these; Trac's send_file never sends Expires or a max-age.
        expect(response.headers.get('expires'), url).toBeTruthy();
        expect(response.headers.get('cache-control'), url).toBe('max-age=86400');
        expect(response.headers.get('accept-ranges'), url).toBe('bytes');
      }
      const wiki = await fetch(server.url('/trac/wiki'));
      const html = await wiki.text();
      expect(wiki.status, await server.errorLog()).toBe(200);
      expect(html).toContain('Deploy Project');
      expect(wiki.headers.get('cache-control')).not.toBe('max-age=86400');
    } finally {
      await server.stop();
    }
  });
});

describe('deploy re-run', () => {
  it('is a no-op when nothing changed, and --check agrees', async () => {
    const again = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/added 0, replaced 0, unchanged \d+, removed 0/);
    const check = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4', '--check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('after a plugin is added, adds its files and leaves unrelated files alone', async () => {
    await fs.writeFile(path.join(env, 'plugins', 'second_htdocs.py'), SECOND_PLUGIN);
    await fs.outputFile(path.join(env, 'plugins', 'second_htdocs', 'second.js'), '// second\n');
    const mine = path.join(target, 'htdocs', 'mine.txt');
    await fs.writeFile(mine, 'not trac-deploy\'s\n');
    const drift = await runCli(['deploy', env, target, '--python-home', VENV, '--check']);
    expect(drift.code, drift.stderr).toBe(1);
    expect(drift.stdout, drift.stderr).toContain(path.join(target, 'htdocs', 'second', 'second.js'));
    const result = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { htdocs: Record<string, number>; files: { path: string; status: string; kind: string }[] };
    expect(json.htdocs).toMatchObject({ added: 1, replaced: 0, removed: 0 });
    expect(json.files.find((f) => f.path.endsWith('second/second.js'))?.status).toBe('added');
    expect(json.files.filter((f) => f.kind === 'apache').map((f) => f.status)).toEqual(['changed']);
    expect(await fs.readFile(mine, 'utf8')).toBe('not trac-deploy\'s\n');
    expect(await fs.readFile(path.join(target, 'env.conf'), 'utf8')).toContain('Alias "/trac/chrome/second"');
  });

  it('refuses to replace a static file it did not write, without --force, and names it', async () => {
    const css = path.join(target, 'htdocs', 'common', 'css', 'trac.css');
    await fs.writeFile(css, '/* edited by hand */\n');
    const refused = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4']);
    expect(refused.code).toBe(2);
    expectCleanError(refused);
    expect(refused.stderr).toContain(css);
    expect(await fs.readFile(css, 'utf8')).toBe('/* edited by hand */\n');
    const forced = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`replaced: ${css}`);
    expect((await fs.readFile(css)).equals(await fs.readFile(path.join(adminTarget, 'htdocs', 'common', 'css', 'trac.css')))).toBe(true);
  });

  it('removes the files of a plugin that was taken away', async () => {
    await fs.remove(path.join(env, 'plugins', 'second_htdocs.py'));
    const result = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`removed: ${path.join(target, 'htdocs', 'second', 'second.js')}`);
    expect(await fs.pathExists(path.join(target, 'htdocs', 'second', 'second.js'))).toBe(false);
  });
});

describe('deploy never publishes through a link, never widens a file', () => {
  it('removes the temporary files an interrupted deploy left in TARGET, and only those', async () => {
    const leftovers = [
      path.join(target, 'htdocs', 'common', 'css', '.trac.css.0a1b2c3d4e5f.tmp'),
      path.join(target, '.trac-deploy-manifest.json.00000000beef.tmp'),
      path.join(target, 'cgi-bin', `.trac.wsgi.4242.${Date.now()}.abc12.tmp`),
    ];
    for (const file of leftovers) await fs.outputFile(file, 'half');
    const lookAlike = path.join(target, 'htdocs', 'common', 'css', '.trac.css.swp.tmp');
    await fs.outputFile(lookAlike, 'an editor\'s');
    const result = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4']);
    expect(result.code, result.stderr).toBe(0);
    for (const file of leftovers) expect(await fs.pathExists(file), file).toBe(false);
    expect(result.stderr).toContain(`removed 3 temporary files an interrupted deploy left in ${target}`);
    expect(await fs.readFile(lookAlike, 'utf8')).toBe('an editor\'s');
    await fs.remove(lookAlike);
  });

  it('a link in ENV/htdocs to a root-only file is not copied and not served; a 0600 file of root\'s is not published (as root: Apache may not read it), and stays 0600 otherwise', async () => {
    const secret = path.join(root, 'root-only.txt');
    await fs.writeFile(secret, 'SECRET-7f3a\n', { mode: 0o600 });
    await fs.chown(secret, 0, 0);
    const link = path.join(env, 'htdocs', 'leak.txt');
    await fs.symlink(secret, link);
    await fs.symlink(path.dirname(secret), path.join(env, 'htdocs', 'leakdir'));
    const kept = path.join(env, 'htdocs', 'kept-private.txt');
    await fs.writeFile(kept, 'PRIVATE-9c1e\n', { mode: 0o600 });
    await fs.chown(kept, 0, 0);
    try {
      const result = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`${link} is not a regular file`);
      expect(await fs.pathExists(path.join(target, 'htdocs', 'site', 'leak.txt'))).toBe(false);
      expect(await fs.pathExists(path.join(target, 'htdocs', 'site', 'leakdir'))).toBe(false);
      const asRoot = process.geteuid?.() === 0;
      if (asRoot) {
        // Deploy as root publishes only what the web server's user may read: one warning for the directory.
        expect(await fs.pathExists(path.join(target, 'htdocs', 'site', 'kept-private.txt'))).toBe(false);
        expect(result.stderr).toContain(`${path.join(env, 'htdocs')}: kept-private.txt may not be read by www-data`);
      } else {
        const copied = await fs.stat(path.join(target, 'htdocs', 'site', 'kept-private.txt'));
        expect(copied.mode & 0o777).toBe(0o600);
      }
      const server = await ThrowawayServer.start({ includes: [path.join(target, 'env.conf')] });
      try {
        const leak = await fetch(server.url('/trac/chrome/site/leak.txt'));
        const leakBody = await leak.text();
        expect(leak.status).toBe(404);
        expect(leakBody).not.toContain('SECRET-7f3a');
        const inDir = await fetch(server.url(`/trac/chrome/site/leakdir/${path.basename(secret)}`));
        expect(inDir.status).toBe(404);
        expect(await inDir.text()).not.toContain('SECRET-7f3a');
        const priv = await fetch(server.url('/trac/chrome/site/kept-private.txt'));
        expect(priv.status).toBe(asRoot ? 404 : 403);
        expect(await priv.text()).not.toContain('PRIVATE-9c1e');
        const site = await fetch(server.url('/trac/chrome/site/site.txt'));
        expect(site.status).toBe(200);
      } finally {
        await server.stop();
      }
    } finally {
      await fs.rm(link, { force: true });
      await fs.rm(path.join(env, 'htdocs', 'leakdir'), { force: true });
      await fs.rm(kept, { force: true });
    }
  });
});

describe.skipIf(process.geteuid?.() !== 0)('deploy as root: links another user made are not followed', () => {
  it('ENV/htdocs a link (Apache\'s) to a root-only directory: site not copied, a warning names the link', async () => {
    const site = path.join(env, 'htdocs');
    const moved = path.join(root, 'site-moved');
    const secretDir = path.join(root, 'root-only-site');
    await fs.move(site, moved);
    await fs.ensureDir(secretDir);
    await fs.chmod(secretDir, 0o700);
    await fs.writeFile(path.join(secretDir, 'server.key'), 'KEY-5e2d\n', { mode: 0o600 });
    await fs.symlink(secretDir, site);
    await fs.lchown(site, 33, 33);
    // An empty answer cache of its own: Python is asked, and names the site directory by its
    // real path (the earlier tests' cached answer names ENV/htdocs; both must be refused).
    const cache = path.join(root, 'cache-site-link');
    await fs.mkdir(cache, { mode: 0o700 });
    try {
      const result = await runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4'], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`${site} is a symbolic link (not root's) to ${secretDir}`);
      expect(await fs.pathExists(path.join(target, 'htdocs', 'site', 'server.key'))).toBe(false);
    } finally {
      await fs.remove(site);
      await fs.move(moved, site);
      await fs.remove(secretDir);
    }
  });

  it('TARGET/htdocs a link (Apache\'s) out of TARGET: exit 2, one line naming it, nothing written there', async () => {
    const elsewhere = path.join(root, 'htdocs-elsewhere');
    const other = path.join(root, 'ours-linked');
    await fs.ensureDir(other);
    await fs.ensureDir(elsewhere);
    await fs.symlink(elsewhere, path.join(other, 'htdocs'));
    await fs.lchown(path.join(other, 'htdocs'), 33, 33);
    const result = await runCli(['deploy', env, other, '--python-home', VENV, '--processes', '1', '--threads', '4']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`${path.join(other, 'htdocs')} is a symbolic link (owned by uid 33, not root)`);
    expect(await fs.readdir(elsewhere)).toEqual([]);
  });
});

describe('deploy refuses what trac-admin refuses, and a Python without Trac', () => {
  it('refuses a target at or below a source directory, as trac-admin does', async () => {
    const below = path.join(env, 'htdocs', 'deploy');
    const theirs = await execa(TRAC_ADMIN, [env, 'deploy', below], { stdin: 'ignore', reject: false });
    expect(theirs.exitCode).toBe(2);
    const ours = await runCli(['deploy', env, below, '--python-home', VENV]);
    expect(ours.code).toBe(2);
    expectCleanError(ours);
    expect(ours.stderr).toContain(path.join(env, 'htdocs'));
    expect(await fs.pathExists(path.join(below, 'cgi-bin'))).toBe(false);
    await fs.remove(below);
  });

  it('exits 2 with one clear line when the Python cannot import Trac', async () => {
    const fakeVenv = path.join(root, 'no-trac-venv');
    await fs.mkdirp(path.join(fakeVenv, 'bin'));
    await fs.symlink('/usr/bin/python3', path.join(fakeVenv, 'bin', 'python'));
    const result = await runCli(['deploy', env, path.join(root, 'never'), '--python-home', fakeVenv]);
    expect(result.code, result.stderr).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain(`${path.join(fakeVenv, 'bin', 'python')} (from --python-home) cannot import Trac`);
    expect(await fs.pathExists(path.join(root, 'never'))).toBe(false);
  });
});

describe('generate --htdocs for a directory of environments', () => {
  it('serves <prefix>/<env>/chrome/<key> from the deployed htdocs through AliasMatch, odd path characters and all', async () => {
    const parent = path.join(root, 'parent');
    await fs.mkdirp(parent);
    await initEnv(path.join(parent, 'alpha'), 'Alpha Project');
    const odd = path.join(root, 'odd & $1 dir', 'htdocs');
    await fs.copy(path.join(target, 'htdocs'), odd);
    await chownToApache(root);
    const out = path.join(root, 'parent-out');
    const result = await runCli(['generate', parent, '--out', out, '--htdocs', odd, '--python-home', VENV, '--url-prefix', '/projects', '--processes', '1', '--threads', '2']);
    expect(result.code, result.stderr).toBe(0);
    const conf = path.join(out, 'parent.conf');
    expect(await fs.readFile(conf, 'utf8')).toContain('AliasMatch "^/projects/[^/]+/chrome/common(/.*)?$"');
    const server = await ThrowawayServer.start({ includes: [conf] });
    try {
      const css = await fetch(server.url('/projects/alpha/chrome/common/css/trac.css'));
      expect(css.status, await server.errorLog()).toBe(200);
      expect(Buffer.from(await css.arrayBuffer()).equals(await fs.readFile(path.join(odd, 'common', 'css', 'trac.css')))).toBe(true);
      expect(css.headers.get('expires')).toBeTruthy();
      const plugin = await fetch(server.url('/projects/alpha/chrome/hellohtdocs/hello.css'));
      expect(plugin.status).toBe(200);
      const wiki = await fetch(server.url('/projects/alpha/wiki'));
      expect(wiki.status, await server.errorLog()).toBe(200);
      expect(await wiki.text()).toContain('Alpha Project');
    } finally {
      await server.stop();
    }
  });
});
