import { execa } from 'execa';
import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixtureTo, initEnv } from '../helpers/tracEnv.js';

/**
 * The generated pipelines, run as a runner runs them: every `run:` step of the GitHub workflow
 * (every `script:` entry of the GitLab job) in order, with `sh -e`, in a clone of a
 * configuration repository, on a machine where the environments are absent (moved away after
 * `ci` inspected them). Pass on an unchanged configuration; fail at the drift check on a hand
 * edit of a committed file and on a trac-deploy that renders differently.
 *
 * What runs for real: apt-get only when its packages are missing (they are installed here by
 * scripts/setup.sh, so those two lines are skipped and recorded; a missing package fails the
 * test instead of installing it); `python3 -m venv` + `pip install Trac` at the runner's
 * --python-home (a directory absent when `ci` ran); `npm install -g` of the tarball ci packed,
 * into a private npm prefix (npm_config_prefix) instead of the machine's global one;
 * trac-admin initenv of the stand-ins; `trac-deploy generate --check`; `trac-deploy smoke`
 * through a real Apache on 127.0.0.1. better-sqlite3's prebuilt binary, which a runner
 * downloads from GitHub, comes from a local prebuild made of this checkout's own build
 * (npm_config_better_sqlite3_local_prebuilds): tests contact no address but the registries.
 */

const TOOLS = process.env.TRAC_DEPLOY_TOOLS ?? '/opt/trac-deploy/tools';
const GIT = ['-c', 'user.name=CI test', '-c', 'user.email=ci@example.invalid', '-c', 'init.defaultBranch=main'];

interface Block {
  name: string;
  script: string;
}

/** The shell blocks of a workflow, in the order the runner runs them. */
function blocksOf(provider: 'github' | 'gitlab', text: string): Block[] {
  const doc = parse(text) as Record<string, unknown>;
  if (provider === 'github') {
    const jobs = (doc as { jobs: Record<string, { steps: { name?: string; run?: string }[] }> }).jobs;
    return Object.values(jobs).flatMap((job) => job.steps.filter((s) => s.run !== undefined).map((s) => ({ name: s.name ?? '', script: s.run ?? '' })));
  }
  const jobs = doc as Record<string, { script: string[] }>;
  return Object.values(jobs).flatMap((job) => job.script.map((script, i) => ({ name: `script[${i}]`, script })));
}

async function debInstalled(pkg: string): Promise<boolean> {
  const r = await execa('dpkg-query', ['-W', '-f=${Status}', pkg], { reject: false });
  return String(r.stdout).includes('install ok installed');
}

interface Runner {
  /** Shared across runs: npm prefix, local prebuilds, the runner's --python-home. */
  root: string;
  pythonHome: string;
  env: Record<string, string>;
}

interface RunResult {
  /** Name of the step that failed, or null when every step passed. */
  failed: string | null;
  output: string;
  skipped: string[];
}

/** Runs each block in order, as `sh -e`, in the checkout; stops at the first failing step. */
async function runPipeline(provider: 'github' | 'gitlab', checkout: string, workflowFile: string, runner: Runner): Promise<RunResult> {
  const blocks = blocksOf(provider, await fs.readFile(path.join(checkout, workflowFile), 'utf8'));
  const skipped: string[] = [];
  let output = '';
  for (const block of blocks) {
    const lines: string[] = [];
    for (const line of block.script.split('\n')) {
      const install = /^apt-get install (.*)$/.exec(line.trim());
      if (install) {
        const pkgs = (install[1] ?? '').split(/\s+/).filter((w) => w && !w.startsWith('-'));
        const missing: string[] = [];
        for (const pkg of pkgs) if (!(await debInstalled(pkg))) missing.push(pkg);
        if (missing.length > 0) throw new Error(`the pipeline needs Debian packages missing here (${missing.join(', ')}): run scripts/setup.sh`);
        skipped.push(line.trim());
      } else if (/^apt-get update\b/.test(line.trim())) {
        skipped.push(line.trim());
      } else {
        lines.push(line);
      }
    }
    const r = await execa('sh', ['-e', '-c', lines.join('\n')], { cwd: checkout, reject: false, stdin: 'ignore', all: true, env: runner.env, timeout: 600_000 });
    output += `## ${block.name}\n${String(r.all)}\n`;
    if (r.exitCode !== 0) return { failed: block.name, output, skipped };
  }
  return { failed: null, output, skipped };
}

