import fs from 'node:fs/promises';
import path from 'node:path';
import { apacheRegexLiteral, substitutionProblem } from '../escape/apacheRegex.js';
import { validKey } from './chromeKey.js';
import { decideTimeouts } from './daemonTimeouts.js';
import { decideProxy } from './proxyDecision.js';
import { decideSite, publicUrlOf } from './siteDecision.js';
import { decideSizing } from './sizingDecision.js';
import type { Inspection } from '../inspect/types.js';
import { decideAuth, moduleHint } from './authDecision.js';
import { decidePool } from './poolDecision.js';
import type { GenerateOptions } from './options.js';
import type { DeploymentPlan } from './types.js';
import {
  apacheSafePath,
  existingDirectory,
  nameFromPath,
  validateName,
  validateHtdocsDir,
  validateOutDir,
  validateInterpreter,
  validateUrlPrefix,
} from './validate.js';
import { usageError } from '../errors.js';

export interface PlanInput {
  inspection: Inspection;
  options: GenerateOptions;
  outDir: string;
  /** Static directories by chrome key, served by Apache (from deploy); else from --htdocs. */
  staticDirs?: { key: string; dir: string }[];
  /** deploy: TARGET, laid out as trac-admin deploy does (cgi-bin/trac.*, htdocs/, the .conf at the top). */
  deployTarget?: string;
  /** deploy: the environment's Python, named on the scripts' #! line. */
  interpreter?: string;
  /**
   * ci: --python-home names a directory on the CI runner (the pipeline makes it there), so it
   * need not exist on this machine; it must still be absolute-able and fit Apache's syntax.
   */
  pythonHomeOnRunner?: boolean;
}

/** How long browsers may keep Trac's static files: a day, since Trac's chrome URLs carry no version. */
export const STATIC_MAX_AGE = 86400;

/**
 * The one function that turns what is on disk and what the user asked for into every
 * decision of the deployment. generate, deploy, init and ci all call it.
 */
export async function planDeployment({ inspection, options, outDir, staticDirs, deployTarget, interpreter, pythonHomeOnRunner }: PlanInput): Promise<DeploymentPlan> {
  const urlPrefix = validateUrlPrefix(options.urlPrefix);
  const name = validateName(options.name ?? nameFromPath(inspection.path));
  const envPaths = inspection.environments.map((e) => e.path);
  const parentDir = inspection.kind === 'parent' ? inspection.path : null;
  const target = deployTarget ? apacheSafePath('TARGET', validateOutDir(deployTarget, envPaths, parentDir, 'TARGET')) : null;
  const out = target ? path.join(target, 'cgi-bin') : apacheSafePath('--out', validateOutDir(outDir, envPaths, parentDir));
  const allStatics =
    staticDirs ??
    (options.htdocs ? await htdocsKeys(validateHtdocsDir(await existingDirectory('--htdocs', options.htdocs), envPaths, parentDir)) : []);
  // "site" is each environment's own htdocs/: one deployed copy would serve one project's logo
  // and CSS to all of them, so under a parent directory Trac keeps serving it per project.
  const statics = parentDir ? allStatics.filter((s) => s.key !== 'site') : allStatics;
  const pythonHome = options.pythonHome
    ? apacheSafePath('--python-home', pythonHomeOnRunner ? path.resolve(options.pythonHome) : await existingDirectory('--python-home', options.pythonHome))
    : null;
  const siteDirs: string[] = [];
  for (const dir of options.siteDir) siteDirs.push(await existingDirectory('--site-dir', dir));
  const sizing = decideSizing({ processes: options.processes, threads: options.threads }, inspection.environments.length);
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
  if (statics.length < allStatics.length) {
    notes.push('chrome/site is left to Trac: under a directory of environments each project has its own site files');
  }
  if (options.mode === 'daemon' && sizing.reason) notes.push(sizing.reason);
  const pool = decidePool(inspection, options.pool, sizing);
  notes.push(pool.reason);
  const timeouts = decideTimeouts(options);
  const site = await decideSite(options, name);
  notes.push(...site.notes);
  const proxy = decideProxy(options.behindProxy);
  if (proxy) notes.push(`X-Forwarded-Proto/Host/For are trusted from ${proxy.trusted.join(', ')} only (WSGITrustedProxies); from any other address mod_wsgi ignores them`);
  if (options.configureTrac && !site.site) throw usageError('--configure-trac needs --server-name: without it the public URL (and so base_url) is unknown');
  const auth = await decideAuth(inspection, options, urlPrefix);
  notes.push(...auth.notes);
  const apacheModules = [
    ...auth.modules,
    ...(statics.length > 0 ? ['alias'] : []),
    ...(options.apacheSyntax === '2.2' ? ['access_compat'] : []),
    ...site.modules,
  ];
  if (auth.auth.method !== 'none') {
    notes.push(`the configuration needs these Apache modules: ${[...new Set(apacheModules)].join(', ')} (${moduleHint(auth.auth.method, apacheModules)})`);
  }
  if (options.mode === 'embedded' && pythonHome) {
    notes.push('embedded mode: the script adds the virtualenv\'s site-packages itself, since python-home= exists only for daemon processes');
  }
  // Given (ci's drift check: a stand-in has no repository to ask about), else the preflight's choice.
  const svnBindings = options.svnBindings ? apacheSafePath('--svn-bindings', path.resolve(options.svnBindings)) : inspection.preflight?.status === 'ran' ? inspection.preflight.svnBindingsFrom : null;
  if (svnBindings) {
    notes.push(`Subversion: the interpreter has no bindings of its own, so the script makes the svn and libsvn packages of ${svnBindings} (Debian's python3-subversion) importable, and nothing else of that directory`);
  }
  const xsendfile = xsendfileDecision(inspection);
  if (xsendfile) {
    apacheModules.push('xsendfile');
    notes.push(`[trac] use_xsendfile is on: mod_xsendfile sends attachments from ${xsendfile.paths.join(', ')} (Debian: apt-get install libapache2-mod-xsendfile; a2enmod xsendfile)`);
  }
  const staticAliases = statics.map(({ key, dir }) => staticAlias(urlPrefix, inspection.kind, key, apacheSafePath('--htdocs', dir)));
  if (target && interpreter === undefined) throw new Error('planDeployment: deployTarget needs the interpreter for the #! line');
  if (interpreter !== undefined) validateInterpreter(interpreter);

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
        ? { processGroup: name, processes: sizing.processes, threads: sizing.threads, pythonHome, timeouts }
        : null,
    site: site.site,
    proxy,
    publicUrl: publicUrlOf(site.site, proxy !== null, urlPrefix),
    python: {
      home: pythonHome,
      venvInScript: options.mode !== 'daemon' || target !== null,
      ...(interpreter !== undefined ? { interpreter } : {}),
      siteDirs,
      eggCache,
      ...(svnBindings ? { svnBindings } : {}),
    },
    ...(xsendfile ? { xsendfile } : {}),
    pool,
    auth: auth.auth,
    apacheModules: [...new Set(apacheModules)],
    apacheSyntax: options.apacheSyntax,
    staticAliases,
    staticMaxAge: STATIC_MAX_AGE,
    files: target
      ? {
          outDir: out,
          wsgi: path.join(out, 'trac.wsgi'),
          apache: path.join(target, `${name}.conf`),
          cgi: path.join(out, 'trac.cgi'),
          fcgi: path.join(out, 'trac.fcgi'),
        }
      : { outDir: out, wsgi: path.join(out, `${name}.wsgi`), apache: path.join(out, `${name}.conf`) },
    notes,
  };
}

