import { spawn, type ChildProcess } from 'node:child_process';
import type { PreflightRunner } from './preflight.js';

type RunResult = Awaited<ReturnType<PreflightRunner>>;

/**
 * Programs started before the CLI's modules load (bin/ guesses the command's request from its
 * arguments), keyed on exactly what was run: program, arguments, stdin and environment. A
 * command takes a run over only when it would start the very same one; anything else is run
 * anew, and what nobody took is stopped at the end (abandonEarlyRuns).
 */
const started = new Map<string, { child: ChildProcess | null; result: Promise<RunResult> }>();

const keyOf = (command: string, args: string[], stdin: string, env: Record<string, string>) => JSON.stringify([command, args, stdin, env, process.cwd()]);

/**
 * Starts the program now and keeps it for takeOverRunner. Runs it as python/preflight.ts's
 * spawnRunner does (cwd /, the request on stdin, the same timeout and stderr bound).
 */
export const earlyRunner: PreflightRunner = (command, args, stdin, env) => {
  const key = keyOf(command, args, stdin, env);
  let child: ChildProcess | null = null;
  const result = new Promise<RunResult>((resolve) => {
    child = spawn(command, args, { env: { ...process.env, ...env }, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'], timeout: 600_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error: string | undefined;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => {
      if (err.length < 1000) err.push(b);
    });
    child.on('error', (e) => {
      error = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such program' : e.message;
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(stdin);
    child.on('close', (code) => {
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode: code, ...(error ? { error } : {}) });
    });
  });
  started.set(key, { child, result });
  return result;
};

/** A runner that takes over an early run of exactly this program and input, else runs FALLBACK. */
export function takeOverRunner(fallback: PreflightRunner): PreflightRunner {
  return (command, args, stdin, env) => {
    const key = keyOf(command, args, stdin, env);
    const early = started.get(key);
    if (!early) return fallback(command, args, stdin, env);
    started.delete(key);
    return early.result;
  };
}

/** Stops the early runs no command took (it failed first, or asked something else). */
export function abandonEarlyRuns(): void {
  for (const { child } of started.values()) {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  started.clear();
}
