import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectPath } from '../../src/inspect/inspectPath.js';
import { withPreflight } from '../../src/inspect/preflight.js';
import type { Inspection } from '../../src/inspect/types.js';
import type { PreflightRunner } from '../../src/python/preflight.js';
import { askedPaths } from '../helpers/preflightInput.js';
import { copyFixtureTo } from '../helpers/tracEnv.js';

/**
 * The verdicts of a directory of environments kept between runs (inspect/directoryVerdicts.ts):
 * Trac (a runner standing in for python/preflight.py) is sent only the environments whose kept
 * verdict no longer holds, and the answers come back in the order of the environments.
 */
let root: string;
let parent: string;
let home: string;
let sitePackages: string;
let cacheDir: string;
/** The environments each run sent to Trac, in the order sent. */
let sent: string[][];
let during: ((p: string) => Promise<void>) | null;
const names = ['alpha', 'beta', 'gamma'];
const SETTLE = 30;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE + 20));
const line = (o: object) => JSON.stringify(o);

const run: PreflightRunner = async (_command, _args, input, onLine) => {
  const these: string[] = [];
  sent.push(these);
  onLine(line({ kind: 'python', python: { executable: path.join(home, 'bin', 'python'), version: '3.11.2' }, user: 'www-data', trac: '1.6', error: null, svn: { inInterpreter: true, systemDir: null }, path: [sitePackages], tracPackage: path.join(sitePackages, 'trac') }));
  for await (const p of askedPaths(input)) {
    these.push(p);
    if (during) await during(p);
    onLine(line({ kind: 'environment', path: p, opened: true, problems: [], databaseScheme: 'sqlite', databaseFile: path.join(p, 'db', 'trac.db'), configFiles: [path.join(p, 'conf', 'trac.ini')], pluginsDirs: [path.join(p, 'plugins')], repositories: [], plugins: [], attachment: null, project: path.basename(p), xsendfile: null, filesDir: null, inputs: [], accessInputs: [path.join(p, 'log', 'trac.log'), path.join(p, 'log')] }));
  }
  onLine(line({ kind: 'done' }));
  return { exitCode: 0, stderr: '' };
};

async function ask(): Promise<Inspection> {
  const inspection = await inspectPath(parent);
  expect(inspection.kind).toBe('parent');
  return withPreflight(inspection, { pythonHome: home, siteDirs: [], eggCache: null, run, keepVerdict: { dir: cacheDir, settleMs: SETTLE } });
}