/** A runner starts without the environments and without the deployed copy. */
async function freshRunner(paths: string[]): Promise<void> {
  for (const p of paths) await fs.remove(p);
}

async function git(cwd: string, ...args: string[]) {
  return execa('git', [...GIT, ...args], { cwd, stdin: 'ignore' });
}

/** A checkout of the configuration repository, as actions/checkout or GitLab's clone makes it. */
async function checkoutOf(repo: string, where: string): Promise<string> {
  await fs.remove(where);
  await execa('git', ['clone', '-q', repo, where], { stdin: 'ignore' });
  return where;
}

async function commitAll(repo: string, message: string) {
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', message);
}

/** A trac-deploy whose wsgi template renders one more line: "a version that renders differently". */
async function repackWithChangedRenderer(tarball: string, scratch: string): Promise<void> {
  await fs.mkdirp(scratch);
  await execa('tar', ['xzf', tarball, '-C', scratch]);
  await fs.appendFile(path.join(scratch, 'package', 'templates', 'wsgi', 'trac.wsgi.hbs'), '# rendered by another trac-deploy\n');
  await execa('tar', ['czf', tarball, '-C', scratch, 'package']);
}

let runner: Runner;

beforeAll(async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-runner-'));
  await fs.chmod(root, 0o755);
  // better-sqlite3's prebuilt binary, as the runner would download it, from this checkout's build.
  const sqlite = path.join(ROOT, 'node_modules', 'better-sqlite3');
  const { version } = (await fs.readJson(path.join(sqlite, 'package.json'))) as { version: string };
  const prebuilds = path.join(root, 'prebuilds');
  const stage = path.join(root, 'prebuild-stage');
  await fs.mkdirp(path.join(stage, 'build', 'Release'));
  await fs.copy(path.join(sqlite, 'build', 'Release', 'better_sqlite3.node'), path.join(stage, 'build', 'Release', 'better_sqlite3.node'));
  await fs.mkdirp(prebuilds);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await execa('tar', ['czf', path.join(prebuilds, name), '-C', stage, 'build']);
  const prefix = path.join(root, 'npm-prefix');
  runner = {
    root,
    pythonHome: path.join(root, 'runner-venv'),
    env: {
      ...(process.env as Record<string, string>),
      PATH: `${path.join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
      npm_config_prefix: prefix,
      npm_config_better_sqlite3_local_prebuilds: prebuilds,
      npm_config_prefer_offline: 'true',
      npm_config_update_notifier: 'false',
      NO_COLOR: '1',
    },
  };
}, 120_000);

afterAll(async () => {
  if (runner) await fs.remove(runner.root);
});

interface Scenario {
  repo: string;
  /** Where the environments live: moved away before the pipeline runs. */
  envRoot: string;
  deployDir: string;
  workflow: string;
  configDir: string;
}

/**
 * The administrator's side: generate into the server's --out, commit that directory as
 * `deploy/`, run `trac-deploy ci` in the repository (python-home absent on this machine), commit.
 */
async function prepare(provider: 'github' | 'gitlab', source: string, envRoot: string, extraFlags: string[]): Promise<Scenario> {
  const dir = path.dirname(envRoot);
  const repo = path.join(dir, 'repo');
  const deployDir = path.join(dir, 'srv', 'trac-deploy');
  await fs.mkdirp(repo);
  await git(repo, 'init', '-q');
  // The runner's virtualenv (made by an earlier run) is put aside: on this "server" generate
  // sees an (empty) virtualenv directory, and ci runs where it does not exist at all.
  const aside = `${runner.pythonHome}.aside`;
  if (await fs.pathExists(runner.pythonHome)) await fs.move(runner.pythonHome, aside);
  await fs.mkdirp(runner.pythonHome);
  const flags = ['--python-home', runner.pythonHome, ...extraFlags];
  const gen = await runCli(['generate', source, '--out', deployDir, ...flags]);
  expect(gen.code, gen.stderr).toBe(0);
  await fs.remove(runner.pythonHome);
  await fs.copy(deployDir, path.join(repo, 'deploy'));
  await fs.remove(deployDir);
  const workflow = provider === 'github' ? '.github/workflows/trac-deploy.yml' : '.gitlab-ci.yml';
  const ci = await runCli(['ci', '--provider', provider, '--out', workflow, ...flags], { cwd: repo });
  expect(ci.code, ci.stderr).toBe(0);
  expect(ci.stderr).toContain('.trac-deploy/trac-deploy-');
  if (await fs.pathExists(aside)) await fs.move(aside, runner.pythonHome);
  await commitAll(repo, 'deployment configuration and its pipeline');
  // As on a runner: the environments are not there.
  await fs.move(envRoot, `${envRoot}.away`);
  expect(await fs.pathExists(source)).toBe(false);
  return { repo, envRoot, deployDir, workflow, configDir: 'deploy' };
}

async function run(provider: 'github' | 'gitlab', s: Scenario): Promise<RunResult> {
  await freshRunner([s.envRoot, s.deployDir]);
  const checkout = await checkoutOf(s.repo, path.join(path.dirname(s.repo), 'checkout'));
  const result = await runPipeline(provider, checkout, s.workflow, runner);
  // What the test skipped: the apt lines only, all satisfied on this machine.
  for (const line of result.skipped) expect(line).toMatch(/^apt-get (update|install)\b/);
  return result;
}

const CHECK_STEP = { github: 'No drift between the committed configuration and trac-deploy generate', gitlab: 'script[5]' } as const;

describe('the generated pipelines, run step by step where the environments are absent', () => {
  it('github, one environment: passes unchanged; fails on a hand edit and on a trac-deploy that renders differently', async () => {
    const dir = await tempDir();
    const envRoot = path.join(dir, 'trac');
    const env = await initEnv(path.join(envRoot, 'widgets'), 'Widgets & Gadgets Tracker');
    const s = await prepare('github', env, envRoot, ['--url-prefix', '/widgets']);

    const ok = await run('github', s);
    expect(ok.failed, ok.output).toBeNull();
    expect(ok.output).toContain('Widgets & Gadgets Tracker');
    expect(ok.skipped.length).toBe(2);
    // The install step ran better-sqlite3's install script (npm 11 would skip it unasked).
    expect(await fs.pathExists(path.join(runner.env.npm_config_prefix ?? '', 'lib/node_modules/trac-deploy/node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);

    // A hand edit of a committed file.
    await fs.appendFile(path.join(s.repo, 'deploy', 'widgets.conf'), '# edited by hand\n');
    await commitAll(s.repo, 'hand edit');
    const edited = await run('github', s);
    expect(edited.failed).toBe(CHECK_STEP.github);
    expect(edited.output).toMatch(/^-# edited by hand$/m);
    await git(s.repo, 'revert', '--no-edit', 'HEAD');

    // The repository's trac-deploy replaced by one that renders the script differently.
    const tarballs = (await fs.readdir(path.join(s.repo, '.trac-deploy'))).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toHaveLength(1);
    await repackWithChangedRenderer(path.join(s.repo, '.trac-deploy', tarballs[0] ?? ''), path.join(dir, 'repack'));
    await commitAll(s.repo, 'another trac-deploy');
    const rerendered = await run('github', s);
    expect(rerendered.failed).toBe(CHECK_STEP.github);
    expect(rerendered.output).toMatch(/^\+# rendered by another trac-deploy$/m);
  }, 900_000);

  it('github, a directory of environments: passes unchanged, fails on a hand edit', async () => {
    const dir = await tempDir();
    const envRoot = path.join(dir, 'projects');
    await initEnv(path.join(envRoot, 'alpha'), 'Alpha Project');
    await initEnv(path.join(envRoot, 'beta'), 'Beta Project');
    const s = await prepare('github', envRoot, envRoot, []);
    const ok = await run('github', s);
    expect(ok.failed, ok.output).toBeNull();
    await fs.appendFile(path.join(s.repo, 'deploy', 'projects.wsgi'), '# edited\n');
    await commitAll(s.repo, 'hand edit');
    const edited = await run('github', s);
    expect(edited.failed).toBe(CHECK_STEP.github);
  }, 900_000);

  it('github, a PostgreSQL environment: no password anywhere in the repository; passes unchanged, fails on a hand edit', async () => {
    const dir = await tempDir();
    const envRoot = path.join(dir, 'pg');
    const env = await copyFixtureTo('trac14-postgres', path.join(envRoot, 'tracker'));
    expect(await fs.readFile(path.join(env, 'conf', 'trac.ini'), 'utf8')).toContain('s3cr%40t');
    const s = await prepare('github', env, envRoot, []);
    // Every committed file (the packed trac-deploy aside): neither the password nor its encoding.
    const { stdout } = await git(s.repo, 'ls-files');
    for (const file of stdout.split('\n').filter((f) => f && !f.endsWith('.tgz'))) {
      const text = await fs.readFile(path.join(s.repo, file), 'utf8');
      expect(text, file).not.toMatch(/s3cr/);
    }
    const workflow = await fs.readFile(path.join(s.repo, s.workflow), 'utf8');
    expect(workflow).toContain("config set trac database 'postgres://trac%20user@db.example.com:5433/trac_db?schema=tracschema'");
    const ok = await run('github', s);
    expect(ok.failed, ok.output).toBeNull();
    await fs.appendFile(path.join(s.repo, 'deploy', 'tracker.conf'), '# edited\n');
    await commitAll(s.repo, 'hand edit');
    const edited = await run('github', s);
    expect(edited.failed).toBe(CHECK_STEP.github);
  }, 900_000);

  it('gitlab, one environment with digest logins: passes unchanged (no password file in the repository), fails on a hand edit', async () => {
    const dir = await tempDir();
    const envRoot = path.join(dir, 'trac');
    const env = await initEnv(path.join(envRoot, 'gl'), 'GitLab Project');
    // The server's htdigest file: moved away with the environments, never committed.
    const digest = path.join(envRoot, 'auth', 'users.htdigest');
    await fs.mkdirp(path.dirname(digest));
    await fs.writeFile(digest, 'alice:Team Realm:0123456789abcdef0123456789abcdef\n');
    const s = await prepare('gitlab', env, envRoot, ['--strip-domain', '--auth', 'digest', '--auth-realm', 'Team Realm', '--auth-user-file', digest]);
    const { stdout } = await git(s.repo, 'grep', '-I', '-c', '0123456789abcdef').catch((e: { stdout: string }) => e);
    expect(stdout).toBe('');
    const ok = await run('gitlab', s);
    expect(ok.failed, ok.output).toBeNull();
    // The stand-in holds the realm and no hash of anyone's password.
    expect(await fs.readFile(digest, 'utf8')).toBe('ci-stand-in:Team Realm:0');
    await fs.appendFile(path.join(s.repo, 'deploy', 'gl.plan.json'), ' ');
    await commitAll(s.repo, 'hand edit');
    const edited = await run('gitlab', s);
    expect(edited.failed).toBe(CHECK_STEP.gitlab);
  }, 900_000);
});

describe('the generated files against their published schemas (check-jsonschema)', () => {
  for (const [provider, schema] of [
    ['github', 'vendor.github-workflows'],
    ['gitlab', 'vendor.gitlab-ci'],
  ] as const) {
    it(`${provider}: valid against ${schema}, also for a parent directory and a PostgreSQL environment`, async () => {
      const dir = await tempDir();
      const sources = [
        await initEnv(path.join(dir, 'one', 'env'), 'One'),
        await copyFixtureTo('parent', path.join(dir, 'parent')),
        await copyFixtureTo('trac14-postgres', path.join(dir, 'pg', 'env')),
      ];
      const files: string[] = [];
      for (const [i, source] of sources.entries()) {
        const file = path.join(dir, `wf-${i}.yml`);
        const r = await runCli(['ci', source, '--provider', provider, '--out', file, '--package', 'git+https://example.invalid/trac-deploy.git', '--python-home', path.join(dir, 'runner venv')], { cwd: dir });
        expect(r.code, r.stderr).toBe(0);
        files.push(file);
      }
      const check = await execa(path.join(TOOLS, 'bin', 'check-jsonschema'), ['--builtin-schema', schema, ...files], { reject: false });
      expect(check.exitCode, String(check.stdout) + String(check.stderr)).toBe(0);
      // And the check can fail: a step without its command is not a valid workflow.
      const broken = path.join(dir, 'broken.yml');
      await fs.writeFile(broken, provider === 'github' ? 'on: push\njobs:\n  x:\n    steps: []\n' : 'job:\n  script: 42\n');
      const bad = await execa(path.join(TOOLS, 'bin', 'check-jsonschema'), ['--builtin-schema', schema, broken], { reject: false });
      expect(bad.exitCode).not.toBe(0);
    });
  }
});
