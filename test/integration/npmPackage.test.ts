import { execa } from 'execa';
import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * The package as users get it: `npm pack`, then `npm install -g <tarball>` into an empty
 * prefix and `npx <tarball>`, run from a directory outside the source tree. Slow (npm builds
 * better-sqlite3), so one file, one pack, one install.
 */
const NPM_TIMEOUT = 12 * 60_000;

describe('the npm package', () => {
  let work: string;
  let tarball: string;
  let packed: string[];
  let bin: string;
  let npxHelp: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-pack-'));
    await fs.chmod(work, 0o755);
    const pack = await execa('npm', ['pack', '--pack-destination', work, '--json'], { cwd: ROOT, stdin: 'ignore' });
    const info = (JSON.parse(String(pack.stdout)) as { filename: string; files: { path: string }[] }[])[0];
    if (!info) throw new Error(`npm pack printed no result: ${String(pack.stdout)}`);
    tarball = path.join(work, info.filename);
    packed = info.files.map((f) => f.path);
    const prefix = path.join(work, 'prefix');
    const npm = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
    // Only the package registries are reachable: compile better-sqlite3 rather than wait for
    // prebuild-install's download of a prebuilt binary to fail.
    const buildEnv = { npm_config_build_from_source: 'true' };
    const [, npx] = await Promise.all([
      execa('npm', ['install', '-g', tarball, '--prefix', prefix, ...npm], { cwd: work, stdin: 'ignore', env: buildEnv }),
      // npx gets a cache of its own, so no installed copy is left in the user's ~/.npm/_npx.
      execa('npx', ['--yes', ...npm, `./${info.filename}`, '--help'], {
        cwd: work,
        stdin: 'ignore',
        reject: false,
        env: { ...buildEnv, npm_config_cache: path.join(work, 'npx-cache') },
      }),
    ]);
    npxHelp = { code: npx.exitCode ?? -1, stdout: String(npx.stdout), stderr: String(npx.stderr) };
    bin = path.join(prefix, 'bin', 'trac-deploy');
  }, NPM_TIMEOUT);

  afterAll(async () => {
    if (work) await fs.remove(work);
  });

  /** The installed command, from a directory outside the repository. */
  async function installed(args: string[], cwd = work) {
    const result = await execa(bin, args, { cwd, reject: false, stdin: 'ignore', env: { NO_COLOR: '1' } });
    return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  it('packs every runtime file and nothing of the source tree', () => {
    for (const file of ['bin/trac-deploy.js', 'dist/cli.js', 'dist/commands/init.js', 'dist/commands/ci.js', 'package.json', 'README.md']) {
      expect(packed).toContain(file);
    }
    const templates = fs.readdirSync(path.join(ROOT, 'templates'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    for (const t of templates) expect(packed).toContain(path.relative(ROOT, path.join(t.parentPath, t.name)));
    expect(packed.filter((f) => /^(src|test|fixtures|scripts)\//.test(f))).toEqual([]);
  });

  it('installs into an empty prefix as a copy, and runs --help there', async () => {
    const real = await fs.realpath(bin);
    expect(real.startsWith(path.join(work, 'prefix'))).toBe(true);
    expect(real.startsWith(ROOT)).toBe(false);
    const help = await installed(['--help']);
    expect(help.code, help.stderr).toBe(0);
    for (const command of ['inspect', 'generate', 'init', 'ci']) expect(help.stdout).toContain(`trac-deploy ${command}`);
  });

  it('npx <tarball> --help', () => {
    expect(npxHelp.code, npxHelp.stderr).toBe(0);
    expect(npxHelp.stdout).toContain('trac-deploy generate');
  });

  it('generate, init --yes and ci work from the installed package on a real environment', async () => {
    const env = await initEnv(path.join(work, 'env'), 'Packaged');
    // generate asks Trac as the Apache user (the preflight): the environment must be theirs.
    await chownToApache(env);
    const out = path.join(work, 'deploy');
    const generate = await installed(['generate', env, '--out', out, '--python-home', VENV]);
    expect(generate.code, generate.stderr).toBe(0);
    expect(await fs.readFile(path.join(out, 'env.conf'), 'utf8')).toContain(`python-home="${VENV}"`);
    const check = await installed(['generate', env, '--out', out, '--python-home', VENV, '--check']);
    expect(check.code, check.stdout).toBe(0);
    const init = await installed(['init', env, '--yes', '--no-smoke', '--out', path.join(work, 'init-out'), '--python-home', VENV]);
    expect(init.code, init.stderr).toBe(0);
    const ci = await installed(['ci', env, '--provider', 'github', '--deploy-dir', out, '--python-home', VENV]);
    expect(ci.code, ci.stderr).toBe(0);
    expect(parse(ci.stdout)).toHaveProperty('jobs.trac-deploy.steps');
  });

  it('smoke from the installed package serves the generated site', async () => {
    const help = await installed(['--help']);
    expect(help.stdout).toContain('trac-deploy smoke');
    const env = await initEnv(path.join(work, 'smoke-env'), 'Packaged Smoke');
    await chownToApache(env);
    const out = path.join(work, 'smoke-deploy');
    expect((await installed(['generate', env, '--out', out, '--python-home', VENV])).code).toBe(0);
    const smoke = await installed(['smoke', out]);
    expect(smoke.code, smoke.stdout + smoke.stderr).toBe(0);
  });
});
