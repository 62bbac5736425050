import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configTest } from '../../src/apache/configTest.js';
import { findApache, moduleAvailable } from '../../src/apache/layout.js';
import { DEFAULT_MODULES } from '../../src/apache/serverConfig.js';
import { runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { pythonCompileError } from '../helpers/python.js';
import { initEnv } from '../helpers/tracEnv.js';

/**
 * LDAP, Kerberos and SSPI need a directory, a KDC or Windows, none of which is here. What can
 * be proven is proven: `apache2ctl -t` accepts the generated configuration with exactly the
 * modules generate names, and rejects it without them (so the names are the right ones).
 */
let root: string;
let env: string;
let parent: string;
let bindSecret: string;
let keytab: string;
let digestFile: string;
let groupFile: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-authconf-'));
  env = await initEnv(path.join(root, 'env'), 'Conf Project');
  parent = path.join(root, 'parent');
  await initEnv(path.join(parent, 'one'), 'One');
  bindSecret = path.join(root, 'ldap-bind.secret');
  await fs.writeFile(bindSecret, 'not-a-real-password\n', { mode: 0o600 });
  keytab = path.join(root, 'http.keytab');
  await fs.writeFile(keytab, '');
  digestFile = path.join(root, 'htdigest');
  await fs.writeFile(digestFile, 'CORP\\alice:Corp Trac:00000000000000000000000000000000\n');
  groupFile = path.join(root, 'groups');
  await fs.writeFile(groupFile, 'CORP\\Trac Users: CORP\\alice\n');
});

afterAll(async () => {
  if (root) await fs.remove(root);
});

interface Generated {
  conf: string;
  wsgi: string;
  modules: string[];
  content: string;
}

async function generate(name: string, source: () => string, args: string[]): Promise<Generated> {
  const out = path.join(root, `out-${name}`);
  const result = await runCli(['generate', source(), '--out', out, '--python-home', VENV, '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  const json = JSON.parse(result.stdout) as { files: { path: string; kind: string }[]; plan: { apacheModules: string[] } };
  const conf = json.files.find((f) => f.kind === 'apache')?.path ?? '';
  const wsgi = json.files.find((f) => f.kind === 'wsgi')?.path ?? '';
  return { conf, wsgi, modules: json.plan.apacheModules, content: await fs.readFile(conf, 'utf8') };
}

const CASES: { name: string; source: () => string; args: () => string[]; needs: string[]; specific: string[]; invalidWithout: RegExp | null; expect: RegExp[] }[] = [
  {
    name: 'ldap with bind DN, password file and group, parent dir',
    source: () => parent,
    args: () => [
      '--auth', 'ldap',
      '--auth-ldap-url', 'ldap://dc1.example.com dc2.example.com/dc=example,dc=com?sAMAccountName?sub?(objectClass=user)',
      '--auth-ldap-bind-dn', 'CN=Apache Service,OU=Service,DC=example,DC=com',
      '--auth-ldap-bind-password-file', bindSecret,
      '--auth-require-group', 'CN=Trac Users,OU=Groups,DC=example,DC=com',
      '--strip-domain', '--pool', 'disable',
    ],
    needs: ['auth_basic', 'authnz_ldap', 'ldap', 'authz_user'],
    specific: ['authnz_ldap', 'ldap'],
    invalidWithout: /Unknown Authn provider: ldap|Invalid command 'AuthLDAP/,
    expect: [/<LocationMatch "\^\/trac\/\[\^\/\]\+\/login\(\/\|\$\)">/, /Require ldap-group CN=Trac Users,OU=Groups,DC=example,DC=com\n/, /AuthLDAPBindPassword "exec:\/bin\/cat /],
  },
  {
    name: 'kerberos with keytab and --strip-realm, whole site',
    source: () => env,
    args: () => ['--auth', 'kerberos', '--auth-keytab', keytab, '--auth-scope', 'site', '--strip-realm', '--strip-domain'],
    needs: ['auth_gssapi', 'authz_user'],
    specific: ['auth_gssapi'],
    invalidWithout: /Invalid command 'GssapiCredStore'/,
    expect: [/<Location "\/trac">/, /AuthType GSSAPI/, /GssapiCredStore "keytab:/],
  },
  {
    name: 'digest with a group file, embedded mode, both access syntaxes',
    source: () => env,
    args: () => ['--auth', 'digest', '--auth-user-file', digestFile, '--auth-realm', 'Corp Trac', '--auth-group-file', groupFile, '--auth-require-group', 'CORP\\Trac Users', '--mode', 'embedded', '--apache-syntax', 'both', '--strip-domain'],
    needs: ['auth_digest', 'authn_file', 'authz_groupfile'],
    specific: ['auth_digest'],
    invalidWithout: /Invalid command 'AuthDigestProvider'/,
    expect: [/AuthType Digest/, /Require group "CORP\\\\Trac Users"/],
  },
  {
    name: 'sspi with a domain group (Windows module, under <IfModule>)',
    source: () => env,
    args: () => ['--auth', 'sspi', '--auth-require-group', 'CORP\\Trac Users', '--strip-domain'],
    needs: ['authnz_sspi'],
    specific: ['authnz_sspi'],
    invalidWithout: null,
    expect: [/<IfModule mod_authnz_sspi\.c>/, /Require sspi-group "CORP\\Trac Users"/, /<IfModule !mod_authnz_sspi\.c>[\s\S]*Require all denied/],
  },
];

describe('login methods without a server here pass apache2ctl -t with the modules they name', () => {
  const layout = findApache();
  for (const c of CASES) {
    it(c.name, async () => {
      const g = await generate(c.name.replace(/\W+/g, '-'), c.source, c.args());
      expect(g.modules).toEqual(expect.arrayContaining(['wsgi', ...c.needs]));
      for (const re of c.expect) expect(g.content).toMatch(re);
      expect(g.content).toContain(`# Needs these Apache modules loaded: ${g.modules.join(', ')}`);
      expect(await pythonCompileError(g.wsgi)).toBe('');

      const windowsOnly = g.modules.filter((m) => !moduleAvailable(layout, m));
      expect(windowsOnly).toEqual(c.name.startsWith('sspi') ? ['authnz_sspi'] : []);
      const withModules = await configTest([g.conf], { modules: [...new Set([...DEFAULT_MODULES, ...g.modules])] });
      expect(withModules.output).toContain('Syntax OK');
      expect(withModules.ok).toBe(true);

      if (c.invalidWithout) {
        const without = await configTest([g.conf], { modules: [...new Set([...DEFAULT_MODULES, ...g.modules])].filter((m) => !c.specific.includes(m)) });
        expect(without.ok).toBe(false);
        expect(without.output).toMatch(c.invalidWithout);
      }
    });
  }
});
