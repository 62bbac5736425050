import { usageError } from '../errors.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { renderTemplate } from './engine.js';

/**
 * deploy's scripts: cgi-bin/trac.wsgi, trac.cgi and trac.fcgi with a `#!` line naming the
 * environment's Python (as trac-admin deploy writes them), and the Apache configuration.
 */
export function renderDeploy(plan: DeploymentPlan, python: string): RenderedFile[] {
  const { cgi, fcgi } = plan.files;
  if (!cgi || !fcgi) throw new Error('renderDeploy needs a plan made with deployTarget');
  if (/[\s\0]/.test(python) || !python.startsWith('/')) {
    throw usageError(`the Python ${JSON.stringify(python)} cannot be named on a #! line (it needs an absolute path without spaces)`);
  }
  const shebang = `#!${python}\n`;
  // Unlike generate's script, deploy's trac.wsgi makes the virtualenv importable in any mode:
  // it may be mounted by a hand-written embedded-mode configuration too.
  const wsgi = renderTemplate('wsgi/trac.wsgi.hbs', { ...plan, daemon: null });
  return [
    { path: plan.files.wsgi, kind: 'wsgi', content: shebang + wsgi, mode: 0o755 },
    { path: cgi, kind: 'cgi', content: shebang + renderTemplate('cgi/trac.cgi.hbs', plan), mode: 0o755 },
    { path: fcgi, kind: 'fcgi', content: shebang + renderTemplate('cgi/trac.fcgi.hbs', plan), mode: 0o755 },
    { path: plan.files.apache, kind: 'apache', content: renderTemplate('apache/site.conf.hbs', plan), mode: 0o644 },
  ];
}
