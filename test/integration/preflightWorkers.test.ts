import Database from 'better-sqlite3';
import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sharedDir } from '../helpers/smokeBed.js';
import { TRAC_ADMIN, VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * The preflight spread over several Python processes says exactly what one process says, on
 * environments Trac treats differently; and thousands of environments come back complete, each
 * answer in its own environment's place.
 */
const asRoot = process.getuid?.() === 0;
let root: string;
let parent: string;

interface Report {
  preflight: { status: string; user: string | null };
  environments: { name: string; path: string; problems: { code: string; message: string }[]; preflight: unknown }[];
  problems: { code: string; message: string }[];
}

async function inspect(dir: string, workers: number, ...flags: string[]): Promise<Report> {
  // An empty cache each time: Trac is asked (a directory's verdicts are kept between runs).
  const cache = await fs.mkdtemp(path.join(root, 'cache-'));
  const r = await runCli(['inspect', dir, '--json', ...flags], { env: { TRAC_DEPLOY_PREFLIGHT_WORKERS: String(workers), TRAC_DEPLOY_CACHE_DIR: cache } });
  expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

async function setIni(env: string, section: string, key: string, value: string): Promise<void> {
  await execa(TRAC_ADMIN, [env, 'config', 'set', section, key, value]);
}

beforeAll(async () => {
  root = await sharedDir('trac-deploy-preflight-workers-');
  parent = path.join(root, 'projects');
  const repo = path.join(root, 'repo');
  await execa('svnadmin', ['create', repo]);
  await execa('svn', ['mkdir', '-q', '-m', 'trunk', `file://${repo}/trunk`]);
  const shared = path.join(root, 'shared.ini');
  await fs.writeFile(shared, '[project]\nfooter = shared\n');
  const template = await initEnv(path.join(root, 'template'), 'Template');
  // Three of each kind, so that every kind lands on more than one process.
  for (let copy = 0; copy < 3; copy++) {
    const made = async (kind: string) => {
      const env = path.join(parent, `${kind}-${copy}`);
      await fs.copy(template, env);
      return env;
    };
    await made('good');
    const dup = await made('dup');
    await fs.appendFile(path.join(dup, 'conf', 'trac.ini'), '\n[trac]\nbase_url =\n');
    const inherit = await made('inherit');
    await setIni(inherit, 'inherit', 'file', shared);
    const plugin = await made('plugin');
    await fs.writeFile(path.join(plugin, 'plugins', 'broken_plugin.py'), 'import no_such_module_for_trac\n');
    const old = await made('old');
    const db = new Database(path.join(old, 'db', 'trac.db'));
    db.prepare("UPDATE system SET value='41' WHERE name='database_version'").run();
    db.close();
    const svn = await made('svn');
    await setIni(svn, 'components', 'tracopt.versioncontrol.svn.*', 'enabled');
    await setIni(svn, 'repositories', 'main.dir', repo);
    await setIni(svn, 'repositories', 'main.type', 'svn');
    // A repository without its connector: Trac cannot open it, whatever the bindings.
    const noConnector = await made('svn-no-connector');
    await setIni(noConnector, 'repositories', 'main.dir', repo);
    await setIni(noConnector, 'repositories', 'main.type', 'svn');
  }
  if (asRoot) {
    await chownToApache(root);
    // The Apache user may not read the inherited file.
    await fs.chown(shared, 0, 0);
    await fs.chmod(shared, 0o600);
  } else {
    await fs.chmod(shared, 0o000);
  }
}, 600_000);

afterAll(async () => {
  if (root) await fs.remove(root);
});

/** Each environment's problem codes, by name. */
function codes(report: Report): Record<string, string[]> {
  return Object.fromEntries(report.environments.map((e) => [e.name, e.problems.map((p) => p.code)]));
}

describe('one preflight process or several: the same verdict', () => {
  it('with --python-home (Debian svn bindings offered to the virtualenv)', async () => {
    const one = await inspect(parent, 1, '--python-home', VENV);
    const three = await inspect(parent, 3, '--python-home', VENV);
    expect(one.preflight.status).toBe('ran');
    expect(three).toEqual(one);
    const byName = codes(one);
    for (let copy = 0; copy < 3; copy++) {
      expect(byName[`good-${copy}`]).toEqual([]);
      expect(byName[`dup-${copy}`]).toContain('trac-cannot-open');
      expect(byName[`inherit-${copy}`]).toContain('trac-cannot-read');
      expect(byName[`plugin-${copy}`]).toContain('plugin-not-loaded');
      expect(byName[`old-${copy}`]).toContain('needs-upgrade');
      expect(byName[`svn-${copy}`]).toEqual([]);
      expect(byName[`svn-no-connector-${copy}`]).toContain('repository-unavailable');
    }
    expect(one.problems.map((p) => p.code)).toContain('svn-bindings-system');
  }, 600_000);

  it('with the system Python and the virtualenv as a site dir (bindings in the interpreter)', async () => {
    const site = (await fs.readdir(path.join(VENV, 'lib'))).find((d) => d.startsWith('python3'));
    const siteDir = path.join(VENV, 'lib', site!, 'site-packages');
    const one = await inspect(parent, 1, '--site-dir', siteDir);
    const two = await inspect(parent, 2, '--site-dir', siteDir);
    expect(one.preflight.status).toBe('ran');
    expect(two).toEqual(one);
    expect(one.problems.map((p) => p.code)).not.toContain('svn-bindings-system');
    expect(codes(one)['svn-1']).toEqual([]);
    expect(codes(one)['dup-2']).toContain('trac-cannot-open');
  }, 600_000);
});

describe('thousands of environments through the preflight', () => {
  it('3,000 environments: every one answered, in order, the planted failures where they were planted', async () => {
    const big = path.join(root, 'many');
    const count = 3000;
    const template = path.join(root, 'template');
    // One database for all (hard links), one outdated copy for the outdated ones.
    const oldDb = path.join(root, 'old.db');
    await fs.copy(path.join(template, 'db', 'trac.db'), oldDb);
    const db = new Database(oldDb);
    db.prepare("UPDATE system SET value='41' WHERE name='database_version'").run();
    db.close();
    const ini = await fs.readFile(path.join(template, 'conf', 'trac.ini'), 'utf8');
    const expected: string[][] = [];
    for (let i = 0; i < count; i++) {
      const env = path.join(big, `env${String(i).padStart(5, '0')}`);
      await fs.mkdirp(path.join(env, 'conf'));
      await fs.mkdirp(path.join(env, 'db'));
      await fs.mkdirp(path.join(env, 'log'));
      await fs.writeFile(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
      const kind = i % 250;
      await fs.writeFile(path.join(env, 'conf', 'trac.ini'), kind === 7 ? `${ini}\n[trac]\nbase_url =\n` : ini.replace('name = Template', `name = Project ${i}`));
      await fs.link(kind === 100 ? oldDb : path.join(template, 'db', 'trac.db'), path.join(env, 'db', 'trac.db'));
      if (kind === 200) {
        await fs.mkdirp(path.join(env, 'plugins'));
        await fs.writeFile(path.join(env, 'plugins', `broken_${i}.py`), 'import no_such_module_for_trac\n');
      }
      // kind 7: a second [trac] with base_url again, which Trac refuses (DuplicateSectionError): trac-deploy's own
      // reading names both duplicates, and Trac's answer says it cannot open the environment.
      expected.push(kind === 7 ? ['trac-ini-syntax', 'trac-ini-syntax', 'trac-cannot-open'] : kind === 100 ? ['needs-upgrade'] : kind === 200 ? ['plugin-not-loaded'] : []);
    }
    if (asRoot) await chownToApache(big);
    const report = await inspect(big, 2, '--python-home', VENV);
    expect(report.preflight.status).toBe('ran');
    expect(report.environments).toHaveLength(count);
    expect(report.environments.map((e) => e.name)).toEqual(expected.map((_, i) => `env${String(i).padStart(5, '0')}`));
    const got = report.environments.map((e) => e.problems.map((p) => p.code));
    expect(got).toEqual(expected);
    // Each answer names its own environment.
    const cannotOpen = report.environments.filter((e) => e.problems.some((p) => p.code === 'trac-cannot-open'));
    expect(cannotOpen.every((e) => e.problems.find((p) => p.code === 'trac-cannot-open')!.message.startsWith(`${e.path}:`))).toBe(true);
    const project = report.environments.map((e) => (e.preflight as { project: string | null } | null)?.project ?? null);
    expect(project[1]).toBe('Project 1');
    expect(project[2999]).toBe('Project 2999');
  }, 900_000);
});
