import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * inspect tells, before any restart, what Trac running as the Apache user (www-data) will fail
 * to do: tested for real as that user (setpriv), on environments made by trac-admin initenv.
 */
describe('inspect checks the Apache user can use the environment', () => {
  it('names the database and the egg cache of a root-owned environment (the log file is the preflight\'s)', async () => {
    const env = await initEnv(path.join(await tempDir(), 'env'), 'Root Owned');
    const r = await runCli(['inspect', env, '--json']);
    expect(r.code).toBe(0);
    const problems = (JSON.parse(r.stdout) as { problems: { code: string; path: string }[] }).problems.filter((p) => p.code === 'apache-user-access');
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([path.join(env, 'db', 'trac.db'), path.join(env, 'db'), env]),
    );
    // initenv's default is log_type = none: Trac never writes log/, so nothing is said about it.
    expect(problems.map((p) => p.path)).not.toContain(path.join(env, 'log'));
    const text = await runCli(['inspect', env]);
    expect(text.stderr).toContain(`warning: the Apache user www-data cannot write ${path.join(env, 'db', 'trac.db')} (the SQLite database); e.g. chown -R www-data:www-data ${env}`);
  });

  it('generate names the same, where inspect put them: before what Trac says (its access check runs while generate renders)', async () => {
    const env = await initEnv(path.join(await tempDir(), 'env'), 'Root Owned');
    const out = path.join(await tempDir(), 'out');
    const inspected = await runCli(['inspect', env, '--json']);
    const generated = await runCli(['generate', env, '--out', out, '--json']);
    expect(generated.code, generated.stderr).toBe(0);
    const access = (r: { stdout: string }) => (JSON.parse(r.stdout) as { problems: { code: string; path: string }[] }).problems.filter((p) => p.code === 'apache-user-access').map((p) => p.path);
    expect(access(generated)).toEqual(access(inspected));
    expect(access(generated).length).toBeGreaterThan(0);
    const codes = (JSON.parse(generated.stdout) as { problems: { code: string }[] }).problems.map((p) => p.code);
    const lastAccess = codes.lastIndexOf('apache-user-access');
    expect(codes.slice(0, lastAccess + 1).every((c) => c === 'apache-user-access')).toBe(true);
  });

  it('reports nothing once the environment belongs to the Apache user', async () => {
    const env = await initEnv(path.join(await tempDir(), 'env'), 'Apache Owned');
    await chownToApache(env);
    const r = await runCli(['inspect', env, '--json']);
    const codes = (JSON.parse(r.stdout) as { problems: { code: string }[] }).problems.map((p) => p.code);
    expect(codes).not.toContain('apache-user-access');
  });

  it('an unreadable trac.ini is named even when the rest is fine', async () => {
    const env = await initEnv(path.join(await tempDir(), 'env'), 'Private Ini');
    await chownToApache(env);
    const ini = path.join(env, 'conf', 'trac.ini');
    await fs.chown(ini, 0, 0);
    await fs.chmod(ini, 0o600);
    const r = await runCli(['inspect', env, '--json']);
    const problems = (JSON.parse(r.stdout) as { problems: { code: string; path: string }[] }).problems.filter((p) => p.code === 'apache-user-access');
    expect(problems.map((p) => p.path)).toEqual([ini]);
  });
});
