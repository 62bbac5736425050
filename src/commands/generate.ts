import { usageError } from '../errors.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { PREFLIGHT_CODES, withPreflight } from '../inspect/preflight.js';
import type { Finding } from '../findings.js';
import type { GenerateOptions } from '../plan/options.js';
import { planDeployment } from '../plan/planDeployment.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { renderPlan } from '../render/renderPlan.js';
import { emitFiles, filesExitCode, type EmitOptions } from '../write/emitFiles.js';
import { renderPlanFile } from '../write/planFile.js';
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
}

/**
 * inspect -> preflight -> plan -> render: shared by generate and the wizard. The preflight asks
 * Trac, in the interpreter the site will use, whether it serves each environment; a site it
 * would fail is refused (exit 2) with Trac's reason and the remedy.
 */
export async function buildDeployment(path: string, options: GenerateOptions, out: string, { preflight = true }: { preflight?: boolean } = {}): Promise<Deployment> {
  let inspection = await inspectPath(path);
  if (preflight) {
    inspection = await withPreflight(inspection, { pythonHome: options.pythonHome ?? null, siteDirs: options.siteDir, eggCache: options.eggCache ?? null });
    refuseWhatTracRefuses(allProblems(inspection));
  }
  const plan = await planDeployment({ inspection, options, outDir: out });
  // The plan file lets `smoke DIR`, `apply DIR` and `ci` know what was generated.
  return { plan, files: [...renderPlan(plan), renderPlanFile(plan)], findings: allProblems(inspection) };
}

export async function runGenerate(args: GenerateArgs): Promise<FilesOutcome> {
  return emitDeployment(await buildDeployment(args.path, args, args.out, { preflight: args.preflight !== false }), args);
}

/** What makes Trac answer 500 (or not at all) where the preflight asked it: nothing is written. */
function refuseWhatTracRefuses(findings: Finding[]): void {
  const fatal = findings.filter((f) => f.severity === 'error' && PREFLIGHT_CODES.has(f.code));
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
  const { plan, files, findings } = deployment;
  const result = await emitFiles(files, options, plan.files.outDir);
  return { kind: 'files', exitCode: filesExitCode(result), result, plan, findings, notes: result.action === 'check' ? [] : plan.notes };
}
