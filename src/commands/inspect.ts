import type { CliContext } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { probeDatabaseServers, type ClientRunner } from '../inspect/probeDatabase.js';
import { formatInspection } from '../report/inspection.js';
import { printProblems } from '../report/problems.js';

export interface InspectArgs {
  path: string;
  json: boolean;
  /** The daemon size the connection estimate is made for. */
  processes: number;
  threads: number;
  /** Ask each database server for max_connections. */
  probeDb: boolean;
}

export async function runInspect(args: InspectArgs, ctx: CliContext, runClient?: ClientRunner): Promise<ExitCode> {
  let inspection = await inspectPath(args.path, { processes: args.processes, threads: args.threads });
  if (args.probeDb) {
    const { servers, problems } = await probeDatabaseServers(inspection, runClient);
    inspection = { ...inspection, databaseServers: servers, problems: [...inspection.problems, ...problems] };
  }
  if (args.json) {
    ctx.stdout(JSON.stringify(inspection, null, 2));
  } else {
    ctx.stdout(formatInspection(inspection));
    printProblems(ctx, allProblems(inspection));
  }
  return EXIT.ok;
}
