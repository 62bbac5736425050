import Database from 'better-sqlite3';
import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { ROOT, VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * deploy refuses what `trac-admin ENV deploy` refuses, as Trac 1.6 itself says it in the same
 * Python run that answers the htdocs question: an environment Trac cannot open, one that needs an
 * upgrade (also when the htdocs answer comes from the cache), and it warns about a plugin Trac
 * skips. Nothing is written in the refused cases.
 */
/** As on a server: the web server's user's (deploy as root asks Trac as that user, who must be able to use the database). */
async function apacheOwned(env: string): Promise<string> {
  if (process.geteuid?.() === 0) await chownToApache(env);
  return env;
}

describe('deploy asks Trac for its verdict (real Trac 1.6)', () => {
  const deploy = (env: string, target: string, cache: string) =>
    runCli(['deploy', env, target, '--python-home', VENV], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });

  it('refuses an environment Trac cannot open, with the remedy, and writes nothing', async () => {
    const root = await tempDir();
    const env = await apacheOwned(await initEnv(path.join(root, 'env')));
    await fs.appendFile(path.join(env, 'conf', 'trac.ini'), '\n[trac]\nbase_url = http://example.test/\n');
    const target = path.join(root, 'out');
    const result = await deploy(env, target, path.join(root, 'cache'));
    expect(result.code, result.stderr).toBe(2);
    // Trac's reason names its exception (DuplicateSectionError: ...): no stack trace, one first line.
    expect(result.stderr).toMatch(/^trac-deploy: /);
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(result.stderr).toContain('Trac would not serve this environment; nothing was written');
    expect(result.stderr).toMatch(/Trac cannot open the environment: DuplicateSectionError/);
    expect(result.stderr).toContain('merge the two sections of that name in trac.ini into one');
    expect(await fs.pathExists(target)).toBe(false);
  }, 120_000);

  it('refuses an environment that needs an upgrade, also after a cached answer, and names trac-admin upgrade', async () => {
    const root = await tempDir();
    const env = await apacheOwned(await initEnv(path.join(root, 'env')));
    const cache = path.join(root, 'cache');
    const first = await deploy(env, path.join(root, 'a'), cache);
    expect(first.code, first.stderr).toBe(0);
    // A database from an older Trac put back (a restored backup): the cached answer cannot know.
    const db = new Database(path.join(env, 'db', 'trac.db'));
    db.prepare("UPDATE system SET value = '41' WHERE name = 'database_version'").run();
    db.close();
    const target = path.join(root, 'b');
    const result = await deploy(env, target, cache);
    expect(result.code, result.stderr).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain('Trac says the environment needs an upgrade and will not serve it');
    expect(result.stderr).toContain(`trac-admin ${env} upgrade`);
    expect(await fs.pathExists(target)).toBe(false);
  }, 120_000);

  it('deploys an environment whose plugin Trac skips, and says which and why', async () => {
    const root = await tempDir();
    const env = await apacheOwned(await initEnv(path.join(root, 'env')));
    await fs.outputFile(path.join(env, 'plugins', 'broken_plugin.py'), 'import no_such_module_for_trac_deploy\n');
    const result = await runCli(['deploy', env, path.join(root, 'out'), '--python-home', VENV, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: path.join(root, 'cache') } });
    expect(result.code, result.stderr).toBe(0);
    const problems = (JSON.parse(result.stdout) as { problems: { code: string; message: string }[] }).problems;
    const skipped = problems.find((p) => p.code === 'plugin-not-loaded');
    expect(skipped?.message).toMatch(/broken_plugin.*No module named 'no_such_module_for_trac_deploy'/);
  }, 120_000);

  it('says what Trac found once it rolled back an unfinished transaction, not what the inspection read before', async () => {
    const root = await tempDir();
    const env = await initEnv(path.join(root, 'env'));
    // The web server user's environment: Trac (asked as that user when deploy runs as root) may write it.
    if (process.getuid?.() === 0) await chownToApache(env);
    const cache = path.join(root, 'cache');
    const first = await deploy(env, path.join(root, 'a'), cache);
    expect(first.code, first.stderr).toBe(0);
    // A writer killed mid-transaction: a hot journal beside trac.db. The inspection reads
    // read-only and cannot read the database; the cached answer doubts, Trac is asked again and,
    // opening the database to write, rolls the transaction back.
    const file = path.join(env, 'db', 'trac.db');
    const writer = `
      const Database = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'better-sqlite3'))});
      const db = new Database(${JSON.stringify(file)});
      db.pragma('cache_size = 1');
      db.exec('BEGIN; CREATE TABLE trac_deploy_big(x)');
      const insert = db.prepare('INSERT INTO trac_deploy_big VALUES (?)');
      for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
      process.kill(process.pid, 'SIGKILL');
    `;
    const killed = await execa('node', ['-e', writer], { reject: false, stdin: 'ignore' });
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.statSync(`${file}-journal`).size).toBeGreaterThan(0);
    if (process.getuid?.() === 0) await chownToApache(path.join(env, 'db'));
    const result = await runCli(['deploy', env, path.join(root, 'b'), '--python-home', VENV, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { problems: { code: string; message: string }[] };
    expect(report.problems.filter((p) => /unfinished transaction/.test(p.message))).toEqual([]);
    // Trac did roll it back: the journal is gone (or emptied) and the transaction's table is not there.
    expect(fs.existsSync(`${file}-journal`) ? fs.statSync(`${file}-journal`).size : 0).toBe(0);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'trac_deploy_big'").get()).toEqual({ n: 0 });
    db.close();
  }, 120_000);
});
