import fs from 'node:fs/promises';
import path from 'node:path';
import { PACKED_SPEC, packSelf } from '../ci/packSelf.js';
import { committedPlans, deployDirOf, sourceFromConfigDir } from '../ci/sourceFromConfig.js';
import { renderWorkflow, type CiProvider } from '../ci/workflow.js';
import { EXIT, usageError } from '../errors.js';
import { inspectPath } from '../inspect/inspectPath.js';
import { resolveOptions } from '../plan/resolveOptions.js';
import { planDeployment } from '../plan/planDeployment.js';
import { validateOutDir } from '../plan/validate.js';
import type { GivenOptions } from '../wizard/questions.js';
import { emitFiles } from '../write/emitFiles.js';
import { refusedWrite } from '../write/writeFiles.js';
import { renderPlan } from '../render/renderPlan.js';
import { renderPlanFile } from '../write/planFile.js';
import type { RenderedFile } from '../plan/types.js';
import type { CiOutcome } from './outcome.js';

/** Where the configuration goes on a server when neither --deploy-dir nor a committed plan says. */
export const DEFAULT_DEPLOY_DIR = '/srv/trac-deploy';

export interface CiArgs {
  provider: CiProvider;
  /** The environment (or parent directory) the committed configuration is for; null: ask the config dir. */
  path: string | null;
  given: GivenOptions;
  configDir: string;
  /** generate's --out on the server; null: the committed plan's, else DEFAULT_DEPLOY_DIR. */
  deployDir: string | null;
  tracVersion: string;
  /** What the runner installs with npm install -g; null: this trac-deploy, packed into the repository. */
  packageSpec: string | null;
  /** The workflow file; null prints it on stdout. */
  out: string | null;
  force: boolean;
  dryRun: boolean;
}

/** Writes a CI pipeline that installs Apache, mod_wsgi and Trac, checks for drift and smoke-tests. */
export async function runCi(args: CiArgs): Promise<CiOutcome> {
  if (path.isAbsolute(args.configDir) || args.configDir.split(/[\\/]/).includes('..')) {
    throw usageError(`--config-dir ${args.configDir} must be a path inside the repository, relative to its root (e.g. deploy)`);
  }
  const inspection = await inspectPath(args.path ?? (await sourceFromConfigDir(args.configDir)));
  const committedPlanList = ((await committedPlans(args.configDir)) ?? []).filter((p) => p.source.path === inspection.path);
  const committed = deployDirOf(committedPlanList, inspection.path);
  // The preflight chose the Subversion remedy on the server; the stand-in has no repository to
  // ask about, so the drift check is told what the committed configuration holds.
  const svnBindings = args.given.svnBindings ?? committedPlanList.find((p) => p.python.svnBindings)?.python.svnBindings;
  if (svnBindings && args.given.svnBindings === undefined) args = { ...args, given: { ...args.given, svnBindings } };
  if (args.deployDir !== null && committed !== null && path.resolve(args.deployDir) !== committed) {
    throw usageError(
      `--deploy-dir ${path.resolve(args.deployDir)} is not where the configuration in ${args.configDir} was generated for (${committed}); the drift check would fail on every run`,
      `Leave --deploy-dir out (it defaults to ${committed}) or regenerate: trac-deploy generate ${inspection.path} --out ${path.resolve(args.deployDir)}`,
    );
  }
  const deployDir = validateOutDir(args.deployDir ?? committed ?? DEFAULT_DEPLOY_DIR, inspection.environments.map((e) => e.path), inspection.kind === 'parent' ? inspection.path : null, '--deploy-dir');
  // The flags must make a plan here, so the workflow never names a value generate refuses;
  // --python-home is a path on the runner, made there by the pipeline.
  const plan = await planDeployment({ inspection, options: resolveOptions(args.given), outDir: deployDir, pythonHomeOnRunner: true });
  const notes: string[] = [];
  if (svnBindings && plan.python.svnBindings) {
    notes.push(`the committed configuration makes the Subversion bindings of ${svnBindings} importable (the preflight chose it on the server); the drift check says so with --svn-bindings, since a stand-in has no repository to ask Trac about`);
  }
  // Without --processes the daemon is sized from the cores of the machine generate runs on; a
  // runner with other cores would render other values and report drift.
  if (plan.daemon && (args.given.processes === undefined || args.given.threads === undefined)) {
    notes.push(
      `--processes/--threads not given: generate sizes the daemon from the machine's cores (${plan.daemon.processes}x${plan.daemon.threads} here), so a runner with other cores reports drift; give both to ci and to generate`,
    );
  }
  const differing = await differsFromCommitted([...renderPlan(plan), renderPlanFile(plan)], args.configDir);
  if (differing.length > 0) {
    notes.push(
      `${differing.join(', ')} in ${args.configDir} differ from what these flags render for ${deployDir}: the pipeline's drift check will fail until they agree; pass ci the flags generate was run with (or regenerate and commit)`,
    );
  }
  const packageSpec = args.packageSpec ?? PACKED_SPEC;
  // Rendered first: a value the workflow refuses (--trac-version) stops ci before it packs.
  const content = renderWorkflow({ ...args, packageSpec, inspection, deployDir, staticKeys: plan.staticAliases.map((a) => a.key) });
  const workflowFile: RenderedFile[] = args.out ? [{ path: path.resolve(args.out), kind: 'ci', content, mode: 0o644 }] : [];
  // A workflow file that would be refused is refused before anything is packed.
  await refusedWrite(workflowFile, { force: args.force, dryRun: args.dryRun });
  if (args.packageSpec === null) {
    // cwd is the repository's root: --config-dir is relative to it and the pipeline runs there.
    const packed = await packSelf(process.cwd(), { force: args.force, dryRun: args.dryRun });
    const verb = packed.status === 'unchanged' ? 'is up to date' : args.dryRun ? `would be ${packed.status === 'new' ? 'written' : 'replaced'}` : packed.status === 'new' ? 'written' : 'replaced';
    notes.push(`${packed.path} ${verb}: the pipeline installs this trac-deploy from it (npm install -g ${PACKED_SPEC}); commit it, or pass --package with a tarball URL or git URL`);
  }
  for (const env of inspection.environments) {
    const scheme = env.database?.scheme;
    if (scheme && scheme !== 'sqlite') {
      notes.push(`${env.path} uses ${scheme}: the stand-in is checked with the same database line without its password (nothing connects to it) and smoke-tested on its own SQLite database`);
    }
  }
  if (!args.out) return { kind: 'ci', exitCode: EXIT.ok, content, result: null, notes };
  const result = await emitFiles(workflowFile, { force: args.force, dryRun: args.dryRun, check: false }, path.dirname(path.resolve(args.out)));
  return { kind: 'ci', exitCode: EXIT.ok, content, result, notes };
}

/**
 * The committed files (in the config directory, named as in the deploy directory) that exist
 * and differ from what the flags render: the drift the pipeline would report on its first run.
 * Files not committed yet are not counted; the check reports them itself.
 */
async function differsFromCommitted(files: RenderedFile[], configDir: string): Promise<string[]> {
  const differing: string[] = [];
  for (const file of files) {
    const committed = await fs.readFile(path.join(path.resolve(configDir), path.basename(file.path)), 'utf8').catch(() => null);
    if (committed !== null && committed !== file.content) differing.push(path.basename(file.path));
  }
  return differing;
}
