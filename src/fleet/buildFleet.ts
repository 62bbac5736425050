import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../errors.js';
import type { Finding } from '../findings.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { probeDatabaseServers, type ClientRunner } from '../inspect/probeDatabase.js';
import type { Inspection } from '../inspect/types.js';
import { DEFAULT_SIZING } from '../inspect/sizing.js';
import { staticSources, type ProviderReport } from '../plan/deployDecisions.js';
import type { GenerateOptions } from '../plan/options.js';
import { planDeployment } from '../plan/planDeployment.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { apacheSafePath, nameFromPath, validateName } from '../plan/validate.js';
import { askPython, pythonFor } from '../python/askPython.js';
import { htdocsDirs } from '../python/htdocsDirs.js';
import { healthChecks, type HealthCheck } from './healthChecks.js';
import { digestStatic, type StaticDir } from './htdocsArchive.js';
import { readInventory, type FleetInventory, type ProgramRunner } from './inventory.js';
import { snippetFileName } from '../apply/installOrder.js';
import { debianPackages, pipRequirements, type Distributions } from './packages.js';
import { renderFleetProject, ROLE, type RemoteLayout } from './project.js';
import { checkFleetRules, type FleetRules } from './rules.js';

export interface FleetInput {
  path: string;
  inventory: string;
  group: string;
  out: string;
  /** Where the deployment lives on each host (default /srv/trac-deploy/<name>). */
  remoteRoot?: string | undefined;
  probeDb: boolean;
  /** The generate options; pythonHome is the controller's virtualenv Trac is asked in. */
  options: GenerateOptions;
}

/** Everything fleet decided and rendered, before anything is written. */
export interface FleetBuild {
  inventory: FleetInventory;
  inspection: Inspection;
  rules: FleetRules;
  plan: DeploymentPlan;
  layout: RemoteLayout;
  files: RenderedFile[];
  /** The static files to pack into the role's files/<layout.htdocsArchive>. */
  statics: StaticDir[];
  archivePath: string;
  providers: ProviderReport[];
  trac: string;
  pipPackages: string[];
  debianPackages: string[];
  checks: HealthCheck[];
  findings: Finding[];
  notes: string[];
}

export interface FleetDeps {
  runProgram?: ProgramRunner;
  runClient?: ClientRunner;
}

/**
 * inventory -> inspect (+ --probe-db) -> fleet rules -> the controller's Trac (version,
 * plugins, static files) -> plan with the hosts' paths -> the project's files.
 */
