import type { DeploymentPlan } from '../../src/plan/types.js';

/** A plan with fixed paths for smoke's unit tests (no disk). */
export function samplePlanForSmoke(overrides: Partial<DeploymentPlan> = {}): DeploymentPlan {
  return {
    source: { kind: 'environment', path: '/srv/trac/project', environments: [{ name: 'project', path: '/srv/trac/project', projectName: 'Project' }] },
    urlPrefix: '/trac',
    name: 'project',
    mode: 'daemon',
    daemon: { processGroup: 'project', processes: 2, threads: 5, pythonHome: '/srv/venv' },
    python: { home: '/srv/venv', siteDirs: [], eggCache: '/srv/trac/project/.egg-cache' },
    pool: { disable: false, backends: [], reason: 'no PostgreSQL or MySQL environment' },
    auth: { stripDomain: false },
    apacheSyntax: '2.4',
    staticAliases: [],
    files: { outDir: '/srv/deploy', wsgi: '/srv/deploy/project.wsgi', apache: '/srv/deploy/project.conf' },
    notes: [],
    ...overrides,
  };
}
