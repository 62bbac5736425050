import { execa } from 'execa';
import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { serveAndCountIdle } from '../helpers/poolScenario.js';
import { tempDir } from '../helpers/tempDir.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * The seed's "Trac with PostgreSQL" section, for real: three environments made by
 * `trac-admin initenv` on one throwaway PostgreSQL, under one parent dir, served through Apache
 * with the generated configuration; then pg_stat_activity says how many idle connections the
 * Trac role still holds.
 */
const ROLE = 'tracuser';
// Every character Trac's parser splits on, URL-encoded in the connection string.
const PASSWORD = 'p@ss:w/rd%?&=';
const ENVS = ['alpha', 'beta', 'gamma'];
const REQUESTS_PER_ENV = 6;

let pg: PostgresServer;
let parent: string;

beforeAll(async () => {
  pg = await startPostgres();
  parent = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-pgenvs-'));
  await fs.chmod(parent, 0o755);
  await pg.createRole(ROLE, PASSWORD);
  const uri = (db: string) => `postgres://${ROLE}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${pg.port}/${db}`;
  for (const name of ENVS) {
    await pg.createDatabase(`trac_${name}`, ROLE);
    await initEnv(path.join(parent, name), `Project ${name}`, uri(`trac_${name}`));
  }
  await chownToApache(parent);
});

afterAll(async () => {
  await pg?.stop();
  if (parent) await fs.remove(parent);
});

const run = (pool: 'auto' | 'keep' | 'disable') =>
  serveAndCountIdle({ parent, environments: ENVS, pool, perEnv: REQUESTS_PER_ENV, countIdle: () => pg.idleConnections(ROLE) });

describe('connection pooling through Apache on a real PostgreSQL', () => {
  test('generate --pool auto disables pooling for a parent dir: 0 idle connections after the requests', async () => {
    const { idle, wsgi, stderr } = await run('auto');
    // Apache is gone: so are its connections.
    expect(await pg.idleConnections(ROLE)).toBe(0);
    expect(wsgi).toContain('trac.db.postgres_backend.PostgreSQLConnection.poolable = False');
    expect(wsgi).not.toContain('MySQLConnection');
    expect(stderr).toMatch(/3 environments share postgres:\/\/127\.0\.0\.1:\d+/);
    expect(idle).toBe(0);
  });

  test('generate --pool disable: 0 idle connections', async () => {
    const { idle, wsgi } = await run('disable');
    expect(wsgi).toContain('PostgreSQLConnection.poolable = False');
    expect(idle).toBe(0);
  });

  test('generate --pool keep leaves Trac pooling: idle connections stay open', async () => {
    const { idle, wsgi } = await run('keep');
    expect(wsgi).not.toContain('poolable');
    console.log(`--pool keep: ${idle} idle connections after ${REQUESTS_PER_ENV * ENVS.length} requests`);
    expect(idle).toBeGreaterThan(0);
  });

  test('inspect groups the three environments on one server and --probe-db reads max_connections', async () => {
    const result = await runCli(['inspect', parent, '--json', '--probe-db', '--processes', '3', '--threads', '4']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    expect(result.stdout + result.stderr).not.toContain(encodeURIComponent(PASSWORD));
    const inspection = JSON.parse(result.stdout);
    expect(inspection.databaseServers).toEqual([
      {
        key: `postgres://127.0.0.1:${pg.port}`,
        scheme: 'postgres',
        host: '127.0.0.1',
        port: pg.port,
        socket: false,
        environments: ENVS,
        estimatedConnections: { processes: 3, threads: 4, poolSize: 10, pooled: 30, unpooled: 12 },
        probe: { maxConnections: 50, connectionsInUse: expect.any(Number), asEnvironment: 'alpha' },
      },
    ]);
    const human = await runCli(['inspect', parent, '--probe-db']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`postgres://127.0.0.1:${pg.port}  3 environments: alpha, beta, gamma`);
    expect(human.stdout).toContain('max_connections 50');
    expect(human.stdout).not.toContain(encodeURIComponent(PASSWORD));
  });

  test('--probe-db with a wrong password is a reported problem, not a crash, and prints no password', async () => {
    const dir = await tempDir();
    const env = path.join(dir, 'wrong');
    await fs.copy(path.join(parent, 'alpha'), env);
    const ini = path.join(env, 'conf', 'trac.ini');
    const text = await fs.readFile(ini, 'utf8');
    await fs.writeFile(ini, text.replace(encodeURIComponent(PASSWORD), 'not-the-password'));
    const result = await runCli(['inspect', env, '--probe-db']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: could not read max_connections from postgres:\/\/127\.0\.0\.1:\d+ \(as wrong: psql: .*password authentication failed/);
    expect(result.stdout + result.stderr).not.toContain('not-the-password');
  });
});

test('the cluster listens on 127.0.0.1 only', async () => {
  const listen = await pg.sql('SHOW listen_addresses');
  expect(listen).toBe('127.0.0.1');
  const ss = await execa('ss', ['-ltnp'], { reject: false });
  if (ss.exitCode === 0) {
    const lines = String(ss.stdout).split('\n').filter((l) => l.includes(`:${pg.port} `));
    expect(lines.every((l) => l.includes(`127.0.0.1:${pg.port}`))).toBe(true);
  }
});
