import { spawn } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SYSTEM_PYTHON } from '../python/askPython.js';
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

/** Up to this many needs, and bytes of their paths, are passed as arguments (checkFew). */
const DIRECT_MAX_NEEDS = 64;
const DIRECT_MAX_BYTES = 16 * 1024;

/**
 * One record per need on stdin, never in an argument list: "INDEX:TPATH\0" (T = r, w or x).
 * xargs packs as many records as fit into each sh's arguments (its own limit, far below the
 * kernel's) and runs two shells at a time; each prints the index of every test that fails.
 * A few records (checkFew) are the arguments of one sh, without the \0.
 */
const ACCESS_SCRIPT = 'for a; do i=${a%%:*}; r=${a#*:}; p=${r#?}; case $r in r*) test -r "$p";; w*) test -w "$p";; *) test -x "$p";; esac || echo "$i"; done';

/**
 * The same test for a stream of records in one Python process (access(2), as `test` makes it):
 * for 100,000 environments (~400,000 records) about twice as fast as the shells, which spend
 * their time parsing each record. The system's interpreter, isolated (-I: no user site, no
 * PYTHON* variables) and without site (-S): nothing but this script runs as the web server user.
 */
const ACCESS_PY = [
  'import os, sys',
  'modes = {114: os.R_OK, 119: os.W_OK, 120: os.X_OK}',
  'read, out, rest = sys.stdin.buffer.read1, sys.stdout.buffer, b""',
  'while True:',
  '    data = read(65536)',
  '    if not data and not rest: break',
  '    *records, rest = (rest + data).split(b"\\0") if data else (rest, b"")',
  '    for record in records:',
  '        i, _, r = record.partition(b":")',
  '        if not os.access(r[1:], modes[r[0]]): out.write(i + b"\\n")',
].join('\n');

/** The system's Python 3 for ACCESS_PY, or null (then the shells test): looked for when first asked, not at every start. */
export function systemPython(): string | null {
  // preflight.ts's interpreter, then RHEL 8's own (there without the python3 package).
  found ??= { python: [SYSTEM_PYTHON, '/usr/libexec/platform-python'].find((p) => fsSync.statSync(p, { throwIfNoEntry: false })?.isFile()) ?? null };
  return found.python;
}
let found: { python: string | null } | undefined;

/**
 * Tests access for real, as the Apache user and its groups (setpriv, root only), for any
 * number of needs: they are streamed through a pipe to one `setpriv ... python3` (ACCESS_PY;
 * without the system's Python 3, `setpriv ... xargs -0 sh`), so no argument list or buffer
 * grows with them (100,000 environments are ~400,000 needs); a few (at most DIRECT_MAX_NEEDS)
 * are the arguments of one `setpriv ... sh`. PYTHON: the interpreter to test with (null: the
 * shells), for tests; the system's by default.
 */
export async function checkAccess(user: string, group: string, needs: Iterable<AccessNeed> | AsyncIterable<AccessNeed>, { python }: { python?: string | null } = {}): Promise<AccessResult> {
  // A few needs (one environment has four) go to one shell as its arguments: no xargs, no pipe,
  // one program fewer to start (~10 ms of every inspect and generate run as root).
  if (!(Symbol.asyncIterator in needs)) {
    // Taken synchronously: for 100,000 environments an async step per need (a promise and a
    // result object each) was most of what the check allocated.
    const source = (needs as Iterable<AccessNeed>)[Symbol.iterator]();
    const first = takeFew(() => source.next());
    if (first.done) return checkFew(user, group, first.few);
    return checkMany(
      user,
      group,
      (function* () {
        yield* first.few;
        for (let step = source.next(); !step.done; step = source.next()) yield step.value;
      })(),
      python,
    );
  }
  const source = (needs as AsyncIterable<AccessNeed>)[Symbol.asyncIterator]();
  const few: AccessNeed[] = [];
  let bytes = 0;
  for (;;) {
    const step = await source.next();
    if (step.done) return checkFew(user, group, few);
    few.push(step.value);
    bytes += step.value.path.length + 16;
    if (few.length > DIRECT_MAX_NEEDS || bytes > DIRECT_MAX_BYTES) break;
  }
  async function* all(): AsyncGenerator<AccessNeed> {
    yield* few;
    for (let step = await source.next(); !step.done; step = await source.next()) yield step.value;
  }
  return checkMany(user, group, all(), python);
}

/** The first needs of a synchronous source, up to the limits of checkFew; done when that was all. */
function takeFew(next: () => IteratorResult<AccessNeed>): { few: AccessNeed[]; done: boolean } {
  const few: AccessNeed[] = [];
  let bytes = 0;
  for (;;) {
    const step = next();
    if (step.done) return { few, done: true };
    few.push(step.value);
    bytes += step.value.path.length + 16;
    if (few.length > DIRECT_MAX_NEEDS || bytes > DIRECT_MAX_BYTES) return { few, done: false };
  }
}

