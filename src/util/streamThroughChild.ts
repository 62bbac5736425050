import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

export interface StreamedRun {
  /** Exit code, or null when the program did not start or was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it did not start (e.g. ENOENT), when it did not. */
  spawnError: string | null;
  /** The first 64 KiB of its stderr. */
  stderr: string;
}

const CHUNK = 64 * 1024;

export interface StreamOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Write each record as soon as `input` yields it, instead of gathering 64 KiB: for an input
   * that waits for the program's answers before it yields more (a record is then a batch).
   */
  flushEachRecord?: boolean;
  /** Aborting kills the program (SIGKILL); its exit is reported as usual (signal SIGKILL). */
  signal?: AbortSignal;
}
const STDERR_LIMIT = 64 * 1024;
const GONE: unique symbol = Symbol('exited');

/**
 * Runs COMMAND ARGS with any number of records on its stdin instead of in its argument list
 * (which the kernel limits: "spawn E2BIG"). Records are written as they come from `input`, in
 * chunks, waiting whenever the pipe is full, while stdout is read line by line as it arrives and
 * handed to `onLine`: neither the argument list, nor a pipe, nor a buffer grows with the input.
 * The program sees `input` joined as is (end each record with its own separator: "\0" or "\n").
 *
 * Shared by every batched question to another user or interpreter: the Apache user's access
 * check (apache/userAccess.ts) and any question asked once for all environments.
 */
export async function streamThroughChild(
  command: string,
  args: readonly string[],
  input: Iterable<string> | AsyncIterable<string>,
  onLine: (line: string) => void,
  options: StreamOptions = {},
): Promise<StreamedRun> {
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.signal ? { signal: options.signal, killSignal: 'SIGKILL' as const } : {}),
  });
  let spawnError: string | null = null;
  let stdinClosed = false;
  let spawned = false;
  const started = new Promise<void>((resolve) => {
    child.once('spawn', () => {
      spawned = true;
      resolve();
    });
    // After the start, an error is the abort (or a failed kill): the exit reports it.
    child.on('error', (error) => {
      if (spawned) return;
      spawnError = (error as NodeJS.ErrnoException).code ?? error.message;
      resolve();
    });
  });
  // A program that exits early closes the pipe: writing then fails with EPIPE, which is not
  // our failure to report (the exit code is).
  child.stdin.on('error', () => {
    stdinClosed = true;
  });
  child.stdin.on('close', () => {
    stdinClosed = true;
  });

  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    pending += text;
    let newline = pending.indexOf('\n');
    if (newline < 0) return;
    let start = 0;
    while (newline >= 0) {
      onLine(pending.slice(start, newline));
      start = newline + 1;
      newline = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('close', (code, signal) => resolve([code, signal]));
  });

  await started;
  if (spawnError === null) {
    let buffer = '';
    const flush = async () => {
      if (stdinClosed || buffer === '') return;
      const ok = child.stdin.write(buffer);
      buffer = '';
      if (!ok && !stdinClosed) await drained(child.stdin);
    };
    // The program may exit while `input` waits (for its answers, say): then stop asking it.
    const gone: Promise<typeof GONE> = exited.then(() => GONE);
    const records = (Symbol.asyncIterator in input ? (input as AsyncIterable<string>)[Symbol.asyncIterator]() : (input as Iterable<string>)[Symbol.iterator]()) as
      | AsyncIterator<string>
      | Iterator<string>;
    try {
      for (;;) {
        const step = await Promise.race([records.next(), gone]);
        if (step === GONE || (!step.done && stdinClosed)) {
          void records.return?.();
          break;
        }
        if (step.done) break;
        buffer += step.value;
        if (options.flushEachRecord || buffer.length >= CHUNK) await flush();
      }
      await flush();
    } catch (error) {
      // The input failed: the program must not go on with half of it.
      child.kill();
      await exited;
      throw error;
    } finally {
      child.stdin.end();
    }
  }
  const [code, signal] = spawnError === null ? await exited : [null, null];
  if (pending !== '') onLine(pending);
  return { code, signal, spawnError, stderr };
}

/** Resolves when the stream wants more, or is gone; leaves no listener behind. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
