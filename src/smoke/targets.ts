import fs from 'fs-extra';
import path from 'node:path';
import { parsePythonHome, parseScriptAlias } from '../apache/readConf.js';
import { apacheNameOrder, snippetFileName } from '../apply/installOrder.js';
import { usageError } from '../errors.js';
import type { DeploymentPlan } from '../plan/types.js';
import { planFileNames, readPlanFile } from '../write/planFile.js';

/** One generated configuration in DIR that smoke serves. */
export interface SmokeTarget {
  /** Base name: `<name>.conf`. */
  name: string;
  /** The Apache configuration that is included as it is on disk. */
  conf: string;
  urlPrefix: string;
  /** The .wsgi script WSGIScriptAlias points at. */
  script: string;
  /** The plan from `<name>.plan.json`; null when only the .conf was there. */
  plan: DeploymentPlan | null;
  /** python-home= of the daemon process (or the plan's virtualenv), for diagnoses. */
  pythonHome: string | null;
}

/**
 * The configurations in DIR. Each `<name>.plan.json` that generate wrote names its .conf; a
 * .conf without a manifest is read for its WSGIScriptAlias. All of them are served together,
 * as one Apache would serve them once apply installed them (installedAs); `name` picks one.
 */
export async function findTargets(dir: string, name?: string): Promise<SmokeTarget[]> {
  const resolved = path.resolve(dir);
  const stat = await fs.stat(resolved).catch(() => null);
  if (!stat) throw usageError(`${resolved}: no such directory; pass the --out directory of trac-deploy generate`);
  if (!stat.isDirectory()) throw usageError(`${resolved} is not a directory; pass the --out directory of trac-deploy generate`);
  const entries = (await fs.readdir(resolved)).sort();
  const targets: SmokeTarget[] = [];
  const covered = new Set<string>();
  for (const file of (await planFileNames(resolved)) ?? []) {
    const target = await fromManifest(path.join(resolved, file));
    covered.add(target.conf);
    targets.push(target);
  }
  for (const file of entries.filter((f) => f.endsWith('.conf'))) {
    const conf = path.join(resolved, file);
    if (covered.has(conf)) continue;
    const target = await fromConf(conf);
    if (target) targets.push(target);
  }
  if (targets.length === 0) {
    throw usageError(
      `${resolved} holds no configuration from trac-deploy generate (no <name>.plan.json, no .conf with a WSGIScriptAlias)`,
      `run: trac-deploy generate ENV --out ${resolved}`,
    );
  }
  targets.sort((a, b) => apacheNameOrder(installedAs(a), installedAs(b)));
  if (name === undefined) return targets;
  const chosen = targets.filter((t) => t.name === name);
  if (chosen.length === 0) {
    throw usageError(`--name ${JSON.stringify(name)}: ${resolved} holds ${targets.map((t) => t.name).join(', ')}`);
  }
  return chosen;
}

/**
 * The order apply gives them on a server: snippets first (Debian's apache2.conf reads
 * conf-enabled/ before sites-enabled/), each under its ordered name so a deeper mount point is
 * read first; whole sites by name. smoke serves DIR as apply would install it.
 */
function installedAs(target: SmokeTarget): string {
  return target.plan?.site ? `2/${target.name}.conf` : `1/${snippetFileName(target.name, target.urlPrefix)}`;
}

async function fromManifest(file: string): Promise<SmokeTarget> {
  const { plan } = await readPlanFile(file);
  for (const needed of [plan.files.apache, plan.files.wsgi]) {
    if (!(await fs.pathExists(needed))) throw usageError(`${file} names ${needed}, which does not exist; re-run trac-deploy generate`);
  }
  return { name: path.basename(plan.files.apache).replace(/\.conf$/, ''), conf: plan.files.apache, urlPrefix: plan.urlPrefix, script: plan.files.wsgi, plan, pythonHome: plan.python.home };
}

async function fromConf(conf: string): Promise<SmokeTarget | null> {
  const text = await fs.readFile(conf, 'utf8');
  const alias = parseScriptAlias(text);
  if (!alias) return null;
  const urlPrefix = alias.urlPrefix.length > 1 ? alias.urlPrefix.replace(/\/+$/, '') : alias.urlPrefix;
  return { name: path.basename(conf).replace(/\.conf$/, ''), conf, urlPrefix, script: alias.script, plan: null, pythonHome: parsePythonHome(text) };
}
