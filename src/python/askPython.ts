import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from '../errors.js';

/** python/ beside src/ and dist/: the short programs trac-deploy asks an interpreter to run. */
/** The interpreter Debian's mod_wsgi embeds: what runs the site without --python-home (the preflight's fallback), and the access check's tester. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export const PYTHON_PROGRAMS_DIR = fileURLToPath(new URL('../../python/', import.meta.url));

/** The process runner, injected so unit tests can fake it (execa's shape, what we use of it). */
/**
 * For a Python that loads Trac and the environment's plugins on trac-deploy's behalf (often as
 * root, with root's environment): no bytecode written (a root-owned plugins/__pycache__ is the
 * daemon's to make), and none read from the caller's PYTHONPYCACHEPREFIX (the daemon reads it
 * beside the sources).
 */
export const BYTECODE_AS_THE_DAEMON = { PYTHONDONTWRITEBYTECODE: '1', PYTHONPYCACHEPREFIX: undefined };

export type PythonRunner = (
  file: string,
  args: string[],
  /** Added to this process's environment; a variable set to undefined is removed from it. */
  options: { env: Record<string, string | undefined>; signal?: AbortSignal; cwd?: string },
) => Promise<{ exitCode?: number | undefined; stdout: string; stderr: string; failed?: boolean; code?: string | undefined }>;

/**
 * The default runner: node:child_process, not execa, because importing execa costs about 70 ms,
 * a third of what `trac-deploy deploy` may take in all (bench/deployCli.bench.mjs).
 */
export const childProcessRunner: PythonRunner = async (file, args, options) => {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: { ...process.env, ...options.env }, ...(options.cwd ? { cwd: options.cwd } : {}), timeout: 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) },
      (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        const done = () =>
          resolve({
            exitCode: typeof code === 'string' ? undefined : (child.exitCode ?? undefined),
            stdout,
            stderr,
            failed: Boolean(error),
            code: typeof code === 'string' ? code : undefined,
          });
        // Aborted, execFile answers as soon as it sent the kill: the child is waited for, so
        // who awaits this knows Python is gone (and no longer writes in its egg cache).
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.once('exit', done);
        else done();
      },
    );
    child.stdin?.end();
  });
};

/**
 * The interpreter the environment runs under: the virtualenv's bin/python when --python-home is
 * given, else `python3` from PATH.
 */
export function pythonFor(pythonHome: string | null | undefined): { command: string; from: string } {
  if (pythonHome) return { command: path.join(pythonHome, 'bin', 'python'), from: '--python-home' };
  return { command: 'python3', from: 'PATH' };
}

/** Another user to run Python as (setpriv, as root): its arguments before `--`, and who it is for messages. */
export interface RunAs {
  setpriv: string[];
  who: string;
}

/**
 * Run python/<program> with args; parse the one JSON document it prints. AS: run it as that
 * user through setpriv, the program's text given with -c (that user may not be able to read
 * trac-deploy's own files), from / (nor enter the caller's working directory, which -c would
 * put on the import path).
 */
export async function askPython<T>(
  python: { command: string; from: string },
  program: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; run?: PythonRunner; signal?: AbortSignal; as?: RunAs | null } = {},
): Promise<{ exitCode: number; answer: T }> {
  const run = options.run ?? childProcessRunner;
  const file = path.join(PYTHON_PROGRAMS_DIR, program);
  const as = options.as ?? null;
  const [command, argv] = as ? ['setpriv', [...as.setpriv, '--', python.command, '-c', readFileSync(file, 'utf8'), ...args]] : [python.command, [file, ...args]];
  const result = await run(command, argv, { env: options.env ?? {}, ...(options.signal ? { signal: options.signal } : {}), ...(as ? { cwd: '/' } : {}) });
  const asWho = as ? ` as ${as.who}` : '';
  if (result.exitCode === undefined || result.code === 'ENOENT') {
    throw usageError(
      `cannot run ${python.command} (from ${python.from})${asWho}: ${result.code === 'ENOENT' ? (as ? 'no setpriv (util-linux) on this machine' : 'no such program') : firstLine(result.stderr) || 'it did not start'}`,
      python.from === 'PATH' ? 'pass --python-home DIR, the virtualenv Trac is installed in' : 'check that --python-home names a virtualenv (it has bin/python)',
    );
  }
  let answer: T;
  try {
    answer = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as T;
  } catch {
    throw usageError(
      `${python.command} did not answer trac-deploy's question${asWho} (exit ${result.exitCode}): ${firstLine(result.stderr) || 'no output'}`,
      ...(as ? [`the web server runs Trac as that user: it must be able to run ${python.command} and read the environment`] : []),
    );
  }
  return { exitCode: result.exitCode, answer };
}

function firstLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}
