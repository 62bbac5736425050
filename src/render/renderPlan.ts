import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { renderTemplate } from './engine.js';

/** plan -> files. No I/O beyond reading templates. */
export function renderPlan(plan: DeploymentPlan): RenderedFile[] {
  return [
    { path: plan.files.wsgi, kind: 'wsgi', content: renderTemplate('wsgi/trac.wsgi.hbs', plan), mode: 0o755 },
    { path: plan.files.apache, kind: 'apache', content: renderTemplate('apache/site.conf.hbs', plan), mode: 0o644 },
  ];
}
