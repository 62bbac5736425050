import { describe, expect, test } from 'vitest';
import { estimateConnections, groupDatabaseServers } from '../../src/inspect/databaseServers.js';
import { decidePool } from '../../src/plan/poolDecision.js';
import { environmentOn, inspectionOf } from '../helpers/environmentInfo.js';

const env = environmentOn;
const inspection = inspectionOf;

const PG = (db: string, host = 'db.example.com') => `postgres://trac:secret@${host}/${db}`;
const MY = (db: string) => `mysql://trac:secret@db.example.com/${db}`;

describe('decidePool --pool auto', () => {
  test('one PostgreSQL environment alone on its server: pooling kept, and why', () => {
    const pool = decidePool(inspection('environment', env('one', PG('one'))), 'auto');
    expect(pool).toEqual({ disable: false, backends: [], reason: expect.stringMatching(/kept .*one environment on its database server/) });
  });

  test('a parent dir with PostgreSQL environments: disabled for postgres only, naming the shared server and the estimate', () => {
    const pool = decidePool(inspection('parent', env('a', PG('a')), env('b', PG('b')), env('c', PG('c'))), 'auto', { processes: 2, threads: 5 });
    expect(pool.disable).toBe(true);
    expect(pool.backends).toEqual(['postgres']);
    expect(pool.reason).toContain('parent directory');
    expect(pool.reason).toContain('3 environments share postgres://db.example.com:5432');
    expect(pool.reason).toContain('2 processes x 5 threads could keep 20 connections open there, without it at most 10');
  });

  test('a parent dir with one PostgreSQL environment: disabled, since environments added later share it', () => {
    const pool = decidePool(inspection('parent', env('a', PG('a')), env('b', 'sqlite:db/trac.db')), 'auto');
    expect(pool).toMatchObject({ disable: true, backends: ['postgres'] });
    expect(pool.reason).toMatch(/environments added under \/srv\/trac later will share its servers/);
  });

  test('a parent dir with MySQL and PostgreSQL: both backends', () => {
    const pool = decidePool(inspection('parent', env('a', PG('a')), env('b', MY('b'))), 'auto');
    expect(pool).toMatchObject({ disable: true, backends: ['postgres', 'mysql'] });
  });

  test('SQLite only (and a parent dir of them): never touched', () => {
    expect(decidePool(inspection('environment', env('one', 'sqlite:db/trac.db')), 'auto')).toMatchObject({ disable: false, backends: [] });
    const parent = decidePool(inspection('parent', env('a', 'sqlite:db/trac.db'), env('b', 'sqlite:db/trac.db')), 'auto');
    expect(parent).toMatchObject({ disable: false, backends: [] });
    expect(parent.reason).toMatch(/SQLite is never touched/);
  });

  test('an environment whose database string is malformed counts for nothing', () => {
    expect(decidePool(inspection('environment', env('bad', null)), 'auto')).toMatchObject({ disable: false, backends: [] });
  });

  test('the same server written two ways is one server (default port, ?host= socket dir)', () => {
    const servers = groupDatabaseServers(
      [env('a', 'postgres://u@db/a'), env('b', 'postgres://u@db:5432/b'), env('c', 'postgres://u@/c'), env('d', 'postgres://u@/d?host=/var/run/postgresql')],
      { processes: 2, threads: 5 },
    );
    expect(servers.map((s) => [s.key, s.environments])).toEqual([
      ['postgres://db:5432', ['a', 'b']],
      ['postgres:///var/run/postgresql:5432', ['c', 'd']],
    ]);
  });

  test('environments on different servers do not count as shared', () => {
    const servers = groupDatabaseServers([env('a', PG('a', 'db1')), env('b', PG('b', 'db2'))], { processes: 1, threads: 1 });
    expect(servers).toHaveLength(2);
    expect(servers.every((s) => s.environments.length === 1)).toBe(true);
  });
});

describe('decidePool --pool keep / disable override', () => {
  const parent = inspection('parent', env('a', PG('a')), env('b', PG('b')));
  test('keep never writes the lines, even where auto would', () => {
    expect(decidePool(parent, 'keep')).toEqual({ disable: false, backends: [], reason: expect.stringContaining('--pool keep') });
  });
  test('disable for the backends in use', () => {
    expect(decidePool(inspection('environment', env('one', MY('one'))), 'disable')).toMatchObject({ disable: true, backends: ['mysql'] });
  });
  test('disable with no PostgreSQL/MySQL environment yet: both backends, ready for later', () => {
    expect(decidePool(inspection('environment', env('one', 'sqlite:db/trac.db')), 'disable')).toMatchObject({ disable: true, backends: ['postgres', 'mysql'] });
  });
});

describe('estimateConnections', () => {
  test.each([
    // environments, processes, threads -> pooled, unpooled
    [1, 1, 1, 1, 1],
    [3, 2, 5, 20, 10],
    [1, 2, 5, 10, 10],
    [3, 1, 1, 3, 1],
    [2, 4, 15, 40, 40],
    [0, 2, 5, 0, 0],
  ])('%i environments, %i processes x %i threads: %i with pooling, %i without', (envs, processes, threads, pooled, unpooled) => {
    expect(estimateConnections(envs, { processes, threads })).toEqual({ processes, threads, poolSize: 10, pooled, unpooled });
  });
});
