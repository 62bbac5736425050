import { usageError } from '../errors.js';
import type { Finding } from '../findings.js';
import type { DatabaseServer, Inspection } from '../inspect/types.js';
import type { PoolChoice } from '../plan/options.js';

/** One database server's connection budget across the fleet. */
export interface ConnectionBudget {
  server: string;
  environments: string[];
  hosts: number;
  processes: number;
  threads: number;
  /** Connections the whole fleet could hold: hosts x one host's estimate. */
  pooled: number;
  unpooled: number;
  /** From --probe-db; null when the server was not asked or did not answer. */
  maxConnections: number | null;
  /** Connections other clients held when probed (they count against the budget too). */
  inUse: number | null;
}

/** What Trac imposes on a fleet, decided before anything is written. */
export interface FleetRules {
  hosts: number;
  budgets: ConnectionBudget[];
  /** The --pool value the plan is made with, and why. */
  pool: { choice: PoolChoice; reason: string };
  /** Subversion repository directories every host must reach (a check task per host). */
  svnRepositories: string[];
  findings: Finding[];
}

/**
 * The fleet rules: more than one web host cannot share an SQLite database (refused, exit 2);
 * the connection budget (the inspection's estimate per host, made for --processes x --threads)
 * times the hosts against max_connections (--probe-db),
 * and pooling is decided from it under --pool auto; Subversion repositories are listed for the
 * per-host reachability check.
 */
export function checkFleetRules(
  inspection: Pick<Inspection, 'kind' | 'path' | 'environments' | 'databaseServers'>,
  hosts: number,
  choice: PoolChoice,
): FleetRules {
  refuseSharedSqlite(inspection, hosts);
  const findings: Finding[] = [];
  const budgets = inspection.databaseServers.map((s) => budgetOf(s, hosts));
  for (const b of budgets) {
    if (b.maxConnections !== null && b.pooled + (b.inUse ?? 0) > b.maxConnections) {
      findings.push({
        code: 'fleet-connections-exceeded',
        severity: choice === 'keep' ? 'error' : 'warning',
        message: `${b.server}: ${b.hosts} hosts x ${b.processes} processes x ${b.threads} threads could keep ${b.pooled} connections open with pooling, but max_connections is ${b.maxConnections}${b.inUse ? ` (${b.inUse} in use when probed)` : ''}`,
        advice: [choice === 'keep' ? 'use --pool auto or --pool disable, or raise max_connections' : 'pooling is disabled for the fleet'],
      });
    }
    if (b.maxConnections !== null && b.unpooled + (b.inUse ?? 0) > b.maxConnections) {
      findings.push({
        code: 'fleet-connections-exceeded-unpooled',
        severity: 'error',
        message: `${b.server}: even without pooling ${b.hosts} hosts could hold ${b.unpooled} connections while requests run, but max_connections is ${b.maxConnections}`,
        advice: ['raise max_connections, or lower --processes / --threads'],
      });
    }
  }
  return { hosts, budgets, pool: decideFleetPool(budgets, hosts, choice), svnRepositories: svnRepositories(inspection), findings };
}

function refuseSharedSqlite(inspection: Pick<Inspection, 'environments'>, hosts: number): void {
  if (hosts <= 1) return;
  const sqlite = inspection.environments.filter((e) => e.database?.scheme === 'sqlite');
  if (sqlite.length === 0) return;
  throw usageError(
    `${sqlite.map((e) => e.path).join(', ')} ${sqlite.length > 1 ? 'use' : 'uses'} SQLite, which ${hosts} web hosts cannot share: SQLite locks the database file, and file locks do not hold across hosts on shared storage (NFS), so concurrent writes corrupt it or fail with "database is locked"`,
    'move the environment to PostgreSQL or MySQL first (trac-admin ENV convert_db postgres://...), or roll out to one host',
  );
}

function budgetOf(server: DatabaseServer, hosts: number): ConnectionBudget {
  const e = server.estimatedConnections;
  return {
    server: server.key,
    environments: server.environments,
    hosts,
    processes: e.processes,
    threads: e.threads,
    pooled: hosts * e.pooled,
    unpooled: hosts * e.unpooled,
    maxConnections: server.probe?.maxConnections ?? null,
    inUse: server.probe?.connectionsInUse ?? null,
  };
}

/**
 * --pool auto for a fleet: kept only when every server was asked (--probe-db) and the pooled
 * connections of all hosts fit under its max_connections; otherwise disabled, since an
 * unknown budget multiplied by the hosts is how "too many connections" starts.
 */
export function decideFleetPool(budgets: ConnectionBudget[], hosts: number, choice: PoolChoice): FleetRules['pool'] {
  if (choice !== 'auto') return { choice, reason: `--pool ${choice} as given` };
  if (budgets.length === 0) return { choice: 'auto', reason: 'no PostgreSQL or MySQL server: pooling left alone' };
  const over = budgets.filter((b) => b.maxConnections !== null && b.pooled + (b.inUse ?? 0) > b.maxConnections);
  const unknown = budgets.filter((b) => b.maxConnections === null);
  const sum = (b: ConnectionBudget) => `${b.hosts} hosts x ${b.processes} processes x ${b.threads} threads = up to ${b.pooled} pooled connections on ${b.server}`;
  if (over.length > 0) {
    return { choice: 'disable', reason: `pooling disabled for the fleet: ${over.map((b) => `${sum(b)}, max_connections ${b.maxConnections}`).join('; ')}` };
  }
  if (unknown.length > 0) {
    if (hosts <= 1) return { choice: 'auto', reason: 'one web host: pooling decided as generate decides it' };
    return {
      choice: 'disable',
      reason: `pooling disabled for the fleet: ${unknown.map(sum).join('; ')}, and max_connections was not read (pass --probe-db to keep pooling when it fits)`,
    };
  }
  return { choice: 'keep', reason: `pooling kept for the fleet: ${budgets.map((b) => `${sum(b)} fits max_connections ${b.maxConnections}`).join('; ')}` };
}

/** Directories of the Subversion repositories the environments name. */
function svnRepositories(inspection: Pick<Inspection, 'environments'>): string[] {
  const dirs = inspection.environments.flatMap((e) =>
    e.repositories.filter((r) => (r.type === 'svn' || r.type === 'direct-svnfs' || r.type === 'svnfs') && r.dir).map((r) => r.dir as string),
  );
  return [...new Set(dirs)].sort();
}
