import { execa, type ResultPromise } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { usageError } from '../errors.js';

export interface Lock {
  file: string;
  /** The pid of an earlier run that ended without releasing the lock (killed), if any. */
  staleFrom: number | null;
  release: () => Promise<void>;
}

/**
 * One apply at a time per Apache configuration: an exclusive flock(2) on <state dir>/lock, held
 * by a `flock` child (util-linux) whose stdin is a pipe from this process. The kernel holds the
 * lock for exactly as long as that child lives, and the child lives exactly as long as the pipe
 * is open: when this process exits or is killed (SIGKILL, power cut aside) the pipe closes, the
 * child exits and the lock is free. There is no stale lock to take over, so no takeover race:
 * the lock file itself is never removed or renamed. It holds the holder's pid, for messages.
 */
export async function takeLock(stateDir: string): Promise<Lock> {
  const file = path.join(stateDir, 'lock');
  // flock opens (and creates) the file; a link planted under the name is refused first.
  const stat = await fs.lstat(file).catch(() => null);
  if (stat && !stat.isFile()) throw usageError(`${file} is not a regular file; remove it (no trac-deploy apply may be running)`);
  const child: ResultPromise = execa('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', '75', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    // a process group of its own: a Ctrl-C for trac-deploy must not end the lock before the restore
    detached: true,
    cleanup: false,
  });
  const locked = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked')) resolve(true);
    });
    void child.then(() => resolve(false));
  });
  if (!locked) {
    const result = await child;
    const holder = await readHolder(file);
    if (result.exitCode === 75) {
      throw usageError(`another trac-deploy apply${holder ? ` (pid ${holder})` : ''} is changing this Apache configuration; wait for it to finish`);
    }
    if (result.failed && result.exitCode === undefined) {
      throw usageError(`cannot run flock (util-linux) to lock ${file}: ${result.shortMessage}; install util-linux`);
    }
    throw usageError(`could not lock ${file}: ${String(result.stderr).trim() || `flock exited with ${result.exitCode}`}`);
  }
  const previous = await readHolder(file);
  let released = false;
  const end = async () => {
    released = true;
    child.stdin?.end();
    await child;
  };
  try {
    await fs.writeFile(file, `${process.pid}\n`, { mode: 0o600 });
  } catch (error) {
    await end();
    throw error;
  }
  return {
    file,
    staleFrom: previous !== null && previous !== process.pid ? previous : null,
    release: async () => {
      if (released) return;
      await fs.writeFile(file, '').catch(() => undefined);
      await end();
    },
  };
}

async function readHolder(file: string): Promise<number | null> {
  const pid = Number.parseInt((await fs.readFile(file, 'utf8').catch(() => '')).trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}
