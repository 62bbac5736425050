import Database from 'better-sqlite3';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
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
});
