import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { CLI, VENV } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { chownToApache, copyFixture } from '../helpers/tracEnv.js';

interface GithubWorkflow {
  on: Record<string, unknown>;
  jobs: Record<string, { 'runs-on': string; container: string; steps: { name?: string; uses?: string; run?: string }[] }>;
}
interface GitlabPipeline {
  [job: string]: { image: string; script: string[] };
}

/** Every shell line of a parsed workflow, in order. */
function runLines(provider: 'github' | 'gitlab', doc: unknown): string[] {
  const blocks =
    provider === 'github'
      ? Object.values((doc as GithubWorkflow).jobs).flatMap((job) => job.steps.map((s) => s.run ?? ''))
      : Object.values(doc as GitlabPipeline).flatMap((job) => job.script);
  return blocks.flatMap((b) => b.split('\n')).filter((l) => l.trim() !== '');
}

/** A directory with a `trac-deploy` on it that runs the built CLI, as `npm install -g` would. */
async function shimBin(dir: string): Promise<string> {
  const bin = path.join(dir, 'bin');
  await fs.mkdirp(bin);
  await fs.writeFile(path.join(bin, 'trac-deploy'), `#!/bin/sh\nexec node '${CLI}' "$@"\n`, { mode: 0o755 });
  return bin;
}