/** As many needs as there are: streamed to `setpriv ... xargs -0 sh` (see checkAccess). */
async function checkMany(user: string, group: string, needs: Iterable<AccessNeed> | AsyncIterable<AccessNeed>, python?: string | null): Promise<AccessResult> {
  const seen: AccessNeed[] = [];
  const failedIndexes: number[] = [];
  const record = (need: AccessNeed) => {
    const line = `${seen.length}:${need.test[1]}${need.path}\0`;
    seen.push(need);
    return line;
  };
  // Records go out in chunks of about 64 KiB: one pipe write each, not one per need. A
  // synchronous source is read synchronously, a chunk at a time.
  const records: Iterable<string> | AsyncIterable<string> =
    Symbol.asyncIterator in needs
      ? (async function* () {
          let chunk = '';
          for await (const need of needs as AsyncIterable<AccessNeed>) {
            chunk += record(need);
            if (chunk.length >= 65536) {
              yield chunk;
              chunk = '';
            }
          }
          if (chunk) yield chunk;
        })()
      : (function* () {
          let chunk = '';
          for (const need of needs as Iterable<AccessNeed>) {
            chunk += record(need);
            if (chunk.length >= 65536) {
              yield chunk;
              chunk = '';
            }
          }
          if (chunk) yield chunk;
        })();
  // An interpreter that does not run as that user (broken, or without -I) leaves the test to the shells.
  const wanted = python === undefined ? systemPython() : python;
  const tester = wanted && (await runsAs(user, group, wanted)) ? wanted : null;
  const argv = [`--reuid=${user}`, `--regid=${group}`, '--init-groups', '--', ...(tester ? [tester, '-I', '-S', '-c', ACCESS_PY] : ['xargs', '-0', '-r', '-P', '2', '/bin/sh', '-c', ACCESS_SCRIPT, 'sh'])];
  const run = await streamThroughChild('setpriv', argv, records, (line) => {
    if (/^\d+$/.test(line)) failedIndexes.push(Number(line));
  });
  if (run.spawnError || run.code !== 0) {
    const reason = run.spawnError ?? (run.stderr.trim().split('\n').pop() || (run.signal ? `killed by ${run.signal}` : `exit ${run.code}`));
    return { failed: [], unchecked: `setpriv as ${user}:${group} failed: ${reason}` };
  }
  return { failed: inOrder(seen, failedIndexes), unchecked: null };
}

/**
 * At most DIRECT_MAX_NEEDS needs of at most DIRECT_MAX_BYTES: the same script, its records as
 * the arguments of one `setpriv ... sh` (far below the kernel's limits for an argument list).
 */
function checkFew(user: string, group: string, needs: AccessNeed[]): Promise<AccessResult> {
  if (needs.length === 0) return Promise.resolve({ failed: [], unchecked: null });
  const records = needs.map((need, index) => `${index}:${need.test[1]}${need.path}`);
  const argv = [`--reuid=${user}`, `--regid=${group}`, '--init-groups', '--', '/bin/sh', '-c', ACCESS_SCRIPT, 'sh', ...records];
  return new Promise((resolve) => {
    // No stdin: nothing to write (a pipe fewer to make while inspect and generate wait for it).
    const child = spawn('setpriv', argv, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      if (stderr.length < OUTPUT_LIMIT) stderr += text;
    });
    const unchecked = (reason: string) => resolve({ failed: [], unchecked: `setpriv as ${user}:${group} failed: ${reason}` });
    child.once('error', (error: NodeJS.ErrnoException) => unchecked(error.code ?? error.message));
    child.once('close', (code, signal) => {
      if (code !== 0) {
        unchecked(stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit ${String(code)}`));
        return;
      }
      const indexes = stdout
        .split('\n')
        .filter((line) => /^\d+$/.test(line))
        .map(Number);
      resolve({ failed: inOrder(needs, indexes), unchecked: null });
    });
  });
}

/** Whether PYTHON starts, isolated and without site, as USER:GROUP (one empty program, once per process). */
function runsAs(user: string, group: string, python: string): Promise<boolean> {
  const key = JSON.stringify([user, group, python]);
  let answer = probed.get(key);
  if (!answer) {
    answer = new Promise((resolve) => {
      const child = spawn('setpriv', [`--reuid=${user}`, `--regid=${group}`, '--init-groups', '--', python, '-I', '-S', '-c', ''], { stdio: 'ignore', windowsHide: true });
      child.once('error', () => resolve(false));
      child.once('close', (code) => resolve(code === 0));
    });
    probed.set(key, answer);
  }
  return answer;
}
const probed = new Map<string, Promise<boolean>>();

/** Far more than the indexes of DIRECT_MAX_NEEDS needs, or one line of setpriv's complaint. */
const OUTPUT_LIMIT = 64 * 1024;

/** The needs at INDEXES, each once, in the order given (two shells' answers interleave). */
function inOrder(needs: AccessNeed[], indexes: number[]): AccessNeed[] {
  return [...new Set(indexes)].sort((a, b) => a - b).flatMap((i) => (needs[i] ? [needs[i]] : []));
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
