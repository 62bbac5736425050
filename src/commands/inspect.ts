import { EXIT } from '../errors.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { withPreflight } from '../inspect/preflight.js';
import { takeOverRunner } from '../python/earlyRuns.js';
import { spawnRunner } from '../python/preflight.js';
import type { ClientRunner } from '../inspect/probeDatabase.js';
import type { InspectOutcome } from './outcome.js';

export interface InspectArgs {
  path: string;
  /** The daemon size the connection estimate is made for. */
  processes: number;
  threads: number;
  /** Ask each database server for max_connections. */
  probeDb: boolean;
  /** Ask Trac itself (python/preflight.py) in this virtualenv (else python3) with these site dirs. */
  preflight: boolean;
  pythonHome?: string | undefined;
  siteDir?: string[] | undefined;
  eggCache?: string | undefined;
}

export async function runInspect(args: InspectArgs, runClient?: ClientRunner): Promise<InspectOutcome> {
  let inspection = await inspectPath(args.path, { processes: args.processes, threads: args.threads });
  if (args.preflight) {
    inspection = await withPreflight(inspection, { pythonHome: args.pythonHome ?? null, siteDirs: args.siteDir ?? [], eggCache: args.eggCache ?? null, run: takeOverRunner(spawnRunner) });
  }
  if (args.probeDb) {
    // Loaded only when asked: it brings execa, which costs start-up time on every inspect.
    const { probeDatabaseServers } = await import('../inspect/probeDatabase.js');
    const { servers, problems } = await probeDatabaseServers(inspection, runClient);
    inspection = { ...inspection, databaseServers: servers, problems: [...inspection.problems, ...problems] };
  }
  return { kind: 'inspect', exitCode: EXIT.ok, inspection, findings: allProblems(inspection) };
}
