import { usageError } from '../errors.js';
import { allProblems, inspectPathAccessPending } from '../inspect/inspectPath.js';
import { keptLookupsOf, MACHINE_STATE_CODES, PREFLIGHT_CODES, recallEarly, withPreflight, type PreflightOptions } from '../inspect/preflight.js';
import type { Finding } from '../findings.js';
import type { GenerateOptions } from '../plan/options.js';
import { planDeployment } from '../plan/planDeployment.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { renderPlan } from '../render/renderPlan.js';
import { emitFiles, filesExitCode, type EmitOptions } from '../write/emitFiles.js';
import { readPlanFiles, renderPlanFile } from '../write/planFile.js';
import { tracSettingFindings, tracUrlSettings, type TracSetting } from '../plan/tracUrlSettings.js';
import { configureTrac, findTracAdmin } from '../write/configureTrac.js';
import { inheritedMountFindings, shadowedMounts } from '../plan/mounts.js';
import path from 'node:path';
import type { FilesOutcome } from './outcome.js';

export interface GenerateArgs extends GenerateOptions, EmitOptions {
  path: string;
  out: string;
  /** Ask Trac itself first (default); false skips it. */
  preflight?: boolean;
}

export interface Deployment {
  plan: DeploymentPlan;
  files: RenderedFile[];
  findings: Finding[];
  /** [trac] options that do not match the public URL (see --configure-trac). */
  tracSettings: TracSetting[];
  configureTrac: boolean;
}

/**
 * inspect -> preflight -> plan -> render: shared by generate and the wizard. The preflight asks
 * Trac, in the interpreter the site will use, whether it serves each environment; a site it
 * would fail is refused (exit 2) with Trac's reason and the remedy.
 */
export async function buildDeployment(source: string, options: GenerateOptions, out: string, { preflight = true }: { preflight?: boolean } = {}): Promise<Deployment> {
  const asking: PreflightOptions = { pythonHome: options.pythonHome ?? null, siteDirs: options.siteDir, eggCache: options.eggCache ?? null, keepVerdict: {} };
  // The kept verdict is looked up while the environment is inspected; the Apache user's access
  // check goes on while the site is planned and rendered (neither reads its problems: they are
  // the machine's state, reported, never refused; see refuseWhatTracRefuses).
  const recalled = preflight ? recallEarly(source, asking) : null;
  const { inspection: inspected, accessProblems } = await inspectPathAccessPending(source, undefined, keptLookupsOf(recalled));
  const accessAt = inspected.problems.length;
  let inspection = inspected;
  if (preflight) {
    inspection = await withPreflight(inspection, { ...asking, recalled });
    refuseWhatTracRefuses(allProblems(inspection));
  }
  const plan = await planDeployment({ inspection, options, outDir: out });
  // The plan file lets `smoke DIR`, `apply DIR` and `ci` know what was generated.
  const tracSettings = tracUrlSettings(inspection, plan);
  const files = [...renderPlan(plan), renderPlanFile(plan)];
  // Where inspectPath puts them: after the inspection's own, before the preflight's.
  const problems = inspection.problems;
  inspection = { ...inspection, problems: [...problems.slice(0, accessAt), ...(await accessProblems), ...problems.slice(accessAt)] };
  return { plan, files, findings: allProblems(inspection), tracSettings, configureTrac: options.configureTrac };
}

export async function runGenerate(args: GenerateArgs): Promise<FilesOutcome> {
  const deployment = await buildDeployment(args.path, args, args.out, { preflight: args.preflight !== false });
  deployment.findings.push(...(await neighbourFindings(deployment.plan)));
  return emitDeployment(deployment, args);
}

/**
 * Other sites already generated into the same directory: served together (smoke DIR, apply DIR),
 * a mount point read first that covers another one hides it, and a snippet's mount point also
 * answers on a whole site's host when the site's own mount points do not cover it.
 */
async function neighbourFindings(plan: DeploymentPlan): Promise<Finding[]> {
  const all = (await readPlanFiles(plan.files.outDir).catch(() => [])).map((p) => p.plan).filter((p) => p.name !== plan.name);
  const inherited = inheritedMountFindings([...all, plan], plan.name);
  return [...inherited, ...shadowFindingsAmong(plan, all)];
}

function shadowFindingsAmong(plan: DeploymentPlan, all: DeploymentPlan[]): Finding[] {
  const others = all
    // Whole sites (--server-name) are virtual hosts of their own: only mounts of one host meet.
    .filter((p) => (p.site?.serverName ?? null) === (plan.site?.serverName ?? null));
  if (others.length === 0) return [];
  const mounts = [...others, plan]
    .map((p) => ({ name: path.basename(p.files.apache).replace(/\.conf$/, ''), urlPrefix: p.urlPrefix }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return shadowedMounts(mounts).map(({ hidden, by }) => ({
    code: 'mount-shadowed',
    severity: 'warning' as const,
    message: `${hidden.urlPrefix} (${hidden.name}.conf) will be answered by ${by.urlPrefix} (${by.name}.conf) when Apache reads the configurations of ${plan.files.outDir} in name order`,
    advice: plan.site
      ? [`both are <VirtualHost> sites for ${plan.site.serverName}: Apache gives every request for it to the first, whatever the order; serve one under another --server-name`]
      : [`trac-deploy apply installs snippets so deeper mount points are read first (smoke serves them in that order too); to serve this directory as it is (Include ${plan.files.outDir}/*.conf), give the site at ${by.urlPrefix} a --name that sorts after ${hidden.name}, or generate it into another --out directory`],
  }));
}

/**
 * What makes Trac answer 500 (or not at all) where the preflight asked it: nothing is written.
 * The machine's state (file access of the web server user, a database server that is down) is
 * reported, not refused; apply refuses it.
 */
function refuseWhatTracRefuses(findings: Finding[]): void {
  const fatal = findings.filter((f) => f.severity === 'error' && PREFLIGHT_CODES.has(f.code) && !MACHINE_STATE_CODES.has(f.code));
  if (fatal.length === 0) return;
  const lines = fatal.flatMap((f) => [f.message, ...(f.advice ?? []).map((a) => `  -> ${a}`)]);
  throw usageError(
    `Trac would not serve ${fatal.length === 1 ? 'this site' : `this site (${fatal.length} problems)`}; nothing was written`,
    ...lines,
    'fix these and run again, or pass --no-preflight to write the files anyway',
  );
}

/** --check, --dry-run or a write of a deployment's files; shared by generate and init. */
export async function emitDeployment(deployment: Deployment, options: EmitOptions): Promise<FilesOutcome> {
  const { plan, files, tracSettings } = deployment;
  const result = await emitFiles(files, options, plan.files.outDir);
  // trac.ini is changed only by a real write with --configure-trac, after the files are in place.
  const configure = deployment.configureTrac && result.action === 'write' && tracSettings.length > 0;
  const notes = result.action === 'check' ? [] : [...plan.notes];
  if (configure) {
    const configured = await configureTrac(tracSettings, await findTracAdmin(plan.python.home));
    notes.push(...configured.backups.map((b) => `--configure-trac: ${b.file} backed up to ${b.backup} (bytes, mode and owner)`));
  }
  const findings = [...deployment.findings, ...tracSettingFindings(tracSettings, configure)];
  return { kind: 'files', exitCode: filesExitCode(result), result, plan, findings, notes };
}
