import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { DEFAULT_GENERATE_OPTIONS } from '../../src/plan/options.js';
import { planDeployment } from '../../src/plan/planDeployment.js';
import { nameFromPath, validateUrlPrefix } from '../../src/plan/validate.js';
import { environmentOn, inspectionOf } from '../helpers/environmentInfo.js';

const single = inspectionOf('environment', environmentOn('project', 'sqlite:db/trac.db'));

describe('planDeployment', () => {
  it('derives names and paths, daemon by default', async () => {
    const plan = await planDeployment({ inspection: single, options: DEFAULT_GENERATE_OPTIONS, outDir: '/srv/deploy' });
    expect(plan).toMatchObject({
      name: 'project',
      urlPrefix: '/trac',
      mode: 'daemon',
      // Sized from this machine's cores (plan/sizingDecision.ts): one per core, 2 to 8.
      daemon: { processGroup: 'project', processes: Math.max(2, Math.min(os.availableParallelism(), 8)), threads: 5, pythonHome: null },
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

describe('static files of a directory of environments', () => {
  it('leaves chrome/site to Trac, since each project has its own site files', async () => {
    const parent = inspectionOf('parent', environmentOn('a', 'sqlite:db/trac.db'), environmentOn('b', 'sqlite:db/trac.db'));
    const plan = await planDeployment({
      inspection: parent,
      options: DEFAULT_GENERATE_OPTIONS,
      outDir: '/srv/deploy',
      staticDirs: [
        { key: 'common', dir: '/srv/deploy/htdocs/common' },
        { key: 'site', dir: '/srv/deploy/htdocs/site' },
      ],
    });
    expect(plan.staticAliases.map((a) => a.key)).toEqual(['common']);
    expect(plan.notes.join('\n')).toContain('chrome/site is left to Trac');
  });

  it('keeps chrome/site for a single environment', async () => {
    const plan = await planDeployment({
      inspection: single,
      options: DEFAULT_GENERATE_OPTIONS,
      outDir: '/srv/deploy',
      staticDirs: [{ key: 'site', dir: '/srv/deploy/htdocs/site' }],
    });
    expect(plan.staticAliases.map((a) => a.key)).toEqual(['site']);
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
