import { execa } from 'execa';
import fs from 'fs-extra';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { HELLO_TEXT, applyInterruptedAt, makeDebianTree, snapshotTree, type DebianTree } from '../helpers/debianTree.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * The fault matrix for apply: SIGTERM and SIGKILL at every step, a Listen on a busy port at
 * reload, a full and a read-only state directory, a full configuration directory, non-UTF-8
 * bytes in the files, an installed file whose mode and owner the administrator changed. After
 * each fault (and, for SIGKILL, the next run's recovery) the Apache tree must be byte for byte
 * what it was (content, mode, owner, links), and the sites that answered before answer.
 */
let root: string;
let v1: string;
let v2: string;
let busyDir: string;
let tree: DebianTree;
const figures = { injected: 0, identical: 0 };

const LATIN1_V1 = Buffer.from('\n# caf\xe9 v1 \xff\xfe\n', 'latin1');
const LATIN1_V2 = Buffer.from('\n# caf\xe9 v2 \x80\x81 (not UTF-8)\n', 'latin1');

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-faults-'));
  await fs.chmod(root, 0o755);
  const env = await initEnv(path.join(root, 'env'), 'Faulty Project');
  await chownToApache(env);
  v1 = path.join(root, 'v1');
  const generated = await runCli(['generate', env, '--out', v1, '--python-home', VENV, '--name', 'faulty', '--url-prefix', '/faulty', '--processes', '1', '--threads', '2']);
  expect(generated.code, generated.stderr).toBe(0);
  await fs.appendFile(path.join(v1, 'faulty.conf'), LATIN1_V1);
  v2 = path.join(root, 'v2');
  await fs.copy(v1, v2);
  await fs.appendFile(path.join(v2, 'faulty.conf'), LATIN1_V2);
  busyDir = path.join(root, 'busy');
  await fs.copy(v1, busyDir);

  const parent = path.join(root, 'tree');
  await fs.mkdirp(parent);
  tree = await makeDebianTree(parent);
  // a file that is not ours, not UTF-8, with its own mode and owner: never touched
  await fs.writeFile(path.join(tree.root, 'conf-available', 'legacy.conf'), Buffer.from('# l\xe9gacy\n', 'latin1'), { mode: 0o640 });
  await fs.chown(path.join(tree.root, 'conf-available', 'legacy.conf'), 33, 33);
  await tree.start();
  const first = await runCli(['apply', v1, '--apache-root', tree.root]);
  expect(first.code, first.stderr).toBe(0);
  // the administrator tightens the installed file: a restore must bring back this mode and owner
  await fs.chmod(path.join(tree.root, 'conf-available', '98-faulty.conf'), 0o640);
  await fs.chown(path.join(tree.root, 'conf-available', '98-faulty.conf'), 33, 0);
}, 180000);

afterAll(async () => {
  await tree?.stop();
  for (const mounted of [path.join(root, 'small-state'), path.join(root, 'tree', 'apache2', 'conf-available')]) await execa('umount', [mounted], { reject: false });
  if (root) await fs.remove(root);
  // The figures for the note.
  console.log(`apply fault matrix: ${figures.injected} faults injected, ${figures.identical} recovered byte-identical`);
});

