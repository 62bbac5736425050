import path from 'node:path';
import { sourceFromConfigDir } from '../ci/sourceFromConfig.js';
import { renderWorkflow, type CiProvider } from '../ci/workflow.js';
import { EXIT, usageError } from '../errors.js';
import { inspectPath } from '../inspect/inspectPath.js';
import { resolveOptions } from '../plan/resolveOptions.js';
import { planDeployment } from '../plan/planDeployment.js';
import { validateOutDir } from '../plan/validate.js';
import type { GivenOptions } from '../wizard/questions.js';
import { emitFiles } from '../write/emitFiles.js';
import type { CiOutcome } from './outcome.js';

export interface CiArgs {
  provider: CiProvider;
  /** The environment (or parent directory) the committed configuration is for; null: ask the config dir. */
  path: string | null;
  given: GivenOptions;
  configDir: string;
  deployDir: string;
  tracVersion: string;
  packageSpec: string;
  /** The workflow file; null prints it on stdout. */
  out: string | null;
  force: boolean;
  dryRun: boolean;
}

/** Writes a CI pipeline that installs Apache, mod_wsgi and Trac, checks for drift and smoke-tests. */
export async function runCi(args: CiArgs): Promise<CiOutcome> {
  const inspection = await inspectPath(args.path ?? (await sourceFromConfigDir(args.configDir)));
  const deployDir = validateOutDir(args.deployDir, inspection.environments.map((e) => e.path), inspection.kind === 'parent' ? inspection.path : null);
  if (path.isAbsolute(args.configDir) || args.configDir.split(/[\\/]/).includes('..')) {
    throw usageError(`--config-dir ${args.configDir} must be a path inside the repository, relative to its root (e.g. deploy)`);
  }
  // The flags must make a plan here, so the workflow never names a value generate refuses.
  const plan = await planDeployment({ inspection, options: resolveOptions(args.given), outDir: deployDir });
  const content = renderWorkflow({ ...args, inspection, deployDir });
  // Without --processes the daemon is sized from the cores of the machine generate runs on; a
  // runner with other cores would render other values and report drift.
  const sizing = plan.daemon && (args.given.processes === undefined || args.given.threads === undefined)
    ? [`--processes/--threads not given: generate sizes the daemon from the machine's cores (${plan.daemon.processes}x${plan.daemon.threads} here), so a runner with other cores reports drift; give both to ci and to generate`]
    : [];
  const notes = [...sizing, ...inspection.environments.flatMap((env) => {
    const scheme = env.database?.scheme;
    return scheme && scheme !== 'sqlite'
      ? [`${env.path} uses ${scheme}; the workflow's stand-in environments use SQLite, so give --pool explicitly and expect the smoke test to show the stand-in`]
      : [];
  })];
  if (!args.out) return { kind: 'ci', exitCode: EXIT.ok, content, result: null, notes };
  const result = await emitFiles([{ path: path.resolve(args.out), kind: 'ci', content, mode: 0o644 }], { force: args.force, dryRun: args.dryRun, check: false }, path.dirname(path.resolve(args.out)));
  return { kind: 'ci', exitCode: EXIT.ok, content, result, notes };
}
