import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb.js';
import { serveAndCountIdle } from '../helpers/poolScenario.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * The PostgreSQL proof again for MySQL: MariaDB from Debian, PyMySQL in the Trac virtualenv,
 * three environments made by `trac-admin initenv` under one parent dir, served through Apache.
 */
const USER = 'tracuser';
const PASSWORD = 'my@pw:/%?&=';
const ENVS = ['one', 'three', 'two'];
const REQUESTS_PER_ENV = 6;

let db: MariaDbServer;
let parent: string;

beforeAll(async () => {
  db = await startMariaDb();
  parent = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-myenvs-'));
  await fs.chmod(parent, 0o755);
  for (const name of ENVS) {
    await db.createDatabase(`trac_${name}`, USER, PASSWORD);
    await initEnv(path.join(parent, name), `Project ${name}`, `mysql://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${db.port}/trac_${name}`);
  }
  await chownToApache(parent);
});

afterAll(async () => {
  await db?.stop();
  if (parent) await fs.remove(parent);
});

const run = (pool: 'auto' | 'keep') =>
  serveAndCountIdle({ parent, environments: ENVS, pool, perEnv: REQUESTS_PER_ENV, countIdle: () => db.idleConnections(USER) });

describe('connection pooling through Apache on a real MariaDB', () => {
  test('generate --pool auto: MySQLConnection.poolable = False, 0 idle connections after the requests', async () => {
    const { idle, wsgi, stderr } = await run('auto');
    expect(wsgi).toContain('trac.db.mysql_backend.MySQLConnection.poolable = False');
    expect(wsgi).not.toContain('PostgreSQLConnection');
    expect(stderr).toMatch(/3 environments share mysql:\/\/127\.0\.0\.1:\d+/);
    expect(idle).toBe(0);
  });

  test('generate --pool keep: idle connections stay open', async () => {
    const { idle, wsgi } = await run('keep');
    expect(wsgi).not.toContain('poolable');
    console.log(`MariaDB --pool keep: ${idle} idle connections after ${REQUESTS_PER_ENV * ENVS.length} requests`);
    expect(idle).toBeGreaterThan(0);
  });

  test('inspect --probe-db reads max_connections through the mysql client, printing no password', async () => {
    const result = await runCli(['inspect', parent, '--json', '--probe-db']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(encodeURIComponent(PASSWORD));
    const [server] = JSON.parse(result.stdout).databaseServers;
    expect(server).toMatchObject({
      key: `mysql://127.0.0.1:${db.port}`,
      environments: ENVS,
      estimatedConnections: { processes: 2, threads: 5, pooled: 20, unpooled: 10 },
      probe: { maxConnections: 50, asEnvironment: 'one' },
    });
  });
});
