import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { EnvironmentInfo, Inspection } from '../../src/inspect/types.js';
import { decideAuth, protectedLocation } from '../../src/plan/authDecision.js';
import { DEFAULT_GENERATE_OPTIONS, type GenerateOptions } from '../../src/plan/options.js';
import { apacheRequireExpr, ApacheValueError } from '../../src/escape/apache.js';
import { helpers } from '../../src/render/helpers.js';
import { tempDir } from '../helpers/tempDir.js';
import { environmentInfo } from '../helpers/environmentInfo.js';

describe('apacheRequireExpr', () => {
  it('doubles backslashes (ap_expr eats one) and quotes when asked', () => {
    expect(apacheRequireExpr('CORP\\devs', { quote: true })).toBe('"CORP\\\\devs"');
    expect(apacheRequireExpr('cn=Trac Users,dc=example', { quote: false })).toBe('cn=Trac Users,dc=example');
  });

  it.each(['a"b', '%{REMOTE_ADDR}', '$1', 'x${HOME}', ' padded', 'line\nbreak', ''])('refuses %j', (value) => {
    expect(() => apacheRequireExpr(value, { quote: true })).toThrow(ApacheValueError);
  });
});

describe('protectedLocation', () => {
  it('one environment: <Location prefix/login>; root prefix: /login', () => {
    expect(protectedLocation('environment', '/trac', 'login')).toEqual({ match: false, path: '/trac/login' });
    expect(protectedLocation('environment', '/', 'login')).toEqual({ match: false, path: '/login' });
  });

  it('a parent dir: a regex that matches each project\'s /login and nothing else', () => {
    const { match, path: pattern } = protectedLocation('parent', '/pro.jects', 'login');
    expect(match).toBe(true);
    const re = new RegExp(pattern);
    for (const url of ['/pro.jects/a/login', '/pro.jects/a/login/', '/pro.jects/my-proj/login']) expect(re.test(url), url).toBe(true);
    for (const url of ['/proXjects/a/login', '/pro.jects/login', '/pro.jects/a/b/login', '/pro.jects/a/loginx', '/x/pro.jects/a/login', '/pro.jects/a/wiki/login']) {
      expect(re.test(url), url).toBe(false);
    }
  });

  it('site scope protects the whole prefix', () => {
    expect(protectedLocation('parent', '/trac', 'site')).toEqual({ match: false, path: '/trac' });
  });
});

function inspection(env: Partial<EnvironmentInfo> = {}): Inspection {
  return { kind: 'environment', path: '/srv/trac/env', environments: [environmentInfo(env)], skipped: [], problems: [], databaseServers: [] };
}

function options(overrides: Partial<GenerateOptions>): GenerateOptions {
  return { ...DEFAULT_GENERATE_OPTIONS, ...overrides };
}

async function usageMessage(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    return (error as UserError).message;
  }
  throw new Error('expected a usage error');
}

