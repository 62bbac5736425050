import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

/** trac-deploy's login flags and inspect's login facts, through the built CLI. */
async function sqliteEnv(): Promise<{ env: string; dir: string }> {
  const dir = await tempDir();
  return { env: await copyFixture('trac16-sqlite', dir), dir };
}

async function enableAccountManager(env: string): Promise<void> {
  const ini = path.join(env, 'conf', 'trac.ini');
  const text = await fs.readFile(ini, 'utf8');
  await fs.writeFile(ini, text.replace('[components]\n', '[components]\nacct_mgr.* = enabled\ntrac.web.auth.loginmodule = disabled\n'));
}

describe('inspect reports what the environment expects of the login', () => {
  it('--json: ignore_auth_case, domain users from the permission table, no login form', async () => {
    const { env } = await sqliteEnv();
    const r = await runCli(['inspect', env, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout).environments[0];
    expect(info.ignoreAuthCase).toBe(false);
    expect(info.domainUsers).toEqual(expect.arrayContaining(['CORP\\alice', 'bob@EXAMPLE.COM']));
    expect(info.loginFormComponents).toEqual([]);
  });

  it('an enabled TracAccountManager LoginModule is reported, in JSON and as text', async () => {
    const { env } = await sqliteEnv();
    await enableAccountManager(env);
    const json = JSON.parse((await runCli(['inspect', env, '--json'])).stdout).environments[0];
    expect(json.loginFormComponents).toEqual(['acct_mgr.web_ui.LoginModule']);
    expect(json.problems.map((p: { code: string }) => p.code)).toContain('login-form-plugin');
    const text = await runCli(['inspect', env]);
    expect(text.stdout).toMatch(/login\s+own login form \(acct_mgr\.web_ui\.LoginModule\); ignore_auth_case off; domain users: /);
  });
});

describe('generate --auth', () => {
  it('--json names the protected location and the Apache modules', async () => {
    const { env, dir } = await sqliteEnv();
    const users = path.join(dir, 'htpasswd');
    await fs.writeFile(users, 'CORP\\alice:$apr1$abc$def\n');
    const r = await runCli(['generate', env, '--out', path.join(dir, 'out'), '--auth', 'basic', '--auth-user-file', users, '--strip-domain', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout).plan;
    expect(plan.auth).toMatchObject({ method: 'basic', scope: 'login', location: { match: false, path: '/trac/login' }, userFile: users, stripDomain: true });
    expect(plan.apacheModules).toEqual(['wsgi', 'authz_core', 'auth_basic', 'authn_core', 'authn_file', 'authz_user']);
  });

  it.each([
    [['--auth', 'basic'], '--auth basic needs --auth-user-file'],
    [['--auth', 'digest', '--auth-user-file', '/nonexistent/htdigest'], '--auth-user-file /nonexistent/htdigest: no such file'],
    [['--auth-keytab', '/etc/krb5.keytab'], '--auth-keytab needs --auth kerberos'],
    [['--auth', 'ldap', '--auth-ldap-url', 'https://dc.example.com/'], '--auth-ldap-url "https://dc.example.com/" must start with ldap://'],
    [['--auth', 'basic', '--auth-scope', 'everything'], 'auth-scope'],
    [['--auth', 'ntlm'], 'auth'],
  ])('%j: one line, exit 2, nothing written', async (args, message) => {
    const { env, dir } = await sqliteEnv();
    const out = path.join(dir, 'out');
    const r = await runCli(['generate', env, '--out', out, ...args]);
    expect(r.code).toBe(2);
    expectCleanError(r);
    expect(r.stderr).toContain(message);
    expect(await fs.pathExists(out)).toBe(false);
  });

  it('refuses to protect /login of an environment with TracAccountManager\'s login form, unless --auth-force', async () => {
    const { env, dir } = await sqliteEnv();
    await enableAccountManager(env);
    const out = path.join(dir, 'out');
    const refused = await runCli(['generate', env, '--out', out, '--auth', 'sspi']);
    expect(refused.code).toBe(2);
    expectCleanError(refused);
    expect(refused.stderr).toContain('acct_mgr.web_ui.LoginModule');
    expect(refused.stderr).toContain('--auth-force');
    expect(await fs.pathExists(out)).toBe(false);

    const forced = await runCli(['generate', env, '--out', out, '--auth', 'sspi', '--auth-force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('log in twice');
    expect(await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8')).toContain('<Location "/trac/login">');
  });
});
