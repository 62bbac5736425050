import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import type { Finding } from '../findings.js';
import type { GenerateOptions } from '../plan/options.js';
import { planDeployment } from '../plan/planDeployment.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { renderPlan } from '../render/renderPlan.js';
import { emitFiles, filesExitCode, type EmitOptions } from '../write/emitFiles.js';
import { renderPlanFile } from '../write/planFile.js';
import { tracSettingFindings, tracUrlSettings, type TracSetting } from '../plan/tracUrlSettings.js';
import { configureTrac, findTracAdmin } from '../write/configureTrac.js';
import type { FilesOutcome } from './outcome.js';

export interface GenerateArgs extends GenerateOptions, EmitOptions {
  path: string;
  out: string;
}

export interface Deployment {
  plan: DeploymentPlan;
  files: RenderedFile[];
  findings: Finding[];
  /** [trac] options that do not match the public URL (see --configure-trac). */
  tracSettings: TracSetting[];
  configureTrac: boolean;
}

/** inspect -> plan -> render: shared by generate and the wizard. */
export async function buildDeployment(path: string, options: GenerateOptions, out: string): Promise<Deployment> {
  const inspection = await inspectPath(path);
  const plan = await planDeployment({ inspection, options, outDir: out });
  // The plan file lets `smoke DIR`, `apply DIR` and `ci` know what was generated.
  const tracSettings = tracUrlSettings(inspection, plan);
  return { plan, files: [...renderPlan(plan), renderPlanFile(plan)], findings: allProblems(inspection), tracSettings, configureTrac: options.configureTrac };
}

export async function runGenerate(args: GenerateArgs): Promise<FilesOutcome> {
  return emitDeployment(await buildDeployment(args.path, args, args.out), args);
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
