import type { CliContext } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { formatInspection } from '../report/inspection.js';
import { printProblems } from '../report/problems.js';

export interface InspectArgs {
  path: string;
  json: boolean;
}

export async function runInspect(args: InspectArgs, ctx: CliContext): Promise<ExitCode> {
  const inspection = await inspectPath(args.path);
  if (args.json) {
    ctx.stdout(JSON.stringify(inspection, null, 2));
  } else {
    ctx.stdout(formatInspection(inspection));
    printProblems(ctx, allProblems(inspection));
  }
  return EXIT.ok;
}
