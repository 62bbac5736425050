import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATE_OPTIONS } from '../../src/plan/options.js';
import { planDeployment } from '../../src/plan/planDeployment.js';
import { renderPlan } from '../../src/render/renderPlan.js';
import type { EnvironmentPreflight, Inspection } from '../../src/inspect/types.js';
import { environmentOn, inspectionOf } from '../helpers/environmentInfo.js';

const pre = (overrides: Partial<EnvironmentPreflight> = {}): EnvironmentPreflight => ({
  opened: true,
  project: 'P',
  repositories: [],
  attachment: null,
  xsendfile: { on: false, header: 'X-Sendfile' },
  filesDir: '/srv/trac/project/files',
  pluginsNotLoaded: [],
  ...overrides,
});

function inspected(preflight: EnvironmentPreflight, svnBindingsFrom: string | null = null): Inspection {
  const inspection = inspectionOf('environment', { ...environmentOn('project', 'sqlite:db/trac.db'), preflight });
  return { ...inspection, preflight: { status: 'ran', python: '/srv/venv/bin/python', pythonVersion: '3.11.2', user: 'www-data', trac: '1.6', svnBindingsFrom } };
}

describe('remedies the plan writes from the preflight', () => {
  it('Debian svn bindings: only svn and libsvn, with a note', async () => {
    const repos = [{ name: 'main', type: 'svn', ok: true, error: null, hidden: false, alias: null }];
    const plan = await planDeployment({ inspection: inspected(pre({ repositories: repos }), '/usr/lib/python3/dist-packages'), options: DEFAULT_GENERATE_OPTIONS, outDir: '/srv/deploy' });
    expect(plan.python.svnBindings).toBe('/usr/lib/python3/dist-packages');
    expect(plan.notes.join('\n')).toContain("svn and libsvn packages of /usr/lib/python3/dist-packages (Debian's python3-subversion)");
    expect(plan.source.environments[0]?.uses).toEqual({ repositories: ['main'], attachment: null, xsendfile: false });
    const script = renderPlan(plan).find((f) => f.kind === 'wsgi')!.content;
    expect(script).toContain("return importlib.machinery.PathFinder.find_spec(name, [u'/usr/lib/python3/dist-packages'])");
    expect(script).not.toContain('addsitedir(\'/usr/lib/python3/dist-packages\')');
  });

  it('use_xsendfile: mod_xsendfile for the files directory; nginx\'s header is refused', async () => {
    const plan = await planDeployment({ inspection: inspected(pre({ xsendfile: { on: true, header: 'X-Sendfile' } })), options: DEFAULT_GENERATE_OPTIONS, outDir: '/srv/deploy' });
    expect(plan.apacheModules).toContain('xsendfile');
    const conf = renderPlan(plan).find((f) => f.kind === 'apache')!.content;
    expect(conf).toContain('XSendFile On');
    expect(conf).toContain('XSendFilePath "/srv/trac/project/files"');
    await expect(
      planDeployment({ inspection: inspected(pre({ xsendfile: { on: true, header: 'X-Accel-Redirect' } })), options: DEFAULT_GENERATE_OPTIONS, outDir: '/srv/deploy' }),
    ).rejects.toThrow(/xsendfile_header = X-Accel-Redirect, which Apache does not handle/);
  });

  it('without the preflight nothing is assumed', async () => {
    const plan = await planDeployment({ inspection: inspectionOf('environment', environmentOn('project', 'sqlite:db/trac.db')), options: DEFAULT_GENERATE_OPTIONS, outDir: '/srv/deploy' });
    expect(plan.python.svnBindings).toBeUndefined();
    expect(plan.xsendfile).toBeUndefined();
    expect(plan.source.environments[0]?.uses).toBeUndefined();
  });
});
