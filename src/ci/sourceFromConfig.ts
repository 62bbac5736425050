import fs from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.js';
import { MANIFEST_KIND, MANIFEST_SUFFIX } from '../render/renderManifest.js';

/**
 * `trac-deploy ci --provider X` without a PATH: the committed configuration says what it was
 * generated for. Every `<name>.plan.json` in the config directory names its environment (or
 * parent directory); exactly one must be named.
 */
export async function sourceFromConfigDir(configDir: string): Promise<string> {
  const dir = path.resolve(configDir);
  const advice = 'name it: trac-deploy ci PATH --provider github|gitlab';
  const entries = await fs.readdir(dir).catch(() => null);
  if (entries === null) {
    throw usageError(`no PATH given and --config-dir ${dir} does not exist to tell which environment the pipeline is for; ${advice}`);
  }
  const sources = new Set<string>();
  for (const file of entries.filter((f) => f.endsWith(MANIFEST_SUFFIX)).sort()) {
    const data = await fs
      .readFile(path.join(dir, file), 'utf8')
      .then((text) => JSON.parse(text) as { kind?: unknown; plan?: { source?: { path?: unknown } } })
      .catch(() => null);
    const source = data?.kind === MANIFEST_KIND ? data.plan?.source?.path : undefined;
    if (typeof source === 'string') sources.add(source);
  }
  const [only, ...others] = [...sources];
  if (only === undefined) throw usageError(`no PATH given and ${dir} holds no <name>${MANIFEST_SUFFIX} from trac-deploy generate; ${advice}`);
  if (others.length > 0) throw usageError(`no PATH given and ${dir} holds configurations for ${[only, ...others].join(', ')}; ${advice}`);
  return only;
}
