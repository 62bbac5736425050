import fs from 'fs-extra';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { generate, sharedDir, smokeJson } from '../helpers/smokeBed.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

// The real test bed: Trac 1.6 environments made by trac-admin, served by Apache + mod_wsgi on
// 127.0.0.1 through the configuration generate wrote, checked by smoke.
let root: string;
let single: string;
let parent: string;

beforeAll(async () => {
  root = await sharedDir('trac-deploy-smoke-');
  single = await initEnv(path.join(root, 'single'), 'Smoke Single <&>');
  parent = path.join(root, 'projects');
  await fs.mkdirp(parent);
  await Promise.all(['alpha', 'beta', 'gamma'].map((n) => initEnv(path.join(parent, n), `Project ${n}`)));
  await chownToApache(root);
});

afterAll(async () => {
  if (root) await fs.remove(root);
});

describe('generate -> smoke', () => {
  it('one environment with --python-home: Hello World, then Trac', async () => {
    const out = path.join(root, 'out-venv');
    await generate(single, out, '--python-home', VENV);
    expect(await fs.pathExists(path.join(out, 'single.plan.json'))).toBe(true);

    const hello = await smokeJson(out, '--hello');
    expect(hello.result.code, hello.result.stderr).toBe(0);
    expect(hello.report.requests).toHaveLength(1);
    expect(hello.report.requests[0]).toMatchObject({ url: '/trac', status: 200, ok: true });
    // The Hello World ran in the daemon process group, with the virtualenv as its prefix.
    expect(hello.report.requests[0]?.hello).toMatchObject({ 'process-group': 'single', prefix: VENV });
    expect(hello.report.server.banner).toMatch(/^Apache\/2\.4\.\d+ .*mod_wsgi\/[\d.]+ Python\/3\.\d+$/);

    const trac = await smokeJson(out);
    expect(trac.result.code, trac.result.stderr).toBe(0);
    expect(trac.report.requests[0]).toEqual(expect.objectContaining({ url: '/trac', status: 200, ok: true, title: 'Smoke Single <&>' }));
    // Every page the environment uses; none of its repositories and attachments exist: skipped.
    expect(trac.report.requests.map((r) => [r.url, r.ok, Boolean((r as { skipped?: string }).skipped)])).toEqual([
      ['/trac', true, false],
      ['/trac/wiki/WikiStart', true, false],
      ['/trac/timeline', true, false],
      ['/trac/browser', true, true],
      ['/trac/raw-attachment', true, true],
    ]);
    expect(trac.report.findings).toEqual([]);
    expect(trac.report.server.startMs).toBeGreaterThan(0);
    expect(trac.report.server.stopMs).not.toBeNull();
  });

  it('one environment with --site-dir in embedded mode', async () => {
    const out = path.join(root, 'out-embedded');
    const sitePackages = path.join(VENV, 'lib', `python${await venvPythonVersion()}`, 'site-packages');
    await generate(single, out, '--mode', 'embedded', '--site-dir', sitePackages, '--name', 'embedded', '--url-prefix', '/projects/single');

    const hello = await smokeJson(out, '--hello');
    expect(hello.result.code, hello.result.stderr).toBe(0);
    expect(hello.report.requests[0]).toMatchObject({ url: '/projects/single', status: 200 });
    expect(hello.report.requests[0]?.hello?.['process-group']).toBe('(embedded)');

    const human = await runCli(['smoke', out]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/ok\s+200 GET \/projects\/single .*"Smoke Single <&>"/);
    expect(human.stdout).toContain('Trac answered: the configuration works (every page asked for; 2 skipped, listed above).');
    expect(human.stdout).toContain('skip --- repositories: no repository is configured');
    expect(human.stderr).toBe('');
  });

  it('a parent directory of three environments: the index and the pages of each', async () => {
    const out = path.join(root, 'out-parent');
    await generate(parent, out, '--python-home', VENV);
    const { result, report } = await smokeJson(out);
    expect(result.code, result.stderr).toBe(0);
    expect(report.requests.filter((r) => !r.url.includes('/', 6) || r.url === '/trac').map((r) => [r.url, r.status, r.ok, r.title])).toEqual([
      ['/trac', 200, true, 'Available Projects'],
      ['/trac/alpha', 200, true, 'Project alpha'],
      ['/trac/beta', 200, true, 'Project beta'],
      ['/trac/gamma', 200, true, 'Project gamma'],
    ]);
    for (const name of ['alpha', 'beta', 'gamma']) {
      expect(report.requests.filter((r) => r.url.startsWith(`/trac/${name}/`) && r.status === 200).map((r) => r.url)).toEqual([`/trac/${name}/wiki/WikiStart`, `/trac/${name}/timeline`]);
    }
  });

  it('several configurations in one directory are served together; --name picks one', async () => {
    const out = path.join(root, 'out-two');
    await generate(single, out, '--python-home', VENV, '--name', 'first', '--url-prefix', '/first');
    await generate(parent, out, '--python-home', VENV, '--name', 'second', '--url-prefix', '/second');
    const both = await smokeJson(out, '--hello');
    expect(both.result.code, both.result.stderr).toBe(0);
    expect(both.report.requests.map((r) => [r.url, r.hello?.['process-group']])).toEqual([
      ['/first', 'first'],
      ['/second', 'second'],
    ]);
    const one = await smokeJson(out, '--name', 'second');
    expect(one.result.code, one.result.stderr).toBe(0);
    expect(one.report.requests.map((r) => r.url).filter((u) => !u.includes('/', 8))).toEqual(['/second', '/second/alpha', '/second/beta', '/second/gamma']);
  });
});

async function venvPythonVersion(): Promise<string> {
  const dirs = (await fs.readdir(path.join(VENV, 'lib'))).filter((d) => /^python3\.\d+$/.test(d));
  if (dirs.length !== 1 || !dirs[0]) throw new Error(`expected one lib/python3.X in ${VENV}, found ${dirs.join(', ')}`);
  return dirs[0].slice('python'.length);
}
