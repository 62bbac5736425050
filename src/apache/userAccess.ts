import fs from 'node:fs/promises';
import path from 'node:path';
import { streamThroughChild } from '../util/streamThroughChild.js';

/** Something the Apache user must be able to do to a path: `test -r/-w/-x PATH`. */
export interface AccessNeed {
  path: string;
  test: '-r' | '-w' | '-x';
  why: string;
}

export interface AccessResult {
  /** The needs the Apache user's own test refused, in the order given. */
  failed: AccessNeed[];
  /** Why nothing could be tested (setpriv or xargs failed): then `failed` means nothing. */
  unchecked: string | null;
}

/**
 * One record per need on stdin, never in an argument list: "INDEX:TPATH\0" (T = r, w or x).
 * xargs packs as many records as fit into each sh's arguments (its own limit, far below the
 * kernel's) and runs two shells at a time; each prints the index of every test that fails.
 */
const ACCESS_SCRIPT = 'for a; do i=${a%%:*}; r=${a#*:}; p=${r#?}; case $r in r*) test -r "$p";; w*) test -w "$p";; *) test -x "$p";; esac || echo "$i"; done';

/**
 * Tests access for real, as the Apache user and its groups (setpriv, root only), for any
 * number of needs: they are streamed to one `setpriv ... xargs -0 sh` through a pipe, so no
 * argument list or buffer grows with them (100,000 environments are ~400,000 needs).
 */
export async function checkAccess(user: string, group: string, needs: Iterable<AccessNeed> | AsyncIterable<AccessNeed>): Promise<AccessResult> {
  const seen: AccessNeed[] = [];
  const failedIndexes: number[] = [];
  // Records go out in chunks of about 64 KiB: one pipe write each, not one per need.
  async function* records(): AsyncGenerator<string> {
    let chunk = '';
    for await (const need of needs) {
      chunk += `${seen.length}:${need.test[1]}${need.path}\0`;
      seen.push(need);
      if (chunk.length >= 65536) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  const argv = [`--reuid=${user}`, `--regid=${group}`, '--init-groups', '--', 'xargs', '-0', '-r', '-P', '2', '/bin/sh', '-c', ACCESS_SCRIPT, 'sh'];
  const run = await streamThroughChild('setpriv', argv, records(), (line) => {
    if (/^\d+$/.test(line)) failedIndexes.push(Number(line));
  });
  if (run.spawnError || run.code !== 0) {
    const reason = run.spawnError ?? (run.stderr.trim().split('\n').pop() || (run.signal ? `killed by ${run.signal}` : `exit ${run.code}`));
    return { failed: [], unchecked: `setpriv as ${user}:${group} failed: ${reason}` };
  }
  // Two shells run at once: their answers interleave, the indexes restore the order.
  const failed = [...new Set(failedIndexes)].sort((a, b) => a - b).flatMap((i) => (seen[i] ? [seen[i]] : []));
  return { failed, unchecked: null };
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
