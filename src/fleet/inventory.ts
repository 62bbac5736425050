import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { reasonOf, usageError } from '../errors.js';
import { ansibleProgram } from './ansibleTools.js';

/** Runs a program and gives back what it said; unit tests pass a fake. */
export type ProgramRunner = (file: string, args: string[]) => Promise<{ exitCode: number | null; stdout: string; stderr: string; notFound: boolean }>;

export const execFileRunner: ProgramRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 32 * 1024 * 1024, timeout: 120_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      resolve({
        exitCode: error ? (typeof code === 'number' ? code : code === undefined ? 1 : null) : 0,
        stdout,
        stderr,
        notFound: code === 'ENOENT',
      });
    });
  });

export interface FleetInventory {
  file: string;
  group: string;
  /** The web hosts, in the inventory's order: the order the rollout takes. */
  hosts: string[];
}

/**
 * The hosts of `group` as Ansible itself reads the inventory (`ansible-inventory --list`), so
 * every format and plugin it knows works and the count is the one the play will use.
 */
export async function readInventory(file: string, group: string, run: ProgramRunner = execFileRunner): Promise<FleetInventory> {
  const resolved = path.resolve(file);
  const stat = await fs.stat(resolved).catch((error: unknown) => {
    throw usageError(`--inventory ${resolved}: ${reasonOf(error)}`);
  });
  if (!stat.isFile() && !stat.isDirectory()) throw usageError(`--inventory ${resolved} is neither a file nor a directory`);
  const program = ansibleProgram('ansible-inventory');
  const result = await run(program, ['-i', resolved, '--list', '--export']);
  if (result.notFound) {
    throw usageError(`${program} is not installed; fleet reads the inventory with Ansible itself`, 'run scripts/setup.sh (it installs Ansible into /opt/trac-deploy/ansible) or put ansible-inventory on PATH');
  }
  if (result.exitCode !== 0) {
    const said = result.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit code ${result.exitCode}`;
    throw usageError(`--inventory ${resolved}: ansible-inventory could not read it: ${said}`);
  }
  let listing: Record<string, { hosts?: string[]; children?: string[] }>;
  try {
    listing = JSON.parse(result.stdout) as typeof listing;
  } catch {
    throw usageError(`--inventory ${resolved}: ansible-inventory answered something that is not JSON`);
  }
  const hosts = hostsOf(listing, group, new Set());
  if (hosts.length === 0) {
    const groups = Object.keys(listing).filter((g) => g !== '_meta' && g !== 'all' && g !== 'ungrouped');
    throw usageError(
      `--inventory ${resolved} has no hosts in group "${group}"`,
      groups.length > 0 ? `its groups: ${groups.join(', ')}; name the web servers' group with --group` : 'put the web servers in a group of that name, or name their group with --group',
    );
  }
  return { file: resolved, group, hosts };
}

/** A group's hosts, its children's included, each once, in order. */
function hostsOf(listing: Record<string, { hosts?: string[]; children?: string[] }>, group: string, visiting: Set<string>): string[] {
  const entry = listing[group];
  if (!entry || visiting.has(group)) return [];
  visiting.add(group);
  const all = [...(entry.hosts ?? []), ...(entry.children ?? []).flatMap((child) => hostsOf(listing, child, visiting))];
  return [...new Set(all)];
}
