import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectPath } from '../../src/inspect/inspectPath.js';
import { keptLookupsOf, recallEarly, withPreflight, type EarlyRecall, type PreflightOptions } from '../../src/inspect/preflight.js';
import { logStillWritable } from '../../src/inspect/preflightCache.js';
import { fingerprint, fingerprintSync } from '../../src/python/answerCache.js';
import { findApache } from '../../src/apache/layout.js';
import type { Inspection } from '../../src/inspect/types.js';
import type { PreflightRunner } from '../../src/python/preflight.js';
import { ROOT } from '../helpers/paths.js';
import { copyFixture } from '../helpers/tracEnv.js';

/** The single environment's early lookup (recallEarly), or undefined. */
const keptOf = (early: EarlyRecall | null) => (early?.kind === 'environment' ? early.kept : undefined);
import { askedPaths } from '../helpers/preflightInput.js';

/**
 * Trac's verdict on one SQLite environment is kept (inspect/preflightCache.ts) and served only
 * while nothing it depends on changed: each test below changes one part of the key and sees
 * Trac asked again. The runner stands in for python/preflight.py and counts the questions.
 */
let root: string;
let env: string;
let home: string;
let sitePackages: string;
let tracPackage: string;
let cacheDir: string;
let asked: number;
let during: (() => Promise<void>) | null;
let opened: boolean;
let repository: string | null;
/** The scheme Trac reports for [trac] database, and any further problem it reports. */
let scheme: string;
let extraProblems: object[];
/** Configuration files Trac read beyond trac.ini (what its [inherit] file chain named). */
let inherited: string[];

const line = (o: object) => JSON.stringify(o);
const hasSetfacl = spawnSync('setfacl', ['--version'], { stdio: 'ignore' }).status === 0;
/** The web server user Trac is asked as (root with Apache installed), else null: asked as us. */
const apache = ((): { user: string; group: string } | null => {
  if (process.getuid?.() !== 0) return null;
  try {
    return findApache();
  } catch {
    return null;
  }
})();
const asApacheUser = apache?.user ?? null;
/** Files here are made a moment before the questions: count only changes within 30 ms as "while asked". */
const SETTLE = 30;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE + 20));

const run: PreflightRunner = async (_command, _args, input, onLine) => {
  asked++;
  onLine(line({ kind: 'python', python: { executable: path.join(home, 'bin', 'python'), version: '3.11.2' }, user: 'www-data', trac: '1.6', error: null, svn: { inInterpreter: true, systemDir: null }, path: [sitePackages], tracPackage }));
  for await (const p of askedPaths(input)) {
    if (during) await during();
    onLine(line({ kind: 'environment', path: p, opened, problems: [...(opened ? [] : [{ code: 'needs-upgrade', severity: 'error', message: `${p}: needs an upgrade` }]), ...extraProblems], databaseScheme: scheme, databaseFile: scheme === 'sqlite' ? path.join(p, 'db', 'trac.db') : null, configFiles: [path.join(p, 'conf', 'trac.ini'), ...inherited], pluginsDirs: [path.join(p, 'plugins')], repositories: [], plugins: [], attachment: null, project: 'P', xsendfile: null, filesDir: null, inputs: repository ? [repository] : [], accessInputs: [path.join(p, 'log', 'trac.log'), path.join(p, 'log')] }));
  }
  onLine(line({ kind: 'done' }));
  return { exitCode: 0, stderr: '' };
};

type AskOptions = Partial<PreflightOptions> & { cacheDir?: string | false; early?: boolean };

/**
 * As inspect and generate ask (commands/inspect.ts, generate.ts): the kept verdict is looked up
 * before the inspection (recallEarly) and used by withPreflight; `early: false` leaves the lookup
 * to withPreflight, after the inspection.
 */
async function ask(options: AskOptions = {}, target = env): Promise<Inspection> {
  const { cacheDir: dir, early = true, ...rest } = options;
  const asking: PreflightOptions = { pythonHome: home, siteDirs: [], eggCache: null, run, ...(dir === false ? {} : { keepVerdict: { dir: dir ?? cacheDir, settleMs: SETTLE } }), ...rest };
  const recalled = early ? recallEarly(target, asking) : null;
  const inspection = await inspectPath(target);
  return withPreflight(inspection, { ...asking, recalled });
}