/**
 * Environments with [trac] use_xsendfile answer downloads with a header and an empty body;
 * Apache's mod_xsendfile handles X-Sendfile only (X-Accel-Redirect is nginx's).
 */
function xsendfileDecision(inspection: Inspection): { paths: string[] } | null {
  const on = inspection.environments.filter((e) => e.preflight?.xsendfile?.on);
  if (on.length === 0) return null;
  for (const env of on) {
    const header = env.preflight?.xsendfile?.header ?? 'X-Sendfile';
    if (header.toLowerCase() !== 'x-sendfile') {
      throw usageError(
        `${path.join(env.path, 'conf', 'trac.ini')}: [trac] use_xsendfile with xsendfile_header = ${header}, which Apache does not handle (it is nginx's); downloads would arrive empty`,
        'set [trac] xsendfile_header = X-Sendfile (Apache mod_xsendfile), or use_xsendfile = false',
      );
    }
  }
  const paths = on.map((e) => e.preflight?.filesDir ?? path.join(e.path, 'files'));
  return { paths: [...new Set(paths.map((p) => apacheSafePath('[trac] files dir', p)))] };
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

/**
 * One environment: Alias <prefix>/chrome/<key>. A parent directory: the environment's name sits
 * between prefix and /chrome, so AliasMatch with the prefix and key taken literally.
 */
export function staticAlias(urlPrefix: string, kind: 'environment' | 'parent', key: string, dir: string): DeploymentPlan['staticAliases'][number] {
  const base = urlPrefix === '/' ? '' : urlPrefix;
  if (kind === 'environment') return { key, url: `${base}/chrome/${key}`, dir, urlRegex: null };
  const problem = substitutionProblem(dir);
  if (problem) throw usageError(`--htdocs ${JSON.stringify(dir)} cannot be used for a directory of environments: ${problem}; choose another path`);
  return {
    key,
    url: `${base}/<env>/chrome/${key}`,
    dir,
    urlRegex: `^${apacheRegexLiteral(base)}/[^/]+/chrome/${apacheRegexLiteral(key)}(/.*)?$`,
  };
}

/** --htdocs DIR: each subdirectory is a chrome key (hidden ones and invalid keys skipped). */
async function htdocsKeys(dir: string): Promise<{ key: string; dir: string }[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && validKey(e.name))
    .map((e) => e.name)
    .sort()
    .map((key) => ({ key, dir: path.join(dir, key) }));
}
