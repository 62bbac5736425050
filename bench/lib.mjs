// Shared helpers for the benchmarks: temp dirs, timing with peak memory, medians.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const VENV = process.env.TRAC_DEPLOY_VENV ?? '/opt/trac-deploy/venv';
export const TRAC_ADMIN = path.join(VENV, 'bin', 'trac-admin');
export const CLI = path.join(ROOT, 'bin', 'trac-deploy.js');

export function tempRoot(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Run a command under /usr/bin/time: wall seconds, peak RSS in MiB, CPU seconds (user+sys, children included). Throws on failure. */
export function timed(command, args, env = {}) {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', command, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const last = result.stderr.trim().split('\n').pop() ?? '';
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  const [wall, kb, user, sys] = last.split(' ').map(Number);
  return { seconds: wall, mib: kb / 1024, cpu: user + sys };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function initEnv(dir, name = 'Bench Project') {
  execFileSync(TRAC_ADMIN, [dir, 'initenv', name, 'sqlite:db/trac.db'], { stdio: 'ignore' });
  return dir;
}

export function fmt(n, digits = 2) {
  return Number(n).toFixed(digits);
}
