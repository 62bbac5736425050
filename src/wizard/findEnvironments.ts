import fs from 'fs-extra';
import path from 'node:path';
import { checkEnvironment } from '../inspect/environment.js';

/** Where Trac environments are usually kept; the wizard looks there and in the current directory. */
export const USUAL_TRAC_ROOTS = ['/srv/trac', '/var/lib/trac', '/var/trac', '/opt/trac', '/home/trac'];

const MAX_ENTRIES = 200;

export interface EnvironmentCandidate {
  path: string;
  kind: 'environment' | 'parent';
  /** Environments directly inside a parent directory. */
  count: number;
}

/**
 * Environments and parent directories in and around the given roots, one level deep: a root
 * that is an environment, a root whose subdirectories hold environments (offered as a parent
 * directory first, then each environment), a root's parent when the root is one of several.
 */
export async function findEnvironments(roots: string[]): Promise<EnvironmentCandidate[]> {
  const found = new Map<string, EnvironmentCandidate>();
  const add = (c: EnvironmentCandidate) => {
    if (!found.has(c.path)) found.set(c.path, c);
  };
  for (const root of roots.map((r) => path.resolve(r))) {
    if (!(await isDirectory(root))) continue;
    if (checkEnvironment(root).isEnvironment) {
      add({ path: root, kind: 'environment', count: 1 });
      continue;
    }
    const envs = await environmentsIn(root);
    if (envs.length > 1) add({ path: root, kind: 'parent', count: envs.length });
    for (const env of envs) add({ path: env, kind: 'environment', count: 1 });
  }
  return [...found.values()];
}

async function environmentsIn(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const envs: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name)).slice(0, MAX_ENTRIES)) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (!(await isDirectory(full))) continue;
    if (checkEnvironment(full).isEnvironment) envs.push(full);
  }
  return envs;
}

async function isDirectory(dir: string): Promise<boolean> {
  return fs.stat(dir).then((s) => s.isDirectory(), () => false);
}
