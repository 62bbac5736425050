import type { Finding } from '../findings.js';
import fs from 'fs-extra';
import path from 'node:path';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { PREFLIGHT_CODES, withPreflight } from '../inspect/preflight.js';
import { accessVerb, checkAccess, nearestExisting, type AccessNeed } from '../apache/userAccess.js';
import type { DeployedSite } from './deployedSite.js';
import { inheritedMountFindings, shadowedMounts } from '../plan/mounts.js';
import { apacheNameOrder } from './installOrder.js';
import { ctl, runConfig, type ApacheTarget } from './target.js';

export type { Finding };

/** mod_wsgi keeps its version string just before "mod_wsgi/%s" (its banner format). */
export function wsgiVersionFromBinary(binary: Buffer): string | null {
  const literal = /mod_wsgi\/(\d+\.\d+(?:\.\d+)?)/.exec(binary.toString('latin1'));
  if (literal?.[1]) return literal[1];
  const marker = binary.indexOf('\0mod_wsgi/%s\0');
  if (marker < 0) return null;
  const start = binary.lastIndexOf(0, marker - 1);
  const candidate = binary.subarray(start + 1, marker).toString('latin1');
  return /^\d+\.\d+(\.\d+)?$/.test(candidate) ? candidate : null;
}

/** "3.11" from the libpython the module links against. */
export function pythonFromBinary(binary: Buffer): string | null {
  return /libpython(\d+\.\d+)/.exec(binary.toString('latin1'))?.[1] ?? null;
}

/** "3.11" from a virtualenv's pyvenv.cfg (`version = 3.11.2` or `version_info = 3.11.2.final.0`). */
export function venvPythonVersion(pyvenvCfg: string): string | null {
  return /^\s*version(?:_info)?\s*=\s*(\d+\.\d+)/m.exec(pyvenvCfg)?.[1] ?? null;
}

/** "Server MPM:     event" from `-V`. */
export function parseMpm(output: string): string | null {
  return /^Server MPM:\s+(\S+)/m.exec(output)?.[1]?.toLowerCase() ?? null;
}

/** The files `-t -D DUMP_INCLUDES` lists, e.g. "  (*) /etc/apache2/apache2.conf". */
export function parseIncludes(output: string): string[] {
  return [...output.matchAll(/^\s*\([^)]*\)\s+(\/.*)$/gm)].map((m) => (m[1] ?? '').trim());
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The version rules from Trac's TracModWSGI page. */
export function versionFindings(input: { wsgiVersion: string | null; mpm: string | null; mode: 'daemon' | 'embedded' }): Finding[] {
  const findings: Finding[] = [];
  const v = input.wsgiVersion;
  if (!v) {
    findings.push({ severity: 'info', code: 'wsgi-version-unknown', message: 'the mod_wsgi version could not be read from its module file' });
    return findings;
  }
  if (compareVersions(v, '2.0') >= 0 && compareVersions(v, '2.4') < 0) {
    findings.push({ severity: 'warning', code: 'wsgi-file-wrapper', message: `mod_wsgi ${v}: versions 2.0 to 2.3 have a broken file_wrapper (empty or truncated attachments); upgrade mod_wsgi` });
  }
  if (input.mpm === 'worker' && input.mode === 'embedded' && compareVersions(v, '3.4') < 0) {
    findings.push({ severity: 'warning', code: 'wsgi-worker-embedded', message: `mod_wsgi ${v} in embedded mode under the worker MPM needs 3.4 or newer; upgrade mod_wsgi or use --mode daemon` });
  }
  return findings;
}

export function pythonFindings(embedded: string | null, venv: string | null, pythonHome: string | null): Finding[] {
  if (!pythonHome) return [];
  if (venv === null) return [{ severity: 'warning', code: 'venv-not-found', message: `${pythonHome} has no pyvenv.cfg saying which Python made it; mod_wsgi can use it only if it was made from the Python mod_wsgi embeds${embedded ? ` (${embedded})` : ''}` }];
  if (embedded && embedded !== venv) {
    return [{ severity: 'error', code: 'python-mismatch', message: `mod_wsgi embeds Python ${embedded} but the virtualenv ${pythonHome} was made with Python ${venv}; Apache cannot import Trac from it. Recreate it with python${embedded} -m venv` }];
  }
  return [];
}

