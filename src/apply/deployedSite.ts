import fs from 'node:fs/promises';
import path from 'node:path';
import { reasonOf, usageError } from '../errors.js';
import type { DeploymentPlan } from '../plan/types.js';
import { PLAN_FILE_SUFFIX, readPlanFiles } from '../write/planFile.js';

/**
 * What `generate` (or `deploy`) wrote into a directory, as `apply` needs it: the Apache
 * snippets to install, and from their plan files the paths the Apache user must reach.
 */
export interface DeployedSite {
  dir: string;
  /** Apache snippets (<name>.conf), by base name. */
  confFiles: { name: string; path: string; content: string; bytes: Buffer; installAs: 'conf' | 'site' }[];
  plans: DeploymentPlan[];
  mode: 'daemon' | 'embedded';
  pythonHome: string | null;
  /** The WSGI scripts the snippets mount. */
  scripts: string[];
  envPath: string | null;
  parentDir: string | null;
  eggCache: string | null;
}

export async function readDeployedSite(input: string): Promise<DeployedSite> {
  const dir = path.resolve(input);
  let entries: string[];
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw usageError(`${dir} is not a directory; give the --out directory of trac-deploy generate`);
    entries = (await fs.readdir(dir)).sort();
  } catch (error) {
    if (error instanceof Error && error.name === 'UserError') throw error;
    throw usageError(`${dir}: ${reasonOf(error)}; give the --out directory of trac-deploy generate`);
  }
  const plans = (await readPlanFiles(dir)).map((p) => p.plan);
  // `<name>.plan.json` describes `<name>.conf` beside it (also in a copy of the directory).
  const planned = new Map(plans.map((plan) => [path.basename(plan.files.apache), plan]));
  const confFiles = [];
  for (const entry of entries.filter((e) => e.endsWith('.conf'))) {
    const file = path.join(dir, entry);
    if (!planned.has(entry)) {
      throw usageError(`${file} has no ${entry.replace(/\.conf$/, PLAN_FILE_SUFFIX)} beside it: it was not written by trac-deploy generate, and apply installs only what it knows. Re-run trac-deploy generate --out ${dir}, or move the file away`);
    }
    const stat = await fs.lstat(file);
    if (!stat.isFile()) throw usageError(`${file} is not a regular file; trac-deploy installs only files it wrote`);
    const bytes = await fs.readFile(file).catch((error: unknown) => {
      throw usageError(`${file}: ${reasonOf(error)}`);
    });
    // The plan says what kind of file it is: a whole site goes where a2ensite looks.
    confFiles.push({ name: entry, path: file, content: bytes.toString('utf8'), bytes, installAs: planned.get(entry)?.site ? ('site' as const) : ('conf' as const) });
  }
  if (confFiles.length === 0) throw usageError(`${dir} holds no .conf file; run trac-deploy generate --out ${dir} first`);
  const first = plans[0];
  const source = (kind: 'environment' | 'parent') => plans.find((p) => p.source.kind === kind)?.source.path ?? null;
  return {
    dir,
    confFiles,
    plans,
    mode: plans.some((p) => p.mode === 'daemon') ? 'daemon' : 'embedded',
    pythonHome: plans.map((p) => p.daemon?.pythonHome ?? null).find((h) => h !== null) ?? null,
    scripts: plans.map((p) => p.files.wsgi),
    envPath: source('environment'),
    parentDir: source('parent'),
    eggCache: first?.python.eggCache ?? null,
  };
}
