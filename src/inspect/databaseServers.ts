import { databaseServer } from './databaseUrl.js';
import type { Sizing } from './sizing.js';
import type { DatabaseServer, EnvironmentInfo } from './types.js';

/**
 * Trac's connection pool (trac/db/pool.py) is one per process, shared by every environment
 * the process serves, and holds at most TRAC_DB_POOL_SIZE (default 10) connections, in use and
 * idle together. Idle ones stay open until a request finds them unused for 120 s.
 */
export const TRAC_POOL_SIZE = 10;

/**
 * PostgreSQL/MySQL environments grouped by the server they connect to (scheme, host, port,
 * with the backends' defaults filled in), each with what the deployment could hold open.
 * Every environment of the inspected path is assumed to run in one process group of
 * `processes` x `threads`, as `generate` deploys it.
 */
export function groupDatabaseServers(environments: EnvironmentInfo[], sizing: Sizing): DatabaseServer[] {
  const servers = new Map<string, DatabaseServer>();
  for (const env of environments) {
    const address = env.database ? databaseServer(env.database) : null;
    if (!address) continue;
    let server = servers.get(address.key);
    if (!server) {
      server = { ...address, environments: [], estimatedConnections: estimateConnections(0, sizing), probe: null };
      servers.set(address.key, server);
    }
    server.environments.push(env.name);
  }
  for (const server of servers.values()) server.estimatedConnections = estimateConnections(server.environments.length, sizing);
  return [...servers.values()];
}

/**
 * With pooling (Trac's default) each thread leaves an idle connection per environment it
 * served, up to the pool size per process: processes x min(pool size, environments x threads).
 * Without pooling a connection lives only while its request runs: processes x min(pool size,
 * threads).
 */
export function estimateConnections(environments: number, { processes, threads }: Sizing): DatabaseServer['estimatedConnections'] {
  return {
    processes,
    threads,
    poolSize: TRAC_POOL_SIZE,
    pooled: processes * Math.min(TRAC_POOL_SIZE, environments * threads),
    unpooled: environments === 0 ? 0 : processes * Math.min(TRAC_POOL_SIZE, threads),
  };
}

/** The formula behind estimateConnections, for the human report. */
export const ESTIMATE_FORMULA =
  `with pooling: processes x min(${TRAC_POOL_SIZE}, environments x threads), idle ones kept open; ` +
  `without: processes x min(${TRAC_POOL_SIZE}, threads), only while requests run`;
