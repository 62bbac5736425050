import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { HELLO_TEXT, disposeTree, startTempTree, snapshotConfig, type DebianTree } from '../helpers/debianTree.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * A site at / and another at /git, installed by two applies into one Debian-like Apache (real
 * apache2ctl, graceful reloads): whatever the order of the applies, each URL is answered by its
 * own Trac, because apply names the snippets so Apache reads /git first (mod_wsgi takes the first
 * WSGIScriptAlias that matches).
 */
let root: string;
let outRoot: string;
let outGit: string;
let tree: DebianTree | null = null;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-order-'));
  await fs.chmod(root, 0o755);
  const rootEnv = await initEnv(path.join(root, 'root-env'), 'Root Project');
  const gitEnv = await initEnv(path.join(root, 'git-env'), 'Git Project');
  await chownToApache(rootEnv);
  await chownToApache(gitEnv);
  outRoot = path.join(root, 'out-root');
  outGit = path.join(root, 'out-git');
  // "000-trac" sorts before "98-git": under the names of earlier releases, / would have been read first.
  const a = await runCli(['generate', rootEnv, '--out', outRoot, '--python-home', VENV, '--name', '000-trac', '--url-prefix', '/', '--no-preflight']);
  expect(a.code, a.stderr).toBe(0);
  const b = await runCli(['generate', gitEnv, '--out', outGit, '--python-home', VENV, '--name', 'git', '--url-prefix', '/git', '--no-preflight']);
  expect(b.code, b.stderr).toBe(0);
}, 120_000);

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

async function page(t: DebianTree, p: string): Promise<{ status: number; text: string }> {
  const response = await fetch(t.url(p), { signal: AbortSignal.timeout(60000) });
  return { status: response.status, text: await response.text() };
}

const apply = (t: DebianTree, dir: string) => runCli(['apply', dir, '--apache-root', t.root, '--skip-checks']);
const rollback = (t: DebianTree) => runCli(['apply', '--rollback', '--apache-root', t.root]);

/** Each Trac at its own mount point, told apart by its project name; the old static site too. */
async function expectBoth(t: DebianTree): Promise<void> {
  const git = await page(t, '/git/wiki/WikiStart');
  expect(git.status, await t.errorLog()).toBe(200);
  expect(git.text).toContain('Git Project');
  expect(git.text).not.toContain('Root Project');
  const top = await page(t, '/wiki/WikiStart');
  expect(top.status).toBe(200);
  expect(top.text).toContain('Root Project');
  expect((await page(t, '/hello/')).text).toContain(HELLO_TEXT);
}

describe('apply orders snippets so the deeper mount point wins', () => {
  it('/ then /git: both answer their own Trac; each rollback restores the tree exactly', async () => {
    const t = await startTree();
    const pristine = await snapshotConfig(t.root);
    const first = await apply(t, outRoot);
    expect(first.code, first.stderr).toBe(0);
    const afterRoot = await snapshotConfig(t.root);
    expect(afterRoot['conf-enabled/99-000-trac.conf']).toBe('-> ../conf-available/99-000-trac.conf');
    const second = await apply(t, outGit);
    expect(second.code, second.stderr).toBe(0);
    expect(await fs.readlink(path.join(t.root, 'conf-enabled', '98-git.conf'))).toBe('../conf-available/98-git.conf');
    await expectBoth(t);

    const undoGit = await rollback(t);
    expect(undoGit.code, undoGit.stderr).toBe(0);
    expect(await snapshotConfig(t.root)).toEqual(afterRoot);
    // /git is the root Trac's again (its "no handler" page), no longer the Git project
    expect((await page(t, '/git/wiki/WikiStart')).text).not.toContain('Git Project');
    const undoRoot = await rollback(t);
    expect(undoRoot.code, undoRoot.stderr).toBe(0);
    expect(await snapshotConfig(t.root)).toEqual(pristine);
  }, 300_000);

  it('/git then /: both answer their own Trac', async () => {
    const t = await startTree();
    const first = await apply(t, outGit);
    expect(first.code, first.stderr).toBe(0);
    const second = await apply(t, outRoot);
    expect(second.code, second.stderr).toBe(0);
    await expectBoth(t);
  }, 300_000);

  it('an earlier install of / under its old name is renamed in the same journal, and rollback puts the old name back', async () => {
    const t = await startTree();
    const first = await apply(t, outRoot);
    expect(first.code, first.stderr).toBe(0);
    // What an apply before this naming left: <name>.conf, and a journal that records it there.
    const available = path.join(t.root, 'conf-available');
    const enabled = path.join(t.root, 'conf-enabled');
    await fs.rename(path.join(available, '99-000-trac.conf'), path.join(available, '000-trac.conf'));
    await fs.remove(path.join(enabled, '99-000-trac.conf'));
    await fs.symlink('../conf-available/000-trac.conf', path.join(enabled, '000-trac.conf'));
    const transactions = path.join(t.root, '.trac-deploy', 'transactions');
    for (const id of await fs.readdir(transactions)) {
      const file = path.join(transactions, id, 'journal.json');
      const journal = JSON.parse(await fs.readFile(file, 'utf8')) as { entries: { path: string; after: { type: string; target?: string } }[] };
      for (const entry of journal.entries) {
        entry.path = entry.path.replace('99-000-trac.conf', '000-trac.conf');
        if (entry.after.target) entry.after.target = entry.after.target.replace('99-000-trac.conf', '000-trac.conf');
      }
      await fs.writeFile(file, JSON.stringify(journal, null, 2));
    }
    const legacy = await snapshotConfig(t.root);

    const second = await apply(t, outGit);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('000-trac.conf (installed by an earlier apply) is renamed 99-000-trac.conf');
    const after = await snapshotConfig(t.root);
    expect(after['conf-available/000-trac.conf']).toBeUndefined();
    expect(after['conf-available/99-000-trac.conf']).toBe(legacy['conf-available/000-trac.conf']);
    await expectBoth(t);

    const undo = await rollback(t);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await snapshotConfig(t.root)).toEqual(legacy);
  }, 300_000);

  it('refuses, changing nothing, when a hand-written file read first mounts /', async () => {
    const t = await startTree();
    const hand = path.join(t.root, 'conf-available', '10-hand.conf');
    await fs.writeFile(hand, `WSGIScriptAlias / ${path.join(root, 'nowhere.wsgi')}\n`);
    await fs.symlink('../conf-available/10-hand.conf', path.join(t.root, 'conf-enabled', '10-hand.conf'));
    const before = await snapshotConfig(t.root);
    const result = await apply(t, outGit);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/git (98-git.conf) would be answered by / (10-hand.conf)');
    expect(result.stderr).toContain('10-hand.conf was not installed by trac-deploy, so apply does not rename it');
    expect(await snapshotConfig(t.root)).toEqual(before);
  }, 300_000);
});
