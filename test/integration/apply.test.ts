import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { HELLO_TEXT, applyInterruptedAt, disposeTree, startTempTree, snapshotConfig, type DebianTree } from '../helpers/debianTree.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * apply against a throwaway Apache laid out like Debian's /etc/apache2 (its own ServerRoot,
 * envvars and port on 127.0.0.1), started and reloaded through the real apache2ctl.
 */
let root: string;
let good: string;
let broken: string;
let tree: DebianTree | null = null;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-apply-'));
  await fs.chmod(root, 0o755);
  const env = await initEnv(path.join(root, 'env'), 'Applied Project');
  await chownToApache(env);
  good = path.join(root, 'out');
  const generated = await runCli(['generate', env, '--out', good, '--python-home', VENV, '--name', 'applied']);
  expect(generated.code, generated.stderr).toBe(0);
  broken = path.join(root, 'broken');
  await fs.copy(good, broken);
  await fs.appendFile(path.join(broken, 'applied.conf'), '\nThisIsNotADirective on\n');
});

afterAll(async () => {
  if (root) await fs.remove(root);
});

afterEach(async () => {
  await disposeTree(tree);
  tree = null;
});

async function startTree(): Promise<DebianTree> {
  tree = await startTempTree();
  return tree;
}

async function body(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30000) });
  return { status: response.status, text: await response.text() };
}

async function expectOldSite(t: DebianTree): Promise<void> {
  const hello = await body(t.url('/hello/'));
  expect(hello.status).toBe(200);
  expect(hello.text).toContain(HELLO_TEXT);
}

const apply = (t: DebianTree, ...args: string[]) => runCli(['apply', ...args, '--apache-root', t.root]);