describe('decideAuth', () => {
  it('no --auth: nothing protected, only the base modules', async () => {
    const d = await decideAuth(inspection(), options({}), '/trac');
    expect(d.auth.method).toBe('none');
    expect(d.auth.location).toBeNull();
    expect(d.modules).toEqual(['wsgi', 'authz_core']);
  });

  it('--auth basic needs an existing --auth-user-file', async () => {
    expect(await usageMessage(decideAuth(inspection(), options({ auth: 'basic' }), '/trac'))).toMatch(/^--auth basic needs --auth-user-file/);
    const missing = path.join(await tempDir(), 'nope');
    expect(await usageMessage(decideAuth(inspection(), options({ auth: 'basic', authUserFile: missing }), '/trac'))).toBe(`--auth-user-file ${missing}: no such file`);
  });

  it('method flags with the wrong method are named', async () => {
    expect(await usageMessage(decideAuth(inspection(), options({ authLdapUrl: 'ldap://x/' }), '/trac'))).toBe('--auth-ldap-url needs --auth ldap (got --auth none)');
    expect(await usageMessage(decideAuth(inspection(), options({ auth: 'kerberos', authRequireGroup: 'g' }), '/trac'))).toMatch(/^--auth-require-group needs --auth basic or --auth digest or --auth ldap or --auth sspi/);
    expect(await usageMessage(decideAuth(inspection(), options({ authScope: 'site' }), '/trac'))).toMatch(/^--auth-scope site needs a login method/);
  });

  it('--auth digest checks that the realm is the one in the htdigest file', async () => {
    const file = path.join(await tempDir(), 'htdigest');
    await fs.writeFile(file, 'CORP\\alice:Company:0123456789abcdef0123456789abcdef\n');
    expect(await usageMessage(decideAuth(inspection(), options({ auth: 'digest', authUserFile: file }), '/trac'))).toMatch(/^--auth-realm "Trac" does not match the realm in .* \("Company"\)/);
    const ok = await decideAuth(inspection(), options({ auth: 'digest', authUserFile: file, authRealm: 'Company' }), '/trac');
    expect(ok.auth.realm).toBe('Company');
    expect(ok.modules).toContain('auth_digest');
  });

  it('a group for basic needs a group file and is escaped for ap_expr', async () => {
    const dir = await tempDir();
    const users = path.join(dir, 'htpasswd');
    const groups = path.join(dir, 'groups');
    await fs.writeFile(users, '');
    await fs.writeFile(groups, '');
    expect(await usageMessage(decideAuth(inspection(), options({ auth: 'basic', authUserFile: users, authRequireGroup: 'CORP\\devs' }), '/trac'))).toMatch(/needs --auth-group-file/);
    const d = await decideAuth(inspection(), options({ auth: 'basic', authUserFile: users, authGroupFile: groups, authRequireGroup: 'CORP\\devs' }), '/trac');
    expect(d.auth.require).toEqual({ kind: 'group', name: 'CORP\\devs' });
    expect(helpers.apacheRequire(d.auth.require)).toBe('group "CORP\\\\devs"');
    expect(d.modules).toContain('authz_groupfile');
  });

  it('ldap: URL scheme checked, group DN unquoted, password only by file', async () => {
    expect(await usageMessage(decideAuth(inspection(), options({ auth: 'ldap' }), '/trac'))).toMatch(/^--auth ldap needs --auth-ldap-url/);
    expect(await usageMessage(decideAuth(inspection(), options({ auth: 'ldap', authLdapUrl: 'http://dc/' }), '/trac'))).toMatch(/must start with ldap:\/\//);
    const secret = path.join(await tempDir(), 'bind secret');
    await fs.writeFile(secret, 'x');
    expect(
      await usageMessage(decideAuth(inspection(), options({ auth: 'ldap', authLdapUrl: 'ldap://dc/', authLdapBindDn: 'cn=a', authLdapBindPasswordFile: secret }), '/trac')),
    ).toMatch(/cannot pass a path with spaces/);
    const d = await decideAuth(inspection(), options({ auth: 'ldap', authLdapUrl: 'ldaps://dc/dc=x?uid', authRequireGroup: 'cn=Trac Users,dc=x' }), '/trac');
    expect(d.auth.require).toEqual({ kind: 'ldap-group', name: 'cn=Trac Users,dc=x' });
    expect(helpers.apacheRequire(d.auth.require)).toBe('ldap-group cn=Trac Users,dc=x');
    expect(d.modules).toEqual(expect.arrayContaining(['authnz_ldap', 'ldap', 'auth_basic']));
  });

  it('kerberos and sspi advise the stripping they need', async () => {
    const k = await decideAuth(inspection(), options({ auth: 'kerberos' }), '/trac');
    expect(k.notes.join('\n')).toContain('--strip-realm');
    expect(k.modules).toContain('auth_gssapi');
    const s = await decideAuth(inspection(), options({ auth: 'sspi', authRequireGroup: 'CORP\\Trac Users' }), '/trac');
    expect(s.notes.join('\n')).toContain('--strip-domain');
    expect(s.auth.require).toEqual({ kind: 'sspi-group', name: 'CORP\\Trac Users' });
    expect(helpers.apacheRequire(s.auth.require)).toBe('sspi-group "CORP\\Trac Users"');
  });

  it('directory logins ignore case: advise [trac] ignore_auth_case where it is off', async () => {
    const off = await decideAuth(inspection(), options({ auth: 'sspi' }), '/trac');
    expect(off.notes.join('\n')).toContain('ignore_auth_case = true in env');
    const on = await decideAuth(inspection({ ignoreAuthCase: true }), options({ auth: 'sspi' }), '/trac');
    expect(on.notes.join('\n')).not.toContain('ignore_auth_case');
  });

  it('a login-form plugin: --auth refuses to protect /login unless --auth-force', async () => {
    const withAm = inspection({ loginFormComponents: ['acct_mgr.web_ui.LoginModule'] });
    const message = await usageMessage(decideAuth(withAm, options({ auth: 'sspi' }), '/trac'));
    expect(message).toContain('acct_mgr.web_ui.LoginModule');
    expect(message).toContain('/login');
    const forced = await decideAuth(withAm, options({ auth: 'sspi', authForce: true }), '/trac');
    expect(forced.notes.join('\n')).toContain('log in twice');
    const noAuth = await decideAuth(withAm, options({}), '/trac');
    expect(noAuth.auth.method).toBe('none');
  });
});

describe('the LDAP bind password file', () => {
  it('is flagged when every user can read it, and not when it is 0600', async () => {
    const dir = await tempDir();
    const secret = path.join(dir, 'bind.pw');
    await fs.writeFile(secret, 'pw\n', { mode: 0o644 });
    await fs.chmod(secret, 0o644);
    const ldap = { auth: 'ldap' as const, authLdapUrl: 'ldap://dc.example.com/dc=example?uid', authLdapBindDn: 'cn=trac', authLdapBindPasswordFile: secret };
    const open = await decideAuth(inspection(), options(ldap), '/trac');
    expect(open.notes.join('\n')).toMatch(/warning: --auth-ldap-bind-password-file .*bind\.pw is readable by every user on this machine \(mode 0644\)/);
    await fs.chmod(secret, 0o600);
    const closed = await decideAuth(inspection(), options(ldap), '/trac');
    expect(closed.notes.join('\n')).not.toContain('bind.pw');
  });
});