/** Asks twice after CHANGE: Trac must be asked once again, and the answer then kept again. */
async function expectReasked(change: () => Promise<void>, options: AskOptions = {}): Promise<void> {
  await ask(options);
  const before = asked;
  await ask(options);
  expect(asked, 'kept before the change').toBe(before);
  await change();
  await settle();
  const after = await ask(options);
  expect(asked, 'asked again after the change').toBe(before + 1);
  expect(after.preflight).not.toHaveProperty('cachedFrom');
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-verdict-cache-'));
  env = await copyFixture('trac16-sqlite', root);
  home = path.join(root, 'venv');
  sitePackages = path.join(home, 'lib', 'python3.11', 'site-packages');
  tracPackage = path.join(sitePackages, 'trac');
  await fs.mkdir(tracPackage, { recursive: true });
  await fs.mkdir(path.join(home, 'bin'));
  await fs.writeFile(path.join(home, 'bin', 'python'), '#!/bin/sh\n', { mode: 0o755 });
  await fs.writeFile(path.join(home, 'pyvenv.cfg'), 'home = /usr/bin\n');
  // Trac's log check holds, as it did when Trac was asked (the runner reports no problem): a kept
  // verdict is served only while it still does, tested again as the web server user when root.
  await fs.chmod(root, 0o755);
  await fs.writeFile(path.join(env, 'log', 'trac.log'), '', { mode: 0o666 });
  await fs.chmod(path.join(env, 'log', 'trac.log'), 0o666);
  cacheDir = path.join(root, 'cache');
  asked = 0;
  during = null;
  opened = true;
  repository = null;
  scheme = 'sqlite';
  extraProblems = [];
  inherited = [];
  await settle();
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('the kept preflight verdict', () => {
  it('is served on the second run, and says when Trac gave it', async () => {
    const first = await ask();
    const kept = await ask();
    const third = await ask();
    expect(asked).toBe(1);
    expect(third.preflight).toMatchObject({ status: 'ran', trac: '1.6', cachedFrom: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    // The environment says so too (as each environment of a directory does).
    expect(third.environments[0]!.preflight).toEqual({ ...first.environments[0]!.preflight, cachedFrom: third.preflight?.status === 'ran' ? third.preflight.cachedFrom : 'none' });
    expect(first.environments[0]!.preflight).not.toHaveProperty('cachedFrom');
    expect(kept.environments[0]!.problems).toEqual(first.environments[0]!.problems);
  });

  it('never keeps a refusal: an administrator fixing it gets Trac asked each time', async () => {
    opened = false;
    await ask();
    const second = await ask();
    expect(asked).toBe(2);
    expect(second.preflight).not.toHaveProperty('cachedFrom');
    expect(second.environments[0]!.problems.map((p) => p.code)).toContain('needs-upgrade');
  });

  it.each([
    ['database-unusable', 'database is locked'],
    ['repository-unavailable', 'repository (svn) cannot be opened'],
    ['trac-cannot-open', '[Errno 24] Too many open files'],
  ])('never keeps a verdict with an error (%s: %s), which may be passing', async (code, message) => {
    extraProblems = [{ code, severity: 'error', message }];
    await ask();
    const second = await ask();
    expect(asked).toBe(2);
    expect(second.preflight).not.toHaveProperty('cachedFrom');
    extraProblems = [];
    await ask();
    expect((await ask()).preflight).toHaveProperty('cachedFrom');
    expect(asked).toBe(3);
  });

  it('keeps a verdict only when Trac itself says the database is SQLite', async () => {
    // trac-deploy reads sqlite in trac.ini; Trac (an [inherit] file, say) uses another.
    scheme = 'postgres';
    await ask();
    const second = await ask();
    expect(asked).toBe(2);
    expect(second.preflight).not.toHaveProperty('cachedFrom');
    // An answer without the scheme (an older program) is not kept either.
    scheme = '';
    await ask();
    await ask();
    expect(asked).toBe(4);
  });

  it('is not kept while a plugins directory holds a symbolic link or a directory (an unpacked egg)', async () => {
    const target = path.join(root, 'elsewhere.py');
    await fs.writeFile(target, '# a plugin\n');
    await fs.symlink(target, path.join(env, 'plugins', 'linked.py'));
    await settle();
    await ask();
    await ask();
    expect(asked).toBe(2);
    await fs.rm(path.join(env, 'plugins', 'linked.py'));
    await fs.mkdir(path.join(env, 'plugins', 'Unpacked-1.0-py3.11.egg', 'EGG-INFO'), { recursive: true });
    await settle();
    await ask();
    await ask();
    expect(asked).toBe(4);
  });

  it("is kept while a plugins directory holds the __pycache__ Python writes for a single-file plugin, and asked again when its bytecode changes", async () => {
    await fs.writeFile(path.join(env, 'plugins', 'hello.py'), '# a plugin\n');
    await fs.mkdir(path.join(env, 'plugins', '__pycache__'));
    const pyc = path.join(env, 'plugins', '__pycache__', 'hello.cpython-311.pyc');
    await fs.writeFile(pyc, 'bytecode');
    await settle();
    await expectReasked(() => fs.writeFile(pyc, 'other bytecode'));
    await fs.writeFile(path.join(env, 'plugins', '__pycache__', 'other.cpython-311.pyc'), 'bytecode');
    await settle();
    await ask();
    expect((await ask()).preflight, 'a new file in it: asked again, then kept').toHaveProperty('cachedFrom');
  });

  it('is not kept while the __pycache__ of a plugins directory holds a symbolic link or a directory', async () => {
    await fs.mkdir(path.join(env, 'plugins', '__pycache__', 'inner'), { recursive: true });
    await settle();
    await ask();
    await ask();
    expect(asked).toBe(2);
    await fs.rmdir(path.join(env, 'plugins', '__pycache__', 'inner'));
    await fs.symlink(path.join(root, 'elsewhere.pyc'), path.join(env, 'plugins', '__pycache__', 'hello.cpython-311.pyc'));
    await settle();
    await ask();
    await ask();
    expect(asked).toBe(4);
  });

  it('stamps -wal/-shm/-journal beside the real database when trac.db is a symbolic link', async () => {
    const elsewhere = path.join(root, 'data');
    await fs.mkdir(elsewhere);
    const db = path.join(env, 'db', 'trac.db');
    await fs.rename(db, path.join(elsewhere, 'trac.db'));
    await fs.symlink(path.join(elsewhere, 'trac.db'), db);
    await settle();
    await expectReasked(() => fs.writeFile(path.join(elsewhere, 'trac.db-wal'), 'x'));
  });

  it('is asked again when the log directory gets an ACL (ctime; neither mode nor owner changes)', async () => {
    const log = path.join(env, 'log');
    const { uid, gid } = await fs.stat(log);
    // What setfacl changes here: the inode's change time, nothing stat shows besides.
    await expectReasked(() => fs.chown(log, uid, gid));
  });

  it('is kept while anyone makes files in a shared sticky directory above it (/tmp)', async () => {
    await fs.chmod(root, 0o1777);
    await settle();
    await ask();
    await fs.writeFile(path.join(root, 'someone-else'), '');
    await settle();
    expect((await ask()).preflight).toHaveProperty('cachedFrom');
    expect(asked).toBe(1);
  });

  it('is asked again when the log file gets an ACL', async () => {
    const log = path.join(env, 'log', 'trac.log');
    const { uid, gid } = await fs.stat(log);
    await expectReasked(() => fs.chown(log, uid, gid));
  });

  it('is served while Trac appends to its log (the daemon, trac-admin: all day on a live site)', async () => {
    const log = path.join(env, 'log', 'trac.log');
    await fs.appendFile(log, 'INFO environment startup\n');
    await settle();
    await ask();
    for (let i = 0; i < 3; i++) {
      await fs.appendFile(log, 'INFO environment startup\n');
      expect((await ask()).preflight).toHaveProperty('cachedFrom');
    }
    expect(asked).toBe(1);
  });

  it('is asked again when the log file is replaced (logrotate: another inode, same mode)', () =>
    expectReasked(async () => {
      const log = path.join(env, 'log', 'trac.log');
      await fs.writeFile(`${log}.new`, '', { mode: 0o666 });
      await fs.chmod(`${log}.new`, 0o666);
      await fs.rename(`${log}.new`, log);
    }));

  it.runIf(hasSetfacl)('is asked again when the log file gets an ACL (setfacl: mode and owner unchanged)', () =>
    expectReasked(async () => {
      const acl = spawnSync('setfacl', ['-m', 'u:nobody:r', path.join(env, 'log', 'trac.log')], { encoding: 'utf8' });
      expect(acl.status, acl.stderr).toBe(0);
    }));

  it.runIf(asApacheUser && hasSetfacl)('is asked again when an ACL takes the log from the web server user and a write follows (its stamps alike again)', async () => {
    const log = path.join(env, 'log', 'trac.log');
    // Writable by everyone through its mode; written since, as a live log is.
    await fs.appendFile(log, 'INFO environment startup\n');
    await settle();
    await ask();
    expect((await ask()).preflight).toHaveProperty('cachedFrom');
    const acl = spawnSync('setfacl', ['-m', `u:${asApacheUser}:r`, log], { encoding: 'utf8' });
    expect(acl.status, acl.stderr).toBe(0);
    await fs.appendFile(log, 'INFO environment startup\n');
    await settle();
    expect((await ask()).preflight).not.toHaveProperty('cachedFrom');
    expect(asked).toBe(2);
  });

  it('serves no older verdict once Trac gave one that is not kept, though the stamps come back to what they were', async () => {
    const log = path.join(env, 'log', 'trac.log');
    await fs.appendFile(log, 'INFO environment startup\n');
    await settle();
    await ask();
    // Its ctime alone moves (an ACL), and Trac says the log is not writable (this runner says
    // what it is told): the refusal is not kept, and the kept verdict goes with it.
    const { uid, gid } = await fs.stat(log);
    await fs.chown(log, uid, gid);
    extraProblems = [{ code: 'log-file-unwritable', severity: 'error', message: `cannot write ${log}` }];
    expect((await ask()).preflight).not.toHaveProperty('cachedFrom');
    expect(await fs.readdir(cacheDir)).toEqual([]);
    // A write makes the log's stamps those of the first verdict again: Trac is asked.
    extraProblems = [];
    await fs.appendFile(log, 'INFO environment startup\n');
    await settle();
    expect((await ask()).preflight).not.toHaveProperty('cachedFrom');
    expect(asked).toBe(3);
  });

  it.each(['LD_LIBRARY_PATH', 'LD_PRELOAD', 'PYTHONWARNINGS', 'HOME'])('is asked again when %s changes', async (name) => {
    await ask();
    expect((await ask()).preflight).toHaveProperty('cachedFrom');
    const saved = process.env[name];
    process.env[name] = path.join(root, 'other');
    try {
      expect((await ask()).preflight).not.toHaveProperty('cachedFrom');
    } finally {
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    }
    expect(asked).toBe(2);
  });

  it("is kept when PYTHONPYCACHEPREFIX changes: Trac is asked without it, as the daemon runs (test/integration/tracBytecode.test.ts)", async () => {
    await ask();
    const saved = process.env.PYTHONPYCACHEPREFIX;
    process.env.PYTHONPYCACHEPREFIX = path.join(root, 'other');
    try {
      expect((await ask()).preflight).toHaveProperty('cachedFrom');
    } finally {
      if (saved === undefined) delete process.env.PYTHONPYCACHEPREFIX;
      else process.env.PYTHONPYCACHEPREFIX = saved;
    }
    expect(asked).toBe(1);
  });

  it('is asked again when trac.ini changes', () => expectReasked(() => fs.appendFile(path.join(env, 'conf', 'trac.ini'), '\n[logging]\nlog_type = none\n')));
  it('is asked again when trac.ini changes mode', () => expectReasked(() => fs.chmod(path.join(env, 'conf', 'trac.ini'), 0o600)));
  it('is asked again when the environment directory changes owner', () => expectReasked(() => fs.chown(env, 4242, 4242)), 20_000);
  it('is asked again when a directory above the environment changes mode', () => expectReasked(() => fs.chmod(root, 0o711)));
  it('is asked again when VERSION changes', () => expectReasked(() => fs.appendFile(path.join(env, 'VERSION'), '\n')));
  it('is asked again when a plugin is added', () => expectReasked(() => fs.writeFile(path.join(env, 'plugins', 'extra.py'), '# a plugin\n')));
  it('is asked again when a plugin changes', async () => {
    await fs.writeFile(path.join(env, 'plugins', 'extra.py'), '# a plugin\n');
    await settle();
    await expectReasked(() => fs.writeFile(path.join(env, 'plugins', 'extra.py'), '# a plugin, changed\n'));
  });
  it('is asked again when the SQLite database is written', () => expectReasked(() => fs.appendFile(path.join(env, 'db', 'trac.db'), Buffer.alloc(0)).then(() => fs.utimes(path.join(env, 'db', 'trac.db'), new Date(), new Date()))));
  it('is asked again when a -wal file appears beside the database', () => expectReasked(() => fs.writeFile(path.join(env, 'db', 'trac.db-wal'), 'x')));
  it('is asked again when the database changes owner', () => expectReasked(() => fs.chown(path.join(env, 'db', 'trac.db'), 4242, 4242)));
  it('is asked again when the database directory changes mode', () => expectReasked(() => fs.chmod(path.join(env, 'db'), 0o700)));
  it('is asked again when the log file changes mode', () => expectReasked(() => fs.chmod(path.join(env, 'log', 'trac.log'), 0o400)));
  it('is asked again when the log directory changes mode', () => expectReasked(() => fs.chmod(path.join(env, 'log'), 0o500)));
  it('is asked again when the log file changes owner', () => expectReasked(() => fs.chown(path.join(env, 'log', 'trac.log'), 4242, 4242)));

  it('is asked again when a file Trac read through [inherit] changes, though trac-deploy did not see it', async () => {
    // Trac names the file (configFiles); trac-deploy's own reading of trac.ini does not.
    const hidden = path.join(root, 'hidden.ini');
    await fs.writeFile(hidden, '[trac]\n');
    inherited = [hidden];
    await settle();
    await expectReasked(() => fs.writeFile(hidden, '[trac]\ndatabase = postgres://u@db/trac\n'));
  });
  it('is asked again when a file [inherit] names changes', async () => {
    const shared = path.join(root, 'shared.ini');
    await fs.writeFile(shared, '[trac]\nbase_url =\n');
    await fs.appendFile(path.join(env, 'conf', 'trac.ini'), `\n[inherit]\nfile = ${shared}\n`);
    await settle();
    await expectReasked(() => fs.writeFile(shared, '[trac]\nbase_url = https://example.org/\n'));
  });
  it('is asked again when a package is installed into site-packages', () => expectReasked(() => fs.mkdir(path.join(sitePackages, 'tracplugin'))));
  it("is asked again when Trac's package changes", () => expectReasked(() => fs.writeFile(path.join(tracPackage, '__init__.py'), '__version__ = "1.6.1"\n')));
  it('is asked again when the interpreter is replaced', () => expectReasked(() => fs.rm(path.join(home, 'bin', 'python')).then(() => fs.writeFile(path.join(home, 'bin', 'python'), '#!/bin/sh\n# new\n', { mode: 0o755 }))));
  it('is asked again when the virtualenv configuration changes', () => expectReasked(() => fs.writeFile(path.join(home, 'pyvenv.cfg'), 'home = /usr/local/bin\n')));

  it('is asked again for other site dirs, another egg cache, or other Python import variables', async () => {
    await ask();
    const before = asked;
    expect((await ask()).preflight).toHaveProperty('cachedFrom');
    expect(asked).toBe(before);
    await ask({ siteDirs: [path.join(root, 'site')] });
    await ask({ eggCache: path.join(root, 'eggs') });
    const saved = process.env.PYTHONPATH;
    process.env.PYTHONPATH = path.join(root, 'elsewhere');
    try {
      await ask();
    } finally {
      if (saved === undefined) delete process.env.PYTHONPATH;
      else process.env.PYTHONPATH = saved;
    }
    expect(asked).toBe(before + 3);
  });

  it('is not kept when the environment changed while Trac was asked', async () => {
    await ask();
    const base = asked;
    during = () => fs.appendFile(path.join(env, 'conf', 'trac.ini'), '\n[logging]\nlog_level = INFO\n');
    await ask({ cacheDir: path.join(root, 'other-cache') });
    during = null;
    await ask({ cacheDir: path.join(root, 'other-cache') });
    expect(asked).toBe(base + 2);
  });

  it('is not kept when a file the answer names (a repository) changed while Trac was asked', async () => {
    repository = path.join(root, 'repo');
    await fs.mkdir(repository);
    await settle();
    during = () => fs.chmod(repository!, 0o700);
    await ask();
    during = null;
    await settle();
    await ask();
    expect(asked).toBe(2);
    await ask();
    expect(asked).toBe(2);
  });

  it('lists the user databases and every directory above the environment among what it checks', async () => {
    await ask();
    await ask();
    const [entry] = await fs.readdir(cacheDir);
    const kept = JSON.parse(await fs.readFile(path.join(cacheDir, entry!), 'utf8')) as { paths: string[]; accessOnly: string[]; question: { uid: unknown; groups: unknown; asUser: unknown; schema: unknown; tracDeploy: unknown } };
    expect(kept.question.schema).toEqual(expect.any(Number));
    expect(kept.question.tracDeploy).toBe(JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')).version);
    expect(kept.paths).toEqual(expect.arrayContaining(['/etc/passwd', '/etc/group', path.join(env, 'db', 'trac.db-wal'), sitePackages, tracPackage]));
    expect(kept.accessOnly).toEqual(expect.arrayContaining([root, path.dirname(root), '/']));
    expect(kept.question).toHaveProperty('uid');
    expect(kept.question).toHaveProperty('groups');
    expect(kept.question).toHaveProperty('asUser');
  });

  it('never keeps the verdict on a MySQL environment: the server is asked every time', async () => {
    const mysql = await copyFixture('trac16-mysql', root);
    scheme = 'mysql';
    await ask({}, mysql);
    await ask({}, mysql);
    const third = await ask({}, mysql);
    expect(asked).toBe(3);
    expect(third.preflight).not.toHaveProperty('cachedFrom');
  });

  it('is served alike whether it was looked up before the inspection or after it', async () => {
    await ask({ early: false });
    const late = await ask({ early: false });
    const early = await ask();
    expect(asked).toBe(1);
    expect(early.preflight).toEqual(late.preflight);
    expect(early.environments).toEqual(late.environments);
    // A change seen by either lookup: Trac is asked again.
    await fs.chmod(path.join(env, 'conf', 'trac.ini'), 0o600);
    await settle();
    await ask({ early: false });
    expect(asked).toBe(2);
    await fs.chmod(path.join(env, 'conf', 'trac.ini'), 0o644);
    await settle();
    await ask();
    expect(asked).toBe(3);
  });

  it('uses a lookup begun early only for the question it asks: never a verdict kept for another one', async () => {
    // Made first: a new entry in a directory above the environment changes the kept verdict's stamps.
    const site = path.join(root, 'site');
    await fs.mkdir(site);
    await settle();
    await ask();
    const asking: PreflightOptions = { pythonHome: home, siteDirs: [], eggCache: null, run, keepVerdict: { dir: cacheDir, settleMs: SETTLE } };
    // Begun for this question (a kept verdict), handed to another (other site dirs): Trac is asked.
    const recalled = recallEarly(env, asking);
    expect(await keptOf(recalled)).not.toBeNull();
    const other = await withPreflight(await inspectPath(env), { ...asking, siteDirs: [site], recalled });
    expect(asked).toBe(2);
    expect(other.preflight).not.toHaveProperty('cachedFrom');
    // Begun for another question (nothing kept there), handed to this one: its own lookup serves it.
    const miss = recallEarly(env, { ...asking, siteDirs: [path.join(root, 'nowhere')] });
    expect(await keptOf(miss)).toBeNull();
    const served = await withPreflight(await inspectPath(env), { ...asking, recalled: miss });
    expect(asked).toBe(2);
    expect(served.preflight).toHaveProperty('cachedFrom');
  });

  it('serves a hit begun early only while its stamps still match: a change made while the inspection ran gets Trac asked', async () => {
    await settle();
    await ask();
    const asking: PreflightOptions = { pythonHome: home, siteDirs: [], eggCache: null, run, keepVerdict: { dir: cacheDir, settleMs: SETTLE } };
    const recalled = recallEarly(env, asking);
    expect(await keptOf(recalled)).not.toBeNull();
    // Between the early lookup and its use (while inspect inspects): trac.ini rewritten.
    const ini = path.join(env, 'conf', 'trac.ini');
    await fs.appendFile(ini, '\n[trac-deploy-test]\nchanged = yes\n');
    const inspection = await inspectPath(env);
    const served = await withPreflight(inspection, { ...asking, recalled });
    expect(asked).toBe(2);
    expect(served.preflight).not.toHaveProperty('cachedFrom');
  });

  it('begins no early lookup for what is neither an environment nor a directory, nor without keepVerdict, and makes no cache directory for it', async () => {
    const asking: PreflightOptions = { pythonHome: home, siteDirs: [], eggCache: null, run, keepVerdict: { dir: path.join(root, 'early-cache') } };
    // A directory: the lookups its inspection makes, nothing read or made before it judges its entries.
    expect(recallEarly(root, asking)?.kind).toBe('directory');
    expect(recallEarly(path.join(env, 'VERSION'), asking)).toBeNull();
    // A directory with no environment in it, inspected with its lookups: refused, nothing made.
    const empty = path.join(root, 'no-environments');
    await fs.mkdir(path.join(empty, 'sub'), { recursive: true });
    await expect(inspectPath(empty, undefined, keptLookupsOf(recallEarly(empty, asking)))).rejects.toThrow(/neither a Trac environment nor a directory of environments/);
    expect(recallEarly(path.join(root, 'missing'), asking)).toBeNull();
    expect(recallEarly(env, { ...asking, keepVerdict: undefined })).toBeNull();
    await expect(fs.stat(path.join(root, 'early-cache'))).rejects.toThrow();
  });

  it('stamps alike synchronously (the early lookup) and asynchronously (what is stored)', async () => {
    await fs.symlink(path.join(env, 'nowhere'), path.join(env, 'plugins', 'dangling.py'));
    const paths = [env, path.join(env, 'conf', 'trac.ini'), path.join(env, 'plugins'), path.join(root, 'missing'), '/etc/passwd'];
    const dirs = [path.join(env, 'plugins'), path.join(root, 'missing')];
    const access = [root, '/tmp', path.join(env, 'log', 'trac.log'), path.join(env, 'log'), path.join(root, 'gone'), env];
    expect(fingerprintSync(paths, dirs, access)).toBe(await fingerprint(paths, dirs, access));
    expect(fingerprintSync(paths, dirs)).toBe(await fingerprint(paths, dirs));
    const before = fingerprintSync(paths, dirs, access);
    await fs.writeFile(path.join(env, 'plugins', 'new.py'), '');
    expect(fingerprintSync(paths, dirs, access)).not.toBe(before);
  });

  it('keeps nothing without a cache directory of its own, and nothing unless asked to keep it', async () => {
    await ask({ cacheDir: false });
    await ask({ cacheDir: false });
    expect(asked).toBe(2);
    await fs.mkdir(path.join(root, 'open'), { mode: 0o777 });
    await fs.chmod(path.join(root, 'open'), 0o777);
    await ask({ cacheDir: path.join(root, 'open') });
    await ask({ cacheDir: path.join(root, 'open') });
    expect(asked).toBe(4);
  });
});

describe("Trac's log check made again (logStillWritable)", () => {
  const answer = (accessInputs: unknown) =>
    ({ status: 'ran', python: { executable: '/usr/bin/python3', version: '3.11.2' }, environments: [{ path: env, accessInputs }] }) as unknown as Parameters<typeof logStillWritable>[0];
  const log = () => path.join(env, 'log', 'trac.log');

  it('passes when Trac named no log file (log_type is not file)', async () => {
    expect(await logStillWritable(answer([]), env, null)).toBe(true);
    expect(await logStillWritable(answer(undefined), env, null)).toBe(true);
  });

  it('does not pass on what it cannot read as a log check (ask Trac again)', async () => {
    expect(await logStillWritable(answer([log()]), env, null)).toBe(false);
  });

  it('checks the directory when the log file is not there: writable and searchable, as Trac does', async () => {
    await fs.rm(log());
    expect(await logStillWritable(answer([log(), path.dirname(log())]), env, null)).toBe(true);
    await fs.rm(path.dirname(log()), { recursive: true });
    await fs.writeFile(path.dirname(log()), '');
    expect(await logStillWritable(answer([log(), path.dirname(log())]), env, null)).toBe(false);
  });

  it.runIf(asApacheUser)('is made as the web server user: a file only root may write does not pass', async () => {
    const user = { user: apache!.user, group: apache!.group };
    expect(await logStillWritable(answer([log(), path.dirname(log())]), env, user)).toBe(true);
    await fs.chmod(log(), 0o644);
    expect(await logStillWritable(answer([log(), path.dirname(log())]), env, user)).toBe(false);
    expect(await logStillWritable(answer([log(), path.dirname(log())]), env, null), 'root may').toBe(true);
    expect(await logStillWritable(answer([log(), path.dirname(log())]), env, { user: 'no-such-user-here', group: 'no-such-group' }), 'unsure: no').toBe(false);
  });

  /**
   * The log file not there: its directory must be writable and searchable by the user, as
   * Trac's check says (python/preflight.py log_problem). CHECK makes the check as that user.
   */
  async function expectDirectoryChecked(check: (file: string, dir: string) => Promise<boolean>, owner: number): Promise<void> {
    const dir = path.join(root, 'logs');
    const file = path.join(dir, 'trac.log');
    await fs.mkdir(dir);
    await fs.chown(dir, owner, owner);
    await fs.chmod(dir, 0o700);
    expect(await check(file, dir), 'the log missing, its directory writable and searchable').toBe(true);
    await fs.chmod(dir, 0o666);
    expect(await check(file, dir), 'writable, not searchable').toBe(false);
    await fs.chown(dir, 0, 0);
    await fs.chmod(dir, 0o755);
    expect(await check(file, dir), 'writable by root only').toBe(false);
    await fs.rm(dir, { recursive: true });
    expect(await check(file, dir), 'no directory').toBe(false);
  }

  it.runIf(asApacheUser)('checks the directory as the web server user when the log file is not there (setpriv)', async () => {
    const user = { user: apache!.user, group: apache!.group };
    const uid = Number(spawnSync('id', ['-u', user.user], { encoding: 'utf8' }).stdout.trim());
    await expectDirectoryChecked((file, dir) => logStillWritable(answer([file, dir]), env, user), uid);
  });

  // Trac asked as the user running trac-deploy: the check is made in this process (access(2)).
  // Root passes any directory (access ignores modes for root): then the check runs in a Node
  // process of its own as nobody, this module bundled for it (rolldown, the project's bundler).
  it('checks the directory as the current user when the log file is not there (in this process)', async () => {
    if (process.getuid?.() !== 0) {
      await expectDirectoryChecked((file, dir) => logStillWritable(answer([file, dir]), env, null), process.getuid?.() ?? 0);
      return;
    }
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
    const nogroup = spawnSync('getent', ['group', 'nogroup'], { encoding: 'utf8' });
    if (nobody.status !== 0 || nogroup.status !== 0) throw new Error('no user nobody (group nogroup) to make the check as');
    const { rolldown } = await import('rolldown');
    const bundled = await rolldown({ input: path.join(ROOT, 'src', 'inspect', 'preflightCache.ts'), platform: 'node', resolve: { extensionAlias: { '.js': ['.ts', '.js'] } }, logLevel: 'silent' });
    await bundled.write({ file: path.join(root, 'bundle', 'preflightCache.mjs'), format: 'esm' });
    await bundled.close();
    // version.ts reads the package.json above the module.
    await fs.writeFile(path.join(root, 'package.json'), '{"version": "0.0.0"}');
    const main = path.join(root, 'bundle', 'check.mjs');
    await fs.writeFile(
      main,
      "const { logStillWritable } = await import('./preflightCache.mjs');\n" +
        "const [file, dir] = process.argv.slice(2);\n" +
        "process.stdout.write(String(await logStillWritable({ status: 'ran', environments: [{ accessInputs: [file, dir] }] }, '/', null)));\n",
    );
    await fs.chmod(path.join(root, 'bundle'), 0o755);
    const asNobody = async (file: string, dir: string): Promise<boolean> => {
      const run = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, main, file, dir], { encoding: 'utf8', cwd: '/', timeout: 60_000 });
      if (run.stdout !== 'true' && run.stdout !== 'false') throw new Error(`the check as nobody did not answer: ${run.stderr}`);
      return run.stdout === 'true';
    };
    await expectDirectoryChecked(asNobody, Number(nobody.stdout.trim()));
  }, 60_000);
});
