import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runInspect } from '../../src/commands/inspect.js';
import { presented } from '../helpers/present.js';
import type { CliContext } from '../../src/context.js';
import { parseConnectionUri } from '../../src/inspect/databaseUrl.js';
import { inspectPath } from '../../src/inspect/inspectPath.js';
import { mysqlCall, postgresCall, probeDatabaseServers, type ClientRunner } from '../../src/inspect/probeDatabase.js';
import { tempDir } from '../helpers/tempDir.js';

const SECRET = 'sup3r:s3cret@';

async function makeEnvs(databases: Record<string, string>): Promise<string> {
  const root = await tempDir();
  for (const [name, database] of Object.entries(databases)) {
    await fs.outputFile(path.join(root, name, 'VERSION'), 'Trac Environment Version 1\n');
    await fs.outputFile(path.join(root, name, 'conf', 'trac.ini'), `[trac]\ndatabase = ${database}\n`);
  }
  return root;
}

type Call = { file: string; args: string[]; env: Record<string, string> };

function fakeRunner(answer: (call: Call) => Awaited<ReturnType<ClientRunner>>): { run: ClientRunner; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    run: async (file, args, env) => {
      const call = { file, args, env };
      calls.push(call);
      return answer(call);
    },
  };
}

const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: '', notFound: false });

describe('the client calls', () => {
  test('psql gets everything through PG* variables, the password only in PGPASSWORD; ?host= wins', () => {
    const { info, password } = parseConnectionUri(`postgres://trac%20user:${encodeURIComponent(SECRET)}@ignored:5433/trac?host=/run/pg&schema=s`);
    const call = postgresCall(info, password);
    expect(call.file).toBe('psql');
    expect(call.args.join(' ')).not.toContain(SECRET);
    expect(call.args).toContain('-w');
    expect(call.env).toMatchObject({ PGHOST: '/run/pg', PGPORT: '5433', PGUSER: 'trac user', PGDATABASE: 'trac', PGPASSWORD: SECRET });
  });

  test('psql without host, port or password leaves libpq its defaults', () => {
    const { info, password } = parseConnectionUri('postgres:///trac');
    expect(Object.keys(postgresCall(info, password).env).sort()).toEqual(['PGAPPNAME', 'PGCONNECT_TIMEOUT', 'PGDATABASE', 'PGPASSFILE', 'PGSERVICEFILE', 'PGSSLCERT', 'PGSSLKEY', 'PGSYSCONFDIR']);
    // none of the caller's files: ~/.pgpass would hand root's stored password to a host trac.ini names
    expect(postgresCall(info, password).env).toMatchObject({ PGPASSFILE: '/dev/null' });
  });

  test('psql: a database name that libpq would read as a connection string is refused', () => {
    const { info, password } = parseConnectionUri('postgres://u@h/host=evil');
    expect(() => postgresCall(info, password)).toThrow(/not probed/);
  });

  test('mysql connects as PyMySQL does: TCP to localhost:3306 by default, MYSQL_PWD for the password', () => {
    const { info, password } = parseConnectionUri(`mysql://trac:${encodeURIComponent(SECRET)}@/trac`);
    const call = mysqlCall(info, password);
    expect(call.args).toEqual(expect.arrayContaining(['--no-defaults', '--protocol=TCP', '--host=localhost', '--port=3306', '--user=trac', '--database=trac']));
    expect(call.args.join(' ')).not.toContain(SECRET);
    expect(call.env).toEqual({ MYSQL_PWD: SECRET });
  });

  test('mysql with ?unix_socket= and ?read_default_file=: the socket is the host, the option file is never read', () => {
    const { info, password } = parseConnectionUri('mysql://trac@db/trac?unix_socket=/run/mysqld/mysqld.sock&read_default_file=/root/.my.cnf&init_command=DROP');
    const call = mysqlCall(info, password);
    expect(call.args[0]).toBe('--no-defaults');
    expect(call.args.join(' ')).not.toMatch(/my\.cnf|defaults-file|init|DROP/);
    expect(call.args).toEqual(expect.arrayContaining(['--protocol=SOCKET', '--socket=/run/mysqld/mysqld.sock']));
    expect(call.args.some((a) => a.startsWith('--host'))).toBe(false);
    expect(call.env).toEqual({});
  });
});

