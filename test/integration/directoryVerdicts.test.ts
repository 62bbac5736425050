import Database from 'better-sqlite3';
import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

interface Inspected {
  preflight: { status: string; keptVerdicts?: number };
  environments: { name: string; problems: { code: string }[]; preflight: { opened: boolean; cachedFrom?: string } | null }[];
}

const asRoot = process.getuid?.() === 0;
/** Files changed this close before a question count as changed while Trac read them (preflightCache.ts SETTLE_MS). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 2100));

/**
 * Trac's verdicts on a directory of environments kept between runs (inspect/directoryVerdicts.ts),
 * with real Trac 1.6 and environments made by initenv: a second run keeps them; each change Trac
 * would answer differently to makes exactly that environment asked again while the others stay
 * kept; an error is never kept; a corrupt entry is ignored (everything asked, then kept again).
 */
describe('kept verdicts of a directory of environments (real Trac 1.6)', () => {
  it('are served on a repeated run, and exactly the changed environments are asked again', async () => {
    const root = await tempDir();
    const parent = path.join(root, 'projects');
    const template = await initEnv(path.join(root, 'template'), 'Template');
    const names = ['ini', 'plugin', 'db', 'logdir', 'logacl', 'same1', 'same2', 'old'];
    for (const name of names) await fs.copy(template, path.join(parent, name));
    // A database from an older Trac: Trac's verdict is an error (needs an upgrade), never kept.
    const old = new Database(path.join(parent, 'old', 'db', 'trac.db'));
    old.prepare("UPDATE system SET value = '41' WHERE name = 'database_version'").run();
    old.close();
    const log = path.join(parent, 'logacl', 'log', 'trac.log');
    if (asRoot) {
      await chownToApache(root);
      // Writable by the web server user through its group (an ACL can take that away below).
      await fs.chown(log, 0, (await fs.stat(template)).gid);
      await fs.chmod(log, 0o664);
    }
    // Each log written after the chown (which changed its ctime alone): its stamp is that of a write.
    for (const name of names) await fs.appendFile(path.join(parent, name, 'log', 'trac.log'), 'a line\n');
    const cache = path.join(root, 'cache');
    const inspect = async (): Promise<Map<string, Inspected['environments'][number]> & { kept?: number }> => {
      const result = await runCli(['inspect', parent, '--python-home', VENV, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as Inspected;
      expect(report.preflight.status).toBe('ran');
      const byName = new Map(report.environments.map((e) => [e.name, e])) as Map<string, Inspected['environments'][number]> & { kept?: number };
      byName.kept = report.preflight.keptVerdicts ?? 0;
      return byName;
    };
    const keptNames = (envs: Map<string, Inspected['environments'][number]>) => [...envs.values()].filter((e) => e.preflight?.cachedFrom).map((e) => e.name).sort();
    const good = names.filter((n) => n !== 'old').sort();
    await settle();

    const first = await inspect();
    expect(keptNames(first), 'nothing kept yet').toEqual([]);
    expect([...first.values()].every((e) => e.preflight !== null)).toBe(true);
    expect(first.get('old')!.problems.map((p) => p.code)).toContain('needs-upgrade');

    const second = await inspect();
    expect(keptNames(second), 'every verdict without an error kept').toEqual(good);
    expect(second.kept).toBe(good.length);
    expect(second.get('old')!.preflight?.cachedFrom, 'an error is not kept').toBeUndefined();
    expect(second.get('old')!.problems.map((p) => p.code)).toContain('needs-upgrade');
    // The kept answers are Trac's answers of the first run.
    for (const name of good) expect(second.get(name)!.problems).toEqual(first.get(name)!.problems);
    const text = await runCli(['inspect', parent, '--python-home', VENV], { env: { TRAC_DEPLOY_CACHE_DIR: cache } });
    expect(text.stdout).toContain(`${good.length} of ${names.length} verdicts kept from earlier runs`);
    expect(text.stdout).toMatch(/trac says +opens it; kept: its answer of \d{4}-/);

    // One change each, of what Trac reads.
    await fs.appendFile(path.join(parent, 'ini', 'conf', 'trac.ini'), '\n[trac-deploy-test]\nchanged = 1\n');
    await fs.writeFile(path.join(parent, 'plugin', 'plugins', 'hello.py'), 'from trac.core import Component\n\nclass Hello(Component):\n    pass\n');
    const db = path.join(parent, 'db', 'db', 'trac.db');
    await fs.copy(db, `${db}.new`, { preserveTimestamps: true });
    await fs.rename(`${db}.new`, db);
    const logDir = path.join(parent, 'logdir', 'log');
    if (asRoot) await fs.chown(logDir, 0, 0);
    await fs.chmod(logDir, 0o555);
    if (asRoot) {
      await fs.chown(path.join(parent, 'plugin', 'plugins', 'hello.py'), (await fs.stat(template)).uid, (await fs.stat(template)).gid);
      await fs.chown(db, (await fs.stat(template)).uid, (await fs.stat(template)).gid);
    }
    // Writing taken from the web server user by an ACL, then the log written (as the daemon and
    // trac-admin write it all day): mode, owner and inode as they were, ctime that of a write.
    // Only Trac's log check made again as that user sees it.
    if (asRoot) {
      const { mode, ino } = await fs.stat(log);
      await execa('setfacl', ['-m', 'u:www-data:r', log]);
      await fs.appendFile(log, 'a line\n');
      expect(await fs.stat(log)).toMatchObject({ mode, ino });
    } else {
      await fs.chmod(log, 0o444);
    }
    await settle();

    const third = await inspect();
    expect(keptNames(third), 'only the unchanged environments kept').toEqual(['same1', 'same2']);
    expect(third.get('logacl')!.problems.map((p) => p.code)).toContain('log-file-unwritable');
    // Trac's new answers (the unchanged ones aside) are kept in turn; the refusal is not.
    const fourth = await inspect();
    expect(keptNames(fourth)).toEqual(good.filter((n) => n !== 'logacl'));

    // A corrupt entry: ignored, every environment asked, and kept again after.
    const [entry] = (await fs.readdir(cache)).filter((name) => name.startsWith('preflight-dir-'));
    expect(entry).toBeDefined();
    const file = path.join(cache, entry!);
    const whole = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, whole.slice(0, Math.floor(whole.length / 2)), { mode: 0o600 });
    expect(keptNames(await inspect()), 'a truncated entry is no entry').toEqual([]);
    expect(keptNames(await inspect())).toEqual(good.filter((n) => n !== 'logacl'));
    // Well-formed JSON of another shape: the same.
    await fs.writeFile(file, JSON.stringify({ ...JSON.parse(whole), answer: { environments: 'x' } }), { mode: 0o600 });
    expect(keptNames(await inspect()), 'an entry of another shape is no entry').toEqual([]);
  }, 300_000);

  it('are looked at by the threads that judge the environments: one added beside the others is asked, they stay kept, and a log the web server user may no longer write is seen', async () => {
    const root = await tempDir();
    const parent = path.join(root, 'projects');
    const template = await initEnv(path.join(root, 'template'), 'Template');
    // As an administrator makes them: the directory first, then each environment in it (owned by
    // the web server user).
    await fs.mkdir(parent);
    if (asRoot) await chownToApache(root);
    for (const name of ['a', 'b', 'c']) {
      await fs.copy(template, path.join(parent, name));
      if (asRoot) await chownToApache(path.join(parent, name));
    }
    const log = path.join(parent, 'a', 'log', 'trac.log');
    if (asRoot) {
      // Writable by the web server user through its group (an ACL can take that away below).
      await fs.chown(log, 0, (await fs.stat(template)).gid);
      await fs.chmod(log, 0o664);
    }
    // Written after the chown (which changed its ctime alone): its stamp is that of a write.
    await fs.appendFile(log, 'a line\n');
    const cache = path.join(root, 'cache');
    // Worker threads even for three environments (the default starts them from 2,000).
    const inspect = async () => {
      const result = await runCli(['inspect', parent, '--python-home', VENV, '--json'], { env: { TRAC_DEPLOY_CACHE_DIR: cache, TRAC_DEPLOY_INSPECT_WORKERS: '2' } });
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as Inspected;
      const kept = report.environments.filter((e) => e.preflight?.cachedFrom).map((e) => e.name).sort();
      return { report, kept, problems: (name: string) => report.environments.find((e) => e.name === name)!.problems.map((p) => p.code) };
    };
    await settle();
    expect((await inspect()).kept).toEqual([]);
    const second = await inspect();
    expect(second.kept).toEqual(['a', 'b', 'c']);
    expect(second.report.preflight.keptVerdicts).toBe(3);

    // A new environment beside them (the directory's entries change), and one of them changed.
    await fs.copy(template, path.join(parent, 'added'));
    if (asRoot) await chownToApache(path.join(parent, 'added'));
    await fs.appendFile(path.join(parent, 'b', 'conf', 'trac.ini'), '\n[trac-deploy-test]\nchanged = 1\n');
    await settle();
    const third = await inspect();
    expect(third.kept, 'the unchanged environments stay kept').toEqual(['a', 'c']);
    expect(third.report.environments.map((e) => e.name).sort()).toEqual(['a', 'added', 'b', 'c']);
    expect((await inspect()).kept).toEqual(['a', 'added', 'b', 'c']);

    // Writing taken from the web server user (as root: an ACL, then a line written, so that the
    // stamps are as they were), or from this user: only Trac's log check made again sees it.
    if (asRoot) {
      await execa('setfacl', ['-m', 'u:www-data:r', log]);
      await fs.appendFile(log, 'a line\n');
    } else {
      await fs.chmod(log, 0o444);
    }
    await settle();
    const fifth = await inspect();
    expect(fifth.kept).toEqual(['added', 'b', 'c']);
    expect(fifth.problems('a')).toContain('log-file-unwritable');

    // The directory of environments itself is not stamped (it gets an entry whenever one is
    // added): an ACL taking the web server user's way through it, then an environment added
    // (its times as after any new entry), is seen by the test each kept verdict makes that its
    // environment can be reached, as that user.
    // Without a log file (Trac's log check would see it as well), only that test sees it.
    if (asRoot) {
      for (const name of ['a', 'added', 'b', 'c']) {
        const ini = path.join(parent, name, 'conf', 'trac.ini');
        await fs.writeFile(ini, (await fs.readFile(ini, 'utf8')).replace(/^log_type = file$/m, 'log_type = none'));
      }
      await fs.chown(parent, 0, 0);
      await fs.chmod(parent, 0o755);
      await settle();
      expect((await inspect()).kept).toEqual([]);
      expect((await inspect()).kept).toEqual(['a', 'added', 'b', 'c']);
      await execa('setfacl', ['-m', 'u:www-data:---', parent]);
      await fs.copy(template, path.join(parent, 'late'));
      await settle();
      const refused = await inspect();
      expect(refused.kept, 'no kept verdict served through a directory the web server user cannot pass').toEqual([]);
      for (const name of ['a', 'added', 'b', 'c', 'late']) expect(refused.problems(name)).toContain('trac-cannot-read');
    }
  }, 300_000);
});
