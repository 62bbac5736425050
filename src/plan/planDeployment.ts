import path from 'node:path';
import type { Inspection } from '../inspect/types.js';
import { AUTH_MODULE_HINTS, decideAuth } from './authDecision.js';
import { decidePool } from './poolDecision.js';
import type { GenerateOptions } from './options.js';
import type { DeploymentPlan } from './types.js';
import {
  apacheSafePath,
  existingDirectory,
  nameFromPath,
  validateName,
  validateOutDir,
  validateUrlPrefix,
} from './validate.js';
import { usageError } from '../errors.js';

export interface PlanInput {
  inspection: Inspection;
  options: GenerateOptions;
  outDir: string;
  /** Static directories by chrome key, served by Apache (from deploy or --htdocs). */
  staticDirs?: { key: string; dir: string }[];
}

/**
 * The one function that turns what is on disk and what the user asked for into every
 * decision of the deployment. generate, deploy, init and ci all call it.
 */
export async function planDeployment({ inspection, options, outDir, staticDirs = [] }: PlanInput): Promise<DeploymentPlan> {
  const urlPrefix = validateUrlPrefix(options.urlPrefix);
  const name = validateName(options.name ?? nameFromPath(inspection.path));
  const envPaths = inspection.environments.map((e) => e.path);
  const out = apacheSafePath('--out', validateOutDir(outDir, envPaths, inspection.kind === 'parent' ? inspection.path : null));
  const pythonHome = options.pythonHome ? apacheSafePath('--python-home', await existingDirectory('--python-home', options.pythonHome)) : null;
  const siteDirs: string[] = [];
  for (const dir of options.siteDir) siteDirs.push(await existingDirectory('--site-dir', dir));
  for (const [flag, value] of [['--processes', options.processes], ['--threads', options.threads]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 1000) throw usageError(`${flag} ${value} must be a whole number from 1 to 1000`);
  }
  const eggCache = path.resolve(options.eggCache ?? path.join(inspection.path, '.egg-cache'));
  if (options.mode === 'embedded') {
    requireAsciiForEmbedded([
      ['the environment path', inspection.path],
      ['--out', out],
      ['--python-home', pythonHome],
      ['--egg-cache', eggCache],
      ...siteDirs.map((d) => ['--site-dir', d] as const),
      ...inspection.environments.map((e) => ['the environment path', e.path] as const),
    ]);
  }
  const notes: string[] = [];
  const pool = decidePool(inspection, options.pool, { processes: options.processes, threads: options.threads });
  notes.push(pool.reason);
  const auth = await decideAuth(inspection, options, urlPrefix);
  notes.push(...auth.notes);
  const apacheModules = [
    ...auth.modules,
    ...(staticDirs.length > 0 ? ['alias'] : []),
    ...(options.apacheSyntax === '2.2' ? ['access_compat'] : []),
  ];
  if (auth.auth.method !== 'none') {
    notes.push(`the configuration needs these Apache modules: ${[...new Set(apacheModules)].join(', ')} (${AUTH_MODULE_HINTS[auth.auth.method]})`);
  }
  if (options.mode === 'embedded' && pythonHome) {
    notes.push('embedded mode: the script adds the virtualenv\'s site-packages itself, since python-home= exists only for daemon processes');
  }

  return {
    source: {
      kind: inspection.kind,
      path: inspection.path,
      environments: inspection.environments.map((e) => ({ name: e.name, path: e.path, projectName: e.project.name })),
    },
    urlPrefix,
    name,
    mode: options.mode,
    daemon:
      options.mode === 'daemon'
        ? { processGroup: name, processes: options.processes, threads: options.threads, pythonHome }
        : null,
    python: { home: pythonHome, siteDirs, eggCache },
    pool,
    auth: auth.auth,
    apacheModules: [...new Set(apacheModules)],
    apacheSyntax: options.apacheSyntax,
    staticAliases: staticDirs.map(({ key, dir }) => ({
      key,
      url: `${urlPrefix === '/' ? '' : urlPrefix}/chrome/${key}`,
      dir: apacheSafePath('--htdocs', dir),
    })),
    files: { outDir: out, wsgi: path.join(out, `${name}.wsgi`), apache: path.join(out, `${name}.conf`) },
    notes,
  };
}

/**
 * Embedded mode runs Python with Apache's own locale, LANG=C on Debian (/etc/apache2/envvars),
 * and mod_wsgi has no per-site locale outside daemon mode: Python then cannot encode a
 * non-ASCII path (measured: UnicodeEncodeError on the script's own path). Daemon mode sets
 * lang=C.UTF-8 itself, so it is the way out.
 */
function requireAsciiForEmbedded(paths: ReadonlyArray<readonly [string, string | null]>): void {
  for (const [label, value] of paths) {
    if (value && /[^\x00-\x7f]/.test(value)) {
      throw usageError(
        `${label} ${value} has non-ASCII characters, which embedded mode cannot open under Apache's LANG=C; use --mode daemon (it runs Python with lang=C.UTF-8) or an ASCII path`,
      );
    }
  }
}
