import type { CliContext } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import type { GenerateOptions } from '../plan/options.js';
import { planDeployment } from '../plan/planDeployment.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { renderManifest } from '../render/renderManifest.js';
import { renderPlan } from '../render/renderPlan.js';
import { printProblems } from '../report/problems.js';
import { driftDiffs, writeFiles } from '../write/writeFiles.js';

export interface OutputArgs {
  out: string;
  force: boolean;
  dryRun: boolean;
  check: boolean;
  json: boolean;
}

export interface GenerateArgs extends GenerateOptions, OutputArgs {
  path: string;
}

/** inspect -> plan -> render: shared by generate and the wizard. */
export async function buildDeployment(path: string, options: GenerateOptions, out: string): Promise<{
  plan: DeploymentPlan;
  files: RenderedFile[];
  problems: ReturnType<typeof allProblems>;
}> {
  const inspection = await inspectPath(path);
  const plan = await planDeployment({ inspection, options, outDir: out });
  // The manifest lets `smoke DIR` find the mount point, script and environments.
  return { plan, files: [...renderPlan(plan), renderManifest(plan)], problems: allProblems(inspection) };
}

export async function runGenerate(args: GenerateArgs, ctx: CliContext): Promise<ExitCode> {
  const { plan, files, problems } = await buildDeployment(args.path, args, args.out);
  return emitFiles(args, ctx, plan, files, problems);
}

/** --check, --dry-run or a write, and the report of it; shared by generate and init (deploy has its own, which also covers htdocs). */
export async function emitFiles(
  args: OutputArgs,
  ctx: CliContext,
  plan: DeploymentPlan,
  files: RenderedFile[],
  problems: ReturnType<typeof allProblems>,
): Promise<ExitCode> {
  const summary = {
    environments: plan.source.environments,
    plan,
    problems,
  };
  if (args.check) {
    const drift = await driftDiffs(files);
    if (args.json) {
      ctx.stdout(JSON.stringify({ drift: drift.length > 0, files: drift.map(({ path, status }) => ({ path, status })), ...summary }, null, 2));
    } else if (drift.length === 0) {
      ctx.stdout(`up to date: ${files.map((f) => f.path).join(', ')}`);
    } else {
      for (const d of drift) ctx.stdout(d.diff);
      ctx.stderr(`drift: ${drift.length} file${drift.length === 1 ? '' : 's'} in ${plan.files.outDir} differ from what trac-deploy would write; re-run without --check to update`);
    }
    if (!args.json) printProblems(ctx, problems);
    return drift.length === 0 ? EXIT.ok : EXIT.failed;
  }
  const outcomes = await writeFiles(files, { force: args.force, dryRun: args.dryRun });
  if (args.json) {
    ctx.stdout(JSON.stringify({ dryRun: args.dryRun, files: outcomes, ...summary }, null, 2));
    return EXIT.ok;
  }
  for (const [index, outcome] of outcomes.entries()) {
    const verb = args.dryRun ? `would write (${outcome.status})` : outcome.written ? `wrote (${outcome.status})` : 'unchanged';
    ctx.stdout(`${verb}: ${outcome.path}`);
    if (args.dryRun && outcome.status !== 'unchanged') ctx.stdout(indent(files[index]?.content ?? ''));
  }
  printProblems(ctx, problems);
  for (const note of plan.notes) ctx.stderr(`${ctx.colors.cyan('note')}: ${note}`);
  return EXIT.ok;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line ? `    ${line}` : line))
    .join('\n');
}
