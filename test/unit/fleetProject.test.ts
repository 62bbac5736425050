import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { healthChecks } from '../../src/fleet/healthChecks.js';
import { renderFleetProject, type RemoteLayout } from '../../src/fleet/project.js';
import { parseRecap } from '../../src/fleet/runPlaybook.js';
import { renderPlan } from '../../src/render/renderPlan.js';
import { sampleAuth, samplePlan } from '../helpers/samplePlan.js';

const LAYOUT: RemoteLayout = {
  root: '/srv/trac-deploy/project',
  venv: '/srv/trac-deploy/project/venv-abc',
  htdocs: '/srv/trac-deploy/project/htdocs-def',
  htdocsArchive: 'htdocs-def.tar.gz',
  confName: '98-project',
  earlierConfName: 'project',
};

function remotePlan(overrides: Parameters<typeof samplePlan>[0] = {}) {
  return samplePlan({
    files: { outDir: LAYOUT.root, wsgi: `${LAYOUT.root}/project.wsgi`, apache: `${LAYOUT.root}/project.conf` },
    daemon: { processGroup: 'project', processes: 2, threads: 5, pythonHome: LAYOUT.venv, timeouts: [] },
    python: { home: LAYOUT.venv, siteDirs: [], eggCache: '/srv/trac/project/.egg-cache' },
    staticAliases: [{ url: '/trac/chrome/common', dir: `${LAYOUT.htdocs}/common`, key: 'common', urlRegex: null }],
    ...overrides,
  });
}

function project(plan = remotePlan()) {
  const files = renderFleetProject({
    plan,
    out: '/tmp/out',
    group: 'trac_web',
    layout: LAYOUT,
    debianPackages: ['apache2', 'libapache2-mod-wsgi-py3'],
    pipPackages: ['Trac==1.6', 'setuptools<82'],
    svnRepositories: ['/srv/svn/main'],
    checks: healthChecks(plan, ['common']),
  });
  return new Map(files.map((f) => [path.relative('/tmp/out', f.path), f]));
}

describe('fleet project', () => {
  it("ships generate's own .wsgi and .conf for the same plan, byte for byte", () => {
    const plan = remotePlan();
    const files = project(plan);
    const [wsgi, conf] = renderPlan(plan);
    expect(files.get('roles/trac_deploy/files/project.wsgi')?.content).toBe(wsgi!.content);
    expect(files.get('roles/trac_deploy/files/98-project.conf')?.content).toBe(conf!.content);
    expect(conf!.content).toContain(`python-home="${LAYOUT.venv}"`);
  });

  it('writes a playbook that goes one host at a time and stops at the first failure', () => {
    const site = parse(project().get('site.yml')!.content) as Record<string, unknown>[];
    expect(site[0]).toMatchObject({ hosts: 'trac_web', serial: 1, max_fail_percentage: 0, roles: [{ role: 'trac_deploy' }] });
  });

  it('puts the plan into role variables and leaves Jinja expressions to Ansible', () => {
    const files = project();
    const vars = parse(files.get('roles/trac_deploy/vars/main.yml')!.content) as Record<string, unknown>;
    expect(vars).toMatchObject({
      trac_deploy_venv: LAYOUT.venv,
      trac_deploy_wsgi_file: `${LAYOUT.root}/project.wsgi`,
      trac_deploy_pip_packages: ['Trac==1.6', 'setuptools<82'],
      trac_deploy_apache_modules: ['wsgi', 'authz_core'],
      trac_deploy_svn_repositories: ['/srv/svn/main'],
    });
    const tasks = files.get('roles/trac_deploy/tasks/main.yml')!.content;
    const parsed = parse(tasks) as { name: string; block?: unknown[]; rescue?: { name: string }[] }[];
    const block = parsed.find((t) => t.block);
    expect(block?.rescue?.map((t) => t.name)).toContain('Restore the previous Apache configuration');
    expect(tasks).toContain('{{ trac_deploy_pip_packages }}');
    expect(tasks).toContain('Require every Subversion repository to be reachable on this host');
    expect(tasks).not.toContain('\\{{');
    const defaults = parse(files.get('roles/trac_deploy/defaults/main.yml')!.content) as Record<string, unknown>;
    expect(defaults.trac_deploy_http_host).toBe('{{ ansible_host | default(inventory_hostname) }}');
  });
});

describe('health checks', () => {
  it('asks for the project page with its escaped title, a static file and, with auth, the login challenge', () => {
    const plan = remotePlan({
      source: { kind: 'environment', path: '/srv/trac/project', environments: [{ name: 'project', path: '/srv/trac/project', projectName: 'R&D <Team>' }] },
      auth: sampleAuth({ method: 'basic', scope: 'login' }),
    });
    expect(healthChecks(plan, ['common', 'site'])).toEqual([
      { what: 'project: project page', path: '/trac/', status: 200, contains: 'R&amp;D &lt;Team&gt;' },
      { what: 'static file served by Apache', path: '/trac/chrome/common/css/trac.css', status: 200, contains: 'body' },
      { what: 'login challenge', path: '/trac/login', status: 401, contains: '' },
    ]);
  });

  it('expects 401 everywhere when the whole site needs a login, and an index for a parent directory', () => {
    const plan = remotePlan({
      source: { kind: 'parent', path: '/srv/trac', environments: [{ name: 'a', path: '/srv/trac/a', projectName: 'A' }] },
      auth: sampleAuth({ method: 'basic', scope: 'site' }),
    });
    expect(healthChecks(plan, ['common'])).toEqual([{ what: 'a: login required', path: '/trac/a/', status: 401, contains: '' }]);
    expect(healthChecks({ ...plan, auth: sampleAuth() }, ['common']).map((c) => c.path)).toEqual(['/trac/', '/trac/a/', '/trac/a/chrome/common/css/trac.css']);
  });
});

describe('play recap', () => {
  it('reads each host\'s counts from the last PLAY RECAP', () => {
    const output = [
      'PLAY [x] ***',
      'PLAY RECAP *********',
      'web1                       : ok=20   changed=0    unreachable=0    failed=0    skipped=4    rescued=0    ignored=0',
      'web2                       : ok=12   changed=3    unreachable=0    failed=1    skipped=2    rescued=1    ignored=0   ',
      '',
    ].join('\n');
    expect(parseRecap(output)).toEqual({
      web1: { ok: 20, changed: 0, unreachable: 0, failed: 0, skipped: 4, rescued: 0, ignored: 0 },
      web2: { ok: 12, changed: 3, unreachable: 0, failed: 1, skipped: 2, rescued: 1, ignored: 0 },
    });
    expect(parseRecap('no recap')).toEqual({});
  });
});
