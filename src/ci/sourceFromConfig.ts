import path from 'node:path';
import { usageError } from '../errors.js';
import type { DeploymentPlan } from '../plan/types.js';
import { PLAN_FILE_SUFFIX, planFileNames, readPlanFile } from '../write/planFile.js';

/** The plans committed in the config directory (none when it does not exist). */
export async function committedPlans(configDir: string): Promise<DeploymentPlan[] | null> {
  const dir = path.resolve(configDir);
  const names = await planFileNames(dir);
  if (names === null) return null;
  const plans: DeploymentPlan[] = [];
  for (const name of names) plans.push((await readPlanFile(path.join(dir, name))).plan);
  return plans;
}

/**
 * `trac-deploy ci --provider X` without a PATH: the committed configuration says what it was
 * generated for. Every `<name>.plan.json` in the config directory names its environment (or
 * parent directory); exactly one must be named.
 */
export async function sourceFromConfigDir(configDir: string): Promise<string> {
  const dir = path.resolve(configDir);
  const advice = 'name it: trac-deploy ci PATH --provider github|gitlab';
  const plans = await committedPlans(dir);
  if (plans === null) {
    throw usageError(`no PATH given and --config-dir ${dir} does not exist to tell which environment the pipeline is for; ${advice}`);
  }
  const sources = [...new Set(plans.map((p) => p.source.path))];
  const [only, ...others] = sources;
  if (only === undefined) throw usageError(`no PATH given and ${dir} holds no <name>${PLAN_FILE_SUFFIX} from trac-deploy generate; ${advice}`);
  if (others.length > 0) throw usageError(`no PATH given and ${dir} holds configurations for ${[only, ...others].join(', ')}; ${advice}`);
  return only;
}

/** The default --deploy-dir: where the committed configuration for `source` was generated. */
export function deployDirOf(plans: readonly DeploymentPlan[], source: string): string | null {
  const dirs = [...new Set(plans.filter((p) => p.source.path === source).map((p) => p.files.outDir))];
  return dirs.length === 1 ? (dirs[0] ?? null) : null;
}
