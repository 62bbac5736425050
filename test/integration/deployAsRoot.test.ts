import { execa } from 'execa';
import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * deploy run as root on an environment the web server's user (www-data) owns and may change:
 * the environment's code runs as www-data, never as root, and only what www-data may read is
 * published (review 7, H1 and H2). Every run gets an EMPTY answer cache of its own unless a test
 * warms one on purpose: the fresh answer (Trac names the site directory by its real path) is
 * what the review's reproductions used.
 */
const EUID_PLUGIN = (record: string) => `
import os
with open(${JSON.stringify(record)}, 'a') as f:
    f.write('%d %s\\n' % (os.geteuid(), os.environ.get('PYTHON_EGG_CACHE')))
`;

const LEAK_PLUGIN = (dir: string) => `
from trac.core import Component, implements
from trac.web.chrome import ITemplateProvider


class Leak(Component):
    implements(ITemplateProvider)

    def get_htdocs_dirs(self):
        return [('leak', ${JSON.stringify(dir)})]

    def get_templates_dirs(self):
        return []
`;

let root: string;
let env: string;
let rootOnly: string;
let record: string;
let caches = 0;

/** A new, empty answer cache (0700, root's): Python is asked. */
async function emptyCache(): Promise<string> {
  const dir = path.join(root, `cache-${caches++}`);
  await fs.mkdir(dir, { mode: 0o700 });
  return dir;
}

async function deploy(target: string, extra: string[] = [], cache?: string) {
  return runCli(['deploy', env, path.join(root, target), '--python-home', VENV, '--processes', '1', '--threads', '2', ...extra], { env: { TRAC_DEPLOY_CACHE_DIR: cache ?? (await emptyCache()) } });
}

/** As www-data, as the review's reproductions changed the environment. */
async function asApache(command: string): Promise<void> {
  await execa('setpriv', ['--reuid=www-data', '--regid=www-data', '--init-groups', '--', 'sh', '-c', command], { stdin: 'ignore' });
}

