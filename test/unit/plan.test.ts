import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { EnvironmentInfo, Inspection } from '../../src/inspect/types.js';
import { DEFAULT_GENERATE_OPTIONS } from '../../src/plan/options.js';
import { planDeployment } from '../../src/plan/planDeployment.js';
import { decidePool } from '../../src/plan/poolDecision.js';
import { nameFromPath, validateUrlPrefix } from '../../src/plan/validate.js';
import { parseDatabaseUrl } from '../../src/inspect/databaseUrl.js';

function environment(name: string, database: string): EnvironmentInfo {
  return {
    name,
    path: `/srv/trac/${name}`,
    formatVersion: 1,
    databaseVersion: 45,
    tracRelease: '1.4 or 1.6',
    project: { name, description: null },
    database: parseDatabaseUrl(database),
    repositories: [],
    connectors: [],
    plugins: [],
    enabledComponents: [],
    inherit: { files: [], htdocsDir: null, templatesDir: null, pluginsDir: null },
    ignoreAuthCase: false,
    problems: [],
  };
}

function inspection(kind: Inspection['kind'], ...envs: EnvironmentInfo[]): Inspection {
  return { kind, path: kind === 'parent' ? '/srv/trac' : (envs[0]?.path ?? '/srv/trac/x'), environments: envs, skipped: [], problems: [] };
}

describe('decidePool', () => {
  it('leaves SQLite alone, whatever the layout', () => {
    expect(decidePool(inspection('parent', environment('a', 'sqlite:db/trac.db')), 'auto').disable).toBe(false);
  });

  it('disables pooling for the backends in use under a parent dir', () => {
    const pool = decidePool(inspection('parent', environment('a', 'postgres://u@db/a'), environment('b', 'sqlite:db/trac.db')), 'auto');
    expect(pool).toMatchObject({ disable: true, backends: ['postgres'] });
    expect(pool.reason).toContain('/srv/trac');
  });

  it('keeps pooling for one environment on its own server', () => {
    expect(decidePool(inspection('environment', environment('a', 'mysql://u@db/a')), 'auto').disable).toBe(false);
  });

  it('obeys keep and disable', () => {
    const parent = inspection('parent', environment('a', 'postgres://u@db/a'));
    expect(decidePool(parent, 'keep').disable).toBe(false);
    expect(decidePool(inspection('environment', environment('a', 'sqlite:x')), 'disable')).toMatchObject({ disable: true, backends: ['postgres', 'mysql'] });
  });
});

describe('planDeployment', () => {
  const single = inspection('environment', environment('project', 'sqlite:db/trac.db'));

  it('derives names and paths, daemon by default', async () => {
    const plan = await planDeployment({ inspection: single, options: DEFAULT_GENERATE_OPTIONS, outDir: '/srv/deploy' });
    expect(plan).toMatchObject({
      name: 'project',
      urlPrefix: '/trac',
      mode: 'daemon',
      daemon: { processGroup: 'project', processes: 2, threads: 5, pythonHome: null },
      python: { eggCache: '/srv/trac/project/.egg-cache', siteDirs: [] },
      files: { outDir: '/srv/deploy', wsgi: '/srv/deploy/project.wsgi', apache: '/srv/deploy/project.conf' },
    });
  });

  it('embedded mode has no daemon section', async () => {
    const plan = await planDeployment({ inspection: single, options: { ...DEFAULT_GENERATE_OPTIONS, mode: 'embedded' }, outDir: '/srv/deploy' });
    expect(plan.daemon).toBeNull();
  });

  it('refuses an output directory that would expose the environment', async () => {
    for (const out of ['/srv/trac/project', '/srv/trac', '/srv/trac/project/db']) {
      await expect(planDeployment({ inspection: single, options: DEFAULT_GENERATE_OPTIONS, outDir: out })).rejects.toBeInstanceOf(UserError);
    }
    const plan = await planDeployment({ inspection: single, options: DEFAULT_GENERATE_OPTIONS, outDir: '/srv/trac/project/cgi-bin' });
    expect(plan.files.outDir).toBe(path.resolve('/srv/trac/project/cgi-bin'));
  });
});

describe('validation helpers', () => {
  it.each(['/', '/trac', '/a/b-c.d_e~'])('accepts the URL prefix %s', (p) => {
    expect(validateUrlPrefix(p)).toBe(p);
  });

  it.each(['trac', '/trac/', '/a b', '/a/../b', '//x', '/"x"', '/%2e'])('refuses the URL prefix %j', (p) => {
    expect(() => validateUrlPrefix(p)).toThrow('--url-prefix');
  });

  it('derives a safe name from any directory name', () => {
    expect(nameFromPath('/srv/My Project (ü)')).toBe('My_Project_u_');
    expect(nameFromPath('/srv/...')).toBe('trac');
    expect(nameFromPath('/srv/.hidden')).toBe('hidden');
  });
});
