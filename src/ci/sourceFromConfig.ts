import path from 'node:path';
import { usageError } from '../errors.js';
import { PLAN_FILE_SUFFIX, planFileNames, readPlanFile } from '../write/planFile.js';

/**
 * `trac-deploy ci --provider X` without a PATH: the committed configuration says what it was
 * generated for. Every `<name>.plan.json` in the config directory names its environment (or
 * parent directory); exactly one must be named.
 */
export async function sourceFromConfigDir(configDir: string): Promise<string> {
  const dir = path.resolve(configDir);
  const advice = 'name it: trac-deploy ci PATH --provider github|gitlab';
  const names = await planFileNames(dir);
  if (names === null) {
    throw usageError(`no PATH given and --config-dir ${dir} does not exist to tell which environment the pipeline is for; ${advice}`);
  }
  const sources = new Set<string>();
  for (const name of names) sources.add((await readPlanFile(path.join(dir, name))).plan.source.path);
  const [only, ...others] = [...sources];
  if (only === undefined) throw usageError(`no PATH given and ${dir} holds no <name>${PLAN_FILE_SUFFIX} from trac-deploy generate; ${advice}`);
  if (others.length > 0) throw usageError(`no PATH given and ${dir} holds configurations for ${[only, ...others].join(', ')}; ${advice}`);
  return only;
}
