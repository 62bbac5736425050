import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeploymentPlan } from '../../src/plan/types.js';
import { renderPlan } from '../../src/render/renderPlan.js';
import { FIXTURES } from '../helpers/paths.js';
import { sampleAuth, samplePlan } from '../helpers/samplePlan.js';

/**
 * Golden files: fixtures/golden/<case>/ holds the expected output of each plan, compared file
 * by file. Regenerate with UPDATE_GOLDEN=1 after a deliberate template change, and review the
 * diff like code.
 */
const CASES: Record<string, DeploymentPlan> = {
  'env-daemon-venv': samplePlan(),
  'env-embedded-site-dirs': samplePlan({
    mode: 'embedded',
    daemon: null,
    python: { home: '/srv/venv', siteDirs: ['/opt/trac/lib', '/opt/plugins'], eggCache: '/var/cache/trac-eggs' },
  }),
  'parent-pool-disabled': samplePlan({
    source: {
      kind: 'parent',
      path: '/srv/trac',
      environments: [
        { name: 'a', path: '/srv/trac/a', projectName: 'A' },
        { name: 'b', path: '/srv/trac/b', projectName: 'B' },
      ],
    },
    name: 'trac',
    daemon: { processGroup: 'trac', processes: 4, threads: 3, pythonHome: null },
    python: { home: null, siteDirs: [], eggCache: '/srv/trac/.egg-cache' },
    pool: { disable: true, backends: ['postgres', 'mysql'], reason: 'several environments share a server' },
    files: { outDir: '/srv/deploy', wsgi: '/srv/deploy/trac.wsgi', apache: '/srv/deploy/trac.conf' },
  }),
  'strip-domain-root-prefix': samplePlan({ urlPrefix: '/', auth: sampleAuth({ stripDomain: true }) }),
  'auth-basic-login': samplePlan({
    auth: sampleAuth({ method: 'basic', location: { match: false, path: '/trac/login' }, userFile: '/etc/trac/htpasswd', stripDomain: true }),
    apacheModules: ['wsgi', 'authz_core', 'auth_basic', 'authn_core', 'authn_file', 'authz_user'],
  }),
  'auth-digest-group-site': samplePlan({
    auth: sampleAuth({
      method: 'digest',
      scope: 'site',
      location: { match: false, path: '/trac' },
      realm: 'Corp "Trac"',
      userFile: '/etc/trac/htdigest',
      groupFile: '/etc/trac/groups',
      require: 'group "CORP\\\\Trac Users"',
    }),
    apacheModules: ['wsgi', 'authz_core', 'auth_digest', 'authn_core', 'authn_file', 'authz_user', 'authz_groupfile'],
  }),
  'auth-ldap-parent': samplePlan({
    source: { kind: 'parent', path: '/srv/trac', environments: [] },
    urlPrefix: '/pro.jects',
    auth: sampleAuth({
      method: 'ldap',
      location: { match: true, path: '^/pro\\.jects/[^/]+/login(/|$)' },
      realm: 'Company login',
      require: 'ldap-group cn=Trac Users,ou=Groups,dc=example,dc=com',
      ldap: { url: 'ldap://dc.example.com/dc=example,dc=com?sAMAccountName?sub', bindDn: 'cn=apache,ou=Service,dc=example,dc=com', bindPasswordFile: '/etc/apache2/ldap-bind.secret' },
      stripDomain: true,
    }),
    apacheModules: ['wsgi', 'authz_core', 'auth_basic', 'authn_core', 'authnz_ldap', 'ldap', 'authz_user'],
  }),
  'auth-kerberos-strip-realm': samplePlan({
    auth: sampleAuth({ method: 'kerberos', location: { match: false, path: '/trac/login' }, keytab: '/etc/apache2/http.keytab', stripDomain: true, stripRealm: true }),
    apacheModules: ['wsgi', 'authz_core', 'auth_gssapi', 'authz_user'],
  }),
  'auth-sspi-group': samplePlan({
    auth: sampleAuth({ method: 'sspi', location: { match: false, path: '/trac/login' }, require: 'sspi-group "CORP\\Trac Users"', stripDomain: true }),
    apacheModules: ['wsgi', 'authz_core', 'authnz_sspi', 'authz_user'],
  }),
  'apache-2.2': samplePlan({ apacheSyntax: '2.2' }),
  'apache-both': samplePlan({ apacheSyntax: 'both' }),
  'odd-paths': samplePlan({
    source: { kind: 'environment', path: "/srv/it's \"ünïcode\" $HOME 100%", environments: [] },
    python: { home: '/srv/my venv', siteDirs: ['/opt/a\\b'], eggCache: '/tmp/eggs $x' },
    daemon: { processGroup: 'project', processes: 2, threads: 5, pythonHome: '/srv/my venv' },
    files: { outDir: '/srv/dé ploy "x"', wsgi: '/srv/dé ploy "x"/project.wsgi', apache: '/srv/dé ploy "x"/project.conf' },
  }),
};

describe('rendered files match the golden copies', () => {
  for (const [name, plan] of Object.entries(CASES)) {
    it(name, async () => {
      const dir = path.join(FIXTURES, 'golden', name);
      for (const file of renderPlan(plan)) {
        const golden = path.join(dir, path.basename(file.path));
        if (process.env.UPDATE_GOLDEN) await fs.outputFile(golden, file.content);
        expect(file.content, golden).toBe(await fs.readFile(golden, 'utf8'));
      }
    });
  }
});
