import Database from 'better-sqlite3';
import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TRAC_ADMIN, VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

interface Inspected {
  preflight: { status: string; cachedFrom?: string };
  environments: { problems: { code: string }[] }[];
}

/**
 * Trac's kept verdict (inspect/preflightCache.ts) with real Trac 1.6: served on a repeated
 * inspect or generate of an unchanged environment, and never once the environment changed in a
 * way Trac would answer differently (an older database put back, trac.ini closed to the web
 * server user): then Trac is asked again, and generate refuses.
 */
describe('the kept preflight verdict (real Trac 1.6)', () => {
  it('is served while nothing changed, and Trac is asked again after a database needs an upgrade or trac.ini is closed', async () => {
    const root = await tempDir();
    const env = await initEnv(path.join(root, 'env'));
    await chownToApache(env);
    const cache = path.join(root, 'cache');
    const inspect = async () => {
      const result = await runCli(['inspect', env, '--python-home', VENV, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as Inspected;
    };
    const generate = (out: string) => runCli(['generate', env, '--out', path.join(root, out), '--python-home', VENV], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
    // Files made a moment ago count as changed while Trac read them: let them settle.
    await new Promise((resolve) => setTimeout(resolve, 2100));

    const asked = await inspect();
    expect(asked.preflight.status).toBe('ran');
    expect(asked.preflight.cachedFrom).toBeUndefined();
    const kept = await inspect();
    expect(kept.preflight.cachedFrom).toMatch(/^\d{4}-/);
    // Kept because Trac itself said SQLite (the scheme only), with the files Trac named.
    const [entry] = (await fs.readdir(cache)).filter((name) => name.startsWith('preflight-'));
    const stored = JSON.parse(await fs.readFile(path.join(cache, entry!), 'utf8')) as { paths: string[]; answer: { result: { environments: Record<string, unknown>[] } } };
    expect(stored.answer.result.environments[0]).toMatchObject({ databaseScheme: 'sqlite', databaseFile: path.join(env, 'db', 'trac.db'), configFiles: [path.join(env, 'conf', 'trac.ini')], pluginsDirs: [path.join(env, 'plugins')] });
    expect(stored.paths).toEqual(expect.arrayContaining([path.join(env, 'db', 'trac.db-wal'), path.join(env, 'conf', 'trac.ini')]));
    expect(kept.environments[0]!.problems).toEqual(asked.environments[0]!.problems);
    const text = await runCli(['inspect', env, '--python-home', VENV], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
    expect(text.stdout).toMatch(/preflight: Trac 1\.6\S* asked in .*; its answer of \S+, kept: nothing it read has changed since/);
    expect((await generate('a')).code).toBe(0);

    // A database from an older Trac put back: Trac (not the kept verdict) answers.
    const db = new Database(path.join(env, 'db', 'trac.db'));
    db.prepare("UPDATE system SET value = '41' WHERE name = 'database_version'").run();
    db.close();
    const refused = await generate('b');
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('Trac says the environment needs an upgrade and will not serve it');
    expect(await fs.pathExists(path.join(root, 'b'))).toBe(false);
    const upgraded = new Database(path.join(env, 'db', 'trac.db'));
    upgraded.prepare("UPDATE system SET value = '45' WHERE name = 'database_version'").run();
    upgraded.close();
    expect((await generate('c')).code).toBe(0);

    // trac.ini closed to the web server user: only a mode and an owner change.
    await fs.chown(path.join(env, 'conf', 'trac.ini'), 0, 0);
    await fs.chmod(path.join(env, 'conf', 'trac.ini'), 0o600);
    const closed = await inspect();
    expect(closed.preflight.cachedFrom).toBeUndefined();
    expect(closed.environments[0]!.problems.map((p) => p.code)).toContain('trac-cannot-read');
  }, 180_000);

  it("is served to generate after Trac wrote its log and a plugin's bytecode, and not once the log is closed to the web server user: by its mode, or by an ACL followed by a write", async () => {
    const root = await tempDir();
    const env = await initEnv(path.join(root, 'env'));
    // A single-file plugin: Python writes its bytecode to plugins/__pycache__ at the first load
    // by anyone but the preflight (the daemon, an administrator's trac-admin).
    await fs.writeFile(path.join(env, 'plugins', 'hello.py'), 'from trac.core import Component\n\nclass Hello(Component):\n    pass\n');
    await chownToApache(env);
    const log = path.join(env, 'log', 'trac.log');
    // An interpreter that counts each time Trac is asked (generate asks Python nothing else).
    // It, the --out directories and the cache each in a directory of their own, as on a server:
    // a new entry in a directory above what Trac read changes its ctime (as an ACL would).
    const tools = await tempDir();
    const outRoot = await tempDir();
    const home = path.join(tools, 'python');
    const asked = path.join(tools, 'asked');
    await fs.outputFile(asked, '');
    await fs.chmod(asked, 0o666);
    await fs.outputFile(path.join(home, 'bin', 'python'), `#!/bin/sh\necho "$1" >> '${asked}'\nexec '${VENV}/bin/python' "$@"\n`, { mode: 0o755 });
    const questions = async () => (await fs.readFile(asked, 'utf8')).split('\n').filter(Boolean).length;
    const cache = path.join(outRoot, 'cache');
    let outs = 0;
    const generate = () => runCli(['generate', env, '--out', path.join(outRoot, `out${outs++}`), '--python-home', home], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
    /** Opens the environment as root, as an administrator's trac-admin does: Trac appends to its log. */
    const tracAdmin = async () => {
      const before = await fs.stat(log);
      // As on a server: Python writes bytecode (this machine's environment may say otherwise).
      const { PYTHONDONTWRITEBYTECODE: _, ...bytecode } = process.env;
      await execa(TRAC_ADMIN, [env, 'permission', 'list'], { stdin: 'ignore', env: bytecode, extendEnv: false });
      const after = await fs.stat(log);
      expect(after.size, 'Trac wrote its log').toBeGreaterThan(before.size);
      expect(after.ctimeMs).toBeGreaterThan(before.ctimeMs);
    };
    await new Promise((resolve) => setTimeout(resolve, 2100));

    expect((await generate()).code).toBe(0);
    expect(await questions()).toBe(1);
    // The chown -R above changed the log's ctime alone (as an ACL would): the first write after
    // it cannot tell it apart, and plugins/__pycache__ is new: one question; after that none.
    await tracAdmin();
    expect(await fs.readdir(path.join(env, 'plugins', '__pycache__'))).toEqual([expect.stringMatching(/^hello\.cpython-\d+\.pyc$/)]);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await generate()).code).toBe(0);
    expect(await questions()).toBe(2);
    for (let i = 0; i < 2; i++) {
      await tracAdmin();
      const kept = await generate();
      expect(kept.code, kept.stderr).toBe(0);
      expect(await questions(), 'served from the cache though Trac wrote its log').toBe(2);
    }

    // The log closed to the web server user by its mode: Trac is asked, and says so.
    await fs.chmod(log, 0o444);
    const closed = await generate();
    expect(await questions()).toBe(3);
    expect(closed.stderr).toContain(`this user cannot write ${log}; Trac fails at start`);
    expect((await generate()).stderr, 'a refusal is never kept').toContain(`cannot write ${log}`);
    expect(await questions()).toBe(4);

    // Writable through its group, and written since; then an ACL takes writing from the web
    // server user (mode, owner and inode unchanged) and root's trac-admin writes the log after
    // it: its stamps are those of the kept verdict again (ctime that of a write), yet Trac is
    // asked, as the log check is made again, and says so.
    await fs.chown(log, 0, (await fs.stat(env)).gid);
    await fs.chmod(log, 0o664);
    await tracAdmin();
    // What trac-admin wrote a moment ago counts as changed while Trac read it: let it settle.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await generate()).code).toBe(0);
    expect(await generate()).toMatchObject({ code: 0 });
    expect(await questions(), 'kept again once writable').toBe(5);
    const { mode, ino } = await fs.stat(log);
    await execa('setfacl', ['-m', 'u:www-data:r', log]);
    await tracAdmin();
    expect(await fs.stat(log)).toMatchObject({ mode, ino });
    const denied = await generate();
    expect(await questions()).toBe(6);
    expect(denied.stderr).toContain(`this user cannot write ${log}; Trac fails at start`);
  }, 240_000);

  it('is not served once a repository is closed inside (its db/ made unreadable), though the repository directory itself is unchanged', async () => {
    const root = await tempDir();
    const env = await initEnv(path.join(root, 'env'));
    const repo = path.join(root, 'repo');
    await execa('svnadmin', ['create', repo]);
    await fs.appendFile(path.join(env, 'conf', 'trac.ini'), `\n[components]\ntracopt.versioncontrol.svn.* = enabled\n\n[repositories]\nmain.dir = ${repo}\nmain.type = svn\n`);
    await chownToApache(env);
    await chownToApache(repo);
    const cache = path.join(root, 'cache');
    const inspect = async () => {
      const result = await runCli(['inspect', env, '--python-home', VENV, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as Inspected;
    };
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const asked = await inspect();
    expect(asked.environments[0]!.problems.map((p) => p.code)).not.toContain('repository-unavailable');
    // Trac's first look syncs the repository into its cache (trac.db changed while it answered:
    // nothing kept); the next answer is kept.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await inspect();
    expect((await inspect()).preflight.cachedFrom).toMatch(/^\d{4}-/);
    await fs.chmod(path.join(repo, 'db'), 0o000);
    try {
      const closed = await inspect();
      expect(closed.preflight.cachedFrom).toBeUndefined();
      expect(closed.environments[0]!.problems.map((p) => p.code)).toContain('repository-unavailable');
    } finally {
      await fs.chmod(path.join(repo, 'db'), 0o755);
    }
  }, 180_000);
});