async function status(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(30000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** The sites that answered before answer: the static one and the Trac of v1. */
async function expectSitesAnswer(): Promise<void> {
  let hello = 0;
  for (let i = 0; i < 100 && hello !== 200; i++) {
    hello = await status(tree.url('/hello/'));
    if (hello !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  expect(hello, await tree.errorLog()).toBe(200);
  expect(await (await fetch(tree.url('/hello/'))).text()).toContain(HELLO_TEXT);
  expect(await status(tree.url('/faulty/wiki/WikiStart'))).toBe(200);
}

async function expectIdentical(before: Record<string, string>): Promise<void> {
  figures.injected++;
  expect(await snapshotTree(tree.root)).toEqual(before);
  figures.identical++;
}

const STEPS = ['locked', 'pretest', 'journaled', 'installed', 'tested', 'reloaded'] as const;

describe('apply fault matrix', () => {
  for (const step of STEPS) {
    it(`SIGTERM at ${step}: exits 1, the tree is byte-identical, the sites answer`, async () => {
      const before = await snapshotTree(tree.root);
      const result = await applyInterruptedAt(tree.root, v2, step, 'SIGTERM');
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('interrupted by SIGTERM');
      await expectIdentical(before);
      await expectSitesAnswer();
    }, 120000);

    it(`SIGKILL at ${step}: the next run undoes exactly the killed run; byte-identical, the sites answer`, async () => {
      const before = await snapshotTree(tree.root);
      const result = await applyInterruptedAt(tree.root, v2, step, 'SIGKILL');
      expect(result.signal).toBe('SIGKILL');
      const journaled = STEPS.indexOf(step) >= STEPS.indexOf('journaled');
      if (journaled) {
        // --rollback after a killed run undoes that run only, not the apply of v1 before it
        const recovered = await runCli(['apply', '--rollback', '--apache-root', tree.root]);
        expect(recovered.code, recovered.stderr).toBe(0);
        expect(recovered.stderr).toContain('that was interrupted midway');
        expect(recovered.stdout).toMatch(/^rollback: undid the interrupted run /m);
      }
      await expectIdentical(before);
      await expectSitesAnswer();
    }, 120000);
  }
});

describe('faults at reload and on disk', () => {
  it('a Listen on a busy port kills Apache at reload: apply exits 1, restores the tree and starts Apache again', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as net.AddressInfo).port;
    try {
      await fs.appendFile(path.join(busyDir, 'faulty.conf'), `\nListen 127.0.0.1:${busy}\n`);
      const before = await snapshotTree(tree.root);
      const result = await runCli(['apply', busyDir, '--apache-root', tree.root]);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stderr).toMatch(/stopped after the graceful reload.*every file was restored/);
      await expectIdentical(before);
      expect(await tree.pid()).not.toBeNull();
      await expectSitesAnswer();
      const journals = await fs.readdir(path.join(tree.root, '.trac-deploy', 'transactions'));
      const last = JSON.parse(await fs.readFile(path.join(tree.root, '.trac-deploy', 'transactions', journals.sort().at(-1) ?? '', 'journal.json'), 'utf8')) as { status: string };
      expect(last.status).toBe('rolled-back');
    } finally {
      holder.close();
    }
  }, 180000);

  it('a full or read-only state directory: one clear line, exit 1, nothing changed', async () => {
    const state = path.join(root, 'small-state');
    await fs.mkdirp(state);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', state]);
    try {
      await execa('dd', ['if=/dev/zero', `of=${path.join(state, 'fill')}`, 'bs=4k', 'count=64'], { reject: false });
      const before = await snapshotTree(tree.root);
      const full = await runCli(['apply', v2, '--apache-root', tree.root, '--state-dir', state, '--force']);
      expect(full.code, full.stderr).toBe(1);
      expect(full.stderr).toMatch(new RegExp(`^trac-deploy: cannot write the state directory ${state} \\(the file system is full\\); nothing was changed`));
      expect(full.stderr).not.toMatch(/unexpected error/);
      await expectIdentical(before);
      await fs.rm(path.join(state, 'fill'));
      await execa('mount', ['-o', 'remount,ro', state]);
      const readOnly = await runCli(['apply', v2, '--apache-root', tree.root, '--state-dir', state, '--force']);
      expect(readOnly.code, readOnly.stderr).toBe(1);
      expect(readOnly.stderr).toMatch(/^trac-deploy: cannot write the state directory .* \(the file system is read-only\); nothing was changed/);
      await expectIdentical(before);
      await expectSitesAnswer();
    } finally {
      await execa('umount', [state], { reject: false });
    }
  }, 120000);

  it('a full configuration directory: the install fails, every file is restored, exit 1', async () => {
    const confAvailable = path.join(tree.root, 'conf-available');
    const saved = path.join(root, 'conf-available-saved');
    await execa('cp', ['-a', confAvailable, saved]);
    const before = await snapshotTree(tree.root);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', confAvailable]);
    try {
      await execa('cp', ['-a', `${saved}/.`, confAvailable]);
      expect(await snapshotTree(tree.root)).toEqual(before);
      await execa('dd', ['if=/dev/zero', `of=${path.join(confAvailable, '.fill')}`, 'bs=4k', 'count=64'], { reject: false });
      const full = await runCli(['apply', v2, '--apache-root', tree.root]);
      expect(full.code, full.stderr).toBe(1);
      expect(full.stderr).toMatch(/every file was restored/);
      await fs.rm(path.join(confAvailable, '.fill'));
      await expectIdentical(before);
      await expectSitesAnswer();
    } finally {
      await execa('umount', [confAvailable], { reject: false });
    }
  }, 120000);

  it('--rollback starts Apache again when it was running at the apply it undoes', async () => {
    const applied = await runCli(['apply', v2, '--apache-root', tree.root]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^verified: mounted: http:\/\/127\.0\.0\.1:\d+\/faulty\/: HTTP 200$/m);
    expect(applied.stdout).toMatch(/^verified: still answers: http:\/\/127\.0\.0\.1:\d+\/hello\/: HTTP 200$/m);
    await tree.stop();
    const rollback = await runCli(['apply', '--rollback', '--apache-root', tree.root]);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stderr).toContain('was running when that apply was made and is not now; starting it');
    expect(await tree.pid()).not.toBeNull();
    await expectSitesAnswer();
    expect((await fs.readFile(path.join(tree.root, 'conf-available', '98-faulty.conf'))).includes(LATIN1_V1)).toBe(true);
  }, 180000);
});