describe('probeDatabaseServers', () => {
  test('reads max_connections once per server, as the first environment', async () => {
    const root = await makeEnvs({ a: `postgres://trac:${encodeURIComponent(SECRET)}@db/a`, b: 'postgres://trac:x@db/b', c: 'mysql://trac:y@db/c' });
    const inspection = await inspectPath(root);
    const fake = fakeRunner((call) => ok(call.file === 'psql' ? '100|7' : '151\t3'));
    const { servers, problems } = await probeDatabaseServers(inspection, fake.run);
    expect(fake.calls.map((c) => c.file)).toEqual(['psql', 'mysql']);
    expect(servers.map((s) => s.probe)).toEqual([
      { maxConnections: 100, connectionsInUse: 7, asEnvironment: 'a' },
      { maxConnections: 151, connectionsInUse: 3, asEnvironment: 'c' },
    ]);
    expect(problems).toEqual([]);
  });

  test('tries the next environment when one is refused; a refusal never shows the password', async () => {
    const root = await makeEnvs({ a: `postgres://trac:${encodeURIComponent(SECRET)}@db/a`, b: 'postgres://trac:good@db/b' });
    const inspection = await inspectPath(root);
    const fake = fakeRunner((call) =>
      call.env.PGPASSWORD === 'good' ? ok('20|1') : { exitCode: 2, stdout: '', stderr: `psql: error: auth failed for "${SECRET}"\n`, notFound: false },
    );
    const { servers, problems } = await probeDatabaseServers(inspection, fake.run);
    expect(servers[0]?.probe).toEqual({ maxConnections: 20, connectionsInUse: 1, asEnvironment: 'b' });
    expect(problems).toEqual([]);

    // A client that echoes the password it was given.
    const refused = fakeRunner((call) => ({ exitCode: 2, stdout: '', stderr: `psql: error: auth failed for "${call.env.PGPASSWORD}"`, notFound: false }));
    const failed = await probeDatabaseServers(inspection, refused.run);
    expect(failed.servers[0]?.probe).toBeNull();
    expect(failed.problems).toHaveLength(1);
    expect(failed.problems[0]).toMatchObject({ code: 'database-probe-failed', severity: 'warning' });
    expect(failed.problems[0]?.message).toContain('as a: psql: error: auth failed for "***"; as b: psql: error: auth failed for "***"');
    expect(JSON.stringify(failed)).not.toContain(SECRET);
  });

  test('a missing client is a problem that says what to install', async () => {
    const inspection = await inspectPath(await makeEnvs({ a: 'mysql://trac@db/a' }));
    const fake = fakeRunner(() => ({ exitCode: null, stdout: '', stderr: 'spawn mysql ENOENT', notFound: true }));
    const { problems } = await probeDatabaseServers(inspection, fake.run);
    expect(problems[0]?.message).toContain('mysql is not installed (apt-get install mariadb-client)');
  });

  test('a runner that throws and an answer that is not a number are problems too', async () => {
    const inspection = await inspectPath(await makeEnvs({ a: 'postgres://trac@db/a' }));
    const thrown = await probeDatabaseServers(inspection, async () => {
      throw new Error('boom');
    });
    expect(thrown.problems[0]?.message).toContain('as a: boom');
    const garbage = await probeDatabaseServers(inspection, async () => ok('no rows'));
    expect(garbage.problems[0]?.message).toContain('psql answered "no rows"');
  });

  test('warns when pooling could hold more connections than max_connections', async () => {
    const inspection = await inspectPath(await makeEnvs({ a: 'postgres://trac@db/a', b: 'postgres://trac@db/b' }), { processes: 4, threads: 5 });
    const { problems } = await probeDatabaseServers(inspection, async () => ok('30|2'));
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'database-connections-exceeded',
        message: expect.stringContaining('with pooling 4 processes x 5 threads could keep 40 connections open, but max_connections is 30'),
      }),
    ]);
  });

  test('runInspect --probe-db prints the answer in the report', async () => {
    const root = await makeEnvs({ a: `postgres://trac:${encodeURIComponent(SECRET)}@db/a` });
    const out: string[] = [];
    const err: string[] = [];
    const ctx: CliContext = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), interactive: false, colors: { red: String, yellow: String, cyan: String } as unknown as CliContext['colors'] };
    const code = await presented(runInspect({ path: root, processes: 2, threads: 5, probeDb: true, preflight: false }, async () => ok('100|4')), ctx);
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('max_connections 100, 4 in use (asked as a)');
    expect(out.join('\n') + err.join('\n')).not.toContain('s3cret');
  });
});