/** What the Apache user must be able to do, for the deployed environments. */
/** What the login files are called in findings. */
const LOGIN = { userFile: 'the login user file', groupFile: 'the login group file', keytab: 'the Kerberos keytab' } as const;
const LOGIN_FILES: ReadonlySet<string> = new Set(Object.values(LOGIN));

export function accessNeeds(site: Pick<DeployedSite, 'scripts' | 'pythonHome' | 'eggCache' | 'parentDir' | 'plans'>, envs: { path: string; sqlite: string | null; hasLog: boolean }[], eggCacheExisting: string | null): AccessNeed[] {
  const needs: AccessNeed[] = [];
  for (const script of site.scripts) needs.push({ path: script, test: '-r', why: 'the WSGI script' });
  // Read by Apache's workers at each login, as the Apache user (not at start-up, as root).
  const logins = site.plans.flatMap(({ auth }) => (['userFile', 'groupFile', 'keytab'] as const).flatMap((key) => (auth[key] ? [{ path: auth[key], why: LOGIN[key] }] : [])));
  for (const login of new Map(logins.map((l) => [l.path, l])).values()) needs.push({ ...login, test: '-r' });
  if (site.pythonHome) needs.push({ path: path.join(site.pythonHome, 'pyvenv.cfg'), test: '-r', why: 'the virtualenv (python-home)' });
  if (site.parentDir) {
    needs.push({ path: site.parentDir, test: '-r', why: 'the environments directory (project index)' });
    needs.push({ path: site.parentDir, test: '-x', why: 'the environments directory' });
  }
  for (const env of envs) {
    needs.push({ path: path.join(env.path, 'conf', 'trac.ini'), test: '-r', why: 'the environment configuration' });
    if (env.hasLog) needs.push({ path: path.join(env.path, 'log'), test: '-w', why: 'the environment log directory' });
    if (env.sqlite) {
      needs.push({ path: env.sqlite, test: '-w', why: 'the SQLite database' });
      needs.push({ path: path.dirname(env.sqlite), test: '-w', why: 'the SQLite database directory (journal files)' });
    }
  }
  if (site.eggCache && eggCacheExisting) {
    needs.push({ path: eggCacheExisting, test: '-w', why: eggCacheExisting === site.eggCache ? 'the egg cache' : `the directory the egg cache ${site.eggCache} is created in` });
  }
  return needs;
}