describe('apply to a Debian-like Apache tree', () => {
  it('installs, enables, reloads gracefully and serves Trac; --rollback restores the tree exactly', async () => {
    const t = await startTree();
    const before = await snapshotConfig(t.root);
    const unmounted = (await body(t.url('/trac/wiki/WikiStart'))).status;
    expect(unmounted).not.toBe(200);
    const pid = await t.pid();
    const result = await apply(t, good, '--json');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { changed: { path: string; before: string; after: string }[]; reloadedPid: number };
    expect(report.changed).toEqual([
      { path: path.join(t.root, 'conf-available', '98-applied.conf'), before: 'absent', after: 'file' },
      { path: path.join(t.root, 'conf-enabled', '98-applied.conf'), before: 'absent', after: 'symlink' },
    ]);
    expect(report.reloadedPid).toBe(pid);
    expect(await fs.readlink(path.join(t.root, 'conf-enabled', '98-applied.conf'))).toBe('../conf-available/98-applied.conf');
    const trac = await body(t.url('/trac/wiki/WikiStart'));
    expect(trac.status, await t.errorLog()).toBe(200);
    expect(trac.text).toContain('Applied Project');
    await expectOldSite(t);
    expect(await t.pid()).toBe(pid);

    // applying the same files again changes nothing
    const again = await apply(t, good);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to change');

    const rollback = await runCli(['apply', '--rollback', '--apache-root', t.root]);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(await snapshotConfig(t.root)).toEqual(before);
    expect((await body(t.url('/trac/wiki/WikiStart'))).status).toBe(unmounted);
    await expectOldSite(t);
    const nothing = await runCli(['apply', '--rollback', '--apache-root', t.root]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/^trac-deploy: nothing to roll back/);
  });

  it('generate --apply writes, installs and serves in one step, with one JSON document', async () => {
    const t = await startTree();
    const env = await initEnv(path.join(root, 'env-one-step'), 'One Step Project');
    await chownToApache(env);
    const out = path.join(root, 'out-one-step');
    const result = await runCli(['generate', env, '--out', out, '--python-home', VENV, '--name', 'onestep', '--url-prefix', '/onestep', '--apply', '--apache-root', t.root, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { files: { kind: string }[]; apply: { changed: { path: string }[] } };
    expect(doc.files.map((f) => f.kind).sort()).toEqual(['apache', 'manifest', 'wsgi']);
    expect(doc.apply.changed.map((c) => c.path)).toContain(path.join(t.root, 'conf-enabled', '98-onestep.conf'));
    const trac = await body(t.url('/onestep/wiki/WikiStart'));
    expect(trac.status, await t.errorLog()).toBe(200);
    expect(trac.text).toContain('One Step Project');
    await expectOldSite(t);
    const refused = await runCli(['generate', env, '--out', out, '--apply', '--check', '--apache-root', t.root]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^trac-deploy: --apply cannot be combined with --check/);
  });

  it('a configuration Apache rejects is rolled back and the previous site still answers', async () => {
    const t = await startTree();
    const before = await snapshotConfig(t.root);
    const pid = await t.pid();
    const result = await apply(t, broken);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^trac-deploy: the new configuration fails Apache's configuration test; every file was restored/);
    expect(result.stderr).toContain('ThisIsNotADirective');
    expect(await snapshotConfig(t.root)).toEqual(before);
    expect(await t.pid()).toBe(pid);
    await expectOldSite(t);
  });

  it('SIGTERM after the files are installed restores them before exiting', async () => {
    const t = await startTree();
    const before = await snapshotConfig(t.root);
    const result = await applyInterruptedAt(t.root, good, 'installed', 'SIGTERM');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('interrupted by SIGTERM during apply; every file was restored');
    expect(await snapshotConfig(t.root)).toEqual(before);
    await expectOldSite(t);
  });

  it('SIGINT after the graceful reload restores the files and reloads the old configuration', async () => {
    const t = await startTree();
    const before = await snapshotConfig(t.root);
    const unmounted = (await body(t.url('/trac/wiki/WikiStart'))).status;
    expect(unmounted).not.toBe(200);
    const result = await applyInterruptedAt(t.root, good, 'reloaded', 'SIGINT');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('interrupted by SIGINT');
    expect(await snapshotConfig(t.root)).toEqual(before);
    await expectOldSite(t);
    // the graceful reload of the restored configuration has unmounted Trac again
    let status = 200;
    for (let i = 0; i < 50 && status !== unmounted; i++) {
      status = (await body(t.url('/trac/wiki/WikiStart'))).status;
      if (status !== unmounted) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(unmounted);
  });

  it('SIGKILL midway leaves a journal; the next run undoes it first and then applies', async () => {
    const t = await startTree();
    const before = await snapshotConfig(t.root);
    const killed = await applyInterruptedAt(t.root, good, 'installed', 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    // the half-applied files are on disk, recorded in an in-progress journal, with the lock left
    expect(await fs.pathExists(path.join(t.root, 'conf-available', '98-applied.conf'))).toBe(true);
    expect(await fs.pathExists(path.join(t.root, '.trac-deploy', 'lock'))).toBe(true);
    await expectOldSite(t);

    const recovered = await runCli(['apply', '--rollback', '--apache-root', t.root]);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stderr).toContain('that was interrupted midway');
    expect(await snapshotConfig(t.root)).toEqual(before);
    await expectOldSite(t);

    const applied = await apply(t, good);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await body(t.url('/trac/wiki/WikiStart'))).status).toBe(200);
  });

  it('refuses to replace a configuration file it did not write, without --force', async () => {
    const t = await startTree();
    await fs.writeFile(path.join(t.root, 'conf-available', 'applied.conf'), '# hand-written\n');
    const before = await snapshotConfig(t.root);
    const result = await apply(t, good);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^trac-deploy: .*applied\.conf exists and was not written by trac-deploy/);
    expect(await snapshotConfig(t.root)).toEqual(before);
    const forced = await apply(t, good, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    const rollback = await runCli(['apply', '--rollback', '--apache-root', t.root]);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(await snapshotConfig(t.root)).toEqual(before);
  });
});

describe('machine checks before apply', () => {
  it('refuses, changing nothing, when the Apache user cannot write the SQLite database', async () => {
    const t = await startTree();
    const before = await snapshotConfig(t.root);
    const db = path.join(root, 'env', 'db', 'trac.db');
    await fs.chown(db, 0, 0);
    await fs.chmod(db, 0o600);
    try {
      const result = await apply(t, good);
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')[0]).toBe(`trac-deploy: error: the Apache user www-data cannot write ${db} (the SQLite database); e.g. chown -R www-data:www-data the environment, or chmod`);
      // Trac, asked as www-data (the preflight), says the same in its words.
      expect(result.stderr).toContain(`requires read _and_ write permissions to the database file ${db}`);
      expect(result.stderr).toMatch(/machine checks? failed; nothing was changed/);
      expect(await snapshotConfig(t.root)).toEqual(before);
    } finally {
      await chownToApache(path.join(root, 'env'));
      await fs.chmod(db, 0o644);
    }
  });

  it('reports the mod_wsgi version and MPM it found', async () => {
    const t = await startTree();
    const result = await apply(t, good, '--no-reload');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^checked: mod_wsgi 4\.\d+\.\d+ \(\/usr\/lib\/apache2\/modules\/mod_wsgi\.so\), MPM event$/m);
    // --no-reload: installed, but the running server still has the old configuration
    expect((await body(t.url('/trac/wiki/WikiStart'))).status).not.toBe(200);
  });
});
