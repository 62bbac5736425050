import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { FIXTURES, SYSTEM_PYTHON } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

const PG_LINE = 'trac.db.postgres_backend.PostgreSQLConnection.poolable = False';
const MY_LINE = 'trac.db.mysql_backend.MySQLConnection.poolable = False';

/** A directory of environments with the given [trac] database strings (VERSION + trac.ini only). */
async function makeEnvs(databases: Record<string, string>): Promise<string> {
  const root = await tempDir();
  for (const [name, database] of Object.entries(databases)) {
    await fs.outputFile(path.join(root, name, 'VERSION'), 'Trac Environment Version 1\n');
    await fs.outputFile(path.join(root, name, 'conf', 'trac.ini'), `[project]\nname = ${name}\n\n[trac]\ndatabase = ${database}\n`);
  }
  return root;
}

async function generate(target: string, ...flags: string[]) {
  const out = await tempDir();
  const result = await runCli(['generate', target, '--out', out, '--name', 'site', ...flags]);
  const wsgiPath = path.join(out, 'site.wsgi');
  const wsgi = (await fs.pathExists(wsgiPath)) ? await fs.readFile(wsgiPath, 'utf8') : '';
  return { ...result, wsgi, wsgiPath };
}

describe('generate --pool', () => {
  test('auto, a parent dir on PostgreSQL: the postgres line, the reason on stderr and in the script, valid Python', async () => {
    const { code, stderr, wsgi, wsgiPath } = await generate(path.join(FIXTURES, 'envs', 'parent-tracignore'));
    expect(code, stderr).toBe(0);
    expect(wsgi).toContain(PG_LINE);
    expect(wsgi).not.toContain(MY_LINE);
    expect(stderr).toMatch(/note: connection pooling disabled for PostgreSQL \(--pool auto, parent directory\): 2 environments share postgres:\/\/db\.example\.com:5432/);
    expect(wsgi).toMatch(/^# connection pooling disabled for PostgreSQL/m);
    await execa(SYSTEM_PYTHON, ['-m', 'py_compile', wsgiPath]);
  });

  test('auto, one MySQL environment: pooling kept, and it says why', async () => {
    const { code, stderr, wsgi } = await generate(path.join(FIXTURES, 'envs', 'trac16-mysql'));
    expect(code, stderr).toBe(0);
    expect(wsgi).not.toContain('poolable');
    expect(stderr).toContain('connection pooling kept (--pool auto): one environment on its database server');
  });

  test('disable, one MySQL environment: the mysql line only', async () => {
    const { code, wsgi } = await generate(path.join(FIXTURES, 'envs', 'trac16-mysql'), '--pool', 'disable');
    expect(code).toBe(0);
    expect(wsgi).toContain(MY_LINE);
    expect(wsgi).not.toContain(PG_LINE);
  });

  test('keep, a parent dir on PostgreSQL: no line', async () => {
    const { code, stderr, wsgi } = await generate(path.join(FIXTURES, 'envs', 'parent-tracignore'), '--pool', 'keep');
    expect(code).toBe(0);
    expect(wsgi).not.toContain('poolable');
    expect(stderr).toContain('--pool keep');
  });

  test('auto, SQLite only: nothing touched', async () => {
    const { code, wsgi } = await generate(path.join(FIXTURES, 'envs', 'trac16-sqlite'));
    expect(code).toBe(0);
    expect(wsgi).not.toContain('poolable');
    expect(wsgi).not.toMatch(/sqlite_backend/);
  });

  test('auto, a parent dir mixing PostgreSQL, MySQL and SQLite: both lines, valid Python', async () => {
    const root = await makeEnvs({ a: 'postgres://u:p@db/a', b: 'mysql://u:p@db/b', c: 'sqlite:db/trac.db' });
    const { code, stderr, wsgi, wsgiPath } = await generate(root);
    expect(code, stderr).toBe(0);
    expect(wsgi).toContain(PG_LINE);
    expect(wsgi).toContain(MY_LINE);
    await execa(SYSTEM_PYTHON, ['-m', 'py_compile', wsgiPath]);
  });

  test('an unknown --pool value is a usage error', async () => {
    const result = await runCli(['generate', path.join(FIXTURES, 'envs', 'trac16-mysql'), '--out', await tempDir(), '--pool', 'sometimes']);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain('pool');
  });
});

describe('inspect: database servers', () => {
  test('groups environments by server and explains the estimate; never prints a password', async () => {
    const root = await makeEnvs({
      a: 'postgres://trac:sup3rs3cret@db.example.com/a',
      b: 'postgres://trac:sup3rs3cret@db.example.com:5432/b?schema=x',
      c: 'postgres://trac:sup3rs3cret@/c?host=/var/run/postgresql',
      d: 'mysql://trac:sup3rs3cret@localhost/d',
      e: 'sqlite:db/trac.db',
    });
    const result = await runCli(['inspect', root, '--processes', '4', '--threads', '3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('sup3rs3cret');
    expect(result.stdout).toContain('Database servers (connections for 4 processes x 3 threads, one process group)');
    expect(result.stdout).toContain('postgres://db.example.com:5432  2 environments: a, b');
    expect(result.stdout).toContain('up to 24 with pooling, up to 12 without');
    expect(result.stdout).toContain('postgres:///var/run/postgresql:5432  1 environment: c');
    expect(result.stdout).toContain('mysql://localhost:3306  1 environment: d');
    expect(result.stdout).toContain('with pooling: processes x min(10, environments x threads)');

    const json = JSON.parse((await runCli(['inspect', root, '--json'])).stdout);
    expect(json.databaseServers.map((s: { key: string; environments: string[] }) => [s.key, s.environments])).toEqual([
      ['postgres://db.example.com:5432', ['a', 'b']],
      ['postgres:///var/run/postgresql:5432', ['c']],
      ['mysql://localhost:3306', ['d']],
    ]);
    expect(json.databaseServers[0].estimatedConnections).toEqual({ processes: 2, threads: 5, poolSize: 10, pooled: 20, unpooled: 10 });
  });

  test('a malformed connection string and a misspelt scheme are reported problems', async () => {
    const root = await makeEnvs({ bad: 'postgres://trac@db:port/trac', typo: 'postgresql://trac@db/trac' });
    const result = await runCli(['inspect', root, '--json']);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    const codes = json.environments.flatMap((e: { problems: { code: string }[] }) => e.problems.map((p) => p.code));
    expect(codes).toEqual(['database-url-invalid', 'database-scheme-unsupported']);
    const human = await runCli(['inspect', root]);
    expect(human.stderr).toMatch(/error: .*bad\/conf\/trac\.ini: invalid \[trac\] database string: port "port" is not a number/);
    expect(human.stderr).toMatch(/warning: .*database type "postgresql" .*\(Trac spells it "postgres:\/\/"\)/);
    expect(human.stdout).not.toContain('Database servers');
  });

  test('--probe-db with no server to reach is a problem, never a crash', async () => {
    // Port 1 on 127.0.0.1: nothing listens there.
    const root = await makeEnvs({ a: 'postgres://trac:sup3rs3cret@127.0.0.1:1/a' });
    const result = await runCli(['inspect', root, '--probe-db']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: could not read max_connections from postgres:\/\/127\.0\.0\.1:1 \(as a: psql: /);
    expect(result.stdout + result.stderr).not.toContain('sup3rs3cret');
  });

  test.each([['--processes', '0'], ['--threads', '1.5'], ['--threads', '5000']])('inspect %s %s is a usage error', async (flag, value) => {
    const result = await runCli(['inspect', path.join(FIXTURES, 'envs', 'trac16-sqlite'), flag, value]);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain(flag);
  });
});
