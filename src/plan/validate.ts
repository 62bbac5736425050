import { realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { shown, usageError } from '../errors.js';
import { apacheProblem } from '../escape/apache.js';

/** `--url-prefix`: "/" or /segment[/segment...] of URL-safe characters, no trailing slash. */
export function validateUrlPrefix(prefix: string): string {
  if (prefix === '/') return prefix;
  if (!/^(\/[A-Za-z0-9._~!&'()+,;=:@-]+)+$/.test(prefix) || /(^|\/)\.\.?(\/|$)/.test(prefix)) {
    throw usageError(
      `--url-prefix ${JSON.stringify(prefix)} is not a URL path; use "/" or something like "/trac" (letters, digits, . _ ~ -, no trailing slash)`,
    );
  }
  return prefix;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `--name`, or one derived from a directory name. */
export function validateName(name: string): string {
  if (!NAME.test(name) || name.length > 64) {
    throw usageError(`--name ${JSON.stringify(name)} must start with a letter or digit and hold only letters, digits, ".", "_" and "-" (at most 64)`);
  }
  return name;
}

export function nameFromPath(dir: string): string {
  const base = path
    .basename(dir)
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return base || 'trac';
}

/** A directory the user named with a flag must exist and be a directory. */
export async function existingDirectory(flag: string, dir: string): Promise<string> {
  const resolved = path.resolve(dir);
  const stat = await fs.stat(resolved).catch(() => null);
  if (!stat) throw usageError(`${flag} ${shown(resolved)}: no such directory`);
  if (!stat.isDirectory()) throw usageError(`${flag} ${shown(resolved)} is not a directory`);
  return resolved;
}

/** Paths that end up in Apache's configuration must be expressible there. */
export function apacheSafePath(flag: string, value: string): string {
  const problem = apacheProblem(value) ?? (/[*?[]/.test(value) ? 'Apache reads "*", "?" and "[...]" in a <Directory> or Include path as wildcards' : null);
  if (problem) throw usageError(`${flag} ${JSON.stringify(value)} cannot be used in an Apache configuration: ${problem}; choose another path`);
  return value;
}

/**
 * Where a path really leads: the real path (every link resolved) of its longest existing
 * prefix, with the components that do not exist yet appended. Directory rules compare these,
 * never the text the user typed: `/srv/out -> /srv/env/htdocs` is inside the environment.
 */
export function resolvedPath(p: string): string {
  let head = path.resolve(p);
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync.native(head), ...tail.reverse());
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.resolve(p);
      tail.push(path.basename(head));
      head = parent;
    }
  }
}

/** Whether `child` is `parent` or below it, both compared as resolved paths (see resolvedPath). */
export function resolvesWithin(child: string, parent: string): boolean {
  return isWithin(resolvedPath(child), resolvedPath(parent));
}

export function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Directories of an environment that must never be reachable over HTTP. */
const PRIVATE_DIRS = ['conf', 'db', 'log', 'files', 'attachments', 'plugins', 'templates'];

/**
 * A directory Apache will serve must not be an environment (or contain one, or the directory of
 * environments), nor lie in an environment's private directories (conf, db, log, ...).
 */
function validateServedDir(flag: string, dir: string, envPaths: string[], parentDir: string | null, alsoPrivate: string[]): string {
  const served = path.resolve(dir);
  const real = resolvedPath(served);
  const shown = real === served ? served : `${served} (which resolves to ${real})`;
  for (const env of envPaths) {
    const realEnv = resolvedPath(env);
    if (isWithin(realEnv, real)) {
      throw usageError(`${flag} ${shown} contains the Trac environment ${env}; Apache would open the environment's files. Choose a directory outside it, e.g. ${path.join(path.dirname(env), 'deploy')}`);
    }
    for (const sub of [...PRIVATE_DIRS, ...alsoPrivate]) {
      if (isWithin(real, path.join(realEnv, sub))) {
        throw usageError(`${flag} ${shown} is inside ${path.join(env, sub)}, which must never be served this way; choose a directory outside the environment`);
      }
    }
  }
  if (parentDir && isWithin(resolvedPath(parentDir), real)) {
    throw usageError(`${flag} ${shown} contains the environments directory ${parentDir}; choose a directory outside it`);
  }
  return served;
}

/**
 * The output directory is the directory Apache opens for the script. Besides the rules of any
 * served directory, it must not lie in the directory of environments (Trac's project index would
 * list it and fail on it) nor in an environment's htdocs/ (Trac would serve the files written
 * there as chrome/site).
 */
export function validateOutDir(outDir: string, envPaths: string[], parentDir: string | null, flag = '--out'): string {
  const out = validateServedDir(flag, outDir, envPaths, parentDir, ['htdocs']);
  if (parentDir && resolvesWithin(out, parentDir)) {
    throw usageError(`${flag} ${out} is inside the environments directory ${parentDir}, where Trac's project index would try to open it as a project; choose a directory outside it`);
  }
  return out;
}

/** `--htdocs DIR`: every subdirectory is served as a chrome key, so DIR must hold nothing private. */
export function validateHtdocsDir(dir: string, envPaths: string[], parentDir: string | null): string {
  return validateServedDir('--htdocs', dir, envPaths, parentDir, []);
}

/** deploy's scripts name their Python on a #! line, which holds one absolute path without spaces. */
export function validateInterpreter(python: string): string {
  if (/[\s\0]/.test(python) || !python.startsWith('/')) {
    throw usageError(`the Python ${JSON.stringify(python)} cannot be named on a #! line (it needs an absolute path without spaces)`);
  }
  return python;
}
