import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

async function env(name = 'trac16-sqlite') {
  return copyFixture(name, await tempDir());
}

describe('trac-deploy as a command', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('trac-deploy inspect <path>');
    expect(r.stdout).toContain('trac-deploy generate <path>');
    expect(r.stderr).toBe('');
  });

  it('generate --help lists every documented flag', async () => {
    const r = await runCli(['generate', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--out', '--url-prefix', '--name', '--mode', '--python-home', '--site-dir', '--egg-cache', '--pool', '--strip-domain', '--force', '--dry-run', '--check', '--json']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(await fs.readFile(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });

  it.each([
    [['frobnicate'], 'frobnicate'],
    [['inspect', '/tmp', '--frobnicate'], '--frobnicate'],
    [[], 'name a command'],
    [['generate', '/tmp'], 'out'],
    [['generate', '/tmp', '--out', '/tmp/x', '--mode', 'fast'], 'mode'],
  ])('bad usage %j exits 2 with one clean line', async (args, fragment) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expectCleanError(r);
    expect(r.stderr.split('\n')[0]).toContain(fragment);
    expect(r.stdout).toBe('');
  });
});

describe('inspect', () => {
  it('prints a report for an environment and exits 0', async () => {
    const r = await runCli(['inspect', await env()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SQLite Project');
    expect(r.stdout).toContain('45 (Trac 1.4 or 1.6)');
  });

  it('--json is one document of the documented shape, without the password', async () => {
    const r = await runCli(['inspect', await env('trac14-postgres'), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.kind).toBe('environment');
    expect(doc.environments[0]).toMatchObject({ name: 'trac14-postgres', database: { scheme: 'postgres', user: 'trac user' } });
    expect(Array.isArray(doc.problems)).toBe(true);
    expect(r.stdout).not.toMatch(/s3cr/);
  });

  it('a parent directory reports its environments and what it skipped', async () => {
    const r = await runCli(['inspect', await env('parent'), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.kind).toBe('parent');
    expect(doc.environments.map((e: { name: string }) => e.name)).toEqual(['alpha', 'beta']);
  });

  it.each([
    ['a missing path', async () => path.join(await tempDir(), 'missing'), 'no such file'],
    ['a directory that is not an environment', async () => env('not-env'), 'is not a Trac environment'],
    ['an empty parent directory', async () => tempDir(), 'neither a Trac environment'],
    ['an environment whose trac.ini is missing', async () => env('no-ini'), 'trac.ini'],
  ])('%s exits 2 with one clean line', async (_name, make, fragment) => {
    const r = await runCli(['inspect', await make()]);
    expect(r.code).toBe(2);
    expectCleanError(r);
    expect(r.stderr).toContain(fragment);
  });
});

describe('generate', () => {
  it('writes the script and the config, and refuses to overwrite changed files without --force', async () => {
    const e = await env();
    const out = path.join(await tempDir(), 'out');
    const first = await runCli(['generate', e, '--out', out]);
    expect(first.code).toBe(0);
    const wsgi = path.join(out, 'trac16-sqlite.wsgi');
    const conf = path.join(out, 'trac16-sqlite.conf');
    expect(first.stdout).toContain(`wrote (new): ${wsgi}`);
    expect(await fs.readFile(conf, 'utf8')).toContain('WSGIScriptAlias "/trac"');

    const again = await runCli(['generate', e, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged: ${wsgi}`);

    await fs.writeFile(conf, '# my own edits\n');
    const refused = await runCli(['generate', e, '--out', out, '--url-prefix', '/projects']);
    expect(refused.code).toBe(2);
    expectCleanError(refused);
    expect(refused.stderr).toContain(conf);
    expect(refused.stderr).toContain('--force');
    expect(await fs.readFile(conf, 'utf8')).toBe('# my own edits\n');
    expect(await fs.readFile(wsgi, 'utf8')).not.toContain('/projects');

    const forced = await runCli(['generate', e, '--out', out, '--url-prefix', '/projects', '--force']);
    expect(forced.code).toBe(0);
    expect(await fs.readFile(conf, 'utf8')).toContain('WSGIScriptAlias "/projects"');
  });

  it('--dry-run prints the files and writes nothing', async () => {
    const out = path.join(await tempDir(), 'out');
    const r = await runCli(['generate', await env(), '--out', out, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('would write (new)');
    expect(r.stdout).toContain('def application(environ, start_response):');
    expect(await fs.pathExists(out)).toBe(false);
  });

  it('--check exits 0 when up to date and 1 with a unified diff when not', async () => {
    const e = await env();
    const out = path.join(await tempDir(), 'out');
    expect((await runCli(['generate', e, '--out', out])).code).toBe(0);
    const clean = await runCli(['generate', e, '--out', out, '--check']);
    expect(clean.code).toBe(0);
    const drifted = await runCli(['generate', e, '--out', out, '--check', '--threads', '9']);
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toMatch(/^-WSGIDaemonProcess .*threads=5/m);
    expect(drifted.stdout).toMatch(/^\+WSGIDaemonProcess .*threads=9/m);
    expect(drifted.stderr).toContain('drift');
    expect(await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8')).toContain('threads=5');
  });

  it('--json lists absolute paths and kinds', async () => {
    const out = path.join(await tempDir(), 'out');
    const r = await runCli(['generate', await env(), '--out', out, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.files.filter((f: { kind: string }) => f.kind !== 'manifest')).toEqual([
      { path: path.join(out, 'trac16-sqlite.wsgi'), kind: 'wsgi', status: 'new', written: true },
      { path: path.join(out, 'trac16-sqlite.conf'), kind: 'apache', status: 'new', written: true },
    ]);
    expect(doc.environments).toEqual([expect.objectContaining({ name: 'trac16-sqlite' })]);
  });

  it.each([
    ['--out inside the environment root', (e: string) => ['--out', e], 'contains the Trac environment'],
    ['--out inside conf/', (e: string) => ['--out', path.join(e, 'conf', 'x')], 'must never be served'],
    ['a bad --url-prefix', (e: string) => ['--out', `${e}-out`, '--url-prefix', 'trac/'], '--url-prefix'],
    ['a bad --name', (e: string) => ['--out', `${e}-out`, '--name', 'a b'], '--name'],
    ['a missing --python-home', (e: string) => ['--out', `${e}-out`, '--python-home', '/nonexistent/venv'], '--python-home /nonexistent/venv'],
    ['a missing --site-dir', (e: string) => ['--out', `${e}-out`, '--site-dir', '/nonexistent/site'], '--site-dir /nonexistent/site'],
    ['a zero --processes', (e: string) => ['--out', `${e}-out`, '--processes', '0'], '--processes'],
    ['an --out with a wildcard', (e: string) => ['--out', `${e}-out*`], 'wildcard'],
    ["an --out inside the environment's htdocs/ (Trac serves it as chrome/site)", (e: string) => ['--out', path.join(e, 'htdocs', 'deploy')], 'htdocs'],
    ['an --htdocs that is the environment itself', (e: string) => ['--out', `${e}-out`, '--htdocs', e], '--htdocs'],
    ["an --htdocs inside the environment's conf/", (e: string) => ['--out', `${e}-out`, '--htdocs', path.join(e, 'conf')], '--htdocs'],
  ])('%s exits 2 naming the flag, writing nothing', async (_name, args, fragment) => {
    const e = await env();
    const r = await runCli(['generate', e, ...args(e)]);
    expect(r.code).toBe(2);
    expectCleanError(r);
    expect(r.stderr).toContain(fragment);
    expect(await fs.pathExists(`${e}-out`)).toBe(false);
  });

  it('refuses an --out inside a directory of environments, where Trac\'s index would list it', async () => {
    const parent = await env('parent');
    const r = await runCli(['generate', parent, '--out', path.join(parent, 'deploy')]);
    expect(r.code).toBe(2);
    expectCleanError(r);
    expect(r.stderr).toContain('project index');
    expect(await fs.pathExists(path.join(parent, 'deploy'))).toBe(false);
  });

  it('refuses to write through a symlink planted in the output directory', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    await fs.mkdirp(out);
    const victim = path.join(dir, 'victim');
    await fs.writeFile(victim, 'precious');
    await fs.symlink(victim, path.join(out, 'trac16-sqlite.conf'));
    const r = await runCli(['generate', await env(), '--out', out, '--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('symbolic link');
    expect(await fs.readFile(victim, 'utf8')).toBe('precious');
  });
});

describe('a flag that takes a value, followed by another flag', () => {
  it('is an error naming the flag, not the default taken silently', async () => {
    for (const args of [['generate', 'x', '--out', 'y', '--url-prefix', '--force'], ['apply', '--rollback', '--apache-root', '--json']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^trac-deploy: --(url-prefix|apache-root) needs a value; see trac-deploy (generate|apply) --help$/);
    }
  });
});

describe('a command without its arguments', () => {
  it('names what is missing and the command line it takes', async () => {
    const r = await runCli(['deploy', '/srv/trac/env']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('trac-deploy: deploy needs ENV and TARGET: trac-deploy deploy ENV TARGET; see trac-deploy deploy --help');
  });
});