async function sh(line: string, bin: string, cwd: string) {
  const result = await execa('sh', ['-c', line], { reject: false, cwd, stdin: 'ignore', env: { PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' } });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('trac-deploy ci', () => {
  for (const provider of ['github', 'gitlab'] as const) {
    it(`${provider}: valid YAML with the expected job and steps, and trac-deploy lines that run`, async () => {
      const dir = await tempDir();
      const env = await copyFixture('trac16-sqlite', dir);
      const deployDir = path.join(dir, 'srv deploy');
      const repo = path.join(dir, 'repo');
      const flags = ['--url-prefix', '/proj', '--python-home', VENV, '--strip-domain', '--site-dir', dir];
      const file = path.join(repo, provider === 'github' ? '.github/workflows/trac-deploy.yml' : '.gitlab-ci.yml');
      const ci = await runCli(['ci', env, '--provider', provider, '--out', file, '--deploy-dir', deployDir, '--package', 'git+https://example.invalid/trac-deploy.git', ...flags]);
      expect(ci.code, ci.stderr).toBe(0);
      const doc = parse(await fs.readFile(file, 'utf8')) as unknown;

      if (provider === 'github') {
        const wf = doc as GithubWorkflow;
        expect(Object.keys(wf.on)).toEqual(['push', 'pull_request']);
        const job = wf.jobs['trac-deploy'];
        expect(job?.container).toMatch(/bookworm/);
        expect(job?.steps[0]?.uses).toMatch(/^actions\/checkout@/);
        expect(job?.steps.map((s) => s.name).filter(Boolean)).toEqual([
          'Install Apache, mod_wsgi and Trac 1.6',
          'Install trac-deploy',
          'Stand-in Trac environments at the deployed paths',
          "Stand-in directories the flags name (--site-dir, --htdocs with the runner Trac's static files)",
          'Put the committed configuration where it is deployed',
          'No drift between the committed configuration and trac-deploy generate',
          'Smoke test through a real Apache',
        ]);
      } else {
        const job = (doc as GitlabPipeline)['trac-deploy'];
        expect(job?.image).toMatch(/bookworm/);
        expect(job?.script).toHaveLength(7);
      }
      const lines = runLines(provider, doc);
      expect(lines.some((l) => /apt-get install .*apache2 libapache2-mod-wsgi-py3/.test(l))).toBe(true);
      expect(lines).toContain(`${VENV}/bin/pip install -q 'Trac==1.6.*' 'setuptools<82'`);

      // The trac-deploy lines, run as the workflow would run them.
      const tdLines = lines.filter((l) => l.startsWith('trac-deploy '));
      expect(tdLines.map((l) => l.split(' ')[1])).toEqual(['generate', 'smoke']);
      const [checkLine, smokeLine] = tdLines as [string, string];
      expect(checkLine).toContain("--url-prefix /proj");
      expect(checkLine).toContain(`'${deployDir}'`);
      const bin = await shimBin(dir);

      // The generate line with --dry-run instead of --check: every flag exists and is accepted.
      const dry = await sh(checkLine.replace(/ --check$/, ' --dry-run'), bin, repo);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`would write (new): ${path.join(deployDir, 'trac16-sqlite.conf')}`);
      // Before the configuration is there: drift, exit 1.
      expect((await sh(checkLine, bin, repo)).code).toBe(1);
      // Commit a configuration made with the same flags, copy it as the workflow does: no drift.
      expect((await runCli(['generate', env, '--out', deployDir, ...flags])).code).toBe(0);
      const check = await sh(checkLine, bin, repo);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      // A hand edit in the deployed copy is drift: exit 1 with a diff.
      await fs.appendFile(path.join(deployDir, 'trac16-sqlite.conf'), '# edited\n');
      const drift = await sh(checkLine, bin, repo);
      expect(drift.code).toBe(1);
      expect(drift.stdout).toMatch(/^-# edited$/m);

      // The smoke line names only what the smoke command accepts (checked by parsing its help).
      expect(smokeLine).toBe(`trac-deploy smoke '${deployDir}'`);
      const help = await sh(`${smokeLine} --help`, bin, repo);
      expect(help.code, help.stderr).toBe(0);
    });
  }

  it('refuses values generate would refuse, and a --config-dir outside the repository', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const bad = await runCli(['ci', env, '--provider', 'github', '--url-prefix', 'no slash']);
    expect(bad.code).toBe(2);
    expectCleanError(bad);
    const outside = await runCli(['ci', env, '--provider', 'gitlab', '--config-dir', '../x']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('--config-dir');
    const provider = await runCli(['ci', env, '--provider', 'jenkins']);
    expect(provider.code).toBe(2);
    expectCleanError(provider);
  });

  it('prints to stdout without --out, and refuses to replace a changed file without --force', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const printed = await runCli(['ci', env, '--provider', 'gitlab'], { cwd: dir });
    expect(printed.code).toBe(0);
    expect(parse(printed.stdout)).toHaveProperty('trac-deploy.script');
    // Another repository, with a pipeline of its own: refused before anything is packed into it.
    const repo = await tempDir();
    const file = path.join(repo, '.gitlab-ci.yml');
    await fs.writeFile(file, 'stages: [mine]\n');
    const refused = await runCli(['ci', env, '--provider', 'gitlab', '--out', file], { cwd: repo });
    expect(refused.code).toBe(2);
    expect(await fs.readFile(file, 'utf8')).toBe('stages: [mine]\n');
    expect(await fs.readdir(repo)).toEqual(['.gitlab-ci.yml']);
    expect((await runCli(['ci', env, '--provider', 'gitlab', '--out', file, '--force'], { cwd: repo })).code).toBe(0);
    expect((await fs.readFile(file, 'utf8')).trimEnd()).toBe(printed.stdout.trimEnd());
  });
});

describe('ci without a PATH, as shared/CLI.md writes it', () => {
  it('a TLS site: the runner gets a throwaway certificate at the deployed paths, and the drift check passes with it', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    // The server's certificate in certbot's layout (live/ links into archive/), the key root's only.
    const archive = path.join(dir, 'letsencrypt', 'archive', 'trac.example.org');
    const live = path.join(dir, 'letsencrypt', 'live', 'trac.example.org');
    await fs.mkdirp(archive, { mode: 0o700 });
    await fs.mkdirp(live);
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=trac.example.org', '-addext', 'subjectAltName=DNS:trac.example.org', '-keyout', path.join(archive, 'privkey1.pem'), '-out', path.join(archive, 'fullchain1.pem')]);
    await fs.chmod(path.join(archive, 'privkey1.pem'), 0o600);
    for (const f of ['fullchain', 'privkey']) await fs.symlink(`../../archive/trac.example.org/${f}1.pem`, path.join(live, `${f}.pem`));
    const flags = ['--server-name', 'trac.example.org', '--tls-cert', path.join(live, 'fullchain.pem'), '--tls-key', path.join(live, 'privkey.pem'), '--python-home', VENV, '--processes', '2', '--threads', '5'];
    const deployDir = path.join(dir, 'srv');
    expect((await runCli(['generate', env, '--out', deployDir, ...flags])).code).toBe(0);
    const ci = await runCli(['ci', env, '--provider', 'github', '--deploy-dir', deployDir, '--package', 'x.tgz', ...flags]);
    expect(ci.code, ci.stderr).toBe(0);
    const lines = runLines('github', parse(ci.stdout));
    expect(lines.some((l) => /apt-get install .* openssl/.test(l))).toBe(true);
    const standIn = lines.filter((l) => l.startsWith('sh -c ') && l.includes('openssl req'));
    expect(standIn).toHaveLength(1);
    const checkLine = lines.find((l) => l.startsWith('trac-deploy generate'))!;
    const bin = await shimBin(dir);

    // On the server the real pair is there: the stand-in line leaves it alone.
    const realKey = await fs.readFile(path.join(archive, 'privkey1.pem'));
    expect((await sh(standIn[0]!, bin, dir)).code).toBe(0);
    expect(await fs.readFile(path.join(archive, 'privkey1.pem'))).toEqual(realKey);
    // On a runner there is none: the drift check fails on the missing certificate until the stand-in is made.
    await fs.remove(path.join(dir, 'letsencrypt'));
    const before = await sh(checkLine, bin, dir);
    expect(before.code).toBe(2);
    expect(before.stderr).toContain('--tls-cert');
    const made = await sh(standIn[0]!, bin, dir);
    expect(made.code, made.stderr).toBe(0);
    expect((await fs.stat(path.join(live, 'privkey.pem'))).mode & 0o077).toBe(0);
    const check = await sh(checkLine, bin, dir);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    // Nothing of either key is in the workflow.
    expect(ci.stdout).not.toContain('PRIVATE KEY');
  });

  it('--htdocs absent on the runner: made there from its own Trac with every key the configuration serves, so the drift check passes', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    // The web server's user's, as on a server: deploy as root asks Trac as that user.
    if (process.geteuid?.() === 0) await chownToApache(env);
    const target = path.join(dir, 'target');
    const deployed = await runCli(['deploy', env, target, '--python-home', VENV]);
    expect(deployed.code, deployed.stderr).toBe(0);
    await fs.mkdirp(path.join(target, 'htdocs', 'myplugin'));
    const flags = ['--htdocs', path.join(target, 'htdocs'), '--python-home', VENV, '--processes', '2', '--threads', '5'];
    const deployDir = path.join(dir, 'srv');
    // No preflight: the fixture's Git repository is not on this machine, and Trac, able to open
    // the web server's environment, would say so (this test is about --htdocs on the runner).
    const generated = await runCli(['generate', env, '--out', deployDir, ...flags, '--no-preflight']);
    expect(generated.code, generated.stderr).toBe(0);
    const ci = await runCli(['ci', env, '--provider', 'github', '--deploy-dir', deployDir, '--package', 'x.tgz', ...flags]);
    expect(ci.code, ci.stderr).toBe(0);
    const lines = runLines('github', parse(ci.stdout));
    const standIn = lines.filter((l) => l.startsWith('sh -c ') && l.includes(' deploy '));
    expect(standIn).toHaveLength(1);
    const checkLine = lines.find((l) => l.startsWith('trac-deploy generate'))!;
    const bin = await shimBin(dir);
    await fs.remove(target);
    expect((await sh(checkLine, bin, dir)).code).toBe(2);
    const made = await sh(standIn[0]!, bin, dir);
    expect(made.code, made.stderr).toBe(0);
    expect(await fs.pathExists(path.join(target, 'htdocs', 'common', 'css', 'trac.css'))).toBe(true);
    expect(await fs.pathExists(path.join(target, 'htdocs', 'myplugin'))).toBe(true);
    const check = await sh(checkLine, bin, dir);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }, 120_000);

  it('a committed Subversion remedy (chosen by the preflight on the server) is passed to the drift check, which has no repository to ask about', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const repo = path.join(dir, 'repo');
    const deployDir = path.join(dir, 'srv');
    const flags = ['--python-home', VENV, '--processes', '2', '--threads', '5'];
    // What the preflight decides for an svn repository without bindings in the virtualenv.
    const generated = await runCli(['generate', env, '--out', deployDir, ...flags, '--svn-bindings', '/usr/lib/python3/dist-packages', '--no-preflight']);
    expect(generated.code, generated.stderr).toBe(0);
    expect(await fs.readFile(path.join(deployDir, 'trac16-sqlite.wsgi'), 'utf8')).toContain('/usr/lib/python3/dist-packages');
    await fs.copy(deployDir, path.join(repo, 'deploy'));
    const ci = await runCli(['ci', env, '--provider', 'github', '--deploy-dir', deployDir, '--package', 'x.tgz', ...flags], { cwd: repo });
    expect(ci.code, ci.stderr).toBe(0);
    expect(ci.stderr).toContain('the drift check says so with --svn-bindings');
    expect(ci.stderr).not.toContain('differ from what these flags render');
    const checkLine = runLines('github', parse(ci.stdout)).find((l) => l.startsWith('trac-deploy generate'))!;
    expect(checkLine).toContain('--svn-bindings /usr/lib/python3/dist-packages');
    const check = await sh(checkLine, await shimBin(dir), repo);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }, 120_000);

  it('takes the environment from the configuration committed in --config-dir', async () => {
    const repo = await tempDir();
    const env = await copyFixture('trac16-sqlite', await tempDir());
    expect((await runCli(['generate', env, '--out', path.join(repo, 'deploy')])).code).toBe(0);
    const r = await runCli(['ci', '--provider', 'github'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    // The default --package: this trac-deploy, packed into the repository.
    expect(r.stderr).toContain(`${repo}/.trac-deploy/trac-deploy-`);
    expect(r.stderr).not.toContain('differ from what these flags render');
    expect((await fs.readdir(path.join(repo, '.trac-deploy'))).filter((f) => f.endsWith('.tgz'))).toHaveLength(1);
    // Without --processes/--threads: the daemon was sized from this machine's cores.
    expect(r.stderr).toMatch(/^note: --processes\/--threads not given/m);
    const lines = runLines('github', parse(r.stdout));
    expect(lines.some((l) => l.includes('trac-deploy generate') && l.includes(env) && l.endsWith('--check'))).toBe(true);
  });

  it('takes --deploy-dir from the committed plan and refuses one that contradicts it', async () => {
    const repo = await tempDir();
    const env = await copyFixture('trac16-sqlite', await tempDir());
    const served = path.join(await tempDir(), 'srv');
    expect((await runCli(['generate', env, '--out', served])).code).toBe(0);
    await fs.copy(served, path.join(repo, 'deploy'));
    const r = await runCli(['ci', '--provider', 'gitlab', '--package', 'x.tgz', '--python-home', '/nowhere/on/this/machine/venv'], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`--out ${served} --python-home /nowhere/on/this/machine/venv --no-preflight --check`);
    expect(r.stdout).toContain('/usr/bin/python3 -m venv /nowhere/on/this/machine/venv');
    // The committed files were generated without --python-home: the first run would fail; said now.
    expect(r.stderr).toContain('trac16-sqlite.conf, trac16-sqlite.plan.json in deploy differ from what these flags render');
    const other = await runCli(['ci', '--provider', 'gitlab', '--package', 'x.tgz', '--deploy-dir', '/srv/elsewhere'], { cwd: repo });
    expect(other.code).toBe(2);
    expectCleanError(other);
    expect(other.stderr).toContain(served);
  });

  it('exits 2 asking for the PATH when the configuration does not tell', async () => {
    const repo = await tempDir();
    const missing = await runCli(['ci', '--provider', 'gitlab'], { cwd: repo });
    expect(missing.code).toBe(2);
    expectCleanError(missing);
    expect(missing.stderr).toContain('trac-deploy ci PATH --provider');

    const a = await copyFixture('trac16-sqlite', await tempDir());
    const b = await copyFixture('trac10-svn', await tempDir());
    expect((await runCli(['generate', a, '--out', path.join(repo, 'deploy')])).code).toBe(0);
    expect((await runCli(['generate', b, '--out', path.join(repo, 'deploy')])).code).toBe(0);
    const two = await runCli(['ci', '--provider', 'gitlab'], { cwd: repo });
    expect(two.code).toBe(2);
    expect(two.stderr).toContain(a);
    expect(two.stderr).toContain(b);
  });
});
