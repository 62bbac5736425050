import { spawn } from 'node:child_process';
import path from 'node:path';
import { ansibleProgram } from './ansibleTools.js';

/** One host's line of the PLAY RECAP. */
export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface PlaybookRun {
  command: string[];
  exitCode: number;
  recap: Record<string, HostRecap>;
  /** Hosts whose block was rescued: restored and reloaded after a failure. */
  restored: string[];
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** `host : ok=3 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0` lines. */
export function parseRecap(output: string): Record<string, HostRecap> {
  const recap: Record<string, HostRecap> = {};
  const start = output.lastIndexOf('PLAY RECAP');
  if (start < 0) return recap;
  for (const line of output.slice(start).replace(ANSI, '').split('\n').slice(1)) {
    if (!line.trim()) break;
    const m = /^(\S+)\s+:\s+(ok=\d+.*)$/.exec(line.trim());
    if (!m) continue;
    const counts: Record<string, number> = {};
    for (const pair of m[2]!.trim().split(/\s+/)) {
      const [k, v] = pair.split('=');
      if (k && v !== undefined && /^\d+$/.test(v)) counts[k] = Number(v);
    }
    recap[m[1]!] = {
      ok: counts.ok ?? 0,
      changed: counts.changed ?? 0,
      unreachable: counts.unreachable ?? 0,
      failed: counts.failed ?? 0,
      skipped: counts.skipped ?? 0,
      rescued: counts.rescued ?? 0,
      ignored: counts.ignored ?? 0,
    };
  }
  return recap;
}

/**
 * `ansible-playbook -i INVENTORY site.yml` in the project directory, with its ansible.cfg;
 * every line of output goes to `log` as it comes (the rollout's progress).
 */
export async function runPlaybook(project: string, inventory: string, log: (line: string) => void, extraEnv: Record<string, string> = {}): Promise<PlaybookRun> {
  const program = ansibleProgram('ansible-playbook');
  const args = ['-i', inventory, path.join(project, 'site.yml')];
  const child = spawn(program, args, {
    cwd: project,
    env: { ...process.env, ANSIBLE_CONFIG: path.join(project, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', PYTHONUNBUFFERED: '1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let all = '';
  let pending = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    all += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) log(line);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exitCode = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      log(`trac-deploy: cannot run ${program}: ${error.message} (run scripts/setup.sh, which installs Ansible into /opt/trac-deploy/ansible)`);
      resolve(127);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
  if (pending) log(pending);
  const recap = parseRecap(all);
  return { command: [program, ...args], exitCode, recap, restored: Object.entries(recap).filter(([, r]) => r.rescued > 0).map(([h]) => h) };
}