export async function buildFleet(input: FleetInput, deps: FleetDeps = {}): Promise<FleetBuild> {
  const inventory = await readInventory(input.inventory, input.group, deps.runProgram);
  // The hosts' cores are unknown here: the controller's would say nothing about them, so without
  // --processes/--threads the fleet keeps the fixed default (generate sizes from its own machine).
  const sizing = { processes: input.options.processes ?? DEFAULT_SIZING.processes, threads: input.options.threads ?? DEFAULT_SIZING.threads };
  let inspection = await inspectPath(input.path, sizing);
  if (input.probeDb) {
    const { servers, problems } = await probeDatabaseServers(inspection, deps.runClient);
    inspection = { ...inspection, databaseServers: servers, problems: [...inspection.problems, ...problems] };
  }
  const rules = checkFleetRules(inspection, inventory.hosts.length, input.options.pool);
  const first = inspection.environments[0];
  if (!first) throw usageError(`${inspection.path} holds no Trac environment`);

  // Ask the controller's Trac what the hosts must run: its version, plugins and static files.
  const eggCache = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-eggs-'));
  let answer: Awaited<ReturnType<typeof htdocsDirs>>;
  let dists: Distributions;
  try {
    const python = pythonFor(input.options.pythonHome);
    [answer, { answer: dists }] = await Promise.all([
      htdocsDirs(first.path, { pythonHome: input.options.pythonHome ?? null, eggCache }),
      askPython<Distributions>(python, 'trac_distributions.py', []),
    ]);
  } finally {
    await fs.rm(eggCache, { recursive: true, force: true });
  }
  const { sources, providers } = staticSources(answer, path.join(input.out, 'roles', ROLE, 'files', 'htdocs'));
  const keys = [...new Set(sources.map((s) => s.key))];
  const statics = inspection.kind === 'parent' ? sources.filter((s) => s.key !== 'site') : sources;

  const backends = new Set(inspection.environments.map((e) => e.database?.scheme ?? 'sqlite'));
  const pipPackages = pipRequirements(dists, backends, answer.trac.version);
  const name = validateName(input.options.name ?? nameFromPath(inspection.path));
  const root = apacheSafePath('--remote-root', path.posix.resolve(input.remoteRoot ?? `/srv/trac-deploy/${name}`));
  const staticDigest = (await digestStatic(statics)).slice(0, 12);
  const layout: RemoteLayout = {
    root,
    venv: path.posix.join(root, `venv-${digestOf(pipPackages.join('\n')).slice(0, 12)}`),
    htdocs: path.posix.join(root, `htdocs-${staticDigest}`),
    htdocsArchive: `htdocs-${staticDigest}.tar.gz`,
    confName: name,
    earlierConfName: name,
  };
  const plan = await planDeployment({
    inspection,
    options: { ...input.options, ...sizing, pythonHome: undefined, pool: rules.pool.choice },
    outDir: root,
    staticDirs: keys.filter((k) => statics.some((s) => s.key === k)).map((key) => ({ key, dir: path.posix.join(layout.htdocs, key) })),
  });
  // The virtualenv is made on each host by the role: python-home= names it there.
  plan.python.home = layout.venv;
  if (plan.daemon) plan.daemon.pythonHome = layout.venv;
  const poolNote = plan.pool.reason;
  plan.pool = { ...plan.pool, reason: rules.pool.reason };
  plan.notes = plan.notes.map((n) => (n === poolNote ? rules.pool.reason : n));

  // Named as apply names a snippet, so that a deeper mount point on the same host is read first.
  layout.confName = path.basename(snippetFileName(name, plan.urlPrefix), '.conf');
  const svn = rules.svnRepositories.length > 0 || inspection.environments.some((e) => e.connectors.includes('svn'));
  const packages = debianPackages(plan, { svn });
  const checks = healthChecks(plan, keys);
  const files = renderFleetProject({ plan, out: path.resolve(input.out), group: input.group, layout, debianPackages: packages, pipPackages, svnRepositories: rules.svnRepositories, checks });
  const notes = [
    `${inventory.hosts.length} web host${inventory.hosts.length === 1 ? '' : 's'} in group ${input.group}: ${inventory.hosts.join(', ')} (rolled out in this order, one at a time)`,
    `every host runs Trac ${answer.trac.version}${dists.plugins.length ? ` with ${dists.plugins.map((p) => `${p.name} ${p.version}`).join(', ')}` : ''}, as ${pythonFor(input.options.pythonHome).command} has them (the same versions everywhere)`,
    ...(input.options.processes === undefined || input.options.threads === undefined
      ? [`daemon: ${sizing.processes} processes x ${sizing.threads} threads on every host, not sized from cores: each host's may differ, and the database connection budget (hosts x processes x threads) needs one figure; give --processes/--threads for your hosts`]
      : []),
    ...plan.notes,
  ];
  return {
    inventory,
    inspection,
    rules,
    plan,
    layout,
    files,
    statics,
    archivePath: path.join(path.resolve(input.out), 'roles', ROLE, 'files', layout.htdocsArchive),
    providers,
    trac: answer.trac.version,
    pipPackages,
    debianPackages: packages,
    checks,
    findings: [...allProblems(inspection), ...rules.findings],
    notes,
  };
}

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
