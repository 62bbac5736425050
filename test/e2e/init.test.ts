import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { chownToApache, copyFixture, initEnv } from '../helpers/tracEnv.js';

async function readTree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort()) files[name] = await fs.readFile(path.join(dir, name), 'utf8');
  return files;
}

describe('trac-deploy init (no terminal)', () => {
  const cases: [string, string, string[]][] = [
    ['an environment, defaults', 'trac16-sqlite', []],
    ['an environment, every flag', 'trac16-sqlite', ['--url-prefix', '/p/x', '--name', 'xy', '--mode', 'embedded', '--python-home', VENV, '--strip-domain', '--processes', '3', '--apache-syntax', 'both']],
    ['PostgreSQL, pooling', 'trac14-postgres', ['--pool', 'keep', '--python-home', VENV]],
    ['a parent directory', 'parent', ['--url-prefix', '/', '--python-home', VENV]],
  ];
  for (const [title, fixture, flags] of cases) {
    it(`init --yes and generate write identical files: ${title}`, async () => {
      const dir = await tempDir();
      const env = await copyFixture(fixture, dir);
      const viaInit = path.join(dir, 'init-out');
      const viaGenerate = path.join(dir, 'generate-out');
      // init detects a Python home when none is given; generate does not: name it for both.
      const python = flags.includes('--python-home') ? [] : ['--python-home', VENV];
      const init = await runCli(['init', env, '--out', viaInit, '--yes', '--no-smoke', ...python, ...flags]);
      expect(init.code, init.stderr).toBe(0);
      const generate = await runCli(['generate', env, '--out', viaGenerate, ...python, ...flags]);
      expect(generate.code, generate.stderr).toBe(0);
      const a = await readTree(viaInit);
      const b = await readTree(viaGenerate);
      expect(Object.keys(a).length).toBeGreaterThanOrEqual(2);
      expect(Object.keys(a)).toEqual(Object.keys(b));
      for (const name of Object.keys(a)) expect(a[name]?.replaceAll(viaInit, 'OUT')).toBe(b[name]?.replaceAll(viaGenerate, 'OUT'));
      // And generate --check agrees that init's directory is what generate would write.
      const check = await runCli(['generate', env, '--out', viaInit, '--check', ...python, ...flags]);
      expect(check.code, check.stdout).toBe(0);
    });
  }

  it('without a terminal and without --yes: exit 2, names the flags it needs, writes nothing', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const result = await runCli(['init', env, '--mode', 'daemon']);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain('--url-prefix --name --python-home --auth --strip-domain --out --yes');
    expect(await fs.pathExists(`${env}-deploy`)).toBe(false);
  });

  it('--yes takes the detected defaults: the virtualenv beside the environment', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    await fs.symlink(VENV, path.join(dir, 'venv'));
    const out = path.join(dir, 'out');
    const result = await runCli(['init', env, '--yes', '--no-smoke', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const conf = await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8');
    expect(conf).toContain(`python-home="${path.join(dir, 'venv')}"`);
    expect(result.stdout).toContain(`next: trac-deploy smoke ${out}`);
  });

  it.runIf(/^\/(opt|srv|usr\/local)\//.test(VENV))('--yes finds a virtualenv where administrators put them (here the one setup.sh made), and smoke-tests by default', async () => {
    const dir = await tempDir();
    const env = await initEnv(path.join(dir, 'found'), 'Found Project');
    await chownToApache(env);
    const out = path.join(dir, 'out');
    const result = await runCli(['init', env, '--yes', '--out', out]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await fs.readFile(path.join(out, 'found.conf'), 'utf8')).toContain(`python-home="${VENV}"`);
    // The smoke test ran (the default) and passed on the project's title.
    expect(result.stdout).toMatch(/smoke: /);
    expect(result.stdout).not.toContain('next: trac-deploy smoke');
  });

  it('--yes with a password file that does not exist: exit 2 naming it, before writing anything', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    const missing = path.join(dir, 'users.htpasswd');
    const result = await runCli(['init', env, '--yes', '--out', out, '--python-home', VENV, '--auth', 'basic', '--auth-user-file', missing]);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain(`--auth-user-file ${missing}: no such file`);
    expect(await fs.pathExists(out)).toBe(false);
  });

  it('--help lists the wizard flags and every generate flag', async () => {
    const result = await runCli(['init', '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--yes', '--interactive', '--smoke', '--out', '--url-prefix', '--python-home', '--mode', '--pool', '--strip-domain']) {
      expect(result.stdout).toContain(flag);
    }
  });
});