const keptOf = (inspection: Inspection) => inspection.environments.filter((e) => e.preflight?.cachedFrom).map((e) => e.name);
const lastSent = () => (sent[sent.length - 1] ?? []).map((p) => path.basename(p));

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-dir-verdicts-'));
  await fs.chmod(root, 0o755);
  parent = path.join(root, 'parent');
  for (const name of names) {
    const env = await copyFixtureTo('trac16-sqlite', path.join(parent, name));
    await fs.writeFile(path.join(env, 'log', 'trac.log'), '', { mode: 0o666 });
    await fs.chmod(path.join(env, 'log', 'trac.log'), 0o666);
  }
  home = path.join(root, 'venv');
  sitePackages = path.join(home, 'lib', 'python3.11', 'site-packages');
  await fs.mkdir(path.join(sitePackages, 'trac'), { recursive: true });
  await fs.mkdir(path.join(home, 'bin'));
  await fs.writeFile(path.join(home, 'bin', 'python'), '#!/bin/sh\n', { mode: 0o755 });
  await fs.writeFile(path.join(home, 'pyvenv.cfg'), 'home = /usr/bin\n');
  cacheDir = path.join(root, 'cache');
  sent = [];
  during = null;
  await settle();
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('kept verdicts of a directory of environments', () => {
  it('sends Trac only the environments whose verdict no longer holds, and answers in order', async () => {
    const first = await ask();
    expect(lastSent()).toEqual(names);
    expect(keptOf(first)).toEqual([]);
    const second = await ask();
    expect(sent).toHaveLength(1);
    expect(keptOf(second)).toEqual(names);
    expect(second.preflight).toMatchObject({ status: 'ran', trac: '1.6', keptVerdicts: 3 });
    expect(second.environments.map((e) => e.preflight?.project)).toEqual(names);
    // One entry for the whole directory.
    expect((await fs.readdir(cacheDir)).filter((n) => n.startsWith('preflight-dir-'))).toHaveLength(1);

    await fs.appendFile(path.join(parent, 'beta', 'conf', 'trac.ini'), '\n[x]\ny = 1\n');
    await settle();
    const third = await ask();
    expect(lastSent()).toEqual(['beta']);
    expect(keptOf(third)).toEqual(['alpha', 'gamma']);
    expect(third.environments.map((e) => e.preflight?.project)).toEqual(names);
    await ask();
    expect(sent).toHaveLength(2);
  });

  it('does not look again at files that were missing in a directory it stamps whole, yet sees one made there since', async () => {
    await ask();
    await ask();
    expect(sent).toHaveLength(1);
    const [entry] = (await fs.readdir(cacheDir)).filter((n) => n.startsWith('preflight-dir-'));
    const text = await fs.readFile(path.join(cacheDir, entry!), 'utf8');
    const stored = JSON.parse(text) as { answer: { lists: { missing?: string[] }[] } };
    // Written a record at a time, it is the text JSON.stringify gives of the whole entry.
    expect(text).toBe(JSON.stringify(stored));
    expect(Object.keys(stored)).toEqual(['question', 'paths', 'dirsWithEntries', 'accessOnly', 'answer', 'fingerprint']);
    expect(stored.answer.lists.map((l) => l.missing)).toEqual([expect.arrayContaining(['./db/trac.db-wal', './db/trac.db-shm', './db/trac.db-journal'])]);
    // A journal (a writer's, or a crash's) beside beta's database; a plugin's bytecode directory in gamma's plugins.
    await fs.writeFile(path.join(parent, 'beta', 'db', 'trac.db-journal'), 'x'.repeat(512));
    await fs.mkdir(path.join(parent, 'gamma', 'plugins', '__pycache__'));
    await settle();
    const after = await ask();
    expect(lastSent()).toEqual(['beta', 'gamma']);
    expect(keptOf(after)).toEqual(['alpha']);
  });

  it('asks about every environment when what they share changed (a package installed into the interpreter)', async () => {
    await ask();
    await ask();
    expect(sent).toHaveLength(1);
    await fs.writeFile(path.join(sitePackages, 'new_package.py'), '');
    await settle();
    const after = await ask();
    expect(lastSent()).toEqual(names);
    expect(keptOf(after)).toEqual([]);
  });

  it('keeps nothing of an environment changed while Trac was asked; the others are kept', async () => {
    during = async (p) => {
      if (path.basename(p) === 'gamma') await fs.appendFile(path.join(p, 'conf', 'trac.ini'), '\n[x]\ny = 1\n');
    };
    await ask();
    during = null;
    await settle();
    const second = await ask();
    expect(lastSent()).toEqual(['gamma']);
    expect(keptOf(second)).toEqual(['alpha', 'beta']);
  });

  it('keeps nothing when what every environment shares changed while Trac was asked', async () => {
    during = async (p) => {
      if (path.basename(p) === 'beta') await fs.writeFile(path.join(sitePackages, 'new_package.py'), '');
    };
    await ask();
    during = null;
    await settle();
    const second = await ask();
    expect(lastSent()).toEqual(names);
    expect(keptOf(second)).toEqual([]);
  });

  it('ignores an entry that is not a regular file of ours, or not whole', async () => {
    await ask();
    const [entry] = await fs.readdir(cacheDir);
    const file = path.join(cacheDir, entry!);
    const whole = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, whole.slice(0, 100));
    expect(keptOf(await ask())).toEqual([]);
    expect(keptOf(await ask())).toEqual(names);
    // A link in its place (to a copy of a whole entry): not followed.
    const copy = path.join(root, 'copy.json');
    await fs.copyFile(file, copy);
    await fs.rm(file);
    await fs.symlink(copy, file);
    expect(keptOf(await ask())).toEqual([]);
    if (process.getuid?.() === 0) {
      // Someone else's file: not used.
      await ask();
      await fs.chown(file, 65534, 65534);
      expect(keptOf(await ask())).toEqual([]);
    }
  });

  it('asks again, rather than fails, when a kept entry holds answers it cannot use', async () => {
    await ask();
    await settle();
    expect(keptOf(await ask())).toEqual(names);
    const [entry] = await fs.readdir(cacheDir);
    const file = path.join(cacheDir, entry!);
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as { answer: { answers: { problems: unknown[]; repositories: unknown[] }[] } };
    for (const answer of stored.answer.answers) {
      answer.problems = [null];
      answer.repositories = [null];
    }
    await fs.writeFile(file, JSON.stringify(stored));
    const again = await ask();
    expect(lastSent()).toEqual(names);
    expect(keptOf(again)).toEqual([]);
  });

  it('asks about every environment when a .pth file of the interpreter was edited in place', async () => {
    const pth = path.join(sitePackages, 'easy-install.pth');
    await fs.writeFile(pth, '/opt/one\n');
    await settle();
    await ask();
    await settle();
    expect(keptOf(await ask())).toEqual(names);
    // `setup.py develop` appends a line: site-packages itself is unchanged.
    await fs.appendFile(pth, '/opt/two\n');
    const again = await ask();
    expect(lastSent()).toEqual(names);
    expect(keptOf(again)).toEqual([]);
  });

  it("completes the inspection's environments in place, once: a second call on the same inspection replaces Trac's problems, never repeats them", async () => {
    const refusing: PreflightRunner = async (command, args, input, onLine, ...rest) =>
      run(command, args, input, (text: string) => {
        const parsed = JSON.parse(text) as { kind: string; problems?: unknown[] };
        if (parsed.kind === 'environment') parsed.problems = [{ code: 'plugin-not-loaded', severity: 'warning', message: 'hello.py did not load' }];
        onLine(JSON.stringify(parsed));
      }, ...rest);
    const inspection = await inspectPath(parent);
    const options = { pythonHome: home, siteDirs: [], eggCache: null, run: refusing };
    const once = await withPreflight(inspection, options);
    const twice = await withPreflight(inspection, options);
    for (const asked of [once, twice]) {
      for (const env of asked.environments) expect(env.problems.filter((p) => p.code === 'plugin-not-loaded')).toHaveLength(1);
    }
    expect(twice.environments[0]).toBe(inspection.environments[0]);
  });

  it('reports a kept verdict with when Trac gave it first among its facts', async () => {
    await ask();
    const kept = await ask();
    expect(keptOf(kept)).toEqual(names);
    for (const env of kept.environments) expect(Object.keys(env.preflight!)[0]).toBe('cachedFrom');
    expect(Object.keys(kept.environments[0]!).slice(-1)).toEqual(['preflight']);
  });
});
