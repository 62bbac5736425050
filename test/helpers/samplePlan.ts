import { STATIC_MAX_AGE } from '../../src/plan/planDeployment.js';
import type { AuthPlan, DeploymentPlan } from '../../src/plan/types.js';

/** A plan with fixed paths, for render tests that must not depend on the disk. */
export function samplePlan(overrides: SampleOverrides = {}): DeploymentPlan {
  const plan = {
    source: { kind: 'environment' as const, path: '/srv/trac/project', environments: [{ name: 'project', path: '/srv/trac/project', projectName: 'Project' }] },
    urlPrefix: '/trac',
    name: 'project',
    mode: 'daemon' as const,
    daemon: { processGroup: 'project', processes: 2, threads: 5, pythonHome: '/srv/venv', timeouts: [] },
    site: null,
    proxy: null,
    publicUrl: null,
    python: { home: '/srv/venv', siteDirs: [], eggCache: '/srv/trac/project/.egg-cache' },
    pool: { disable: false, backends: [], reason: 'no PostgreSQL or MySQL environment' },
    auth: sampleAuth(),
    apacheModules: ['wsgi', 'authz_core'],
    apacheSyntax: '2.4' as const,
    staticAliases: [],
    staticMaxAge: STATIC_MAX_AGE,
    files: { outDir: '/srv/deploy', wsgi: '/srv/deploy/project.wsgi', apache: '/srv/deploy/project.conf' },
    notes: [],
    ...overrides,
  };
  // As planDeployment decides it, unless the case says otherwise.
  return { ...plan, python: { venvInScript: plan.daemon === null, ...plan.python } };
}

/** A case may leave out what planDeployment derives from the rest. */
type SampleOverrides = Partial<Omit<DeploymentPlan, 'python'>> & {
  python?: Omit<DeploymentPlan['python'], 'venvInScript'> & Partial<Pick<DeploymentPlan['python'], 'venvInScript'>>;
};

/** No login method, no stripping: what generate plans without --auth. */
export function sampleAuth(overrides: Partial<AuthPlan> = {}): AuthPlan {
  return {
    method: 'none',
    scope: 'login',
    location: null,
    realm: 'Trac',
    userFile: null,
    groupFile: null,
    require: { kind: 'valid-user' },
    ldap: null,
    keytab: null,
    stripDomain: false,
    stripRealm: false,
    ...overrides,
  };
}
