import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { prepareTemplates, renderTemplate } from './engine.js';

/**
 * deploy's scripts: cgi-bin/trac.wsgi, trac.cgi and trac.fcgi with a `#!` line naming the
 * environment's Python (as trac-admin deploy writes them), and the Apache configuration.
 */
export function renderDeploy(plan: DeploymentPlan): RenderedFile[] {
  const { cgi, fcgi } = plan.files;
  const { interpreter } = plan.python;
  if (!cgi || !fcgi || interpreter === undefined) throw new Error('renderDeploy needs a plan made with deployTarget');
  const shebang = `#!${interpreter}\n`;
  return [
    { path: plan.files.wsgi, kind: 'wsgi', content: shebang + renderTemplate('wsgi/trac.wsgi.hbs', plan), mode: 0o755 },
    { path: cgi, kind: 'cgi', content: shebang + renderTemplate('cgi/trac.cgi.hbs', plan), mode: 0o755 },
    { path: fcgi, kind: 'fcgi', content: shebang + renderTemplate('cgi/trac.fcgi.hbs', plan), mode: 0o755 },
    { path: plan.files.apache, kind: 'apache', content: renderTemplate('apache/site.conf.hbs', plan), mode: 0o644 },
  ];
}

/** Loads deploy's templates ahead of renderDeploy (deploy does it while Python answers). */
export function prepareDeployTemplates(): void {
  prepareTemplates(['wsgi/trac.wsgi.hbs', 'cgi/trac.cgi.hbs', 'cgi/trac.fcgi.hbs', 'apache/site.conf.hbs']);
}
