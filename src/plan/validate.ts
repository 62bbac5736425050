import fs from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.js';
import { apacheProblem } from '../render/escapeApache.js';

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
  if (!stat) throw usageError(`${flag} ${resolved}: no such directory`);
  if (!stat.isDirectory()) throw usageError(`${flag} ${resolved} is not a directory`);
  return resolved;
}

/** Paths that end up in Apache's configuration must be expressible there. */
export function apacheSafePath(flag: string, value: string): string {
  const problem = apacheProblem(value) ?? (/[*?[]/.test(value) ? 'Apache reads "*", "?" and "[...]" in a <Directory> or Include path as wildcards' : null);
  if (problem) throw usageError(`${flag} ${JSON.stringify(value)} cannot be used in an Apache configuration: ${problem}; choose another path`);
  return value;
}

export function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Directories of an environment that must never be reachable over HTTP. */
const PRIVATE_DIRS = ['conf', 'db', 'log', 'files', 'attachments', 'plugins', 'templates'];

/**
 * The output directory is the directory Apache opens for the script. It must not be an
 * environment (or contain one), nor lie in an environment's private directories.
 */
export function validateOutDir(outDir: string, envPaths: string[], parentDir: string | null): string {
  const out = path.resolve(outDir);
  for (const env of envPaths) {
    if (isWithin(env, out)) {
      throw usageError(`--out ${out} contains the Trac environment ${env}; Apache would open the environment's files. Choose a directory outside it, e.g. ${path.join(path.dirname(env), 'deploy')}`);
    }
    for (const dir of PRIVATE_DIRS) {
      if (isWithin(out, path.join(env, dir))) {
        throw usageError(`--out ${out} is inside ${path.join(env, dir)}, which must never be served; choose a directory outside the environment`);
      }
    }
  }
  if (parentDir && isWithin(parentDir, out)) {
    throw usageError(`--out ${out} contains the environments directory ${parentDir}; choose a directory outside it`);
  }
  return out;
}
