import { execa } from 'execa';
import fs from 'fs-extra';
import crypto from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli, type CliResult } from '../helpers/cli.js';
import { CLI, FIXTURES } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * The CLI driven with broken input: every run either succeeds and writes both files, or exits
 * with the documented code, one clean "trac-deploy: ..." line first, no stack trace, and an
 * output directory left exactly as it was (here: absent).
 */
const VERSION = 'Trac Environment Version 1\n';

async function fakeEnv(dir: string, ini: string | Buffer = '[trac]\ndatabase = sqlite:db/trac.db\n'): Promise<string> {
  await fs.mkdirp(path.join(dir, 'conf'));
  await fs.writeFile(path.join(dir, 'VERSION'), VERSION);
  await fs.writeFile(path.join(dir, 'conf', 'trac.ini'), ini);
  return dir;
}

async function expectCleanOutcome(r: CliResult, out: string, allowed: number[]): Promise<void> {
  expect(allowed, `exit ${r.code}: ${r.stderr}`).toContain(r.code);
  if (r.code === 0) {
    const written = await fs.readdir(out);
    expect(written.some((f) => f.endsWith('.conf')) && written.some((f) => f.endsWith('.wsgi')), written.join(', ')).toBe(true);
    return;
  }
  expectCleanError(r);
  expect(r.stderr.split('\n')[0]?.length ?? 0).toBeGreaterThan(20);
  expect(await fs.pathExists(out), `partial output left in ${out}`).toBe(false);
}

describe('broken trac.ini files', () => {
  const cases: [string, () => string | Buffer][] = [
    ['random bytes', () => crypto.randomBytes(4096)],
    ['NUL bytes and invalid UTF-8', () => Buffer.from([0x5b, 0x74, 0x72, 0x61, 0x63, 0x5d, 0x0a, 0x00, 0xff, 0xfe, 0x3d, 0x0a])],
    ['unterminated section header', () => '[trac\ndatabase = sqlite:db/trac.db\n'],
    ['option before any section', () => 'database = sqlite:db/trac.db\n[trac]\n'],
    ['continuation line first', () => '   continued\n[trac]\n'],
    ['a bad database URL', () => '[trac]\ndatabase = postgres://%zz@/\n'],
    ['an unknown scheme', () => '[trac]\ndatabase = oracle://x\n'],
    ['an [inherit] loop', () => '[inherit]\nfile = trac.ini\n'],
    ['an [inherit] file that is a directory', () => '[inherit]\nfile = .\n'],
    ['a 1 MiB line', () => `[project]\nname = ${'x'.repeat(1 << 20)}\n`],
    ['ten thousand sections', () => Array.from({ length: 10000 }, (_, i) => `[s${i}]\nk = v`).join('\n')],
  ];
  it.each(cases)('%s', async (_name, ini) => {
    const dir = await tempDir();
    const env = await fakeEnv(path.join(dir, 'env'), ini());
    const out = path.join(dir, 'out');
    const r = await runCli(['generate', env, '--out', out]);
    await expectCleanOutcome(r, out, [0, 2]);
    const inspect = await runCli(['inspect', env, '--json']);
    expect([0, 2]).toContain(inspect.code);
    if (inspect.code !== 0) expectCleanError(inspect);
  });
});

