import { ESTIMATE_FORMULA } from '../inspect/databaseServers.js';
import { describeDatabase } from '../inspect/databaseUrl.js';
import type { DatabaseServer, EnvironmentInfo, Inspection } from '../inspect/types.js';

/** The human-readable inspect report (stdout). */
export function formatInspection(inspection: Inspection): string {
  const lines: string[] = [];
  const count = inspection.environments.length;
  lines.push(
    inspection.kind === 'environment'
      ? `Trac environment ${inspection.path}`
      : `Directory of ${count} Trac environment${count === 1 ? '' : 's'}: ${inspection.path}`,
  );
  for (const skip of inspection.skipped) lines.push(`  skipped ${skip.name}: ${skip.reason}`);
  const pre = inspection.preflight;
  if (pre) {
    lines.push(
      pre.status === 'ran'
        ? `  preflight: Trac ${pre.trac} asked in ${pre.python} (Python ${pre.pythonVersion})${pre.user ? ` as ${pre.user}` : ''}${pre.cachedFrom ? `; its answer of ${pre.cachedFrom}, kept: nothing it read has changed since` : ''}${pre.keptVerdicts ? `; ${pre.keptVerdicts} of ${count} verdicts kept from earlier runs (nothing they read has changed since)` : ''}`
        : `  preflight: skipped (${pre.reason})`,
    );
  }
  for (const env of inspection.environments) lines.push('', ...formatEnvironment(env));
  if (inspection.databaseServers.length > 0) lines.push('', ...formatServers(inspection.databaseServers));
  return lines.join('\n');
}

/** Which environments share a database server, and what a deployment could hold open there. */
function formatServers(servers: DatabaseServer[]): string[] {
  const first = servers[0]?.estimatedConnections;
  const lines = [`Database servers (connections for ${first?.processes} processes x ${first?.threads} threads, one process group)`];
  for (const server of servers) {
    const { pooled, unpooled } = server.estimatedConnections;
    const count = server.environments.length;
    lines.push(`  ${server.key}  ${count} environment${count === 1 ? '' : 's'}: ${server.environments.join(', ')}`);
    lines.push(`    connections    up to ${pooled} with pooling, up to ${unpooled} without`);
    if (server.probe) {
      const inUse = server.probe.connectionsInUse === null ? '' : `, ${server.probe.connectionsInUse} in use`;
      lines.push(`    server         max_connections ${server.probe.maxConnections}${inUse} (asked as ${server.probe.asEnvironment})`);
    }
  }
  lines.push(`  (${ESTIMATE_FORMULA}; pool size = TRAC_DB_POOL_SIZE)`);
  return lines;
}

function formatEnvironment(env: EnvironmentInfo): string[] {
  const lines = [`${env.name}  (${env.path})`];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(14)} ${value}`);
  if (env.project.name) row('project', env.project.name);
  row('format', env.formatVersion === null ? 'unknown' : `Trac Environment Version ${env.formatVersion}`);
  row('database', env.database ? describeDatabase(env.database) : 'invalid');
  row('db version', env.databaseVersion === null ? 'unknown' : `${env.databaseVersion} (Trac ${env.tracRelease})`);
  row(
    'repositories',
    env.repositories.length === 0
      ? 'none'
      : env.repositories.map((r) => `${r.name || '(default)'} [${r.type}]${r.dir ? ' ' + r.dir : ''}`).join(', '),
  );
  row('connectors', env.connectors.join(', ') || 'none');
  row('plugins', env.plugins.map((p) => `${p.name} (${p.kind})`).join(', ') || 'none');
  if (env.enabledComponents.length) row('components', env.enabledComponents.join(', '));
  row('login', loginSummary(env));
  if (env.inherit.files.length) row('inherits', env.inherit.files.join(', '));
  if (env.preflight) row('trac says', preflightSummary(env.preflight));
  if (env.problems.length) row('problems', String(env.problems.length));
  return lines;
}

function preflightSummary(pre: NonNullable<EnvironmentInfo['preflight']>): string {
  const kept = pre.cachedFrom ? `; kept: its answer of ${pre.cachedFrom}` : '';
  if (!pre.opened) return `will not serve it (see problems)${kept}`;
  const repos = pre.repositories.filter((r) => !r.alias);
  const bad = repos.filter((r) => !r.ok).length;
  const parts = ['opens it'];
  if (repos.length) parts.push(`${repos.length - bad} of ${repos.length} repositories open`);
  if (pre.pluginsNotLoaded.length) parts.push(`${pre.pluginsNotLoaded.length} plugin(s) not loaded`);
  if (pre.xsendfile?.on) parts.push(`use_xsendfile (${pre.xsendfile.header})`);
  return parts.join('; ') + kept;
}

/** What the environment expects of the login: case, domain-prefixed users, a login form. */
function loginSummary(env: EnvironmentInfo): string {
  const parts = [env.loginFormComponents.length ? `own login form (${env.loginFormComponents.join(', ')})` : 'REMOTE_USER from Apache'];
  parts.push(`ignore_auth_case ${env.ignoreAuthCase ? 'on' : 'off'}`);
  if (env.domainUsers.length) parts.push(`domain users: ${env.domainUsers.slice(0, 5).join(', ')}${env.domainUsers.length > 5 ? ', ...' : ''}`);
  return parts.join('; ');
}
