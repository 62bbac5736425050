import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from '../errors.js';

/** python/ beside src/ and dist/: the short programs trac-deploy asks an interpreter to run. */
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
  options: { env: Record<string, string | undefined>; signal?: AbortSignal },
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
      { env: { ...process.env, ...options.env }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) },
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

/** Run python/<program> with args; parse the one JSON document it prints. */
export async function askPython<T>(
  python: { command: string; from: string },
  program: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; run?: PythonRunner; signal?: AbortSignal } = {},
): Promise<{ exitCode: number; answer: T }> {
  const run = options.run ?? childProcessRunner;
  const result = await run(python.command, [path.join(PYTHON_PROGRAMS_DIR, program), ...args], { env: options.env ?? {}, ...(options.signal ? { signal: options.signal } : {}) });
  if (result.exitCode === undefined || result.code === 'ENOENT') {
    throw usageError(
      `cannot run ${python.command} (from ${python.from}): ${result.code === 'ENOENT' ? 'no such program' : firstLine(result.stderr) || 'it did not start'}`,
      python.from === 'PATH' ? 'pass --python-home DIR, the virtualenv Trac is installed in' : 'check that --python-home names a virtualenv (it has bin/python)',
    );
  }
  let answer: T;
  try {
    answer = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as T;
  } catch {
    throw usageError(`${python.command} did not answer trac-deploy's question (exit ${result.exitCode}): ${firstLine(result.stderr) || 'no output'}`);
  }
  return { exitCode: result.exitCode, answer };
}

function firstLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}