/** What the plugin recorded, run by run: the effective uid and the egg cache it was given. */
async function runs(): Promise<{ euid: string; eggCache: string }[]> {
  const lines = (await fs.readFile(record, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return lines.map((line) => ({ euid: line.split(' ')[0]!, eggCache: line.slice(line.indexOf(' ') + 1) }));
}

beforeAll(async () => {
  if (process.geteuid?.() !== 0) return;
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-asroot-'));
  await fs.chmod(root, 0o755);
  env = await initEnv(path.join(root, 'env'), 'As Root');
  await fs.outputFile(path.join(env, 'htdocs', 'site.txt'), 'site file\n');
  const records = path.join(root, 'records');
  await fs.mkdir(records);
  record = path.join(records, 'euid');
  await fs.writeFile(path.join(env, 'plugins', 'euid_record.py'), EUID_PLUGIN(record));
  await chownToApache(env);
  await chownToApache(records);
  rootOnly = path.join(root, 'rootonly');
  await fs.mkdir(rootOnly, { mode: 0o700 });
  await fs.chmod(rootOnly, 0o700);
  await fs.writeFile(path.join(rootOnly, 'key.txt'), 'FAKE-SECRET-41\n', { mode: 0o644 });
});

afterAll(async () => {
  if (root) await fs.remove(root);
});

describe.skipIf(process.geteuid?.() !== 0)('deploy as root runs no environment code as root', () => {
  it('the plugins run as the web server user in deploy, --dry-run and --check; Trac\'s htdocs and the site files are published', async () => {
    await fs.remove(record);
    const first = await deploy('normal');
    expect(first.code, first.stderr).toBe(0);
    expect(await fs.readFile(path.join(root, 'normal', 'htdocs', 'site', 'site.txt'), 'utf8')).toBe('site file\n');
    expect(await fs.pathExists(path.join(root, 'normal', 'htdocs', 'common', 'css', 'trac.css'))).toBe(true);
    const dry = await deploy('normal', ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const check = await deploy('normal', ['--check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const seen = await runs();
    // Each run asked Python (empty caches), as www-data.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.map((r) => r.euid)).not.toContain('0');
    expect(new Set(seen.map((r) => r.euid))).toEqual(new Set(['33']));
    // Each egg cache was the web server user's own, inside a temporary directory of root's, and is gone.
    for (const { eggCache } of seen) {
      expect(eggCache).toMatch(/trac-deploy-eggs-[^/]+\/eggs$/);
      expect(await fs.pathExists(path.dirname(eggCache))).toBe(false);
    }
  });

  it('a user who cannot open the environment: exit 2, one line naming it and the user', async () => {
    const closed = await initEnv(path.join(root, 'closed-env'), 'Closed');
    await fs.chmod(path.join(closed, 'conf', 'trac.ini'), 0o600);
    const result = await runCli(['deploy', closed, path.join(root, 'closed-out'), '--python-home', VENV], { env: { TRAC_DEPLOY_CACHE_DIR: await emptyCache() } });
    expect(result.code, result.stderr).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain(`${closed}: Trac cannot open the environment`);
    expect(result.stderr).toContain('asked as www-data');
    expect(result.stderr).toContain(`chown -R www-data: ${closed}`);
    expect(await fs.pathExists(path.join(root, 'closed-out'))).toBe(false);
  });
});

describe.skipIf(process.geteuid?.() !== 0)('deploy as root publishes only what the web server user may read', () => {
  for (const cacheState of ['empty', 'warm'] as const) {
    it(`ENV/htdocs linked by www-data to a root-only directory (${cacheState} cache): nothing of it published, a warning`, async () => {
      const cache = await emptyCache();
      const target = `linked-${cacheState}`;
      if (cacheState === 'warm') {
        // The answer kept while ENV/htdocs was the environment's own directory.
        const warm = await deploy(`warmup-${cacheState}`, [], cache);
        expect(warm.code, warm.stderr).toBe(0);
      }
      await asApache(`mv ${env}/htdocs ${env}/site-moved && ln -s ${rootOnly} ${env}/htdocs`);
      try {
        const result = await deploy(target, [], cache);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toContain(`${path.join(env, 'htdocs')} is a symbolic link (not root's) to ${rootOnly}`);
        expect(await fs.pathExists(path.join(root, target, 'htdocs', 'site', 'key.txt'))).toBe(false);
        expect(result.stdout + result.stderr).not.toContain('FAKE-SECRET');
      } finally {
        await asApache(`rm ${env}/htdocs && mv ${env}/site-moved ${env}/htdocs`);
      }
    });
  }

  it('[inherit] htdocs_dir naming a root-only directory (trac.ini is www-data\'s): not published, a warning names it', async () => {
    const ini = path.join(env, 'conf', 'trac.ini');
    const before = await fs.readFile(ini, 'utf8');
    await asApache(`sed -i 's|^htdocs_dir = $|htdocs_dir = ${rootOnly}|' ${ini}`);
    try {
      expect(await fs.readFile(ini, 'utf8')).toContain(`htdocs_dir = ${rootOnly}`);
      const result = await deploy('inherit');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`${rootOnly}: www-data may not enter it`);
      expect(result.stdout).toContain(`${rootOnly} (not copied: www-data may not read it)`);
      expect(await fs.pathExists(path.join(root, 'inherit', 'htdocs', 'shared', 'key.txt'))).toBe(false);
      expect(await fs.pathExists(path.join(root, 'inherit', 'htdocs', 'site', 'site.txt'))).toBe(true);
    } finally {
      await fs.writeFile(ini, before);
      await fs.chown(ini, 33, 33);
    }
  });

  it("a plugin's get_htdocs_dirs naming a root-only directory, or one with root-only files: none of those published", async () => {
    const open = path.join(root, 'open-but-private');
    await fs.outputFile(path.join(open, 'public.css'), 'ok\n', { mode: 0o644 });
    await fs.outputFile(path.join(open, 'private.key'), 'FAKE-SECRET-42\n', { mode: 0o600 });
    await fs.writeFile(path.join(env, 'plugins', 'leak.py'), LEAK_PLUGIN(rootOnly));
    await fs.writeFile(path.join(env, 'plugins', 'leak2.py'), LEAK_PLUGIN(open).replace(/Leak/g, 'LeakTwo').replace("'leak'", "'leaktwo'"));
    await chownToApache(path.join(env, 'plugins'));
    try {
      const result = await deploy('plugin');
      expect(result.code, result.stderr).toBe(0);
      expect(await fs.pathExists(path.join(root, 'plugin', 'htdocs', 'leak', 'key.txt'))).toBe(false);
      expect(result.stderr).toContain(`${rootOnly}: www-data may not enter it`);
      expect(await fs.readFile(path.join(root, 'plugin', 'htdocs', 'leaktwo', 'public.css'), 'utf8')).toBe('ok\n');
      expect(await fs.pathExists(path.join(root, 'plugin', 'htdocs', 'leaktwo', 'private.key'))).toBe(false);
      expect(result.stderr).toContain(`${open}: private.key may not be read by www-data`);
      expect(result.stdout + result.stderr).not.toContain('FAKE-SECRET');
    } finally {
      await fs.remove(path.join(env, 'plugins', 'leak.py'));
      await fs.remove(path.join(env, 'plugins', 'leak2.py'));
    }
  });
});
