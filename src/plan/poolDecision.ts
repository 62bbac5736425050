import { groupDatabaseServers } from '../inspect/databaseServers.js';
import { DEFAULT_SIZING, type Sizing } from '../inspect/sizing.js';
import type { DatabaseServer, Inspection } from '../inspect/types.js';
import type { PoolChoice } from './options.js';
import type { DeploymentPlan } from './types.js';

const POOLED_BACKENDS = ['postgres', 'mysql'] as const;
const BACKEND_NAMES = { postgres: 'PostgreSQL', mysql: 'MySQL' } as const;

/**
 * Trac keeps idle PostgreSQL/MySQL connections per environment and process. When several
 * environments may share a server that adds up past the server's limit, so `auto` switches
 * pooling off for a parent directory (environments can be added at any time) or for several
 * environments on one server. `keep` and `disable` override; SQLite is never touched.
 */
export function decidePool(
  inspection: Pick<Inspection, 'kind' | 'path' | 'environments'>,
  choice: PoolChoice,
  sizing: Sizing = DEFAULT_SIZING,
): DeploymentPlan['pool'] {
  const servers = groupDatabaseServers(inspection.environments, sizing);
  const inUse = POOLED_BACKENDS.filter((b) => servers.some((s) => s.scheme === b));
  const names = (backends: readonly (keyof typeof BACKEND_NAMES)[]) => backends.map((b) => BACKEND_NAMES[b]).join(' and ');
  if (choice === 'keep') {
    return { disable: false, backends: [], reason: 'connection pooling kept as Trac has it (--pool keep)' };
  }
  if (choice === 'disable') {
    const backends = inUse.length > 0 ? inUse : [...POOLED_BACKENDS];
    return { disable: true, backends, reason: `connection pooling disabled for ${names(backends)} (--pool disable)` };
  }
  if (inUse.length === 0) {
    return { disable: false, backends: [], reason: 'no PostgreSQL or MySQL environment: connection pooling left alone (SQLite is never touched)' };
  }
  const shared = servers.filter((s) => s.environments.length > 1);
  if (inspection.kind === 'parent') {
    const why = shared.length > 0 ? shared.map(describeShared).join('; ') : `environments added under ${inspection.path} later will share its servers`;
    return {
      disable: true,
      backends: inUse,
      reason: `connection pooling disabled for ${names(inUse)} (--pool auto, parent directory): ${why}`,
    };
  }
  if (shared.length > 0) {
    return { disable: true, backends: inUse, reason: `connection pooling disabled for ${names(inUse)} (--pool auto): ${shared.map(describeShared).join('; ')}` };
  }
  return { disable: false, backends: [], reason: 'connection pooling kept (--pool auto): one environment on its database server' };
}

function describeShared(server: DatabaseServer): string {
  const { pooled, unpooled, processes, threads } = server.estimatedConnections;
  return (
    `${server.environments.length} environments share ${server.key}; with pooling ${processes} processes x ${threads} threads ` +
    `could keep ${pooled} connections open there, without it at most ${unpooled} while requests run`
  );
}
