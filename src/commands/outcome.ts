import type { ExitCode } from '../errors.js';
import type { Finding } from '../findings.js';
import type { Inspection } from '../inspect/types.js';
import type { DeploymentPlan } from '../plan/types.js';
import type { FilesResult } from '../write/emitFiles.js';
import type { ApplyResult } from './apply.js';
import type { DeployResult } from './deploy.js';
import type { SmokeReport } from '../smoke/runSmoke.js';
import type { FleetBuild } from '../fleet/buildFleet.js';
import type { PlaybookRun } from '../fleet/runPlaybook.js';

/**
 * What a command run produced. Commands return one of these and print nothing; the CLI layer
 * (src/report/present.ts) alone turns it into text or JSON, and its exitCode into the process's.
 */
export type Outcome = InspectOutcome | FilesOutcome | CiOutcome | DeployOutcome | SmokeOutcome | ApplyOutcome | GenerateApplyOutcome | InitOutcome | FleetOutcome;

export interface InspectOutcome {
  kind: 'inspect';
  exitCode: ExitCode;
  inspection: Inspection;
  findings: Finding[];
}

/** ci: the workflow, written to a file (result) or for stdout (result null). */
export interface CiOutcome {
  kind: 'ci';
  exitCode: ExitCode;
  content: string;
  result: FilesResult | null;
  notes: string[];
}

/** generate (and init's write): the files, the plan behind them and what inspection found. */
export interface FilesOutcome {
  kind: 'files';
  exitCode: ExitCode;
  result: FilesResult;
  plan: DeploymentPlan;
  findings: Finding[];
  notes: string[];
}

export interface DeployOutcome {
  kind: 'deploy';
  exitCode: ExitCode;
  result: DeployResult;
  findings: Finding[];
}

export interface SmokeOutcome {
  kind: 'smoke';
  exitCode: ExitCode;
  report: SmokeReport;
}

export interface ApplyOutcome {
  kind: 'apply';
  exitCode: ExitCode;
  result: ApplyResult;
}

/** `generate --apply`: both results, one JSON document (apply's under "apply"). */
export interface GenerateApplyOutcome {
  kind: 'generate-apply';
  exitCode: ExitCode;
  generate: FilesOutcome;
  apply: ApplyOutcome | null;
}

export interface InitOutcome {
  kind: 'init';
  exitCode: ExitCode;
  /** What the wizard did last, after the steps it showed as it went. */
  next: string | null;
  message: string | null;
}

/** What fleet decided (as buildFleet made it) and shows as it is. */
type FleetDecided = Omit<FleetBuild, 'inventory' | 'inspection' | 'files' | 'statics' | 'archivePath' | 'providers'>;

/** fleet: the Ansible project written (or compared), the fleet rules, and the run when --run. */
export interface FleetOutcome extends FleetDecided {
  kind: 'fleet';
  exitCode: ExitCode;
  files: FilesResult;
  /** The static files' archive in the role (its name is its content's digest). */
  archive: { path: string; status: 'new' | 'unchanged'; written: boolean };
  inventory: string;
  hosts: string[];
  group: string;
  run: PlaybookRun | null;
}
