import { describe, expect, it } from 'vitest';
import { groupDatabaseServers } from '../../src/inspect/databaseServers.js';
import type { Inspection } from '../../src/inspect/types.js';
import { debianPackages, pipRequirements } from '../../src/fleet/packages.js';
import { checkFleetRules, decideFleetPool } from '../../src/fleet/rules.js';
import { UserError } from '../../src/errors.js';
import { environmentInfo, environmentOn, inspectionOf } from '../helpers/environmentInfo.js';

const SIZING = { processes: 2, threads: 5 };

function withServers(inspection: Inspection, maxConnections: number | null, inUse: number | null = null): Inspection {
  const servers = groupDatabaseServers(inspection.environments, SIZING).map((s) => ({
    ...s,
    probe: maxConnections === null ? null : { maxConnections, connectionsInUse: inUse, asEnvironment: s.environments[0]! },
  }));
  return { ...inspection, databaseServers: servers };
}

describe('fleet rules', () => {
  it('refuses an SQLite environment on more than one web host, with the reason', () => {
    const inspection = inspectionOf('environment', environmentOn('lite', 'sqlite:db/trac.db'));
    let thrown: unknown;
    try {
      checkFleetRules(inspection, 3, 'auto');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UserError);
    const error = thrown as UserError;
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('/srv/trac/lite uses SQLite, which 3 web hosts cannot share');
    expect(error.message).toContain('file locks do not hold across hosts');
    expect(error.advice.join(' ')).toContain('convert_db');
  });

  it('lets one web host keep SQLite', () => {
    const rules = checkFleetRules(inspectionOf('environment', environmentOn('lite', 'sqlite:db/trac.db')), 1, 'auto');
    expect(rules.hosts).toBe(1);
    expect(rules.budgets).toEqual([]);
  });

  it('multiplies the connection estimate by the hosts and keeps pooling when it fits max_connections', () => {
    const inspection = withServers(inspectionOf('environment', environmentOn('pg', 'postgres://u:p@db.example:5432/pg')), 100);
    const rules = checkFleetRules(inspection, 3, 'auto');
    // one host: 2 processes x min(10, 1 env x 5 threads) = 10 pooled; three hosts: 30.
    expect(rules.budgets[0]).toMatchObject({ hosts: 3, processes: 2, threads: 5, pooled: 30, unpooled: 30, maxConnections: 100 });
    expect(rules.pool.choice).toBe('keep');
    expect(rules.pool.reason).toContain('3 hosts x 2 processes x 5 threads = up to 30 pooled connections on');
    expect(rules.findings).toEqual([]);
  });

  it('disables pooling when the fleet would exceed max_connections, and says so', () => {
    const inspection = withServers(inspectionOf('parent', environmentOn('a', 'postgres://u:p@db:5432/a'), environmentOn('b', 'postgres://u:p@db:5432/b')), 50, 5);
    const rules = checkFleetRules(inspection, 3, 'auto');
    // per host: 2 x min(10, 2 x 5) = 20 pooled; x3 = 60 > 50 - 5.
    expect(rules.budgets[0]).toMatchObject({ pooled: 60, unpooled: 30, maxConnections: 50, inUse: 5 });
    expect(rules.pool.choice).toBe('disable');
    expect(rules.findings.map((f) => f.code)).toEqual(['fleet-connections-exceeded']);
  });

  it('reports an error when even unpooled connections cannot fit', () => {
    const inspection = withServers(inspectionOf('environment', environmentOn('pg', 'postgres://u:p@db/pg')), 20);
    const rules = checkFleetRules(inspection, 3, 'auto');
    expect(rules.findings.map((f) => [f.code, f.severity])).toEqual([
      ['fleet-connections-exceeded', 'warning'],
      ['fleet-connections-exceeded-unpooled', 'error'],
    ]);
  });

  it('disables pooling for several hosts when max_connections was not read', () => {
    const inspection = withServers(inspectionOf('environment', environmentOn('pg', 'postgres://u:p@db/pg')), null);
    expect(checkFleetRules(inspection, 2, 'auto').pool).toMatchObject({ choice: 'disable' });
    expect(checkFleetRules(inspection, 2, 'auto').pool.reason).toContain('--probe-db');
    expect(checkFleetRules(inspection, 1, 'auto').pool.choice).toBe('auto');
  });

  it('keeps an explicit --pool choice', () => {
    expect(decideFleetPool([], 3, 'keep')).toEqual({ choice: 'keep', reason: '--pool keep as given' });
    expect(decideFleetPool([], 3, 'disable').choice).toBe('disable');
  });

  it('lists the Subversion repositories every host must reach', () => {
    const env = environmentInfo({
      database: environmentOn('x', 'postgres://u:p@db/x').database,
      repositories: [
        { name: '', type: 'svn', dir: '/srv/svn/main', alias: null, hidden: false, source: 'repositories-section' },
        { name: 'g', type: 'git', dir: '/srv/git/g', alias: null, hidden: false, source: 'repositories-section' },
        { name: 'again', type: 'svn', dir: '/srv/svn/main', alias: null, hidden: false, source: 'repositories-section' },
      ],
    });
    expect(checkFleetRules(inspectionOf('environment', env), 3, 'disable').svnRepositories).toEqual(['/srv/svn/main']);
  });
});

describe('fleet packages', () => {
  it('maps the plan\'s Apache modules to Debian packages', () => {
    expect(debianPackages({ apacheModules: ['wsgi', 'authz_core', 'auth_gssapi', 'alias'] }, { svn: true })).toEqual([
      'apache2',
      'libapache2-mod-wsgi-py3',
      'python3-venv',
      'python3-pkg-resources',
      'libapache2-mod-auth-gssapi',
      'python3-subversion',
      'subversion',
    ]);
  });

  it('pins Trac, the plugins and the drivers as the controller has them', () => {
    const dists = {
      python: '3.11.2',
      trac: '1.6',
      plugins: [{ name: 'TracAccountManager', version: '0.6' }],
      drivers: { psycopg2: { name: 'psycopg2-binary', version: '2.9.9' }, pymysql: null },
    };
    expect(pipRequirements(dists, new Set(['postgres', 'mysql']), '1.6')).toEqual([
      'Trac==1.6',
      'setuptools<82',
      'psycopg2-binary==2.9.9',
      'PyMySQL',
      'TracAccountManager==0.6',
    ]);
  });
});
