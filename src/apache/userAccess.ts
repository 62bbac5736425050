import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Something the Apache user must be able to do to a path: `test -r/-w/-x PATH`. */
export interface AccessNeed {
  path: string;
  test: '-r' | '-w' | '-x';
  why: string;
}

const ACCESS_SCRIPT = 'i=0; while [ $# -gt 1 ]; do test "$1" "$2" || printf "%s\\0" "$i"; i=$((i+1)); shift 2; done';

/**
 * Test access for real, as the Apache user, in one `setpriv` call (root only: setpriv switches
 * to that user and its groups). Returns the needs that failed.
 */
export async function failedAccess(user: string, group: string, needs: AccessNeed[]): Promise<AccessNeed[]> {
  if (needs.length === 0) return [];
  const args = needs.flatMap((n) => [n.test, n.path]);
  // node:child_process, not execa: this runs on every inspect/generate, where execa's import
  // alone would cost about 70 ms of start-up.
  const stdout = await new Promise<string>((resolve) => {
    const argv = [`--reuid=${user}`, `--regid=${group}`, '--init-groups', '--', 'sh', '-c', ACCESS_SCRIPT, 'sh', ...args];
    execFile('setpriv', argv, { maxBuffer: 64 * 1024 * 1024 }, (_error, out) => resolve(String(out ?? '')));
  });
  // The script prints the index of every failing test: by index, not by path, since one path
  // may be needed twice (the parent directory read, and written for the egg cache).
  const failedIndexes = new Set(stdout.split('\0').filter(Boolean).map(Number));
  return needs.filter((_need, index) => failedIndexes.has(index));
}

export function accessVerb(test: AccessNeed['test']): string {
  return test === '-r' ? 'read' : test === '-w' ? 'write' : 'enter';
}

/** The path itself, or its nearest ancestor that exists (where it would be created). */
export async function nearestExisting(dir: string): Promise<string> {
  let current = dir;
  while (!(await fs.access(current).then(() => true, () => false)) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}