export async function machineChecks(target: ApacheTarget, site: DeployedSite): Promise<Finding[]> {
  const findings: Finding[] = [...shadowChecks(site), ...inheritedMountFindings(site.plans)];
  const modules = await ctl(target, ['-M']);
  if (!/\bwsgi_module\b/.test(modules.output)) {
    findings.push({ severity: 'error', code: 'wsgi-missing', message: `mod_wsgi is not loaded by the Apache in ${target.root}; ${target.family === 'debian' ? 'apt-get install libapache2-mod-wsgi-py3 && a2enmod wsgi' : 'dnf install python3-mod_wsgi'}` });
    return findings;
  }
  const mpm = parseMpm((await ctl(target, ['-V'])).output);
  const run = await runConfig(target);
  const modulePath = await wsgiModuleFile(target, run.serverRoot ?? target.root);
  const binary = modulePath ? await fs.readFile(modulePath).catch(() => null) : null;
  const wsgiVersion = binary ? wsgiVersionFromBinary(binary) : null;
  findings.push({ severity: 'info', code: 'wsgi-version', message: `mod_wsgi ${wsgiVersion ?? '(version unknown)'}${modulePath ? ` (${modulePath})` : ''}, MPM ${mpm ?? 'unknown'}` });
  findings.push(...versionFindings({ wsgiVersion, mpm, mode: site.mode }));
  const embedded = binary ? pythonFromBinary(binary) : null;
  const venvCfg = site.pythonHome ? await fs.readFile(path.join(site.pythonHome, 'pyvenv.cfg'), 'utf8').catch(() => null) : null;
  findings.push(...pythonFindings(embedded, venvCfg === null ? null : venvPythonVersion(venvCfg), site.pythonHome));

  const user = run.user;
  const group = run.group ?? user;
  if (!user || !group) return findings;
  if (process.getuid?.() !== 0) {
    findings.push({ severity: 'info', code: 'access-not-checked', message: `file access of the Apache user ${user} was not checked (needs root)` });
    return findings;
  }
  const source = site.envPath ?? site.parentDir;
  const envs = [];
  const fromTrac: Finding[] = [];
  if (source) {
    let inspection = await inspectPath(source).catch(() => null);
    if (inspection) {
      // Trac itself, in the site's interpreter, as the Apache user: what it would refuse to serve.
      const siteDirs = [...new Set(site.plans.flatMap((p) => p.python.siteDirs))];
      inspection = await withPreflight(inspection, { pythonHome: site.pythonHome, siteDirs, eggCache: site.eggCache });
      for (const problem of allProblems(inspection)) {
        if (PREFLIGHT_CODES.has(problem.code) || problem.code === 'preflight-skipped') fromTrac.push(problem);
      }
    }
    for (const env of inspection?.environments.slice(0, 200) ?? []) {
      const sqlite = env.database?.scheme === 'sqlite' && env.database.name && env.database.name !== ':memory:' ? path.resolve(env.path, env.database.name) : null;
      envs.push({ path: env.path, sqlite: sqlite && (await fs.pathExists(sqlite)) ? sqlite : null, hasLog: await fs.pathExists(path.join(env.path, 'log')) });
    }
  }
  const eggExisting = site.eggCache ? await nearestExisting(site.eggCache) : null;
  const access = await checkAccess(user, group, accessNeeds(site, envs, eggExisting));
  if (access.unchecked) findings.push({ severity: 'warning', code: 'access-not-checked', message: `file access of the Apache user ${user} was not checked: ${access.unchecked}` });
  for (const need of access.failed) {
    // A secret file is opened to the Apache group only, never to everyone.
    const fix = LOGIN_FILES.has(need.why) ? `chgrp ${group} ${need.path} && chmod 640 ${need.path}` : `chown -R ${user}:${group} the environment, or chmod`;
    findings.push({ severity: 'error', code: 'apache-user-access', message: `the Apache user ${user} cannot ${accessVerb(need.test)} ${need.path} (${need.why}); e.g. ${fix}` });
  }
  // What Trac said comes after the file checks, which name the path to chown.
  findings.push(...fromTrac);
  return findings;
}

/**
 * Snippets are installed in an order where deeper mount points are read first (installOrder.ts).
 * Whole sites cannot be helped by order: of two <VirtualHost> sections for one host name, Apache
 * gives every request to the first, so a site under another site's mount point on the same host
 * is never reached. Refused, naming both.
 */
export function shadowChecks(site: DeployedSite): Finding[] {
  const sites = site.plans.filter((p) => p.site !== null);
  const hosts = [...new Set(sites.map((p) => p.site?.serverName ?? ''))];
  return hosts.flatMap((host) => {
    const mounts = sites
      .filter((p) => (p.site?.serverName ?? '') === host)
      .map((p) => ({ name: path.basename(p.files.apache), urlPrefix: p.urlPrefix }))
      .sort((a, b) => apacheNameOrder(a.name, b.name));
    return shadowedMounts(mounts).map(({ hidden, by }) => ({
      severity: 'error' as const,
      code: 'mount-shadowed',
      message: `${hidden.urlPrefix} (${hidden.name}) would be answered by ${by.urlPrefix} (${by.name}): both are <VirtualHost> sites for ${host}, and Apache gives every request for ${host} to the first, whatever the file names`,
      advice: [`serve one of them under another --server-name`],
    }));
  });
}

async function wsgiModuleFile(target: ApacheTarget, serverRoot: string): Promise<string | null> {
  const files = parseIncludes((await ctl(target, ['-t', '-D', 'DUMP_INCLUDES'])).output);
  for (const file of files) {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    const match = /^\s*LoadModule\s+wsgi_module\s+"?([^"\s]+)"?/m.exec(text);
    if (match?.[1]) return path.resolve(serverRoot, match[1]);
  }
  return null;
}
