import { databaseServerKey } from '../inspect/databaseUrl.js';
import type { Inspection } from '../inspect/types.js';
import type { PoolChoice } from './options.js';
import type { DeploymentPlan } from './types.js';

const POOLED_BACKENDS = ['postgres', 'mysql'] as const;

/**
 * Trac keeps idle PostgreSQL/MySQL connections per environment and process. When several
 * environments may share a server that adds up past the server's limit, so `auto` switches
 * pooling off for a parent directory or for several environments on one server. SQLite's
 * pooling is never touched.
 */
export function decidePool(inspection: Inspection, choice: PoolChoice): DeploymentPlan['pool'] {
  const inUse = POOLED_BACKENDS.filter((b) => inspection.environments.some((e) => e.database?.scheme === b));
  if (choice === 'keep') {
    return { disable: false, backends: [], reason: 'pooling kept (--pool keep)' };
  }
  if (choice === 'disable') {
    const backends = inUse.length > 0 ? inUse : [...POOLED_BACKENDS];
    return { disable: true, backends, reason: `pooling disabled for ${backends.join(' and ')} (--pool disable)` };
  }
  if (inUse.length === 0) {
    return { disable: false, backends: [], reason: 'no PostgreSQL or MySQL environment: nothing to change (SQLite pooling is left alone)' };
  }
  if (inspection.kind === 'parent') {
    return {
      disable: true,
      backends: inUse,
      reason: `pooling disabled for ${inUse.join(' and ')}: every environment under ${inspection.path} keeps its own pool in every process, and together they can exhaust the server's connections`,
    };
  }
  const servers = new Map<string, number>();
  for (const env of inspection.environments) {
    const key = env.database ? databaseServerKey(env.database) : null;
    if (key) servers.set(key, (servers.get(key) ?? 0) + 1);
  }
  const shared = [...servers].filter(([, count]) => count > 1);
  if (shared.length > 0) {
    return { disable: true, backends: inUse, reason: `pooling disabled: ${shared.map(([k, n]) => `${n} environments share ${k}`).join('; ')}` };
  }
  return { disable: false, backends: [], reason: 'one environment on its database server: pooling kept' };
}
