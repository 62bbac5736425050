import { describeDatabase } from '../inspect/databaseUrl.js';
import type { EnvironmentInfo, Inspection } from '../inspect/types.js';

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
  for (const env of inspection.environments) lines.push('', ...formatEnvironment(env));
  return lines.join('\n');
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
  if (env.problems.length) row('problems', String(env.problems.length));
  return lines;
}

/** What the environment expects of the login: case, domain-prefixed users, a login form. */
function loginSummary(env: EnvironmentInfo): string {
  const parts = [env.loginFormComponents.length ? `own login form (${env.loginFormComponents.join(', ')})` : 'REMOTE_USER from Apache'];
  parts.push(`ignore_auth_case ${env.ignoreAuthCase ? 'on' : 'off'}`);
  if (env.domainUsers.length) parts.push(`domain users: ${env.domainUsers.slice(0, 5).join(', ')}${env.domainUsers.length > 5 ? ', ...' : ''}`);
  return parts.join('; ');
}
