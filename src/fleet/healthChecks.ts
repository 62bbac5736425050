import type { DeploymentPlan } from '../plan/types.js';

/** One request the role makes of each host after its reload (ansible.builtin.uri). */
export interface HealthCheck {
  what: string;
  path: string;
  status: number;
  /** Text the answer must hold ('' for none). */
  contains: string;
}

/** Trac's templates escape the project name in <title> as Jinja2 (markupsafe) does. */
export function htmlEscaped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

/**
 * The checks that prove a host serves this deployment: each project's page with its name in
 * the title (401 when the whole site needs a login), a static file Apache serves itself, and
 * the login page's challenge when Apache does the logins.
 */
export function healthChecks(plan: DeploymentPlan, staticKeys: readonly string[]): HealthCheck[] {
  const prefix = plan.urlPrefix === '/' ? '' : plan.urlPrefix;
  const wholeSite = plan.auth.method !== 'none' && plan.auth.scope === 'site';
  const checks: HealthCheck[] = [];
  const parent = plan.source.kind === 'parent';
  const projects = plan.source.environments.map((e) => ({ base: parent ? `${prefix}/${encodeURIComponent(e.name)}` : prefix, env: e }));
  if (parent && !wholeSite) checks.push({ what: 'project index', path: `${prefix}/`, status: 200, contains: '<title>' });
  for (const { base, env } of projects) {
    const title = env.projectName ? htmlEscaped(env.projectName) : '<title>';
    checks.push(
      wholeSite
        ? { what: `${env.name}: login required`, path: `${base}/`, status: 401, contains: '' }
        : { what: `${env.name}: project page`, path: `${base}/`, status: 200, contains: title },
    );
  }
  const first = projects[0];
  if (first && staticKeys.includes('common') && !wholeSite) {
    checks.push({ what: 'static file served by Apache', path: `${first.base}/chrome/common/css/trac.css`, status: 200, contains: 'body' });
  }
  if (first && plan.auth.method !== 'none' && plan.auth.scope === 'login') {
    checks.push({ what: 'login challenge', path: `${first.base}/login`, status: 401, contains: '' });
  }
  return checks;
}