describe('broken environments and paths', () => {
  const cases: [string, (dir: string) => Promise<string>, number][] = [
    ['binary VERSION', async (d) => {
      const env = await fakeEnv(path.join(d, 'env'));
      await fs.writeFile(path.join(env, 'VERSION'), crypto.randomBytes(512));
      return env;
    }, 2],
    ['VERSION is a directory', async (d) => {
      const env = path.join(d, 'env');
      await fs.mkdirp(path.join(env, 'VERSION'));
      return env;
    }, 2],
    ['trac.ini is a directory', async (d) => {
      const env = await fakeEnv(path.join(d, 'env'));
      await fs.remove(path.join(env, 'conf', 'trac.ini'));
      await fs.mkdirp(path.join(env, 'conf', 'trac.ini'));
      return env;
    }, 2],
    ['trac.ini is a dangling symlink', async (d) => {
      const env = await fakeEnv(path.join(d, 'env'));
      await fs.remove(path.join(env, 'conf', 'trac.ini'));
      await fs.symlink(path.join(d, 'nowhere'), path.join(env, 'conf', 'trac.ini'));
      return env;
    }, 2],
    ['the path is a dangling symlink', async (d) => {
      await fs.symlink(path.join(d, 'nowhere'), path.join(d, 'env'));
      return path.join(d, 'env');
    }, 2],
    ['the path is a file', async (d) => {
      await fs.writeFile(path.join(d, 'env'), 'x');
      return path.join(d, 'env');
    }, 2],
    ['the database is a directory', async (d) => {
      const env = await fakeEnv(path.join(d, 'env'));
      await fs.mkdirp(path.join(env, 'db', 'trac.db'));
      return env;
    }, 0],
    ['the database is random bytes', async (d) => {
      const env = await fakeEnv(path.join(d, 'env'));
      await fs.mkdirp(path.join(env, 'db'));
      await fs.writeFile(path.join(env, 'db', 'trac.db'), crypto.randomBytes(8192));
      return env;
    }, 0],
    ['a parent dir whose only entries are broken', async (d) => {
      const parent = path.join(d, 'parent');
      await fs.mkdirp(path.join(parent, 'a'));
      await fs.writeFile(path.join(parent, 'a', 'VERSION'), crypto.randomBytes(64));
      await fs.symlink(path.join(d, 'nowhere'), path.join(parent, 'b'));
      return parent;
    }, 2],
  ];
  it.each(cases)('%s', async (_name, make, expected) => {
    const dir = await tempDir();
    const env = await make(dir);
    const out = path.join(dir, 'out');
    const r = await runCli(['generate', env, '--out', out]);
    await expectCleanOutcome(r, out, [expected]);
  });

  it('very long paths: a 300-character name and a 5,000-character path', async () => {
    const dir = await tempDir();
    const env = await fakeEnv(path.join(dir, 'env'));
    for (const out of [path.join(dir, 'x'.repeat(300)), path.join(dir, ...Array.from({ length: 50 }, () => 'y'.repeat(100)))]) {
      const r = await runCli(['generate', env, '--out', out]);
      await expectCleanOutcome(r, out, [2]);
      expect(r.stderr.split('\n')[0]).toMatch(/name too long|too long/i);
    }
    const long = await runCli(['inspect', path.join(dir, 'z'.repeat(5000))]);
    expect(long.code).toBe(2);
    expectCleanError(long);
  });

  it('a 10,000-environment parent directory', async () => {
    const dir = await tempDir();
    const parent = path.join(dir, 'parent');
    const ini = '[trac]\ndatabase = sqlite:db/trac.db\n';
    await fs.mkdirp(parent);
    const names = Array.from({ length: 10000 }, (_, i) => `p${String(i).padStart(5, '0')}`);
    for (let i = 0; i < names.length; i += 500) {
      await Promise.all(names.slice(i, i + 500).map((n) => fakeEnv(path.join(parent, n), ini)));
    }
    const out = path.join(dir, 'out');
    const r = await runCli(['generate', parent, '--out', out, '--json']);
    expect(r.code, r.stderr.slice(0, 500)).toBe(0);
    expect((JSON.parse(r.stdout) as { environments: unknown[] }).environments).toHaveLength(10000);
    expect(await fs.readdir(out)).toEqual(expect.arrayContaining(['parent.conf', 'parent.wsgi']));
  });
});

describe('unreadable and unwritable places (the CLI run as nobody)', () => {
  const asNobody = (args: string[]) =>
    execa('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'node', CLI, ...args], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1' } }).then((r) => ({
      code: r.exitCode ?? -1,
      stdout: String(r.stdout),
      stderr: String(r.stderr),
    }));

  it('an environment nobody may read', async () => {
    const dir = await tempDir();
    await fs.copy(path.join(FIXTURES, 'envs', 'trac16-sqlite'), path.join(dir, 'env'));
    await fs.chmod(path.join(dir, 'env'), 0o700);
    const out = path.join(dir, 'out');
    await fs.mkdirp(out);
    await fs.chmod(out, 0o777);
    const r = await asNobody(['generate', path.join(dir, 'env'), '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expectCleanError(r);
    expect(await fs.readdir(out)).toEqual([]);
  });

  it('a trac.ini nobody may read', async () => {
    const dir = await tempDir();
    await fs.copy(path.join(FIXTURES, 'envs', 'trac16-sqlite'), path.join(dir, 'env'));
    await fs.chmod(path.join(dir, 'env', 'conf', 'trac.ini'), 0o600);
    const r = await asNobody(['generate', path.join(dir, 'env'), '--out', path.join(dir, 'out')]);
    expect(r.code, r.stderr).toBe(2);
    expectCleanError(r);
    expect(r.stderr).toContain('trac.ini');
    expect(await fs.pathExists(path.join(dir, 'out'))).toBe(false);
  });

  it('an --out directory nobody may write', async () => {
    const dir = await tempDir();
    await fs.copy(path.join(FIXTURES, 'envs', 'trac16-sqlite'), path.join(dir, 'env'));
    await fs.mkdirp(path.join(dir, 'locked'));
    const r = await asNobody(['generate', path.join(dir, 'env'), '--out', path.join(dir, 'locked', 'out')]);
    expect(r.code, r.stderr).toBe(2);
    expectCleanError(r);
    expect(r.stderr.split('\n')[0]).toContain(path.join(dir, 'locked'));
    expect(await fs.readdir(path.join(dir, 'locked'))).toEqual([]);
  });
});
