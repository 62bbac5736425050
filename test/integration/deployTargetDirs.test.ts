import { execa } from 'execa';
import fs from 'fs-extra';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * deploy as root into a TARGET where the web server's user owns something (review 7, M1, M2,
 * L3), with real deploys of a real environment: a directory below htdocs or at cgi-bin that
 * another user may change is refused (exit 2, nothing written) unless --force; --check reports
 * what it could not compare as skipped, never its content, and a FIFO does not hang it; a temp
 * file of a deploy still running is not swept.
 */
const W = ['--reuid=www-data', '--regid=www-data', '--init-groups'];
let root: string;
let env: string;
let cache: string;

const deploy = (target: string, ...more: string[]) =>
  runCli(['deploy', env, target, '--python-home', VENV, '--processes', '1', '--threads', '4', ...more], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });

async function deployed(name: string): Promise<string> {
  const target = path.join(root, name);
  const first = await deploy(target);
  expect(first.code, first.stderr).toBe(0);
  return target;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-target-dirs-'));
  await fs.chmod(root, 0o755);
  cache = path.join(root, 'cache');
  await fs.mkdir(cache, { mode: 0o700 });
  env = await initEnv(path.join(root, 'env'), 'Target Dirs');
  await fs.outputFile(path.join(env, 'htdocs', 'site.txt'), 'site file\n');
  await chownToApache(env);
}, 120_000);

afterAll(async () => {
  if (root) await fs.remove(root);
});

describe.skipIf(process.geteuid?.() !== 0)('deploy as root: directories in TARGET another user may change', () => {
  it('a www-data directory below htdocs: exit 2 naming it, nothing written; --force proceeds', async () => {
    const target = await deployed('below');
    const css = path.join(target, 'htdocs', 'common', 'css');
    await fs.chown(css, 33, 33);
    const manifest = await fs.readFile(path.join(target, '.trac-deploy-manifest.json'));
    await fs.outputFile(path.join(env, 'htdocs', 'added.txt'), 'added\n');
    try {
      const refused = await deploy(target);
      expect(refused.code, refused.stderr).toBe(2);
      expectCleanError(refused);
      expect(refused.stderr.split('\n')[0]).toContain(`${css} is owned by uid 33, not root`);
      expect(refused.stderr).toContain('--force');
      expect(await fs.pathExists(path.join(target, 'htdocs', 'site', 'added.txt'))).toBe(false);
      expect(await fs.readFile(path.join(target, '.trac-deploy-manifest.json'))).toEqual(manifest);
      const forced = await deploy(target, '--force');
      expect(forced.code, forced.stderr).toBe(0);
      expect(await fs.readFile(path.join(target, 'htdocs', 'site', 'added.txt'), 'utf8')).toBe('added\n');
    } finally {
      await fs.remove(path.join(env, 'htdocs', 'added.txt'));
    }
  }, 120_000);

  it('a sticky 1777 htdocs (root\'s) where www-data made common: refused, nothing written into common', async () => {
    const target = path.join(root, 'sticky');
    const htdocs = path.join(target, 'htdocs');
    await fs.mkdirp(htdocs);
    await fs.chmod(htdocs, 0o1777);
    await execa('setpriv', [...W, 'mkdir', path.join(htdocs, 'common')]);
    const refused = await deploy(target);
    expect(refused.code, refused.stderr).toBe(2);
    expectCleanError(refused);
    expect(refused.stderr.split('\n')[0]).toContain(`${path.join(htdocs, 'common')} is owned by uid 33, not root`);
    expect(await fs.readdir(path.join(htdocs, 'common'))).toEqual([]);
    expect(await fs.pathExists(path.join(target, 'cgi-bin'))).toBe(false);
  }, 120_000);

  it('--check with a www-data cgi-bin whose trac.wsgi links to a root-only file and trac.cgi is a FIFO: skipped, not printed, no hang', async () => {
    const target = await deployed('check');
    const cgi = path.join(target, 'cgi-bin');
    const secretDir = path.join(root, 'rootonly');
    await fs.mkdirp(secretDir);
    await fs.chmod(secretDir, 0o700);
    await fs.writeFile(path.join(secretDir, 'secret'), 'FAKE-PASSWORD-7c1\n', { mode: 0o600 });
    await fs.chown(cgi, 33, 33);
    await execa('setpriv', [...W, 'sh', '-c', `cd '${cgi}' && rm trac.wsgi trac.cgi && ln -s '${secretDir}/secret' trac.wsgi && mkfifo trac.cgi`]);
    for (const flag of ['--check', '--dry-run']) {
      const checked = await Promise.race([
        deploy(target, flag),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`deploy ${flag} hung`)), 90_000)),
      ]);
      expect(checked.stdout + checked.stderr).not.toContain('FAKE-PASSWORD');
      expect(checked.stdout).toContain(`${path.join(cgi, 'trac.wsgi')} (not compared: ${cgi} is owned by uid 33`);
      if (flag === '--check') {
        expect(checked.code, checked.stderr).toBe(1);
        expect(checked.stdout).not.toContain('up to date');
        expect(checked.stderr).toContain('not compared');
        const json = JSON.parse((await deploy(target, flag, '--json')).stdout) as { files: { path: string; status: string; reason?: string }[] };
        expect(json.files.find((f) => f.path === path.join(cgi, 'trac.cgi'))).toMatchObject({ status: 'skipped' });
      } else {
        expect(checked.code, checked.stderr).toBe(0);
      }
    }
    // The write itself is refused (M1), the link left as it was.
    const refused = await deploy(target);
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[0]).toContain(`${cgi} is owned by uid 33, not root`);
    expect((await fs.lstat(path.join(cgi, 'trac.wsgi'))).isSymbolicLink()).toBe(true);
  }, 240_000);

  it('a temp file of a deploy still running is not swept; a dead one\'s is', async () => {
    const target = await deployed('temps');
    const css = path.join(target, 'htdocs', 'common', 'css');
    const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const live = path.join(css, `.trac.css.${sleeper.pid}.${Date.now()}.k3x9a1.tmp`);
      const dead = path.join(css, `.trac.css.4194305.${Date.now()}.k3x9a1.tmp`);
      await fs.writeFile(live, 'in flight');
      await fs.writeFile(dead, 'half');
      const again = await deploy(target);
      expect(again.code, again.stderr).toBe(0);
      expect(await fs.readFile(live, 'utf8')).toBe('in flight');
      expect(await fs.pathExists(dead)).toBe(false);
    } finally {
      sleeper.kill('SIGKILL');
    }
  }, 120_000);
});
