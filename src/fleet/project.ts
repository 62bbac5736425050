import path from 'node:path';
import { stringify } from 'yaml';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { renderTemplate } from '../render/engine.js';
import { renderPlan } from '../render/renderPlan.js';
import { renderPlanFile } from '../write/planFile.js';
import type { HealthCheck } from './healthChecks.js';

/** The role's name in the generated project. */
export const ROLE = 'trac_deploy';

/** Where the deployment lives on every host. */
export interface RemoteLayout {
  /** The directory of the .wsgi script (the plan's outDir). */
  root: string;
  /** The virtualenv of this version: venv-<digest of its requirements>. */
  venv: string;
  /** The static files of this version: htdocs-<digest of the files>. */
  htdocs: string;
  /** The archive's name in the role's files/. */
  htdocsArchive: string;
  /** conf-available/<confName>.conf: apply's ordered name, <NN>-<name> (installOrder.ts). */
  confName: string;
  /** The name earlier versions gave it (<name>): disabled on a host where it is ours. */
  earlierConfName: string;
}

export interface FleetProjectInput {
  /** Made with the remote paths: its .wsgi and .conf are the role's files, byte for byte. */
  plan: DeploymentPlan;
  out: string;
  group: string;
  layout: RemoteLayout;
  debianPackages: string[];
  pipPackages: string[];
  svnRepositories: string[];
  checks: HealthCheck[];
}

/**
 * The Ansible project: site.yml, ansible.cfg and the role (tasks, handlers, defaults, vars,
 * meta, files). The role's .wsgi and .conf are renderPlan's output for the same plan as
 * generate renders; host-specific values are variables in defaults/main.yml.
 */
export function renderFleetProject(input: FleetProjectInput): RenderedFile[] {
  const { plan, out, layout } = input;
  const role = path.join(out, 'roles', ROLE);
  const [wsgi, conf] = renderPlan(plan);
  if (!wsgi || !conf) throw new Error('renderPlan gave no .wsgi and .conf');
  const planFile = renderPlanFile(plan);
  const planOut = path.join(out, path.basename(planFile.path));
  const vars = {
    trac_deploy_name: plan.name,
    trac_deploy_url_prefix: plan.urlPrefix,
    trac_deploy_root: layout.root,
    trac_deploy_venv: layout.venv,
    trac_deploy_htdocs: layout.htdocs,
    trac_deploy_htdocs_archive: layout.htdocsArchive,
    trac_deploy_egg_cache: plan.python.eggCache,
    trac_deploy_wsgi_file: plan.files.wsgi,
    trac_deploy_conf_name: layout.confName,
    trac_deploy_conf_earlier_name: layout.earlierConfName,
    trac_deploy_environments: plan.source.environments.map((e) => e.path),
    trac_deploy_svn_repositories: input.svnRepositories,
    trac_deploy_debian_packages: input.debianPackages,
    trac_deploy_pip_packages: input.pipPackages,
    trac_deploy_apache_modules: plan.apacheModules,
    trac_deploy_checks: input.checks,
  };
  const context = {
    name: plan.name,
    group: input.group,
    planFile: path.basename(planOut),
    hasRepositories: input.svnRepositories.length > 0,
    vars: stringify(vars, { lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }).trimEnd(),
  };
  const text = (file: string, template: string): RenderedFile => ({ path: file, kind: 'ansible', content: renderTemplate(`ansible/${template}`, context), mode: 0o644 });
  return [
    text(path.join(out, 'site.yml'), 'site.yml.hbs'),
    text(path.join(out, 'ansible.cfg'), 'ansible.cfg.hbs'),
    text(path.join(role, 'tasks', 'main.yml'), 'tasks.yml.hbs'),
    text(path.join(role, 'handlers', 'main.yml'), 'handlers.yml.hbs'),
    text(path.join(role, 'defaults', 'main.yml'), 'defaults.yml.hbs'),
    text(path.join(role, 'vars', 'main.yml'), 'vars.yml.hbs'),
    text(path.join(role, 'meta', 'main.yml'), 'meta.yml.hbs'),
    { ...wsgi, path: path.join(role, 'files', path.basename(plan.files.wsgi)) },
    { ...conf, path: path.join(role, 'files', `${layout.confName}.conf`) },
    { ...planFile, path: planOut },
  ];
}
